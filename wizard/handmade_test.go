package wizard_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	iamapi "google.golang.org/api/iam/v1"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/gcsbucket/gcptest"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/s3bucket/awstest"
	"github.com/growthloop/byob/providers/snowflakestage"
	"github.com/growthloop/byob/snowflake/snowflaketest"
	"github.com/growthloop/byob/wizard"
)

// handMade builds, in kumo and the Snowflake fake, the setup a customer
// makes by following GrowthLoop's guide to the letter: its policy JSON
// (s3:GetBucketLocation under the s3:prefix condition), a role trusting
// "This Account" with the placeholder external ID 0000 and never updated,
// the user with the policy attached and one access key, the integration
// with Snowflake's own external ID, and the stage whose URL lacks the
// slash after the bucket. No TLS-only bucket policy, no lifecycle rule.
// It returns the config that names it and the user's key.
func handMade(t *testing.T, e *env) (wizard.Config, string) {
	t.Helper()
	ctx := context.Background()
	cfg := e.config()
	providers.UpdateSection(&cfg, func(s *s3bucket.Settings) {
		s.PolicyName, s.RoleName, s.UserName = "GrowthLoopBucketPolicy"+e.id, "GrowthLoopSnowflakeRole"+e.id, "growthloop"+e.id
	})
	cfg.State = cfg.State + ".handmade" // no state file: byob has never seen it
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	e.createBucket(cfg.Bucket, s3bucket.SettingsOf(&cfg).Region)
	must(e.admin.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(cfg.Bucket),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
			BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}}, func(o *s3.Options) { o.Region = s3bucket.SettingsOf(&cfg).Region }))
	guidePolicy := `{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": [ "s3:PutObject", "s3:GetObject", "s3:GetObjectVersion" ], "Resource": "arn:aws:s3:::` +
		cfg.Bucket + `/exports/*" }, { "Effect": "Allow", "Action": [ "s3:ListBucket", "s3:GetBucketLocation" ], "Resource": "arn:aws:s3:::` + cfg.Bucket +
		`", "Condition": { "StringLike": { "s3:prefix": [ "exports/*" ] } } } ] }`
	policy, err := e.admin.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(s3bucket.SettingsOf(&cfg).PolicyName), PolicyDocument: aws.String(guidePolicy)})
	if err != nil {
		t.Fatal(err)
	}
	trust := `{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::` + awstest.AccountID + `:root" }, "Action": "sts:AssumeRole", "Condition": { "StringEquals": { "sts:ExternalId": "0000" } } } ] }`
	must(e.admin.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(s3bucket.SettingsOf(&cfg).RoleName), AssumeRolePolicyDocument: aws.String(trust)}))
	must(e.admin.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(s3bucket.SettingsOf(&cfg).RoleName), PolicyArn: policy.Policy.Arn}))
	must(e.admin.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(s3bucket.SettingsOf(&cfg).UserName)}))
	must(e.admin.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(s3bucket.SettingsOf(&cfg).UserName), PolicyArn: policy.Policy.Arn}))
	key, err := e.admin.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(s3bucket.SettingsOf(&cfg).UserName)})
	if err != nil {
		t.Fatal(err)
	}
	roleARN := "arn:aws:iam::" + awstest.AccountID + ":role/" + s3bucket.SettingsOf(&cfg).RoleName
	e.sf.SetIntegration(snowflakestage.SettingsOf(&cfg).Integration, snowflaketest.Integration{Provider: "S3", Enabled: true, RoleARN: roleARN,
		ExternalID: "GROWTHLOOP_SFCRole=2_abcdefghijklmnop=", AllowedLocations: []string{"s3://" + cfg.Bucket + "/exports/"}})
	e.sf.Grant("GROWTHLOOP", "USAGE", "INTEGRATION", snowflakestage.SettingsOf(&cfg).Integration)
	e.sf.SetStage(snowflakestage.SettingsOf(&cfg).Database+"."+snowflakestage.SettingsOf(&cfg).Schema+"."+snowflakestage.SettingsOf(&cfg).Stage,
		snowflaketest.Stage{URL: "s3://" + cfg.Bucket + "exports/1234/", Integration: snowflakestage.SettingsOf(&cfg).Integration})
	return cfg, aws.ToString(key.AccessKey.AccessKeyId)
}

