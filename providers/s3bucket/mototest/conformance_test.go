package mototest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/growthloop/byob/internal/testsupport/testbin"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/s3bucket/mototest"
)

// The moto conformance suite: byob's built binary against moto, an AWS
// emulator this project did not write. Where moto differs from AWS the
// test works around moto, never byob, and says why.

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Remove()
	os.Exit(code)
}

// byob runs the binary in dir against the moto server.
type byob struct {
	t         *testing.T
	bin, dir  string
	env       []string
	srv       *mototest.Server
	bucket    string
	initFlags []string
}

func newByob(t *testing.T, srv *mototest.Server, bucket string) *byob {
	bin := testbin.Byob(t, "")
	return &byob{t: t, bin: bin, dir: t.TempDir(), env: srv.Env(t.TempDir()), srv: srv, bucket: bucket,
		initFlags: []string{"init", "--provider", "s3", "--bucket", bucket, "--region", mototest.Region, "--yes"}}
}

// run runs byob with args; it returns stdout, stderr and the exit code.
func (b *byob) run(args ...string) (string, string, int) {
	b.t.Helper()
	cmd := exec.Command(b.bin, args...)
	cmd.Dir, cmd.Env = b.dir, b.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	case err != nil:
		b.t.Fatalf("byob %v: %v", args, err)
	}
	return out.String(), errb.String(), 0
}

