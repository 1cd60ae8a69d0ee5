package wizard_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	iamapi "google.golang.org/api/iam/v1"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/gcsbucket/gcptest"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/snowflakestage"
	"github.com/growthloop/byob/snowflake/snowflaketest"
	"github.com/growthloop/byob/templates"
	"github.com/growthloop/byob/wizard"
)

// verifyInputs reads what byob verify starts from: the state file's
// values and the bundle.
func verifyInputs(tb testing.TB, cfg wizard.Config) (*providers.Values, *wizard.Bundle) {
	tb.Helper()
	state, err := wizard.LoadState(cfg.State)
	if err != nil {
		tb.Fatal(err)
	}
	bundle, err := wizard.ReadBundle(cfg.Bundle)
	if err != nil {
		tb.Fatal(err)
	}
	return providers.NewValues(state.Values), bundle
}

// verify runs byob verify as the command does, from the state file and
// the bundle.
func verify(t *testing.T, cfg wizard.Config, deps wizard.Deps, o wizard.VerifyOptions) wizard.Report {
	t.Helper()
	values, bundle := verifyInputs(t, cfg)
	if o.Propagation.Timeout == 0 {
		o.Propagation = runenv.Propagation{Timeout: 5 * time.Second, Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}
	}
	rep, err := wizard.Verify(context.Background(), cfg, deps, values, bundle, o)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

// failing returns the ids of the checks that did not pass or warn.
func failing(rep wizard.Report) map[string]wizard.CheckReport {
	out := map[string]wizard.CheckReport{}
	for _, c := range rep.Checks {
		if c.Status != providers.Pass && c.Status != providers.Warn {
			out[c.ID] = c
		}
	}
	return out
}

// healthyS3 is a complete S3 + Snowflake setup whose key the proxy
// confines to the prefix, as the policy makes AWS do.
func healthyS3(t *testing.T) (*env, wizard.Config) {
	e := newEnv(t)
	cfg := e.config()
	e.mustApply(cfg)
	e.aws.ConfineKeysTo(cfg.Prefix)
	return e, cfg
}

func TestVerifyHealthyS3SetupPassesEveryCheck(t *testing.T) {
	e, cfg := healthyS3(t)
	rep := verify(t, cfg, e.deps, wizard.VerifyOptions{})
	want := []string{s3bucket.StepBucket, s3bucket.StepPublicAccessBlock, s3bucket.StepEncryption, s3bucket.StepBucketPolicy, s3bucket.StepObjectOwnership, s3bucket.StepLifecycle,
		s3bucket.CheckPolicyPrivate, s3bucket.CheckACLPrivate, s3bucket.StepPolicy, s3bucket.StepSnowflakePolicy, snowflakestage.StepIntegration, s3bucket.StepRole, s3bucket.StepRolePolicy, snowflakestage.StepIntegrationGrant,
		snowflakestage.StepStage, snowflakestage.StepStageGrants, snowflakestage.CheckStageReachable, snowflakestage.CheckOtherGrants, s3bucket.StepUser, s3bucket.StepUserPolicy,
		s3bucket.CheckKeyWorks, s3bucket.CheckKeyConfined, s3bucket.CheckKeyHygiene, s3bucket.CheckAccountPublicAccess}
	var got []string
	for _, c := range rep.Checks {
		got = append(got, c.ID)
		if c.Status != providers.Pass {
			t.Errorf("%s: %s %s (%s)", c.ID, c.Status, c.Detail, c.Remedy)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("checks\n got %v\nwant %v", got, want)
	}
	if !rep.OK {
		t.Error("a healthy setup must be OK")
	}
	// The probes cleaned up after themselves and changed nothing else.
	list, err := e.admin.S3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(cfg.Bucket)}, func(o *s3.Options) { o.Region = s3bucket.SettingsOf(&cfg).Region })
	if err != nil || len(list.Contents) != 0 {
		t.Errorf("probe objects left behind: %v %v", list, err)
	}
}

