package s3bucket_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/growthloop/byob/internal/testsupport/providertest"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/templates"
)

// TestPolicyDrift: a policy changed by hand is drift, shown with the new
// version; the fix is a new default version with byob's statements and
// the customer's own Deny, which then stays (with --prune it goes). At
// IAM's limit of five versions the oldest other version makes room.
func TestPolicyDrift(t *testing.T) {
	f := newFixture(t)
	f.converge()
	cfg := f.setup.Config
	arn := f.policyARN(f.names.Policy)
	deny := `{"Sid":"NoDeletes","Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::` + cfg.Bucket + `/exports/keep/*"}`
	// Someone widened byob's statement to the whole bucket, dropped the
	// others and added their own, in four versions.
	widened := `{"Version":"2012-10-17","Statement":[{"Sid":"ReadWriteObjectsUnderPrefix","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::` +
		cfg.Bucket + `/*"},` + deny + `]}`
	for range 4 {
		f.srv.SetPolicyDocument(arn, widened)
	}
	if got := f.versions(f.names.Policy); len(got) != 5 {
		t.Fatalf("versions %q, want IAM's five", got)
	}

	s := f.steps()[s3bucket.StepPolicy]
	obs := f.check(s)
	if obs.Status != providers.Drifted || len(obs.Fix) != 1 {
		t.Fatalf("check %+v", obs)
	}
	providertest.MustContain(t, "reason", obs.Reason, "policy "+f.names.Policy+" differs from the expected document", "1 statement of your own kept", `"NoDeletes"`)
	providertest.MustContain(t, "fix", obs.Fix[0].Content, `"NoDeletes"`, "arn:aws:s3:::"+cfg.Bucket+"/exports/*")
	f.apply(s)

	bucket := templates.Bucket{Partition: "aws", Name: cfg.Bucket}
	want := templates.WithStatements(templates.S3Access(bucket, "exports/").JSON(), templates.CustomerStatements(f.policy(f.names.Policy), templates.S3Access(bucket, "exports/").JSON()))
	if got := f.policy(f.names.Policy); !templates.SameDocument(got, want) || !strings.Contains(got, "NoDeletes") || strings.Contains(got, cfg.Bucket+`/*"`) {
		t.Errorf("new default version %s", got)
	}
	if got := f.versions(f.names.Policy); len(got) != 5 || slices.Contains(got, "v1") || !slices.Contains(got, "v6") {
		t.Errorf("versions %q: the oldest (v1) makes room for v6", got)
	}
	if obs := f.check(f.steps()[s3bucket.StepPolicy]); obs.Status != providers.Done {
		t.Errorf("after the fix: %+v (a Deny of the customer's only narrows)", obs)
	}

	// --prune drops the customer's statement.
	f.setup.Prune = true
	s = f.steps()[s3bucket.StepPolicy]
	if obs := f.check(s); obs.Status != providers.Drifted {
		t.Fatalf("with --prune: %+v", obs)
	}
	f.apply(s)
	if got := f.policy(f.names.Policy); !templates.SameDocument(got, templates.S3Access(bucket, "exports/").JSON()) {
		t.Errorf("pruned %s", got)
	}
}

// TestPolicyOfAnotherSetup: a policy of the same --name that another
// setup wrote for its own bucket is not taken over: the gate refuses,
// naming that bucket and both ways out, before any change; --adopt
// rewrites it for this bucket.
func TestPolicyOfAnotherSetup(t *testing.T) {
	first := newFixture(t)
	first.setup.WarehouseStep = ""
	first.converge()
	id := strings.TrimPrefix(first.setup.Config.Name, "t")

	second := newSetup(t, first.srv, id)
	second.setup.WarehouseStep = ""
	second.setup.Config.Bucket += "-second"
	before := len(second.srv.Calls())
	err := second.gate(s3bucket.StepPolicy)
	var ue *providers.UsageError
	if !errors.As(err, &ue) {
		t.Fatalf("gate = %v, want a usage error", err)
	}
	providertest.MustContain(t, "error", err.Error(), "IAM policy "+second.names.Policy+" is another byob setup's", "arn:aws:s3:::"+first.setup.Config.Bucket,
		"not s3://"+second.setup.Config.Bucket+"/exports/", "--name", "--adopt")
	if m := second.mutations(before); len(m) != 0 {
		t.Errorf("changed %q", m)
	}

	// Without its user there is no other setup to take over: the gate
	// passes without reading the policy (its ARN needs the account id,
	// which a first run learns only at the preflight).
	orphan := newSetup(t, first.srv, id)
	orphan.setup.WarehouseStep = ""
	orphan.setup.Config.Bucket += "-orphan"
	providers.UpdateSection(orphan.setup.Config, func(s *s3bucket.Settings) { s.UserName = "nobody-" + id })
	before = len(orphan.srv.Calls())
	if err := orphan.gate(s3bucket.StepPolicy); err != nil {
		t.Fatalf("gate without the user: %v", err)
	}
	for _, c := range orphan.srv.Calls()[before:] {
		if c.Action == "GetPolicy" {
			t.Errorf("the gate read the policy although its user does not exist")
		}
	}

	second.setup.Adopt = true
	if err := second.gate(s3bucket.StepPolicy); err != nil {
		t.Fatalf("--adopt: %v", err)
	}
	s := second.steps()[s3bucket.StepPolicy]
	if obs := second.check(s); obs.Status != providers.Drifted {
		t.Fatalf("check %+v", obs)
	}
	second.apply(s)
	if got := second.policy(second.names.Policy); strings.Contains(got, first.setup.Config.Bucket+"/") || !strings.Contains(got, second.setup.Config.Bucket+"/exports/") {
		t.Errorf("adopted policy %s", got)
	}
}