// must runs byob and fails the test unless it exits 0.
func (b *byob) must(args ...string) string {
	b.t.Helper()
	out, errOut, code := b.run(args...)
	if code != 0 {
		b.t.Fatalf("byob %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// withoutTLSStatement removes byob's TLS-only statement from the bucket
// policy. moto evaluates a bucket policy with no request context
// (moto/s3/responses.py calls bucket.get_permission(action, resource)),
// and moto/iam/policy_conditions.py counts every condition but
// StringEquals as met: the Deny on aws:SecureTransport "false" then
// refuses every object request, over TLS or not. verify then names the
// missing statement in s3-bucket-policy, which the tests expect.
func (b *byob) withoutTLSStatement() {
	b.t.Helper()
	_, err := s3.NewFromConfig(b.srv.Config(), pathStyle).DeleteBucketPolicy(context.Background(), &s3.DeleteBucketPolicyInput{Bucket: aws.String(b.bucket)})
	if err != nil {
		b.t.Fatal(err)
	}
}

func pathStyle(o *s3.Options) { o.UsePathStyle = true }

// bundle reads the bundle byob wrote.
func (b *byob) bundle() (id, secret string) {
	b.t.Helper()
	raw, err := os.ReadFile(filepath.Join(b.dir, "growthloop-byob-bundle.json"))
	if err != nil {
		b.t.Fatal(err)
	}
	var bd struct {
		ID     string `json:"aws_access_key_id"`
		Secret string `json:"aws_secret_access_key"`
	}
	if err := json.Unmarshal(raw, &bd); err != nil || bd.ID == "" || bd.Secret == "" {
		b.t.Fatalf("bundle: %v", err)
	}
	return bd.ID, bd.Secret
}

// verifyJSON runs byob verify --output json and returns each check's
// status and detail, by id.
func (b *byob) verifyJSON() (map[string][2]string, int) {
	b.t.Helper()
	out, errOut, code := b.run("verify", "--output", "json")
	var rep struct {
		Checks []struct{ ID, Status, Detail string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Checks) == 0 {
		b.t.Fatalf("verify --output json (exit %d): %v\n%s%s", code, err, out, errOut)
	}
	got := map[string][2]string{}
	for _, c := range rep.Checks {
		got[c.ID] = [2]string{c.Status, c.Detail}
	}
	return got, code
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestS3LifeOnMoto: init, a re-run that changes nothing, verify many
// times, rotate-keys and --finish, destroy and a second destroy.
func TestS3LifeOnMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: moto_server")
	}
	srv := mototest.Start(t, mototest.Options{})
	b := newByob(t, srv, "byob-moto-life")
	ctx := context.Background()
	admin := iam.NewFromConfig(srv.Config())

	b.must(b.initFlags...)
	srv.Requests()
	out := b.must(b.initFlags...)
	for _, r := range srv.Requests() {
		if r.Mutating() {
			t.Errorf("a re-run changed something: %s", r)
		}
	}
	if !strings.Contains(out, "nothing was changed") {
		t.Errorf("a re-run's summary:\n%s", out)
	}

	b.withoutTLSStatement()
	// moto without INITIAL_NO_AUTH_ACTION_COUNT enforces no IAM: the key
	// can write anywhere, which s3-key-confined reports (the IAM-enforcing
	// server below proves it passes where IAM is enforced).
	want := map[string]string{"s3-bucket-policy": "fail", "s3-key-confined": "fail", "s3-account-public-access-block": "warn"}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range 50 {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if i%2 == 0 {
				out, errOut, code := b.run("verify")
				if code != 1 || strings.Contains(out+errOut, "could not check") || strings.Contains(out, "UNKNOWN") {
					t.Errorf("verify #%d: exit %d\n%s%s", i, code, out, errOut)
				}
				return
			}
			got, code := b.verifyJSON()
			for id, st := range got {
				if w := want[id]; st[0] != w && !(w == "" && st[0] == "pass") {
					t.Errorf("verify #%d: %s is %s (%s)", i, id, st[0], st[1])
				}
			}
			if code != 1 || len(got) != 15 {
				t.Errorf("verify #%d: exit %d, %d checks", i, code, len(got))
			}
		})
	}
	wg.Wait()
	if list, err := s3.NewFromConfig(srv.Config(), pathStyle).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b.bucket)}); err != nil || len(list.Contents) != 0 {
		t.Errorf("verify left objects behind: %v %v", list, err)
	}

	first, _ := b.bundle()
	b.must("rotate-keys")
	b.must("rotate-keys", "--finish")
	id, _ := b.bundle()
	keys, err := admin.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("growthloop-byob-exporter")})
	if err != nil || len(keys.AccessKeyMetadata) != 1 || aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId) != id || id == first {
		t.Fatalf("after the rotation: keys %v (%v), bundle %s, first %s", keys, err, id, first)
	}

	b.must("destroy", "--delete-bucket", "--delete-objects", "--yes")
	if _, err := s3.NewFromConfig(srv.Config(), pathStyle).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b.bucket)}); err == nil {
		t.Error("the bucket is still there")
	}
	if _, err := admin.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("growthloop-byob-exporter")}); errorCode(err) != "NoSuchEntity" {
		t.Errorf("the user is still there: %v", err)
	}
	policies, err := admin.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: "Local"})
	if err != nil || len(policies.Policies) != 0 {
		t.Errorf("policies left: %v %v", policies, err)
	}

	srv.Requests()
	out = b.must("destroy", "--delete-bucket", "--delete-objects", "--yes")
	if !strings.Contains(out, "Nothing to remove") || strings.Contains(out, "kept") {
		t.Errorf("a second destroy:\n%s", out)
	}
	for _, r := range srv.Requests() {
		if r.Mutating() {
			t.Errorf("a second destroy changed something: %s", r)
		}
	}
	for _, verb := range [][]string{{"verify"}, {"rotate-keys"}} {
		out, errOut, code := b.run(verb...)
		if code != 2 || !strings.Contains(errOut, "destroyed") {
			t.Errorf("byob %s after destroy: exit %d\n%s%s", verb[0], code, out, errOut)
		}
	}
	// For a machine, the same in JSON: what was destroyed, and the init
	// that makes it anew.
	out, _, code := b.run("verify", "--output", "json")
	var doc struct {
		Destroyed *struct{ At time.Time }
		Error     struct{ Kind, Remedy string }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 2 || doc.Destroyed == nil || doc.Destroyed.At.IsZero() ||
		doc.Error.Kind != "usage" || !strings.Contains(doc.Error.Remedy, "byob init --provider s3 --bucket "+b.bucket) {
		t.Errorf("verify --output json after destroy: exit %d, %v\n%s", code, err, out)
	}
	// init makes the destroyed setup anew.
	if out := b.must(b.initFlags...); !strings.Contains(out, "10 changes applied") {
		t.Errorf("init after destroy:\n%s", out)
	}
	if _, err := admin.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("growthloop-byob-exporter")}); err != nil {
		t.Errorf("init after destroy made no user: %v", err)
	}
}