// TestVerifyNamesEachBrokenSetting breaks one setting at a time and expects
// exactly that check to fail, with its remedy.
func TestVerifyNamesEachBrokenSetting(t *testing.T) {
	ctx := context.Background()
	inRegion := func(cfg wizard.Config) func(*s3.Options) {
		return func(o *s3.Options) { o.Region = s3bucket.SettingsOf(&cfg).Region }
	}
	cases := []struct {
		name    string
		breakIt func(t *testing.T, e *env, cfg wizard.Config)
		check   string
		detail  string // in the failed check's detail
		remedy  string // in its remedy
	}{
		{"bucket in another region", func(t *testing.T, e *env, cfg wizard.Config) {
			e.aws.SetBucketLocation(cfg.Bucket, "eu-west-1")
		}, s3bucket.StepBucket, "is in eu-west-1, not us-west-2", "--region"},
		{"public access block off", func(t *testing.T, e *env, cfg wizard.Config) {
			_, err := e.admin.S3.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String(cfg.Bucket)}, inRegion(cfg))
			must(t, err)
		}, s3bucket.StepPublicAccessBlock, "", "byob init --provider s3"},
		{"encryption removed", func(t *testing.T, e *env, cfg wizard.Config) {
			_, err := e.admin.S3.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String(cfg.Bucket)}, inRegion(cfg))
			must(t, err)
		}, s3bucket.StepEncryption, "", "--bucket " + "acme-exports-"},
		{"TLS-only statement removed", func(t *testing.T, e *env, cfg wizard.Config) {
			_, err := e.admin.S3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(cfg.Bucket)}, inRegion(cfg))
			must(t, err)
		}, s3bucket.StepBucketPolicy, "", "byob init"},
		{"lifecycle removed", func(t *testing.T, e *env, cfg wizard.Config) {
			_, err := e.admin.S3.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String(cfg.Bucket)}, inRegion(cfg))
			must(t, err)
		}, s3bucket.StepLifecycle, "missing", "byob init"},
		{"policy widened", func(t *testing.T, e *env, cfg wizard.Config) {
			doc := templates.S3Access(templates.S3(cfg.Bucket), cfg.Prefix)
			doc.Statement = append(doc.Statement, templates.Statement{Sid: "Everything", Effect: "Allow", Action: []string{"s3:*"}, Resource: []string{"*"}})
			_, err := e.admin.IAM.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{
				PolicyArn: aws.String("arn:aws:iam::" + e.bundleAccount(cfg) + ":policy/" + s3bucket.NamesFor(cfg.Name).Policy), PolicyDocument: aws.String(doc.JSON()), SetAsDefault: true})
			must(t, err)
		}, s3bucket.StepPolicy, `unexpected statement {"Action":["s3:*"]`, "byob init"},
		{"policy detached from the user", func(t *testing.T, e *env, cfg wizard.Config) {
			_, err := e.admin.IAM.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String(s3bucket.NamesFor(cfg.Name).User),
				PolicyArn: aws.String("arn:aws:iam::" + e.bundleAccount(cfg) + ":policy/" + s3bucket.NamesFor(cfg.Name).Policy)})
			must(t, err)
		}, s3bucket.StepUserPolicy, "missing", "byob init"},
		{"policy detached from the role", func(t *testing.T, e *env, cfg wizard.Config) {
			_, err := e.admin.IAM.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(s3bucket.NamesFor(cfg.Name).Role),
				PolicyArn: aws.String("arn:aws:iam::" + e.bundleAccount(cfg) + ":policy/" + s3bucket.NamesFor(cfg.Name).SnowflakePolicy)})
			must(t, err)
		}, s3bucket.StepRolePolicy, "missing", "byob init"},
		{"GrowthLoop's policy attached to the role as well", func(t *testing.T, e *env, cfg wizard.Config) {
			_, err := e.admin.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(s3bucket.NamesFor(cfg.Name).Role),
				PolicyArn: aws.String("arn:aws:iam::" + e.bundleAccount(cfg) + ":policy/" + s3bucket.NamesFor(cfg.Name).Policy)})
			must(t, err)
		}, s3bucket.StepRolePolicy, "also has policy " + "t", "byob init"},
		{"Snowflake's policy cannot delete", func(t *testing.T, e *env, cfg wizard.Config) {
			_, err := e.admin.IAM.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{
				PolicyArn:      aws.String("arn:aws:iam::" + e.bundleAccount(cfg) + ":policy/" + s3bucket.NamesFor(cfg.Name).SnowflakePolicy),
				PolicyDocument: aws.String(templates.S3Access(templates.S3(cfg.Bucket), cfg.Prefix).JSON()), SetAsDefault: true})
			must(t, err)
		}, s3bucket.StepSnowflakePolicy, "missing statement DeleteObjectsUnderPrefix", "byob init"},
		{"lifecycle keeps old versions", func(t *testing.T, e *env, cfg wizard.Config) {
			_, err := e.admin.S3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(cfg.Bucket),
				LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{
					ID: aws.String(templates.ExpireRuleID), Status: s3types.ExpirationStatusEnabled,
					Filter:     &s3types.LifecycleRuleFilter{Prefix: aws.String(cfg.Prefix)},
					Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(int32(cfg.TTLDays))}}}}}, inRegion(cfg))
			must(t, err)
		}, s3bucket.StepLifecycle, "noncurrent versions", "byob init"},
		{"trust external ID changed", func(t *testing.T, e *env, cfg wizard.Config) {
			trust := templates.SnowflakeTrust(snowflaketest.IAMUserARN, "someone-elses-id").JSON()
			_, err := e.admin.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(s3bucket.NamesFor(cfg.Name).Role), PolicyDocument: aws.String(trust)})
			must(t, err)
		}, s3bucket.StepRole, "someone-elses-id", "byob init"},
		// The integration's external ID is the one Snowflake presents: the
		// trust that no longer names it is what fails.
		{"integration external ID changed", func(t *testing.T, e *env, cfg wizard.Config) {
			in := e.sf.Integration(snowflakestage.SettingsOf(&cfg).Integration)
			in.ExternalID = "someone-elses-id"
			e.sf.SetIntegration(snowflakestage.SettingsOf(&cfg).Integration, *in)
		}, s3bucket.StepRole, "external ID someone-elses-id", "byob init"},
		{"integration disabled", func(t *testing.T, e *env, cfg wizard.Config) {
			in := e.sf.Integration(snowflakestage.SettingsOf(&cfg).Integration)
			in.Enabled = false
			e.sf.SetIntegration(snowflakestage.SettingsOf(&cfg).Integration, *in)
		}, snowflakestage.StepIntegration, `ENABLED is "false"`, "ENABLED = TRUE"},
		{"integration USAGE revoked", func(t *testing.T, e *env, cfg wizard.Config) {
			e.sf.Revoke(snowflakestage.SettingsOf(&cfg).GrowthLoopRole, "USAGE", "INTEGRATION", snowflakestage.SettingsOf(&cfg).Integration)
		}, snowflakestage.StepIntegrationGrant, "missing", "byob init"},
		{"stage URL wrong", func(t *testing.T, e *env, cfg wizard.Config) {
			name := snowflakestage.SettingsOf(&cfg).Database + "." + snowflakestage.SettingsOf(&cfg).Schema + "." + snowflakestage.SettingsOf(&cfg).Stage
			st := e.sf.Stage(name)
			st.URL = "s3://" + cfg.Bucket + "/exports" // the guide's missing slash
			e.sf.SetStage(name, *st)
		}, snowflakestage.StepStage, "points at s3://", "or run: ALTER STAGE"},
		{"Snowflake cannot reach the bucket", func(t *testing.T, e *env, cfg wizard.Config) {
			e.sf.Unreachable("Failure using stage area. Cause: [Access Denied (Status Code: 403; Error Code: AccessDenied)]")
		}, snowflakestage.CheckStageReachable, "Failure using stage area", "byob init"},
		{"key deleted", func(t *testing.T, e *env, cfg wizard.Config) {
			_, err := e.admin.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(s3bucket.NamesFor(cfg.Name).User), AccessKeyId: aws.String(e.bundle(cfg).AWSAccessKeyID)})
			must(t, err)
		}, s3bucket.CheckKeyWorks, "no longer exists", "upload the new bundle"},
		{"key made inactive", func(t *testing.T, e *env, cfg wizard.Config) {
			_, err := e.admin.IAM.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(s3bucket.NamesFor(cfg.Name).User),
				AccessKeyId: aws.String(e.bundle(cfg).AWSAccessKeyID), Status: "Inactive"})
			must(t, err)
		}, s3bucket.CheckKeyWorks, "is Inactive", "--status Active"},
		{"key not confined to the prefix", func(t *testing.T, e *env, cfg wizard.Config) {
			e.aws.ConfineKeysTo("")
		}, s3bucket.CheckKeyConfined, "policy too broad", "scoped to exports/"},
		{"no permission to read the lifecycle", func(t *testing.T, e *env, cfg wizard.Config) {
			e.aws.Deny("GET ?lifecycle")
		}, s3bucket.StepLifecycle, "could not check", "grant"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, cfg := healthyS3(t)
			tc.breakIt(t, e, cfg)
			rep := verify(t, cfg, e.deps, wizard.VerifyOptions{})
			if rep.OK {
				t.Fatal("verify passed a broken setup")
			}
			bad := failing(rep)
			got, ok := bad[tc.check]
			if !ok {
				t.Fatalf("check %s did not fail; failing: %+v", tc.check, bad)
			}
			for id, c := range bad {
				// A check that depends on the broken one is not run, and
				// says so; nothing else may fail.
				// The user left with no key fails key hygiene too.
				noKey := id == s3bucket.CheckKeyHygiene && tc.check == s3bucket.CheckKeyWorks && strings.Contains(c.Detail, "no active access key")
				if id != tc.check && !strings.HasPrefix(c.Detail, "not checked") && !noKey {
					t.Errorf("unrelated check %s failed: %s", id, c.Detail)
				}
			}
			if !strings.Contains(got.Detail, tc.detail) || got.Remedy == "" || !strings.Contains(got.Remedy, tc.remedy) {
				t.Errorf("%s: detail %q remedy %q; want %q and %q", tc.check, got.Detail, got.Remedy, tc.detail, tc.remedy)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// bundleAccount is the AWS account the setup's ARNs name.
func (e *env) bundleAccount(cfg wizard.Config) string {
	v, _ := e.state(cfg)["values"].(map[string]any)
	return v[s3bucket.AccountID.Name].(string)
}

func TestVerifyWaitsForANewKey(t *testing.T) {
	e, cfg := healthyS3(t)
	var (
		mu    sync.Mutex
		waits []string
	)
	e.aws.KeyWarmup(keyUses(e, cfg) + 2) // the next two uses fail, as while a key propagates
	rep := verify(t, cfg, e.deps, wizard.VerifyOptions{OnWait: func(id, msg string) {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, id+": "+msg)
	}})
	if !rep.OK {
		t.Fatalf("verify failed: %+v", failing(rep))
	}
	// The two key probes run at once: either may meet the failing uses.
	if !slices.ContainsFunc(waits, func(w string) bool {
		return strings.HasPrefix(w, s3bucket.CheckKeyWorks+": waiting for the access key to work") ||
			strings.HasPrefix(w, s3bucket.CheckKeyConfined+": waiting for the access key to work")
	}) {
		t.Errorf("the wait must be visible: %v", waits)
	}
}

// keyUses is how often the bundle's key was used so far.
func keyUses(e *env, cfg wizard.Config) int {
	n, id := 0, e.bundle(cfg).AWSAccessKeyID
	for _, c := range e.aws.Calls() {
		if c.KeyID == id {
			n++
		}
	}
	return n
}

func TestVerifyWarnsAboutOldAndExtraKeys(t *testing.T) {
	e, cfg := healthyS3(t)
	rep := verify(t, cfg, e.deps, wizard.VerifyOptions{Now: time.Now().Add(100 * 24 * time.Hour)})
	if !rep.OK {
		t.Fatalf("a warning must not fail verify: %+v", failing(rep))
	}
	if c := find(rep, s3bucket.CheckKeyHygiene); c.Status != providers.Warn || !strings.Contains(c.Detail, "100 days old") || !strings.Contains(c.Remedy, "rotate-keys") {
		t.Errorf("old key: %+v", c)
	}
	_, err := e.admin.IAM.CreateAccessKey(context.Background(), &iam.CreateAccessKeyInput{UserName: aws.String(s3bucket.NamesFor(cfg.Name).User)})
	must(t, err)
	rep = verify(t, cfg, e.deps, wizard.VerifyOptions{})
	if c := find(rep, s3bucket.CheckKeyHygiene); c.Status != providers.Warn || !strings.Contains(c.Detail, "2 active access keys") {
		t.Errorf("extra key: %+v", c)
	}
}

// TestVerifyFailsAUserWithNoKey: with no active key GrowthLoop cannot
// export, so key hygiene fails, on both clouds.
func TestVerifyFailsAUserWithNoKey(t *testing.T) {
	e, cfg := healthyS3(t)
	user := s3bucket.NamesFor(cfg.Name).User
	_, err := e.admin.IAM.UpdateAccessKey(context.Background(), &iam.UpdateAccessKeyInput{UserName: aws.String(user),
		AccessKeyId: aws.String(e.bundle(cfg).AWSAccessKeyID), Status: iamtypes.StatusTypeInactive})
	must(t, err)
	rep := verify(t, cfg, e.deps, wizard.VerifyOptions{})
	if c := find(rep, s3bucket.CheckKeyHygiene); rep.OK || c.Status != providers.Fail || !strings.Contains(c.Detail, "no active access key") || !strings.Contains(c.Remedy, "byob init") {
		t.Errorf("no active key: %+v", c)
	}

	g := newGCSEnv(t)
	gcfg := g.config(providers.WarehouseNone)
	g.mustApply(gcfg)
	email := gcsbucket.Params{Project: gcptest.Project, Names: gcsbucket.NamesFor(gcfg.Name)}.ServiceAccountEmail()
	for _, id := range g.gcp.Keys(email) {
		g.gcp.DisableKey(id)
	}
	rep = verify(t, gcfg, g.deps, wizard.VerifyOptions{})
	if c := find(rep, gcsbucket.CheckKeyHygiene); rep.OK || c.Status != providers.Fail || !strings.Contains(c.Detail, "no enabled key") {
		t.Errorf("no enabled key: %+v", c)
	}
	// Said at once: a disabled key is not waited on as a propagating one.
	if c := find(rep, gcsbucket.CheckKeyWorks); c.Status != providers.Fail || !strings.Contains(c.Detail, "is disabled") || !strings.Contains(c.Remedy, "keys enable") {
		t.Errorf("disabled key: %+v", c)
	}
}

func TestVerifyWarnsAboutOldAndExtraGCPKeys(t *testing.T) {
	e := newGCSEnv(t)
	cfg := e.config(providers.WarehouseNone)
	e.mustApply(cfg)
	rep := verify(t, cfg, e.deps, wizard.VerifyOptions{Now: time.Now().Add(100 * 24 * time.Hour)})
	if c := find(rep, gcsbucket.CheckKeyHygiene); !rep.OK || c.Status != providers.Warn || !strings.Contains(c.Detail, "100 days old") || !strings.Contains(c.Remedy, "byob rotate-keys") {
		t.Errorf("old key: %+v", c)
	}
	e.gcp.AddKey(gcsbucket.Params{Project: gcptest.Project, Names: gcsbucket.NamesFor(cfg.Name)}.ServiceAccountEmail())
	rep = verify(t, cfg, e.deps, wizard.VerifyOptions{})
	if c := find(rep, gcsbucket.CheckKeyHygiene); c.Status != providers.Warn || !strings.Contains(c.Detail, "2 enabled keys") {
		t.Errorf("extra key: %+v", c)
	}
}

func find(rep wizard.Report, id string) wizard.CheckReport {
	for _, c := range rep.Checks {
		if c.ID == id {
			return c
		}
	}
	return wizard.CheckReport{}
}

func TestVerifyWithoutStateUsesTheBundle(t *testing.T) {
	e, cfg := healthyS3(t)
	cfg.State = cfg.State + ".elsewhere"
	rep := verify(t, cfg, e.deps, wizard.VerifyOptions{})
	if !rep.OK {
		t.Fatalf("the bundle knows the external ID and key: %+v", failing(rep))
	}
}

func TestVerifyMissingBucketSkipsWhatNeedsIt(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	cfg.Warehouse = providers.WarehouseNone
	state, err := wizard.LoadState(cfg.State)
	must(t, err)
	values := providers.NewValues(state.Values)
	rep, err := wizard.Verify(context.Background(), cfg, e.deps, values, nil, wizard.VerifyOptions{})
	must(t, err)
	if c := find(rep, s3bucket.StepBucket); c.Status != providers.Fail || !strings.Contains(c.Remedy, "byob init") {
		t.Errorf("bucket: %+v", c)
	}
	if c := find(rep, s3bucket.StepLifecycle); c.Status != providers.Unknown || !strings.Contains(c.Detail, "not checked") {
		t.Errorf("lifecycle of a missing bucket: %+v", c)
	}
	if len(e.aws.Mutations()) != 0 {
		t.Errorf("verify changed the cloud: %v", e.aws.Mutations())
	}
}

// TestVerifyMissingBucketStillChecksTheAccount: what is the user's or the
// account's (its keys, the account's public access block, the service
// account's project grants) is checked without the bucket.
func TestVerifyMissingBucketStillChecksTheAccount(t *testing.T) {
	ctx := context.Background()
	e, cfg := healthyS3(t)
	inRegion := func(o *s3.Options) { o.Region = s3bucket.SettingsOf(&cfg).Region }
	out, err := e.admin.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(cfg.Bucket)}, inRegion)
	must(t, err)
	for _, o := range out.Contents {
		_, err := e.admin.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(cfg.Bucket), Key: o.Key}, inRegion)
		must(t, err)
	}
	_, err = e.admin.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(cfg.Bucket)}, inRegion)
	must(t, err)
	rep := verify(t, cfg, e.deps, wizard.VerifyOptions{})
	if c := find(rep, s3bucket.StepBucket); c.Status != providers.Fail {
		t.Errorf("bucket: %+v", c)
	}
	for _, id := range []string{s3bucket.CheckKeyHygiene, s3bucket.CheckAccountPublicAccess} {
		if c := find(rep, id); c.Status != providers.Pass {
			t.Errorf("%s without the bucket: %+v", id, c)
		}
	}
	if c := find(rep, s3bucket.CheckKeyWorks); !strings.Contains(c.Detail, "not checked") {
		t.Errorf("the key's use without the bucket: %+v", c)
	}

	g := newGCSEnv(t)
	gcfg := g.config(providers.WarehouseNone)
	g.mustApply(gcfg)
	must(t, g.gcp.Clients().Storage.Bucket(gcfg.Bucket).Delete(ctx))
	rep = verify(t, gcfg, g.deps, wizard.VerifyOptions{})
	for _, id := range []string{gcsbucket.CheckKeyHygiene, gcsbucket.CheckNoProjectGrant} {
		if c := find(rep, id); c.Status != providers.Pass {
			t.Errorf("%s without the bucket: %+v", id, c)
		}
	}
	if c := find(rep, gcsbucket.CheckKeyWorks); !strings.Contains(c.Detail, "not checked") {
		t.Errorf("the key's use without the bucket: %+v", c)
	}
}

