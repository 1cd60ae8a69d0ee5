package wizard_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/s3bucket/awstest"
	"github.com/growthloop/byob/providers/snowflakestage"
	"github.com/growthloop/byob/snowflake/snowflaketest"
	"github.com/growthloop/byob/templates"
	"github.com/growthloop/byob/wizard"
)

func TestS3SnowflakeFullRunThenNoOp(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	out := e.mustApply(cfg)
	if !out.BundleWritten || len(out.InPlace) != 0 {
		t.Errorf("first run: %+v", out)
	}
	e.inspect(cfg)

	awsBefore, sfBefore := len(e.aws.Mutations()), e.sf.Mutations()
	out = e.mustApply(cfg)
	if got := e.aws.Mutations()[awsBefore:]; len(got) != 0 {
		t.Errorf("re-run made AWS mutations: %+v", got)
	}
	if e.sf.Mutations() != sfBefore {
		t.Errorf("re-run ran DDL: %v", e.sf.Statements()[len(e.sf.Statements())-5:])
	}
	if len(out.Applied) != 0 || out.BundleWritten || len(out.InPlace) != 17 {
		t.Errorf("re-run outcome: %+v", out)
	}
	e.inspect(cfg)
}

func TestS3WithoutWarehouse(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	cfg.Warehouse = providers.WarehouseNone
	before := len(e.sf.Statements())
	e.mustApply(cfg)
	if _, err := e.admin.IAM.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String(s3bucket.NamesFor(cfg.Name).Role)}); err == nil {
		t.Error("--warehouse none must not create the Snowflake role")
	}
	if n := len(e.sf.Statements()) - before; n != 0 {
		t.Errorf("--warehouse none ran %d Snowflake statements", n)
	}
	b := e.bundle(cfg)
	if b.Snowflake != nil || b.AWSSecretAccessKey == "" {
		t.Errorf("bundle %+v", b)
	}
}

// TestResumeAfterFailureAtEachStep injects a failure into each mutating
// call of a clean run in turn, then re-runs: the result equals a clean
// run's, with one key and one of everything.
func TestResumeAfterFailureAtEachStep(t *testing.T) {
	clean := newEnv(t)
	clean.mustApply(clean.config())
	awsN, sfN := len(clean.aws.Mutations()), clean.sf.Mutations()
	if awsN < 10 || sfN < 5 {
		t.Fatalf("a clean run made %d AWS and %d Snowflake mutations", awsN, sfN)
	}
	for k := 1; k <= awsN+sfN; k++ {
		e := newEnv(t)
		cfg := e.config()
		what := ""
		if k <= awsN {
			e.aws.FailMutation(k, "")
			what = "AWS mutation " + clean.aws.Mutations()[k-1].Action
		} else {
			e.sf.FailMutation(k - awsN)
			what = "Snowflake statement"
		}
		_, err := e.apply(cfg)
		var se *wizard.StepError
		if !errors.As(err, &se) {
			t.Fatalf("k=%d (%s): want a step error, got %v", k, what, err)
		}
		// The inputs are recorded before the first change, the external ID
		// before the integration that holds it.
		state := e.state(cfg)
		if state["inputs"] == nil || e.sf.Integration(snowflakestage.SettingsOf(&cfg).Integration) != nil && state["values"].(map[string]any)["snowflake.external_id"] == nil {
			t.Fatalf("k=%d: state after failure lacks inputs or external ID: %v", k, state)
		}
		e.mustApply(cfg)
		e.inspect(cfg)
	}
}