// TestKeyConfinedOnMotoWithIAM: on moto enforcing IAM, the bundle's key
// writes and reads under the prefix and nothing else; s3-key-confined
// passes, and with the user's policy detached it is not checked.
func TestKeyConfinedOnMotoWithIAM(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: moto_server")
	}
	srv := mototest.Start(t, mototest.Options{EnforceIAM: true})
	b := newByob(t, srv, "byob-moto-iam")
	ctx := context.Background()
	b.must(b.initFlags...)
	b.withoutTLSStatement()
	srv.AddKey(b.bundle())

	keyS3 := s3.NewFromConfig(srv.KeyConfig(b.bundle()), pathStyle)
	put := func(key string) error {
		_, err := keyS3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key), Body: strings.NewReader("x")})
		return err
	}
	if err := put("exports/1234/part-0.csv"); err != nil {
		t.Fatalf("the key cannot write under the prefix: %v", err)
	}
	if _, err := keyS3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String("exports/1234/part-0.csv")}); err != nil {
		t.Errorf("the key cannot read under the prefix: %v", err)
	}
	if err := put("elsewhere/x.csv"); errorCode(err) != "AccessDenied" {
		t.Errorf("writing outside the prefix: %v, want AccessDenied", err)
	}
	if _, err := keyS3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.bucket), Key: aws.String("exports/1234/part-0.csv")}); errorCode(err) != "AccessDenied" {
		t.Errorf("deleting an export: %v, want AccessDenied", err)
	}
	// moto answers IAM's AccessDenied as <ErrorResponse><Errors><Error>
	// (moto/core/exceptions.py, _RESTError), where IAM's query protocol
	// has no <Errors>: the SDK reads no code from it, only the status.
	var re *smithyhttp.ResponseError
	if _, err := iam.NewFromConfig(srv.KeyConfig(b.bundle())).ListUsers(ctx, &iam.ListUsersInput{}); !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
		t.Errorf("an IAM call with the key: %v, want 403", err)
	}

	got, _ := b.verifyJSON()
	for _, id := range []string{"s3-key-works", "s3-key-confined"} {
		if got[id][0] != "pass" {
			t.Errorf("%s: %s (%s)", id, got[id][0], got[id][1])
		}
	}

	_, err := iam.NewFromConfig(srv.Config()).DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("growthloop-byob-exporter"),
		PolicyArn: aws.String("arn:aws:iam::" + mototest.AccountID + ":policy/growthloop-byob-access")})
	if err != nil {
		t.Fatal(err)
	}
	got, code := b.verifyJSON()
	if got["s3-key-works"][0] != "fail" || got["s3-key-confined"][0] != "unknown" || !strings.Contains(got["s3-key-confined"][1], "not checked") || code != 1 {
		t.Errorf("with the policy detached: key-works %v, key-confined %v, exit %d", got["s3-key-works"], got["s3-key-confined"], code)
	}
}

// TestDestroyNamesWhatHoldsTheUserOnMoto: a policy and a console password
// someone else gave byob's user keep it (IAM refuses to delete it), and
// destroy names both.
func TestDestroyNamesWhatHoldsTheUserOnMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: moto_server")
	}
	srv := mototest.Start(t, mototest.Options{})
	b := newByob(t, srv, "byob-moto-held")
	ctx := context.Background()
	admin := iam.NewFromConfig(srv.Config())
	b.must(b.initFlags...)
	user := aws.String(s3bucket.NamesFor(providers.DefaultName).User)
	pol, err := admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("theirs"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: user, PolicyArn: pol.Policy.Arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: user, Password: aws.String("Not-a-secret-1!")}); err != nil {
		t.Fatal(err)
	}
	out := b.must("destroy", "--yes")
	if want := "kept: IAM user " + *user + " still has attached policy theirs and a console password, which byob did not create"; !strings.Contains(out, want) {
		t.Errorf("destroy:\n%s\nwant %q", out, want)
	}
}