func TestVerifyGCS(t *testing.T) {
	ctx := context.Background()
	type gcsCase struct {
		name    string
		breakIt func(t *testing.T, e *gcsEnv, cfg wizard.Config)
		check   string
		detail  string
		remedy  string
	}
	names := gcsbucket.NamesFor(providers.DefaultName)
	email := names.ServiceAccount + "@" + gcptest.Project + ".iam.gserviceaccount.com"
	withoutMember := func(bs []gcptest.Binding, member string) []gcptest.Binding {
		var out []gcptest.Binding
		for _, b := range bs {
			b.Members = slices.DeleteFunc(slices.Clone(b.Members), func(m string) bool { return m == member })
			out = append(out, b)
		}
		return out
	}
	cases := []gcsCase{
		{"healthy", func(*testing.T, *gcsEnv, wizard.Config) {}, "", "", ""},
		{"healthy, checked by a caller who can only read", func(t *testing.T, e *gcsEnv, cfg wizard.Config) {
			// Verify asks no permission init needs to change things.
			e.gcp.Granted([]string{"resourcemanager.projects.get"})
		}, "", "", ""},
		{"uniform access off and public access prevention inherited", func(t *testing.T, e *gcsEnv, cfg wizard.Config) {
			b := e.gcp.Bucket(cfg.Bucket)
			b.IAMConfiguration = json.RawMessage(`{"uniformBucketLevelAccess":{"enabled":false},"publicAccessPrevention":"inherited"}`)
			e.gcp.SetBucket(*b)
		}, gcsbucket.StepBucket, "uniform bucket-level access is off; public access prevention is not enforced", "byob init --provider gcs"},
		{"lifecycle removed", func(t *testing.T, e *gcsEnv, cfg wizard.Config) {
			b := e.gcp.Bucket(cfg.Bucket)
			b.Lifecycle = nil
			e.gcp.SetBucket(*b)
		}, gcsbucket.StepBucket, "the lifecycle rules do not delete objects under exports/ at age 14 days", "--ttl-days 14"},
		{"lifecycle keeps old versions", func(t *testing.T, e *gcsEnv, cfg wizard.Config) {
			b := e.gcp.Bucket(cfg.Bucket)
			b.Lifecycle = json.RawMessage(`{"rule":[{"action":{"type":"Delete"},"condition":{"age":14,"matchesPrefix":["exports/"]}}]}`)
			e.gcp.SetBucket(*b)
		}, gcsbucket.StepBucket, "their noncurrent versions 14 days after", "byob init"},
		{"role widened", func(t *testing.T, e *gcsEnv, cfg wizard.Config) {
			perms := append(slices.Clone(templates.GCSWriterPermissions), "storage.buckets.setIamPolicy")
			_, err := e.admin.IAM.Projects.Roles.Patch("projects/"+gcptest.Project+"/roles/"+names.WriterRole, &iamapi.Role{IncludedPermissions: perms}).
				UpdateMask("includedPermissions").Context(ctx).Do()
			must(t, err)
		}, gcsbucket.StepWriterRole, "storage.buckets.setIamPolicy", "byob init"},
		{"binding removed", func(t *testing.T, e *gcsEnv, cfg wizard.Config) {
			e.gcp.SetBindings(cfg.Bucket, withoutMember(e.gcp.Bindings(cfg.Bucket), "serviceAccount:"+email))
		}, gcsbucket.StepWriterBinding, "missing", "byob init"},
		{"Snowflake's binding removed", func(t *testing.T, e *gcsEnv, cfg wizard.Config) {
			e.gcp.SetBindings(cfg.Bucket, withoutMember(e.gcp.Bindings(cfg.Bucket), "serviceAccount:"+snowflaketest.GCPServiceAccount))
		}, gcsbucket.StepSnowflakeBinding, "missing", "byob init"},
		{"project-level grant", func(t *testing.T, e *gcsEnv, cfg wizard.Config) {
			e.gcp.SetProjectBindings([]gcptest.Binding{{Role: "roles/storage.admin", Members: []string{"serviceAccount:" + email}}})
		}, gcsbucket.CheckNoProjectGrant, "roles/storage.admin on the whole project", "gcloud projects remove-iam-policy-binding acme-data --member=serviceAccount:" + email + " --role=roles/storage.admin"},
		{"key deleted", func(t *testing.T, e *gcsEnv, cfg wizard.Config) {
			e.gcp.DeleteKey(email, e.gcp.Keys(email)[0])
		}, gcsbucket.CheckKeyWorks, "no longer exists", "byob init"},
		{"stage URL wrong", func(t *testing.T, e *gcsEnv, cfg wizard.Config) {
			name := snowflakestage.SettingsOf(&cfg).Database + "." + snowflakestage.SettingsOf(&cfg).Schema + "." + snowflakestage.SettingsOf(&cfg).Stage
			st := e.sf.Stage(name)
			st.URL = "gcs://other-bucket/"
			e.sf.SetStage(name, *st)
		}, snowflakestage.StepStage, "points at gcs://other-bucket/", "ALTER STAGE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newGCSEnv(t)
			cfg := e.config(snowflakestage.Name)
			e.mustApply(cfg)
			tc.breakIt(t, e, cfg)
			rep := verify(t, cfg, e.deps, wizard.VerifyOptions{})
			bad := failing(rep)
			if tc.check == "" {
				if !rep.OK || len(bad) > 0 || len(rep.Checks) != 17 {
					t.Fatalf("healthy setup: %d checks, failing %+v", len(rep.Checks), bad)
				}
				if objs := e.gcp.Objects(cfg.Bucket); len(objs) != 0 {
					t.Errorf("probe objects left behind: %v", objs)
				}
				return
			}
			got, ok := bad[tc.check]
			if rep.OK || !ok {
				t.Fatalf("check %s did not fail; failing: %+v", tc.check, bad)
			}
			for id, c := range bad {
				// The account left with no key fails key hygiene too.
				noKey := id == gcsbucket.CheckKeyHygiene && tc.check == gcsbucket.CheckKeyWorks && strings.Contains(c.Detail, "no enabled key")
				if id != tc.check && !strings.HasPrefix(c.Detail, "not checked") && !noKey {
					t.Errorf("unrelated check %s failed: %s", id, c.Detail)
				}
			}
			if !strings.Contains(got.Detail, tc.detail) || !strings.Contains(got.Remedy, tc.remedy) {
				t.Errorf("%s: detail %q remedy %q; want %q and %q", tc.check, got.Detail, got.Remedy, tc.detail, tc.remedy)
			}
		})
	}
}