func TestExistingBucketOwnedByCaller(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	ctx := context.Background()
	_, err := e.admin.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(cfg.Bucket),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(s3bucket.SettingsOf(&cfg).Region)}})
	if err != nil {
		t.Fatal(err)
	}
	inRegion := func(o *s3.Options) { o.Region = s3bucket.SettingsOf(&cfg).Region }
	_, err = e.admin.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(cfg.Bucket), Key: aws.String("keep/me.txt"), Body: strings.NewReader("x")}, inRegion)
	if err != nil {
		t.Fatal(err)
	}
	e.mustApply(cfg)
	var adopted bool
	for _, ev := range e.events {
		if ev.Step == s3bucket.StepBucket && ev.Kind == wizard.EventInPlace && strings.Contains(ev.Detail, "adopted") {
			adopted = true
		}
	}
	if !adopted {
		t.Errorf("the output must say the bucket was adopted: %+v", e.events)
	}
	if _, err := e.admin.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(cfg.Bucket), Key: aws.String("keep/me.txt")}, inRegion); err != nil {
		t.Errorf("an adopted bucket's objects must be kept: %v", err)
	}
	e.inspect(cfg)
}

// TestBucketS3WillNotShow: S3 answers HeadBucket 403 both for another
// account's bucket and for the caller's own when it lacks s3:ListBucket,
// and 301 for a bucket in another region; each gets its own message, and
// nothing is changed or recorded.
func TestBucketS3WillNotShow(t *testing.T) {
	cases := []struct {
		name  string
		setUp func(e *env, cfg wizard.Config)
		want  []string
	}{
		{"another account's", func(e *env, cfg wizard.Config) {
			e.aws.Foreign(cfg.Bucket)
		}, []string{"belongs to another AWS account", "choose another --bucket"}},
		{"own bucket without s3:ListBucket", func(e *env, cfg wizard.Config) {
			e.createBucket(cfg.Bucket, s3bucket.SettingsOf(&cfg).Region)
			e.aws.Deny("HEAD bucket")
		}, []string{"s3:ListBucket (HeadBucket " + "acme-exports-", "is this account's", "grant it in IAM"}},
		{"another account's, and the bucket list denied", func(e *env, cfg wizard.Config) {
			e.aws.Foreign(cfg.Bucket)
			e.aws.Deny("GET /")
		}, []string{"either it belongs to another AWS account", "lacks s3:ListBucket", "s3:ListAllMyBuckets"}},
		{"in another region", func(e *env, cfg wizard.Config) {
			e.createBucket(cfg.Bucket, "eu-central-1")
		}, []string{"is in eu-central-1, not us-west-2", "--region eu-central-1", "another --bucket"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			cfg := e.config()
			tc.setUp(e, cfg)
			before := len(e.aws.Calls())
			_, err := e.apply(cfg)
			if err == nil {
				t.Fatal("apply succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for _, c := range e.aws.Calls()[before:] {
				if c.Mutating {
					t.Errorf("%s %s changed something before the bucket was settled", c.Service, c.Action)
				}
			}
			for _, st := range e.sf.Statements() {
				if !strings.HasPrefix(st, "SELECT") && !strings.HasPrefix(st, "DESC") && !strings.HasPrefix(st, "SHOW") {
					t.Errorf("Snowflake changed: %s", st)
				}
			}
			if _, err := os.Stat(cfg.State); !os.IsNotExist(err) {
				t.Errorf("a run that changed nothing leaves no state file: %v", err)
			}
		})
	}
}

// TestLegacyEURegionBucketIsAdopted: GetBucketLocation says EU for old
// eu-west-1 buckets; byob reads it as eu-west-1.
func TestLegacyEURegionBucketIsAdopted(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	providers.UpdateSection(&cfg, func(s *s3bucket.Settings) { s.Region = "eu-west-1" })
	e.createBucket(cfg.Bucket, "EU")
	e.mustApply(cfg)
	e.inspect(cfg)
}

// TestPropagationAndThrottling: a new key that is not valid at first, a
// trust principal IAM does not see yet, and throttled calls all end in a
// working setup.
func TestPropagationAndThrottling(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.aws.KeyWarmup(3)
	e.aws.InvalidPrincipal(2)
	e.aws.Throttle("CreatePolicy", 1)
	e.aws.Unavailable("CreateUser", 2)
	e.mustApply(cfg)
	e.inspect(cfg)
	var waits []string
	for _, ev := range e.events {
		if ev.Kind == wizard.EventWait {
			waits = append(waits, ev.Detail)
		}
	}
	joined := strings.Join(waits, "\n")
	if !strings.Contains(joined, "access key to work") || !strings.Contains(joined, "trust policy") {
		t.Errorf("waits must say why: %q", waits)
	}
	count := map[string]int{}
	for _, c := range e.aws.Calls() {
		count[c.Action]++
	}
	if count["CreatePolicy"] != 3 || count["CreateUser"] != 3 {
		t.Errorf("the SDK must retry throttling and 503s: CreatePolicy %d calls (want 3 for two policies), CreateUser %d (want 3)", count["CreatePolicy"], count["CreateUser"])
	}
}

// TestPolicyShownLate: IAM answers CreatePolicy with EntityAlreadyExists
// (a first call's answer was lost) but, eventually consistent, does not
// show the policy yet: init waits for it instead of failing.
func TestPolicyShownLate(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	names := s3bucket.NamesFor(cfg.Name)
	doc := templates.S3Access(templates.Bucket{Partition: "aws", Name: cfg.Bucket}, cfg.Prefix).JSON()
	_, err := e.admin.IAM.CreatePolicy(context.Background(), &iam.CreatePolicyInput{PolicyName: aws.String(names.Policy), PolicyDocument: aws.String(doc)})
	must(t, err)
	e.aws.LateGetPolicy("arn:aws:iam::"+awstest.AccountID+":policy/"+names.Policy, 3)
	e.mustApply(cfg)
	e.inspect(cfg)
	waited := slices.ContainsFunc(e.events, func(ev wizard.Event) bool {
		return ev.Kind == wizard.EventWait && strings.Contains(ev.Detail, "IAM to show policy "+names.Policy)
	})
	if !waited {
		t.Errorf("init must say it waits for IAM: %+v", e.events)
	}
}

// TestIntegrationOfAnotherProviderIsNeverAltered: an integration named
// like byob's S3 one but made for GCS is reported, with the flag that
// picks another name, before anything changes.
func TestIntegrationOfAnotherProviderIsNeverAltered(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.sf.SetIntegration(snowflakestage.SettingsOf(&cfg).Integration, snowflaketest.Integration{Provider: "GCS", Enabled: true, AllowedLocations: []string{"gcs://theirs/"}})
	before := len(e.aws.Calls())
	_, err := e.apply(cfg)
	if err == nil || !strings.Contains(err.Error(), "STORAGE_PROVIDER GCS, not S3") || !strings.Contains(err.Error(), "--integration") ||
		!strings.Contains(err.Error(), snowflakestage.SettingsOf(&cfg).Integration) {
		t.Fatalf("apply = %v", err)
	}
	if got := e.statementsSince(0, "ALTER"); len(got) != 0 {
		t.Errorf("another provider's integration was altered: %q", got)
	}
	for _, c := range e.aws.Calls()[before:] {
		if c.Mutating {
			t.Errorf("%s %s ran before the integration was found to be another provider's", c.Service, c.Action)
		}
	}
	if in := e.sf.Integration(snowflakestage.SettingsOf(&cfg).Integration); in.Provider != "GCS" || in.AllowedLocations[0] != "gcs://theirs/" {
		t.Errorf("integration = %+v", in)
	}
}

// TestIntegrationDriftIsAltered: an integration that points elsewhere is
// altered in place; its external ID, which Snowflake presents, is kept and
// the trust, the state and the bundle follow it.
func TestIntegrationDriftIsAltered(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.mustApply(cfg)
	in := e.sf.Integration(snowflakestage.SettingsOf(&cfg).Integration)
	in.ExternalID, in.AllowedLocations = "someone-else", []string{"s3://other/"}
	e.sf.SetIntegration(snowflakestage.SettingsOf(&cfg).Integration, *in)
	before := len(e.sf.Statements())
	e.mustApply(cfg)
	alter := e.statementsSince(before, "ALTER STORAGE INTEGRATION")
	if len(alter) != 1 || !strings.Contains(alter[0], "STORAGE_ALLOWED_LOCATIONS") || !strings.Contains(alter[0], "STORAGE_AWS_EXTERNAL_ID = 'someone-else'") ||
		!strings.Contains(alter[0], "STORAGE_AWS_ROLE_ARN") {
		t.Errorf("ALTER = %q: it must set the locations, and the role ARN with the integration's own external ID", alter)
	}
	var reported bool
	for _, ev := range e.events {
		if ev.Kind == wizard.EventDrift && strings.Contains(ev.Detail, alter[0]) && strings.Contains(ev.Detail, "another STORAGE_ALLOWED_LOCATIONS") &&
			strings.Contains(ev.Detail, "external ID is someone-else") {
			reported = true
		}
	}
	if !reported {
		t.Errorf("the drift and its exact ALTER must be reported: %+v", e.events)
	}
	// Once: the change that follows does not repeat the drift's reason.
	for _, ev := range e.events {
		if ev.Kind == wizard.EventApplied && ev.Step == snowflakestage.StepIntegration && ev.Detail != "" {
			t.Errorf("the applied event repeats the drift: %+v", ev)
		}
	}
	if got := e.state(cfg)["values"].(map[string]any)["snowflake.external_id"]; got != "someone-else" {
		t.Errorf("state external ID = %v", got)
	}
	e.inspect(cfg) // the trust and the bundle name someone-else
}

// TestResetExternalIDOnRequest: only --reset-external-id gives a live
// integration a new external ID, and the trust and bundle follow.
func TestResetExternalIDOnRequest(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.mustApply(cfg)
	old := e.sf.Integration(snowflakestage.SettingsOf(&cfg).Integration).ExternalID
	state, values, err := wizard.Prepare(cfg)
	if err != nil {
		t.Fatal(err)
	}
	before := len(e.sf.Statements())
	if _, err := wizard.Apply(context.Background(), cfg, e.deps, state, values, wizard.ApplyOptions{ResetExternalID: true}); err != nil {
		t.Fatal(err)
	}
	now := e.sf.Integration(snowflakestage.SettingsOf(&cfg).Integration).ExternalID
	if now == old || !strings.HasPrefix(now, "byob-") {
		t.Errorf("external ID %s after reset, was %s", now, old)
	}
	if alter := e.statementsSince(before, "ALTER STORAGE INTEGRATION"); len(alter) != 1 || !strings.Contains(alter[0], now) {
		t.Errorf("ALTER = %q", alter)
	}
	e.inspect(cfg)
}

// TestLostStateAdoptsTheLiveSetup: with the state file gone (another
// machine, a new CI runner), a re-run adopts the integration's external ID
// and the bundle's key, and changes nothing.
func TestLostStateAdoptsTheLiveSetup(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.mustApply(cfg)
	key := e.bundle(cfg).AWSAccessKeyID
	if err := os.Remove(cfg.State); err != nil {
		t.Fatal(err)
	}
	awsBefore, sfBefore := len(e.aws.Mutations()), e.sf.Mutations()
	out := e.mustApply(cfg)
	if got := e.aws.Mutations()[awsBefore:]; len(got) != 0 {
		t.Errorf("AWS mutations: %+v", got)
	}
	if e.sf.Mutations() != sfBefore {
		t.Errorf("Snowflake statements: %v", e.sf.Statements()[sfBefore:])
	}
	if len(out.Applied) != 0 || e.bundle(cfg).AWSAccessKeyID != key {
		t.Errorf("outcome %+v; bundle key %s, was %s", out, e.bundle(cfg).AWSAccessKeyID, key)
	}
	values := e.state(cfg)["values"].(map[string]any)
	if values["snowflake.external_id"] != e.sf.Integration(snowflakestage.SettingsOf(&cfg).Integration).ExternalID || values["aws.access_key_id"] != key {
		t.Errorf("state values %v", values)
	}
	e.inspect(cfg)
}

// TestDriftNotConfirmedIsLeftAlone: without --yes, a "no" to the drift
// question changes nothing.
func TestDriftNotConfirmedIsLeftAlone(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.mustApply(cfg)
	in := e.sf.Integration(snowflakestage.SettingsOf(&cfg).Integration)
	in.ExternalID = "someone-else"
	e.sf.SetIntegration(snowflakestage.SettingsOf(&cfg).Integration, *in)
	state, values, err := wizard.Prepare(cfg)
	if err != nil {
		t.Fatal(err)
	}
	before := e.sf.Mutations()
	_, err = wizard.Apply(context.Background(), cfg, e.deps, state, values, wizard.ApplyOptions{
		ConfirmDrift: func(s providers.Step, obs providers.Observation) error { return wizard.ErrCancelled },
	})
	if !errors.Is(err, wizard.ErrCancelled) {
		t.Fatalf("apply = %v", err)
	}
	if e.sf.Mutations() != before || e.sf.Integration(snowflakestage.SettingsOf(&cfg).Integration).ExternalID != "someone-else" {
		t.Error("a declined drift fix must change nothing in Snowflake")
	}
}

func TestMissingSchemaAndPrivilegeErrors(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.sf.DropSchema("ANALYTICS.FLYWHEEL_SYSTEM")
	_, err := e.apply(cfg)
	if err == nil || !strings.Contains(err.Error(), "ANALYTICS.FLYWHEEL_SYSTEM") || !strings.Contains(err.Error(), "--snowflake-schema") {
		t.Errorf("missing schema: %v", err)
	}

	e2 := newEnv(t)
	e2.connect(e2.admin, e2.sf.Connect(t, "SYSADMIN", nil))
	_, err = e2.apply(e2.config())
	if err == nil || !strings.Contains(err.Error(), "role SYSADMIN") || !strings.Contains(err.Error(), "ACCOUNTADMIN") {
		t.Errorf("insufficient privileges: %v", err)
	}
}

func TestAccessDeniedNamesActionAndCaller(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.aws.FailMutation(1, "AccessDenied")
	_, err := e.apply(cfg)
	if err == nil || !strings.Contains(err.Error(), awstest.AdminARN) || !strings.Contains(err.Error(), "is not allowed for") {
		t.Errorf("AccessDenied: %v", err)
	}
	if strings.Contains(err.Error(), "byob init") {
		t.Errorf("AccessDenied names a verb: %v", err)
	}

	// The same error in destroy sends the user to no other verb.
	e.mustApply(cfg)
	e.aws.FailMutation(1, "AccessDenied")
	_, _, err = destroy(t, cfg, e.deps, providers.DestroyOptions{})
	if err == nil || !strings.Contains(err.Error(), "is not allowed for") || strings.Contains(err.Error(), "byob init") {
		t.Errorf("AccessDenied in destroy: %v", err)
	}
}

// TestEveryFailureIsTold: two steps that start at once and are both
// denied are both named, each with its reason: the user grants both
// before the next run.
func TestEveryFailureIsTold(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.aws.Deny("PUT bucket")
	e.aws.Deny("CreateUser")
	// Each is refused only once both were sent (a step starts only while
	// none has failed).
	e.aws.Together("PUT bucket", "CreateUser")
	_, err := e.apply(cfg)
	var se *wizard.StepError
	if err == nil || !errors.As(err, &se) || !strings.Contains(err.Error(), "[s3-bucket]") || !strings.Contains(err.Error(), "[iam-user]") {
		t.Errorf("two denied steps: %v", err)
	}
}

func TestLostSecretIsReplacedByOneNewKey(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.mustApply(cfg)
	old := e.bundle(cfg).AWSAccessKeyID
	os.Remove(cfg.Bundle)
	e.mustApply(cfg)
	b := e.bundle(cfg)
	if b.AWSAccessKeyID == old {
		t.Error("a key whose secret was lost must be replaced")
	}
	e.inspect(cfg) // exactly one key, and it is the bundle's
}

func TestInactiveKeyIsReplaced(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.mustApply(cfg)
	old := e.bundle(cfg).AWSAccessKeyID
	_, err := e.admin.IAM.UpdateAccessKey(context.Background(), &iam.UpdateAccessKeyInput{
		UserName: aws.String(s3bucket.NamesFor(cfg.Name).User), AccessKeyId: aws.String(old), Status: "Inactive"})
	if err != nil {
		t.Fatal(err)
	}
	e.mustApply(cfg)
	if e.bundle(cfg).AWSAccessKeyID == old {
		t.Error("an inactive key must be replaced")
	}
	e.inspect(cfg)
}

func TestExistingForeignBundleNeedsForce(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	os.WriteFile(cfg.Bundle, []byte(`{"version":1,"aws_access_key_id":"AKIAOTHER"}`), 0o600)
	_, err := e.apply(cfg)
	var ue *wizard.UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("apply = %v", err)
	}
	if n := len(e.aws.Mutations()); n != 0 {
		t.Errorf("a refused bundle must stop the run before any change, saw %d mutations", n)
	}
}