// TestHandMadeSetupIsVerifiedThenTakenOver: verify names each of the
// guide's mistakes; init --adopt repairs them in place, with no second
// user, role or policy and the one key intact; verify then passes and a
// second init changes nothing.
func TestHandMadeSetupIsVerifiedThenTakenOver(t *testing.T) {
	e := newEnv(t)
	cfg, key := handMade(t, e)
	e.aws.ConfineKeysTo(cfg.Prefix)
	ctx := context.Background()

	// verify, with the names and the user's key id (its secret is
	// GrowthLoop's).
	values := providers.NewValues(nil)
	values.Set(providers.GrowthLoopsKey, key)
	rep, err := wizard.Verify(ctx, cfg, e.deps, values, &wizard.Bundle{}, wizard.VerifyOptions{
		Propagation: runenv.Propagation{Timeout: time.Second, Initial: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	all := ""
	for _, c := range rep.Checks {
		all += c.ID + " " + string(c.Status) + ": " + c.Detail + " | " + c.Remedy + "\n"
	}
	for _, want := range []string{
		"s3:GetBucketLocation is under an s3:prefix condition and can never be allowed",
		"trust external ID 0000 does not match the integration's GROWTHLOOP_SFCRole=2_abcdefghijklmnop=",
		"trust principal arn:aws:iam::" + awstest.AccountID + ":root is not the integration's IAM user",
		"stage URL s3://" + cfg.Bucket + "exports/1234/ lacks the slash after the bucket",
		s3bucket.StepBucketPolicy + " fail", s3bucket.StepLifecycle + " fail",
		"access key " + key + " is active; its secret is GrowthLoop's alone",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("verify does not say %q:\n%s", want, all)
		}
	}
	if rep.OK {
		t.Error("verify passed a hand-made setup")
	}

	// init --adopt --yes repairs it in place.
	before := len(e.aws.Calls())
	state, values, err := wizard.Prepare(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wizard.Apply(ctx, cfg, e.deps, state, values, wizard.ApplyOptions{Adopt: true,
		Propagation: runenv.Propagation{Timeout: 10 * time.Second, Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range e.aws.Calls()[before:] {
		switch c.Action {
		case "CreateUser", "CreateRole", "CreateAccessKey", "DeleteAccessKey", "DeleteUser", "DeleteRole":
			t.Errorf("init --adopt sent %s", c.Action)
		case "CreatePolicy":
			if name := c.Form.Get("PolicyName"); name == s3bucket.SettingsOf(&cfg).PolicyName {
				t.Errorf("init --adopt created a second policy %s", name)
			}
		}
	}
	for _, q := range e.sf.Statements() {
		if strings.Contains(q, "CREATE OR REPLACE") || strings.HasPrefix(q, "CREATE STORAGE INTEGRATION") && e.sf.Integration(snowflakestage.SettingsOf(&cfg).Integration).ExternalID != "GROWTHLOOP_SFCRole=2_abcdefghijklmnop=" {
			t.Errorf("the integration's identity changed: %s", q)
		}
	}
	if keys := e.userKeys(cfg); len(keys) != 1 || keys[0] != key+" Active" {
		t.Errorf("the user's keys are %v: want only %s, untouched", keys, key)
	}
	if st := e.sf.Stage(snowflakestage.SettingsOf(&cfg).Database + "." + snowflakestage.SettingsOf(&cfg).Schema + "." + snowflakestage.SettingsOf(&cfg).Stage); st == nil || st.URL != "s3://"+cfg.Bucket+"/exports/1234/" {
		t.Errorf("stage %+v", st)
	}

	// verify from the state file init wrote: every check passes (the
	// key's use is a warning: its secret is GrowthLoop's).
	rep = verify(t, cfg, e.deps, wizard.VerifyOptions{})
	if f := failing(rep); len(f) > 0 {
		t.Errorf("verify after --adopt: %+v", f)
	}
	// A second init changes nothing.
	before = len(e.aws.Calls())
	statements := len(e.sf.Statements())
	out, err := e.apply(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Applied) > 0 {
		t.Errorf("a second init applied %v", out.Applied)
	}
	for _, c := range e.aws.Calls()[before:] {
		if c.Mutating {
			t.Errorf("a second init sent %s", c.Action)
		}
	}
	for _, q := range e.sf.Statements()[statements:] {
		if !strings.HasPrefix(q, "SHOW") && !strings.HasPrefix(q, "DESC") && !strings.HasPrefix(q, "SELECT") && !strings.HasPrefix(q, "LIST") {
			t.Errorf("a second init ran %s", q)
		}
	}
}

// TestAdoptedSetupIsManagedLikeByobs: after init --adopt, rotate-keys
// replaces the key GrowthLoop held with one byob holds and proves, and
// destroy removes only what byob made, never the adopted user, role,
// policy, bucket or integration.
func TestAdoptedSetupIsManagedLikeByobs(t *testing.T) {
	e := newEnv(t)
	cfg, key := handMade(t, e)
	e.aws.ConfineKeysTo(cfg.Prefix)
	ctx := context.Background()
	state, values, err := wizard.Prepare(cfg)
	if err != nil {
		t.Fatal(err)
	}
	prop := runenv.Propagation{Timeout: 10 * time.Second, Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}
	if _, err := wizard.Apply(ctx, cfg, e.deps, state, values, wizard.ApplyOptions{Adopt: true, Propagation: prop}); err != nil {
		t.Fatal(err)
	}

	mustRotate(t, cfg, e.deps, false, false)
	b := e.bundle(cfg)
	if b.AWSAccessKeyID == "" || b.AWSAccessKeyID == key || b.AWSSecretAccessKey == "" {
		t.Fatalf("rotate-keys wrote %+v", b)
	}
	mustRotate(t, cfg, e.deps, true, false)
	if keys := e.userKeys(cfg); len(keys) != 1 || keys[0] != b.AWSAccessKeyID+" Active" {
		t.Errorf("after the rotation the user's keys are %v: want only the new %s", keys, b.AWSAccessKeyID)
	}
	if f := failing(verify(t, cfg, e.deps, wizard.VerifyOptions{})); len(f) > 0 {
		t.Errorf("verify after the rotation: %+v", f)
	}

	mustDestroy(t, cfg, e.deps, providers.DestroyOptions{})
	for _, get := range append(iamReads(ctx, e, s3bucket.SettingsOf(&cfg).UserName, s3bucket.SettingsOf(&cfg).RoleName, s3bucket.SettingsOf(&cfg).PolicyName), func() error {
		_, err := e.admin.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(cfg.Bucket)}, func(o *s3.Options) { o.Region = s3bucket.SettingsOf(&cfg).Region })
		return err
	}) {
		if err := get(); err != nil {
			t.Errorf("destroy removed what it did not make: %v", err)
		}
	}
	if e.sf.Integration(snowflakestage.SettingsOf(&cfg).Integration) == nil {
		t.Error("destroy dropped the adopted integration")
	}
}

// TestHandMadeGCSSetup: a bucket without uniform bucket-level access and
// a service account whose role is granted on the whole project, as the
// guide's GCS steps leave them. verify names both, with the commands;
// init --adopt turns uniform access on and keeps the project grant and
// the one key; only --prune takes the grant off, and then verify passes.
func TestHandMadeGCSSetup(t *testing.T) {
	e := newGCSEnv(t)
	ctx := context.Background()
	cfg := e.config(providers.WarehouseNone)
	providers.UpdateSection(&cfg, func(s *gcsbucket.Settings) { s.ServiceAccount = "growthloop-exporter" })
	email := gcsbucket.SettingsOf(&cfg).ServiceAccount + "@" + gcptest.Project + ".iam.gserviceaccount.com"
	e.gcp.SetBucket(gcptest.Bucket{Name: cfg.Bucket, Location: gcsbucket.SettingsOf(&cfg).Location,
		IAMConfiguration: json.RawMessage(`{"uniformBucketLevelAccess":{"enabled":false},"publicAccessPrevention":"inherited"}`)})
	if _, err := e.admin.IAM.Projects.ServiceAccounts.Create("projects/"+gcptest.Project, &iamapi.CreateServiceAccountRequest{AccountId: gcsbucket.SettingsOf(&cfg).ServiceAccount,
		ServiceAccount: &iamapi.ServiceAccount{DisplayName: "GrowthLoop"}}).Context(ctx).Do(); err != nil {
		t.Fatal(err)
	}
	key := e.gcp.AddKey(email)
	e.gcp.SetProjectBindings([]gcptest.Binding{{Role: "roles/storage.objectAdmin", Members: []string{"serviceAccount:" + email, "user:admin@acme.com"}}})

	values := providers.NewValues(nil)
	values.Set(providers.GrowthLoopsKey, key)
	rep, err := wizard.Verify(ctx, cfg, e.deps, values, &wizard.Bundle{}, wizard.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	all := ""
	for _, c := range rep.Checks {
		all += c.ID + " " + string(c.Status) + ": " + c.Detail + " | " + c.Remedy + "\n"
	}
	for _, want := range []string{"uniform bucket-level access is off",
		email + " holds roles/storage.objectAdmin on the whole project " + gcptest.Project,
		"gcloud projects remove-iam-policy-binding " + gcptest.Project + " --member=serviceAccount:" + email + " --role=roles/storage.objectAdmin"} {
		if !strings.Contains(all, want) {
			t.Errorf("verify does not say %q:\n%s", want, all)
		}
	}

	adopt := func(prune bool) {
		t.Helper()
		state, values, err := wizard.Prepare(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := wizard.Apply(ctx, cfg, e.deps, state, values, wizard.ApplyOptions{Adopt: true, Prune: prune,
			Propagation: runenv.Propagation{Timeout: 10 * time.Second, Initial: 5 * time.Millisecond}}); err != nil {
			t.Fatal(err)
		}
	}
	adopt(false)
	if b := e.gcp.Bucket(cfg.Bucket); !strings.Contains(string(b.IAMConfiguration), `"uniformBucketLevelAccess":{"enabled":true`) {
		t.Errorf("uniform access is still off: %s", b.IAMConfiguration)
	}
	if keys := e.gcp.Keys(email); len(keys) != 1 || keys[0] != key {
		t.Errorf("keys %v: want only %s", keys, key)
	}
	if len(e.gcp.ProjectBindings()) != 1 || len(e.gcp.ProjectBindings()[0].Members) != 2 {
		t.Errorf("init without --prune changed the project's policy: %+v", e.gcp.ProjectBindings())
	}
	if f := failing(verify(t, cfg, e.deps, wizard.VerifyOptions{})); len(f) != 1 || f[gcsbucket.CheckNoProjectGrant].ID == "" {
		t.Errorf("after --adopt only the project grant fails: %+v", f)
	}

	adopt(true)
	if b := e.gcp.ProjectBindings(); len(b) != 1 || !reflect.DeepEqual(b[0].Members, []string{"user:admin@acme.com"}) {
		t.Errorf("--prune: the project's policy is %+v; want only the other member kept", b)
	}
	rep = verify(t, cfg, e.deps, wizard.VerifyOptions{})
	if f := failing(rep); len(f) > 0 {
		t.Errorf("verify after --prune: %+v", f)
	}
	for _, c := range rep.Checks {
		if c.ID == gcsbucket.CheckKeyWorks && (c.Status != providers.Warn || !strings.Contains(c.Detail, "key "+key+" is GrowthLoop's")) {
			t.Errorf("the key GrowthLoop holds: %+v", c)
		}
	}
}