// lateRequests watches byob's AWS requests: those it sends once the run
// returned (after returned is set) are late.
type lateRequests struct {
	returned atomic.Bool
	mu       sync.Mutex
	sent     []string // every request, method and path
	late     []string
}

func (l *lateRequests) Do(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.sent = append(l.sent, r.Method+" "+r.URL.Path)
	if l.returned.Load() {
		l.late = append(l.late, r.Method+" "+r.URL.Path)
	}
	l.mu.Unlock()
	return http.DefaultClient.Do(r)
}

// watchLate makes byob reach AWS through a lateRequests, 50 ms away:
// reads and probes are under way when Snowflake's quick preflight refuses
// the run.
func watchLate(e *env) *lateRequests {
	l := &lateRequests{}
	cfg := e.aws.Config()
	cfg.HTTPClient = l
	e.deps.Conns[s3bucket.Name] = s3bucket.NewConn(s3bucket.NewClients(cfg))
	e.aws.SetLatency(50 * time.Millisecond)
	e.sf.SetAccount("OTHER999") // the state file records FAKE12345
	return l
}

// check fails t if nothing was sent before the run returned (the test
// proved nothing) or something was sent after.
func (l *lateRequests) check(t *testing.T, what string) {
	t.Helper()
	time.Sleep(300 * time.Millisecond)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.sent) == len(l.late) {
		t.Fatalf("%s sent nothing beside the preflight: the test proves nothing", what)
	}
	for _, r := range l.late {
		t.Errorf("%s sent %s after it returned", what, r)
	}
}