func TestRegionDefaultsToSnowflakes(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	providers.UpdateSection(&cfg, func(s *s3bucket.Settings) { s.Region = "" })
	out := e.mustApply(cfg)
	if out.Preflight.Region != "us-west-2" || e.bundle(cfg).Region != "us-west-2" {
		t.Errorf("region = %q", out.Preflight.Region)
	}
	e2 := newEnv(t)
	cfg2 := e2.config()
	providers.UpdateSection(&cfg2, func(s *s3bucket.Settings) { s.Region = "eu-west-1" })
	out = e2.mustApply(cfg2)
	if len(out.Preflight.Warnings) != 1 || !strings.Contains(out.Preflight.Warnings[0], "us-west-2") {
		t.Errorf("warnings = %v", out.Preflight.Warnings)
	}
	e2.inspect(cfg2)
}

// TestLostKeyAnswerLeavesOneKey: when IAM made a key but its answer was
// lost, byob deletes that key (nobody has its secret) and makes another:
// the user ends with exactly one key, the bundle's.
func TestLostKeyAnswerLeavesOneKey(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.aws.LoseAnswer("CreateAccessKey", 2)
	e.mustApply(cfg)
	e.inspect(cfg)
	count := 0
	for _, c := range e.aws.Calls() {
		if c.Action == "CreateAccessKey" {
			count++
		}
	}
	if count != 3 {
		t.Errorf("CreateAccessKey called %d times, want 3 (two answers lost)", count)
	}
}