// TestPolicyShownLate: a policy IAM does not show yet right after a
// CreatePolicy whose answer was lost is waited for, then given byob's
// document; no second policy is tried.
func TestPolicyShownLate(t *testing.T) {
	f := newFixture(t)
	s := f.steps()[s3bucket.StepPolicy]
	if obs := f.check(s); obs.Status != providers.Missing {
		t.Fatalf("check %+v", obs)
	}
	f.srv.LoseAnswer("CreatePolicy", 1)
	f.srv.LateGetPolicy(f.policyARN(f.names.Policy), 2)
	f.apply(s)
	if obs := f.check(f.steps()[s3bucket.StepPolicy]); obs.Status != providers.Done {
		t.Errorf("after: %+v", obs)
	}
	if got := f.versions(f.names.Policy); len(got) != 1 {
		t.Errorf("versions %q, want the one", got)
	}
}

// TestRoleTrust: a trust changed by hand is drift naming what Snowflake
// needs, fixed in place; a role made while IAM cannot see Snowflake's
// user yet is retried until it can.
func TestRoleTrust(t *testing.T) {
	f := newFixture(t)
	f.srv.InvalidPrincipal(2)
	f.converge()
	creates := 0
	for _, c := range f.srv.Calls() {
		if c.Action == "CreateRole" && c.Form.Get("RoleName") == f.names.Role {
			creates++
		}
	}
	if creates != 3 {
		t.Errorf("CreateRole sent %d times, want 3 (twice refused)", creates)
	}

	other := templates.SnowflakeTrust(snowflakeUser, "another-id").JSON()
	if _, err := f.c.IAM.UpdateAssumeRolePolicy(context.Background(), &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(f.names.Role), PolicyDocument: aws.String(other)}); err != nil {
		t.Fatal(err)
	}
	s := f.steps()[s3bucket.StepRole]
	obs := f.check(s)
	if obs.Status != providers.Drifted || len(obs.Fix) != 1 || !templates.SameDocument(obs.Fix[0].Content, templates.SnowflakeTrust(snowflakeUser, externalID).JSON()) {
		t.Fatalf("check %+v", obs)
	}
	providertest.MustContain(t, "reason", obs.Reason, "does not name the integration's IAM user "+snowflakeUser+" and external ID "+externalID)
	f.apply(s)
	role, err := f.c.IAM.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String(f.names.Role)})
	if err != nil {
		t.Fatal(err)
	}
	if trust, _ := url.PathUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument)); !strings.Contains(trust, externalID) {
		t.Errorf("trust %s", trust)
	}
}