// TestVerifyStoppedAtThePreflightStopsItsProbes: the key's probes start
// beside the preflight; a preflight that refuses the run stops them, and
// verify returns only once they (and their clean-up) are done. Before,
// they went on writing, reading and deleting in the bucket after verify
// had returned (and a process exiting then left the probe object).
func TestVerifyStoppedAtThePreflightStopsItsProbes(t *testing.T) {
	e, cfg := healthyS3(t)
	values, bundle := verifyInputs(t, cfg)
	l := watchLate(e)
	_, err := wizard.Verify(context.Background(), cfg, e.deps, values, bundle, wizard.VerifyOptions{
		Propagation: runenv.Propagation{Timeout: 5 * time.Second, Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}})
	l.returned.Store(true)
	if err == nil || !strings.Contains(err.Error(), "OTHER999") {
		t.Fatalf("verify of another Snowflake account: %v", err)
	}
	l.check(t, "verify")
}

// TestApplyStoppedAtThePreflightStopsItsReads: init's steps read the
// cloud beside the preflight; a refused preflight stops those reads
// before init returns.
func TestApplyStoppedAtThePreflightStopsItsReads(t *testing.T) {
	e, cfg := healthyS3(t)
	l := watchLate(e)
	_, err := e.apply(cfg)
	l.returned.Store(true)
	if err == nil || !strings.Contains(err.Error(), "OTHER999") {
		t.Fatalf("init in another Snowflake account: %v", err)
	}
	l.check(t, "init")
}