// TestKeysByobDidNotMakeAreLeftAlone: a key on GrowthLoop's user that
// byob did not make is reported and never touched.
func TestKeysByobDidNotMakeAreLeftAlone(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.mustApply(cfg)
	user := aws.String(s3bucket.NamesFor(cfg.Name).User)
	other, err := e.admin.IAM.CreateAccessKey(context.Background(), &iam.CreateAccessKeyInput{UserName: user})
	if err != nil {
		t.Fatal(err)
	}
	otherID := aws.ToString(other.AccessKey.AccessKeyId)
	os.Remove(cfg.Bundle) // byob's own key is now undeliverable: it is replaced
	e.mustApply(cfg)
	keys, err := e.admin.IAM.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: user})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range keys.AccessKeyMetadata {
		ids = append(ids, aws.ToString(k.AccessKeyId))
	}
	if len(ids) != 2 || !slices.Contains(ids, otherID) || !slices.Contains(ids, e.bundle(cfg).AWSAccessKeyID) {
		t.Errorf("keys %v: want the other key %s and the bundle's %s", ids, otherID, e.bundle(cfg).AWSAccessKeyID)
	}
	var reported bool
	for _, ev := range e.events {
		if ev.Step == s3bucket.StepAccessKey && strings.Contains(ev.Detail, otherID+" (Active") && strings.Contains(ev.Detail, "byob did not create; left alone") {
			reported = true
		}
	}
	if !reported {
		t.Errorf("the other key must be reported: %+v", e.events)
	}
}

