package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/s3bucket/awstest"
	"github.com/growthloop/byob/wizard"
)

// initialized is a directory holding a finished S3 + Snowflake setup's
// state file and bundle.
func initialized(t *testing.T) (*cloud, string, *wizard.Bundle) {
	c := newCloud(t)
	dir := t.TempDir()
	if out, errOut, code := c.run(t, dir, c.args()...); code != 0 {
		t.Fatalf("init exit %d\n%s\n%s", code, out, errOut)
	}
	c.aws.ConfineKeysTo(providers.DefaultPrefix)
	b, err := wizard.ReadBundle(filepath.Join(dir, providers.DefaultBundle))
	if err != nil || b == nil {
		t.Fatalf("bundle %v %v", b, err)
	}
	return c, dir, b
}

func TestVerifyFromStateFile(t *testing.T) {
	c, dir, bundle := initialized(t)
	// No flags: the state file knows the setup and how init reached
	// Snowflake (account, user, role, host, port, protocol).
	out, errOut, code := c.run(t, dir, "verify")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"PASS s3-bucket: ", "PASS s3-key-works: ", "PASS s3-key-confined: ", "PASS snowflake-stage-reachable: ", "24 passed, 0 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	out, _, code = c.run(t, dir, append([]string{"verify", "--output", "json"}, c.conn()...)...)
	var rep struct {
		OK     bool `json:"ok"`
		Checks []struct {
			ID, Title, Status, Detail, Remedy string
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != ExitOK || !rep.OK || len(rep.Checks) != 24 {
		t.Fatalf("exit %d, JSON %v:\n%s", code, err, out)
	}
	for _, ch := range rep.Checks {
		if ch.ID == "" || ch.Title == "" || ch.Status != "pass" || ch.Detail == "" {
			t.Errorf("check %+v", ch)
		}
	}

	c.aws.Deny("GET ?encryption") // the table shows a check that cannot run as such
	streams, buf := ttyStreams(c)
	code = Run(context.Background(), streams, append([]string{"verify"}, c.conn()...))
	if code != ExitFailure || !strings.Contains(buf.String(), "✓  Bucket exists") || !strings.Contains(buf.String(), "?  Default encryption is on") ||
		!strings.Contains(buf.String(), "could not check") || !strings.Contains(buf.String(), "1 could not run") {
		t.Errorf("table, exit %d:\n%s", code, buf.String())
	}
	if strings.Contains(out+buf.String(), bundle.AWSSecretAccessKey) {
		t.Error("verify printed the secret key")
	}
}

func TestVerifyFailureExitsOneWithTheFix(t *testing.T) {
	c, dir, _ := initialized(t)
	bucket := "cli-exports-" + c.id
	clients := s3bucket.NewClients(c.aws.ConfigIn("us-west-2"))
	if _, err := clients.S3.DeleteBucketLifecycle(context.Background(), &s3.DeleteBucketLifecycleInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := c.run(t, dir, append([]string{"verify"}, c.conn()...)...)
	if code != ExitFailure {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	want := "FAIL s3-lifecycle: Lifecycle rule expires the prefix at the TTL: missing"
	fix := "  fix: re-run byob init --provider s3 --bucket " + bucket
	if !strings.Contains(out, want) || !strings.Contains(out, fix) || !strings.Contains(errOut, "Error: verify: 23 passed, 1 failed") {
		t.Errorf("output:\n%s\n%s", out, errOut)
	}
	// The fix is the command that restores it.
	if _, errOut, code := c.run(t, dir, c.args()...); code != 0 {
		t.Fatalf("init exit %d: %s", code, errOut)
	}
	if out, _, code := c.run(t, dir, append([]string{"verify"}, c.conn()...)...); code != ExitOK {
		t.Errorf("after the fix, exit %d:\n%s", code, out)
	}
}

func TestVerifyFlagsOverrideTheStateFile(t *testing.T) {
	c, dir, _ := initialized(t)
	// Another TTL than the one applied: the lifecycle check fails.
	out, _, code := c.run(t, dir, append([]string{"verify", "--ttl-days", "30"}, c.conn()...)...)
	if code != ExitFailure || !strings.Contains(out, "FAIL s3-lifecycle") || !strings.Contains(out, "--ttl-days 30") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// TestVerifyRefusesAnotherAccount: credentials that reach another account
// than the setup's are refused with exit 2 naming both, before any check.
func TestVerifyRefusesAnotherAccount(t *testing.T) {
	c, dir, _ := initialized(t)
	c.sf.SetAccount("OTHER999")
	out, errOut, code := c.run(t, dir, "verify")
	if code != ExitUsage || !strings.Contains(errOut, "Snowflake account FAKE12345, but the connection reaches account OTHER999") || strings.Contains(out, "PASS") {
		t.Errorf("another Snowflake account: exit %d\n%s\n%s", code, out, errOut)
	}
	c.sf.SetAccount("FAKE12345")

	state := filepath.Join(dir, providers.DefaultState)
	b, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(state, bytes.Replace(b, []byte(`"aws.account_id": "`+awstest.AccountID+`"`), []byte(`"aws.account_id": "210987654321"`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = c.run(t, dir, "verify")
	if code != ExitUsage || !strings.Contains(errOut, "AWS account 210987654321, but the credentials reach account "+awstest.AccountID) || strings.Contains(out, "PASS") {
		t.Errorf("another AWS account: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestVerifyUsageErrors(t *testing.T) {
	c := newCloud(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"verify"}, "no setup recorded in byob-state.json"},
		{[]string{"verify", "--timeout", "0s"}, `invalid --timeout "0s": must be positive`},
		{[]string{"verify", "--output", "yaml"}, `invalid --output "yaml"`},
		{[]string{"verify", "--provider", "s3", "--bucket", "x", "--region", "us-east-1"}, "invalid --bucket"},
		{[]string{"verify", "--provider", "s3", "--bucket", "acme-exports", "--region", "us-east-1", "--snowflake-database", "D"},
			`invalid --snowflake-database "D": applies to --warehouse snowflake only`},
	} {
		_, errOut, code := c.run(t, t.TempDir(), tc.args...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, want 2 and %q:\n%s", tc.args, code, tc.want, errOut)
		}
	}
	if calls := c.aws.Calls(); len(calls) != 0 {
		t.Errorf("usage errors reached the cloud: %v", calls)
	}
}

// ttyStreams are c's streams as at a terminal, output in buf.
func ttyStreams(c *cloud) (*Factory, *bytes.Buffer) {
	buf := &bytes.Buffer{}
	return &Factory{IO: &IOStreams{
		In: strings.NewReader(""), Out: buf, ErrOut: buf, StdinTTY: true, StdoutTTY: true,
		LookupEnv: func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }}, Open: wizard.Open}, buf
}

func TestVerifyWaitsVisiblyForANewKey(t *testing.T) {
	c, dir, bundle := initialized(t)
	uses := 0
	for _, call := range c.aws.Calls() {
		if call.KeyID == bundle.AWSAccessKeyID {
			uses++
		}
	}
	c.aws.KeyWarmup(uses + 1) // the key's next use fails, as right after init
	out, errOut, code := c.run(t, dir, append([]string{"verify"}, c.conn()...)...)
	if code != ExitOK || !strings.Contains(errOut, "… waiting for the access key to work") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestVerifyTimeoutBoundsTheRun(t *testing.T) {
	c, dir, _ := initialized(t)
	c.aws.SetLatency(400 * time.Millisecond) // verify needs three round trips one after another
	out, errOut, code := c.run(t, dir, append([]string{"verify", "--timeout", "600ms"}, c.conn()...)...)
	timedOut := strings.Contains(out, "timed out") && strings.Contains(out, "raise --timeout") || strings.Contains(errOut, "stopped by --timeout")
	if code != ExitFailure || !timedOut {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestVerifyExposureExitsOneWithTheFixInJSON: a public statement in the
// bucket policy is a failure (exit 1) whose remedy --output json carries;
// the account's public access block off is only a warning (exit 0).
func TestVerifyExposureExitsOneWithTheFixInJSON(t *testing.T) {
	c, dir, b := initialized(t)
	clients := s3bucket.NewClients(c.aws.ConfigIn("us-west-2"))
	ctx := context.Background()
	public := `{"Version":"2012-10-17","Statement":[{"Sid":"Anyone","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + b.Bucket + `/*"}]}`
	if _, err := clients.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b.Bucket), Policy: aws.String(public)}); err != nil {
		t.Fatal(err)
	}
	out, _, code := c.run(t, dir, "verify", "--output", "json")
	var rep struct {
		Checks []struct{ ID, Status, Remedy string } `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != ExitFailure {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	i := slices.IndexFunc(rep.Checks, func(ch struct{ ID, Status, Remedy string }) bool { return ch.ID == s3bucket.CheckPolicyPrivate })
	if i < 0 || rep.Checks[i].Status != "fail" || rep.Checks[i].Remedy != "aws s3api delete-bucket-policy --bucket "+b.Bucket {
		t.Errorf("policy check %+v", rep.Checks)
	}
}