// TestAttachments: a policy detached by hand is attached again; the role
// that still has GrowthLoop's policy (a setup before Snowflake had its
// own) loses it, and keeps Snowflake's.
func TestAttachments(t *testing.T) {
	f := newFixture(t)
	f.converge()
	ctx := context.Background()
	user := f.policyARN(f.names.Policy)
	if _, err := f.c.IAM.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String(f.names.User), PolicyArn: aws.String(user)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(f.names.Role), PolicyArn: aws.String(user)}); err != nil {
		t.Fatal(err)
	}
	steps := f.steps()
	if obs := f.check(steps[s3bucket.StepUserPolicy]); obs.Status != providers.Missing {
		t.Errorf("user's attachment %+v", obs)
	}
	obs := f.check(steps[s3bucket.StepRolePolicy])
	if want := "role " + f.names.Role + " also has policy " + f.names.Policy + ", which it no longer needs: it is detached"; obs.Status != providers.Drifted || obs.Reason != want {
		t.Errorf("role's attachment %+v", obs)
	}
	f.apply(steps[s3bucket.StepUserPolicy])
	f.apply(steps[s3bucket.StepRolePolicy])
	if got := f.attached(false); !slices.Equal(got, []string{user}) {
		t.Errorf("user's policies %q", got)
	}
	if got := f.attached(true); !slices.Equal(got, []string{f.policyARN(f.names.SnowflakePolicy)}) {
		t.Errorf("role's policies %q", got)
	}
}

// TestUserMadeMeanwhile: a user made between the check and the create is
// the setup's.
func TestUserMadeMeanwhile(t *testing.T) {
	f := newFixture(t)
	s := f.steps()[s3bucket.StepUser]
	if obs := f.check(s); obs.Status != providers.Missing {
		t.Fatalf("check %+v", obs)
	}
	if _, err := f.c.IAM.CreateUser(context.Background(), &iam.CreateUserInput{UserName: aws.String(f.names.User)}); err != nil {
		t.Fatal(err)
	}
	f.apply(s)
	if obs := f.check(f.steps()[s3bucket.StepUser]); obs.Status != providers.Done {
		t.Errorf("after %+v", obs)
	}
}

// makeKey gives the user a key byob did not make.
func (f *fixture) makeKey() string {
	f.t.Helper()
	out, err := f.c.IAM.CreateAccessKey(context.Background(), &iam.CreateAccessKeyInput{UserName: aws.String(f.names.User)})
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(out.AccessKey.AccessKeyId)
}