// TestStoppedRunKeepsTheNewKeyForTheNext: a run that fails after making
// the key keeps its secret in the 0600 pending file, writes no bundle,
// and the next run delivers that same key instead of making another.
func TestStoppedRunKeepsTheNewKeyForTheNext(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.sf.SetLatency(100 * time.Millisecond) // the key is made before Snowflake fails
	e.sf.FailMutation(1)
	out, err := e.apply(cfg)
	if err == nil || out.Pending != s3bucket.PendingPath(cfg.Bundle) {
		t.Fatalf("apply = %v, pending %q", err, out.Pending)
	}
	if fi, err := os.Stat(out.Pending); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("pending file: %v %v", fi, err)
	}
	if _, err := os.Stat(cfg.Bundle); !os.IsNotExist(err) {
		t.Errorf("a stopped run must write no bundle: %v", err)
	}
	keyID := e.state(cfg)["values"].(map[string]any)["aws.access_key_id"]
	e.sf.SetLatency(0)
	e.mustApply(cfg)
	if got := e.bundle(cfg).AWSAccessKeyID; got != keyID {
		t.Errorf("bundle key %s, want the stopped run's %v", got, keyID)
	}
	if _, err := os.Stat(out.Pending); !os.IsNotExist(err) {
		t.Errorf("the pending file must be gone once the bundle holds the key: %v", err)
	}
	e.inspect(cfg)
}