// TestVerifyCheckOnAFailedPrerequisiteIsNotChecked: a key refused under
// the prefix is refused outside it too, which proves nothing about the
// policy's scope: s3-key-confined is "not checked", never a pass.
func TestVerifyCheckOnAFailedPrerequisiteIsNotChecked(t *testing.T) {
	e, cfg := healthyS3(t)
	e.aws.Deny("PUT object")
	rep := verify(t, cfg, e.deps, wizard.VerifyOptions{})
	got := map[string]wizard.CheckReport{}
	for _, c := range rep.Checks {
		got[c.ID] = c
	}
	if c := got[s3bucket.CheckKeyWorks]; c.Status != providers.Fail {
		t.Errorf("%s: %s %s, want a failure", c.ID, c.Status, c.Detail)
	}
	if c := got[s3bucket.CheckKeyConfined]; c.Status != providers.Unknown || !strings.Contains(c.Detail, "not checked") {
		t.Errorf("%s: %s %s, want not checked", c.ID, c.Status, c.Detail)
	}
	if rep.OK {
		t.Error("verify must fail")
	}
}

// TestVerifyKeyThatWritesButCannotListStillHasItsScopeChecked: a key that
// writes under the prefix but cannot list fails s3-key-works, and whether
// it is denied outside the prefix is still checked.
func TestVerifyKeyThatWritesButCannotListStillHasItsScopeChecked(t *testing.T) {
	e, cfg := healthyS3(t)
	e.aws.Deny("GET bucket") // ListObjectsV2
	rep := verify(t, cfg, e.deps, wizard.VerifyOptions{})
	if c := find(rep, s3bucket.CheckKeyWorks); c.Status != providers.Fail || !strings.Contains(c.Detail, "ListObjectsV2") {
		t.Errorf("%s: %s %s, want a failure to list", c.ID, c.Status, c.Detail)
	}
	if c := find(rep, s3bucket.CheckKeyConfined); c.Status != providers.Pass {
		t.Errorf("%s: %s %s, want a pass", c.ID, c.Status, c.Detail)
	}
}

// TestVerifyWarnsOfAPolicyBesideByobs: a policy someone else attached to
// byob's user warns; verify still passes.
func TestVerifyWarnsOfAPolicyBesideByobs(t *testing.T) {
	e, cfg := healthyS3(t)
	ctx := context.Background()
	pol, err := e.admin.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("extra-" + e.id),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`)})
	must(t, err)
	_, err = e.admin.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(s3bucket.NamesFor(cfg.Name).User), PolicyArn: pol.Policy.Arn})
	must(t, err)
	rep := verify(t, cfg, e.deps, wizard.VerifyOptions{})
	if c := find(rep, s3bucket.StepUserPolicy); !rep.OK || c.Status != providers.Warn || !strings.Contains(c.Detail, "policy extra-"+e.id) || c.Remedy == "" {
		t.Errorf("extra policy: %+v", c)
	}
}