// TestKeyLostOrInactive: a key whose secret was lost is deleted and
// replaced by one new key; so is the bundle's key made inactive.
func TestKeyLostOrInactive(t *testing.T) {
	f := newFixture(t)
	f.converge()
	f.deliver()
	old := f.setup.Values.Get(s3bucket.AccessKeyID)

	// The bundle is gone: byob's key can never be delivered again.
	if err := os.Remove(f.setup.Config.Bundle); err != nil {
		t.Fatal(err)
	}
	s := f.steps()[s3bucket.StepAccessKey]
	if obs := f.check(s); obs.Status != providers.Missing {
		t.Errorf("lost secret: %+v", obs)
	}
	f.apply(s)
	id := f.setup.Values.Get(s3bucket.AccessKeyID)
	if keys := f.keys(); len(keys) != 1 || keys[id] != iamtypes.StatusTypeActive || id == old || !slices.Equal(s3bucket.CreatedKeys(f.setup.Values), []string{id}) {
		t.Errorf("keys %v, new %s, old %s", keys, id, old)
	}
	f.deliver()

	if _, err := f.c.IAM.UpdateAccessKey(context.Background(), &iam.UpdateAccessKeyInput{UserName: aws.String(f.names.User), AccessKeyId: aws.String(id), Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	s = f.steps()[s3bucket.StepAccessKey]
	obs := f.check(s)
	if want := "access key " + id + " of the bundle is Inactive in IAM: a new key replaces it and " + id + " is deleted (upload the new bundle to GrowthLoop)"; obs.Status != providers.Drifted || obs.Reason != want {
		t.Errorf("inactive: %+v", obs)
	}
	f.apply(s)
	if keys, now := f.keys(), f.setup.Values.Get(s3bucket.AccessKeyID); len(keys) != 1 || keys[now] != iamtypes.StatusTypeActive || now == id {
		t.Errorf("keys %v, the setup's %s", keys, now)
	}
}

// TestKeyOfAnUnfinishedRun: the key a run made and did not deliver goes
// into the bundle of the next; no other is made.
func TestKeyOfAnUnfinishedRun(t *testing.T) {
	f := newFixture(t)
	f.converge()
	id := f.setup.Values.Get(s3bucket.AccessKeyID)
	s := f.steps()[s3bucket.StepAccessKey]
	if obs := f.check(s); obs.Status != providers.Missing || obs.Reason != "access key "+id+", made by a run that did not finish, goes into the bundle" {
		t.Errorf("check %+v", obs)
	}
	before := len(f.srv.Calls())
	f.apply(s)
	if m := f.mutations(before); len(m) != 0 || f.setup.Values.Get(s3bucket.AccessKeyID) != id {
		t.Errorf("changed %q; the setup's key %s, want %s", m, f.setup.Values.Get(s3bucket.AccessKeyID), id)
	}
}

// TestKeysByobDidNotMake: a key already on the user is GrowthLoop's with
// --adopt (kept, no new key); without, it is reported and left alone
// beside byob's. A user whose two keys are someone else's stops the run
// at the gate, naming them and how to free a slot.
func TestKeysByobDidNotMake(t *testing.T) {
	f := newFixture(t)
	f.apply(f.steps()[s3bucket.StepUser])
	theirs := f.makeKey()

	f.setup.Adopt = true
	s := f.steps()[s3bucket.StepAccessKey]
	obs := f.check(s)
	if obs.Status != providers.Done || !strings.HasPrefix(obs.Reason, "access key "+theirs+" of user "+f.names.User+" (0 days old) is the one GrowthLoop holds: left in place") {
		t.Errorf("adopted: %+v", obs)
	}
	if v := f.setup.Values; v.Get(providers.GrowthLoopsKey) != theirs || v.Get(s3bucket.AccessKeyID) != theirs {
		t.Errorf("values %v", v.Map())
	}

	f.setup.Adopt = false
	f.setup.Values.Delete(providers.GrowthLoopsKey)
	s = f.steps()[s3bucket.StepAccessKey]
	obs = f.check(s)
	if want := "user " + f.names.User + " also has access key " + theirs + " (Active, 0 days old), which byob did not create; left alone"; obs.Status != providers.Missing || obs.Reason != want {
		t.Errorf("foreign key: %+v", obs)
	}
	f.apply(s)
	if keys := f.keys(); len(keys) != 2 || keys[theirs] != iamtypes.StatusTypeActive {
		t.Errorf("keys %v", keys)
	}

	g := newFixture(t)
	g.apply(g.steps()[s3bucket.StepUser])
	a, b := g.makeKey(), g.makeKey()
	before := len(g.srv.Calls())
	err := g.gate(s3bucket.StepAccessKey)
	if err == nil {
		t.Fatal("gate passed with the user's two keys taken")
	}
	providertest.MustContain(t, "error", err.Error(), "user "+g.names.User+" already has the 2 access keys IAM allows", a+" (Active", b+" (Active",
		"byob never deletes a key it did not create", "aws iam delete-access-key --user-name "+g.names.User)
	if m := g.mutations(before); len(m) != 0 {
		t.Errorf("changed %q", m)
	}
}

// TestKeyAnswerLost: a CreateAccessKey whose answer is lost made a key
// whose secret nobody has: it is deleted, and one new key made.
func TestKeyAnswerLost(t *testing.T) {
	f := newFixture(t)
	f.apply(f.steps()[s3bucket.StepUser])
	s := f.steps()[s3bucket.StepAccessKey]
	f.check(s)
	f.srv.LoseAnswer("CreateAccessKey", 1)
	f.apply(s)
	id := f.setup.Values.Get(s3bucket.AccessKeyID)
	if keys := f.keys(); len(keys) != 1 || keys[id] != iamtypes.StatusTypeActive || string(f.setup.Keys.Secret(id)) == "" {
		t.Errorf("keys %v, the setup's %s", keys, id)
	}
	var deletes int
	for _, c := range f.srv.Calls() {
		if c.Action == "DeleteAccessKey" {
			deletes++
		}
	}
	if deletes != 1 {
		t.Errorf("%d DeleteAccessKey, want the lost key's", deletes)
	}
}

// TestPolicyAttachedBesideByobsIsWarnedOf: a policy someone else attached
// to byob's user is left in place, and named as a warning: it may let
// GrowthLoop's key do more than byob's policy.
func TestPolicyAttachedBesideByobsIsWarnedOf(t *testing.T) {
	f := newFixture(t)
	f.converge()
	ctx := context.Background()
	pol, err := f.c.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("theirs-" + f.names.User),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(f.names.User), PolicyArn: pol.Policy.Arn}); err != nil {
		t.Fatal(err)
	}
	obs := f.check(f.steps()[s3bucket.StepUserPolicy])
	want := "user " + f.names.User + " also has policy theirs-" + f.names.User + " attached, which byob did not attach: it may allow more than byob's policy (left in place)"
	if obs.Status != providers.Done || obs.Warning != want {
		t.Errorf("observation %+v, want the warning %q", obs, want)
	}
}