// TestEarlierSetupIsBroughtUpToDate: a setup made when Snowflake's role
// shared GrowthLoop's policy and the lifecycle rule kept old versions is
// brought up to date by the next init: Snowflake's own policy is created
// and attached before GrowthLoop's is detached from the role, and the rule
// gains the noncurrent and incomplete-upload expirations.
func TestEarlierSetupIsBroughtUpToDate(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.mustApply(cfg)
	ctx := context.Background()
	names := s3bucket.NamesFor(cfg.Name)
	arn := func(name string) *string { return aws.String("arn:aws:iam::" + awstest.AccountID + ":policy/" + name) }
	_, err := e.admin.IAM.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(names.Role), PolicyArn: arn(names.SnowflakePolicy)})
	must(t, err)
	_, err = e.admin.IAM.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: arn(names.SnowflakePolicy)})
	must(t, err)
	_, err = e.admin.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(names.Role), PolicyArn: arn(names.Policy)})
	must(t, err)
	_, err = e.admin.S3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(cfg.Bucket),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{
			ID: aws.String(templates.ExpireRuleID), Status: s3types.ExpirationStatusEnabled,
			Filter:     &s3types.LifecycleRuleFilter{Prefix: aws.String(cfg.Prefix)},
			Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(int32(cfg.TTLDays))}}}}},
		func(o *s3.Options) { o.Region = s3bucket.SettingsOf(&cfg).Region })
	must(t, err)

	before := len(e.aws.Calls())
	out := e.mustApply(cfg)
	applied := slices.Clone(out.Applied)
	slices.Sort(applied)
	if want := []string{s3bucket.StepSnowflakePolicy, s3bucket.StepRolePolicy, s3bucket.StepLifecycle}; !slices.Equal(applied, slices.Sorted(slices.Values(want))) {
		t.Errorf("applied %v, want %v", applied, want)
	}
	var order []string
	for _, c := range e.aws.Calls()[before:] {
		if c.Action == "AttachRolePolicy" || c.Action == "DetachRolePolicy" {
			order = append(order, c.Action+" "+c.Form.Get("PolicyArn"))
		}
	}
	if want := []string{"AttachRolePolicy " + *arn(names.SnowflakePolicy), "DetachRolePolicy " + *arn(names.Policy)}; !slices.Equal(order, want) {
		t.Errorf("role attachments changed as %v, want %v (Snowflake never without a policy)", order, want)
	}
	e.inspect(cfg)
}

// TestAdoptedUserWithTwoKeys: IAM allows two access keys per user. An
// adopted user that has two already stops the run before any change,
// naming the keys and their ages and the command that frees a slot; byob
// deletes neither.
func TestAdoptedUserWithTwoKeys(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	ctx := context.Background()
	user := s3bucket.NamesFor(cfg.Name).User
	if _, err := e.admin.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
		t.Fatal(err)
	}
	var theirs []string
	for range 2 {
		k, err := e.admin.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
		if err != nil {
			t.Fatal(err)
		}
		theirs = append(theirs, aws.ToString(k.AccessKey.AccessKeyId))
	}
	before := len(e.aws.Calls())
	_, err := e.apply(cfg)
	says := []string{"already has the 2 access keys IAM allows", theirs[0] + " (Active, 0 days old)", theirs[1], "byob never deletes a key it did not create",
		"aws iam delete-access-key --user-name " + user}
	for _, s := range says {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("apply = %v; want it to say %q", err, s)
		}
	}
	for _, c := range e.aws.Calls()[before:] {
		if c.Mutating {
			t.Errorf("%s %s ran before the full key quota was found", c.Service, c.Action)
		}
	}
	// Made once a slot is free, without touching the other key.
	if _, err := e.admin.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(theirs[0])}); err != nil {
		t.Fatal(err)
	}
	e.mustApply(cfg)
	if keys := e.userKeys(cfg); len(keys) != 2 || !slices.Contains(keys, theirs[1]+" Active") {
		t.Errorf("keys %v: theirs and byob's", keys)
	}
}

// TestSameNameOnAnotherBucketIsRefused: a second setup with the same
// --name on another bucket finds the first one's policy (byob's statements
// on the other bucket) and stops before any change, naming --name and
// --adopt; --adopt rewrites the policy for the new bucket, its statements
// replacing the old ones (one of each Sid).
func TestSameNameOnAnotherBucketIsRefused(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	first := e.config()
	first.Warehouse = providers.WarehouseNone
	e.mustApply(first)

	second := first
	second.Bucket += "-second"
	second.State = filepath.Join(t.TempDir(), "state.json")
	second.Bundle = filepath.Join(filepath.Dir(second.State), "bundle.json")
	before := len(e.aws.Mutations())
	_, err := e.apply(second)
	var ue *providers.UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "another byob setup's") || !strings.Contains(err.Error(), first.Bucket) ||
		!strings.Contains(err.Error(), "--name") || !strings.Contains(err.Error(), "--adopt") {
		t.Fatalf("same name, another bucket: %v", err)
	}
	if m := e.aws.Mutations()[before:]; len(m) != 0 {
		t.Errorf("the refused run changed %v", m)
	}

	state, values, err := wizard.Prepare(second)
	must(t, err)
	if _, err := wizard.Apply(ctx, second, e.deps, state, values, wizard.ApplyOptions{Adopt: true,
		Propagation: runenv.Propagation{Timeout: 10 * time.Second, Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}}); err != nil {
		t.Fatalf("--adopt: %v", err)
	}
	names := s3bucket.NamesFor(second.Name)
	arn := "arn:aws:iam::" + awstest.AccountID + ":policy/" + names.Policy
	p, err := e.admin.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	must(t, err)
	ver, err := e.admin.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.Policy.DefaultVersionId})
	must(t, err)
	doc, _ := url.PathUnescape(aws.ToString(ver.PolicyVersion.Document))
	var pol struct{ Statement []struct{ Sid string } }
	must(t, json.Unmarshal([]byte(doc), &pol))
	seen := map[string]bool{}
	for _, st := range pol.Statement {
		if seen[st.Sid] {
			t.Errorf("Sid %s twice in %s", st.Sid, doc)
		}
		seen[st.Sid] = true
	}
	if strings.Contains(doc, first.Bucket+"/") || !strings.Contains(doc, second.Bucket) {
		t.Errorf("the adopted policy: %s", doc)
	}
}
