//go:build live

package live

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/snowflakestage"
	"github.com/growthloop/byob/snowflake"
	"github.com/growthloop/byob/templates"
	"github.com/growthloop/byob/wizard"
)

func TestLiveS3Snowflake(t *testing.T) {
	r := newRun(t, "aws", "snowflake")
	lifecycle(t, r, r.config(t, s3bucket.Name, snowflakestage.Name))
}

func TestLiveS3WithoutWarehouse(t *testing.T) {
	r := newRun(t, "aws")
	lifecycle(t, r, r.config(t, s3bucket.Name, providers.WarehouseNone))
}

func TestLiveGCSSnowflake(t *testing.T) {
	r := newRun(t, "gcp", "snowflake")
	lifecycle(t, r, r.config(t, gcsbucket.Name, snowflakestage.Name))
}

// lifecycle is a setup's whole life against the accounts: init (the key's
// propagation wait measured), the invariants the offline tests assert,
// verify, a no-op re-run, both rotation phases, destroy.
func lifecycle(t *testing.T, r *run, cfg providers.Config) {
	ctx := context.Background()
	deps := r.connect(t, cfg)
	destroyed := false
	t.Cleanup(func() {
		if !destroyed { // a failed run leaves nothing behind (the sweeper catches a killed one)
			destroy(t, r, cfg, deps)
		}
	})

	// init, timing the key's wait for IAM.
	var keyStart time.Time
	var keyWait time.Duration
	out := apply(t, r, cfg, deps, func(ev wizard.Event) {
		if ev.Step == s3bucket.StepAccessKey || ev.Step == gcsbucket.StepKey {
			switch ev.Kind {
			case wizard.EventStart:
				keyStart = time.Now()
			case wizard.EventApplied:
				keyWait = time.Since(keyStart)
			}
		}
	})
	if len(out.Applied) == 0 || !out.BundleWritten {
		t.Fatalf("init applied %v, bundle written %v", out.Applied, out.BundleWritten)
	}
	t.Logf("the new key took %s to be created and work (propagation)", keyWait.Round(time.Millisecond))
	r.tag(t, cfg)

	invariants(t, r, cfg, deps)
	if rep := verify(t, r, cfg, deps); !rep.OK {
		t.Errorf("verify after init: %s", summary(rep))
	}
	if again := apply(t, r, cfg, deps, nil); len(again.Applied) > 0 {
		t.Errorf("a re-run applied %v", again.Applied)
	}

	// rotate-keys, both phases: never more than two keys, then one.
	state, values, err := wizard.Prepare(cfg)
	must(t, err, "prepare")
	rot, err := wizard.Rotate(ctx, cfg, deps, state, values, wizard.RotateOptions{Propagation: r.prop()})
	must(t, err, "rotate-keys")
	if rep := verify(t, r, cfg, deps); !rep.OK {
		t.Errorf("verify mid-rotation: %s", summary(rep))
	}
	state, values, err = wizard.Prepare(cfg)
	must(t, err, "prepare")
	_, err = wizard.FinishRotation(ctx, cfg, deps, state, values, wizard.RotateOptions{Propagation: r.prop()})
	must(t, err, "rotate-keys --finish")
	if keys := r.keys(t, cfg); len(keys) != 1 || keys[0] != rot.New {
		t.Errorf("after the rotation the keys are %v, want only %s", keys, rot.New)
	}

	destroy(t, r, cfg, deps)
	destroyed = true
	if keys := r.keys(t, cfg); len(keys) != 0 {
		t.Errorf("after destroy the identity still has keys %v", keys)
	}
}

func apply(t *testing.T, r *run, cfg providers.Config, deps wizard.Deps, onEvent func(wizard.Event)) wizard.Outcome {
	t.Helper()
	state, values, err := wizard.Prepare(cfg)
	must(t, err, "prepare")
	out, err := wizard.Apply(context.Background(), cfg, deps, state, values, wizard.ApplyOptions{Propagation: r.prop(), OnEvent: onEvent})
	must(t, err, "init")
	return out
}

func verify(t *testing.T, r *run, cfg providers.Config, deps wizard.Deps) wizard.Report {
	t.Helper()
	_, values, err := wizard.Prepare(cfg)
	must(t, err, "prepare")
	b, err := wizard.ReadBundle(cfg.Bundle)
	must(t, err, "read bundle")
	rep, err := wizard.Verify(context.Background(), cfg, deps, values, b, wizard.VerifyOptions{Propagation: r.prop()})
	must(t, err, "verify")
	return rep
}

func destroy(t *testing.T, r *run, cfg providers.Config, deps wizard.Deps) {
	t.Helper()
	state, values, err := wizard.Prepare(cfg)
	must(t, err, "prepare")
	_, err = wizard.Destroy(context.Background(), cfg, deps, state, values, wizard.DestroyOptions{Propagation: r.prop(),
		Remove: providers.DestroyOptions{DeleteBucket: true, DeleteObjects: true}})
	if err != nil {
		t.Errorf("destroy: %v", err)
	}
}

func summary(rep wizard.Report) string {
	var b strings.Builder
	for _, c := range rep.Checks {
		if c.Status != providers.Pass && c.Status != providers.Warn {
			b.WriteString(c.ID + ": " + c.Detail + "; ")
		}
	}
	return b.String()
}

// invariants are what the offline tests assert, checked against the real
// services, with the facts the emulators are known to get wrong: the
// bucket's region (kumo says us-east-1 for every bucket), the policy
// versions IAM keeps, exactly one key.
func invariants(t *testing.T, r *run, cfg providers.Config, deps wizard.Deps) {
	t.Helper()
	ctx := context.Background()
	_, values, err := wizard.Prepare(cfg)
	must(t, err, "prepare")
	b, _ := wizard.ReadBundle(cfg.Bundle)
	if keys := r.keys(t, cfg); len(keys) != 1 || keys[0] != cfg.BucketProvider().BundledKey(b) {
		t.Errorf("keys %v: want exactly the bundle's", keys)
	}
	if cfg.Provider != s3bucket.Name {
		return
	}
	names, iamc, s3c := s3bucket.NamesOf(&cfg), iam.NewFromConfig(r.aws), s3.NewFromConfig(r.aws, func(o *s3.Options) { o.UsePathStyle = r.emulated })
	loc, err := s3c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(cfg.Bucket)})
	must(t, err, "GetBucketLocation")
	if got := string(loc.LocationConstraint); got != s3bucket.SettingsOf(&cfg).Region && !(got == "" && s3bucket.SettingsOf(&cfg).Region == "us-east-1") {
		t.Errorf("the bucket is in %q, not %s", got, s3bucket.SettingsOf(&cfg).Region)
	}
	// The policies are the plan's documents.
	plan, err := wizard.NewPlan(cfg, values, wizard.Deps{})
	must(t, err, "plan")
	for _, s := range plan.Steps {
		if s.ID() != s3bucket.StepPolicy && s.ID() != s3bucket.StepSnowflakePolicy {
			continue
		}
		name := map[string]string{s3bucket.StepPolicy: names.Policy, s3bucket.StepSnowflakePolicy: names.SnowflakePolicy}[s.ID()]
		arn := "arn:aws:iam::" + values.Get(s3bucket.AccountID) + ":policy/" + name
		p, err := iamc.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
		must(t, err, "GetPolicy "+name)
		v, err := iamc.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.Policy.DefaultVersionId})
		must(t, err, "GetPolicyVersion "+name)
		have, _ := url.QueryUnescape(aws.ToString(v.PolicyVersion.Document))
		if want := s.Artifacts(values)[0].Content; !templates.SameDocument(have, want) {
			t.Errorf("policy %s is\n%s\nnot the plan's\n%s", name, have, want)
		}
	}
	if cfg.Warehouse == providers.WarehouseNone {
		return
	}
	// The trust has the integration's own external ID and IAM user.
	rows, err := snowflake.Query(ctx, r.snowflakeDB(t), "DESC INTEGRATION "+snowflake.Ident(snowflakestage.SettingsOf(&cfg).Integration).SQL())
	must(t, err, "DESC INTEGRATION")
	props := map[string]string{}
	for _, row := range rows {
		props[row["property"]] = row["property_value"]
	}
	role, err := iamc.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(names.Role)})
	must(t, err, "GetRole")
	trust, _ := url.QueryUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument))
	if want := templates.SnowflakeTrust(props["STORAGE_AWS_IAM_USER_ARN"], props["STORAGE_AWS_EXTERNAL_ID"]).JSON(); !templates.SameDocument(trust, want) {
		t.Errorf("the trust is\n%s\nnot the integration's\n%s", trust, want)
	}
}

// keys are the ids of the active keys of GrowthLoop's identity.
func (r *run) keys(t *testing.T, cfg providers.Config) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	switch cfg.Provider {
	case s3bucket.Name:
		l, err := iam.NewFromConfig(r.aws).ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(s3bucket.NamesOf(&cfg).User)})
		if err != nil {
			return nil // the user is gone
		}
		for _, k := range l.AccessKeyMetadata {
			if k.Status == iamtypes.StatusTypeActive {
				out = append(out, aws.ToString(k.AccessKeyId))
			}
		}
	case gcsbucket.Name:
		c, _, err := gcsbucket.Connect(ctx, r.env.LookupEnv)
		must(t, err, "connect to Google Cloud")
		email := gcsbucket.NamesOf(&cfg).ServiceAccount + "@" + gcsbucket.SettingsOf(&cfg).Project + ".iam.gserviceaccount.com"
		l, err := c.IAM.Projects.ServiceAccounts.Keys.List("projects/" + gcsbucket.SettingsOf(&cfg).Project + "/serviceAccounts/" + email).KeyTypes("USER_MANAGED").Context(ctx).Do()
		if err != nil {
			return nil
		}
		for _, k := range l.Keys {
			if !k.Disabled {
				out = append(out, k.Name[strings.LastIndex(k.Name, "/")+1:])
			}
		}
	}
	return out
}

// tag marks what the run made with byob-live=<run id>: IAM users, roles
// and policies and the bucket on AWS, the bucket's labels on Google Cloud
// (service accounts and custom roles take no labels: the sweeper finds
// them by name).
func (r *run) tag(t *testing.T, cfg providers.Config) {
	t.Helper()
	ctx := context.Background()
	if cfg.Provider == gcsbucket.Name {
		c, _, err := gcsbucket.Connect(ctx, r.env.LookupEnv)
		must(t, err, "connect to Google Cloud")
		var labels storage.BucketAttrsToUpdate
		labels.SetLabel(Tag, r.id)
		_, err = c.Storage.Bucket(cfg.Bucket).Update(ctx, labels)
		r.tagged(t, err, "label the bucket")
		return
	}
	_, values, err := wizard.Prepare(cfg)
	must(t, err, "prepare")
	names, iamc := s3bucket.NamesOf(&cfg), iam.NewFromConfig(r.aws)
	tags := []iamtypes.Tag{{Key: aws.String(Tag), Value: aws.String(r.id)}}
	_, err = iamc.TagUser(ctx, &iam.TagUserInput{UserName: aws.String(names.User), Tags: tags})
	r.tagged(t, err, "tag the user")
	policies := []string{names.Policy}
	if cfg.Warehouse != providers.WarehouseNone {
		_, err = iamc.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String(names.Role), Tags: tags})
		r.tagged(t, err, "tag the role")
		policies = append(policies, names.SnowflakePolicy)
	}
	for _, p := range policies {
		arn := "arn:aws:iam::" + values.Get(s3bucket.AccountID) + ":policy/" + p
		_, err = iamc.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: aws.String(arn), Tags: tags})
		r.tagged(t, err, "tag policy "+p)
	}
	s3c := s3.NewFromConfig(r.aws, func(o *s3.Options) { o.UsePathStyle = r.emulated; o.Region = s3bucket.SettingsOf(&cfg).Region })
	_, err = s3c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(cfg.Bucket),
		Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String(Tag), Value: aws.String(r.id)}}}})
	r.tagged(t, err, "tag the bucket")
}

// tagged fails the test when tagging failed, against the real services;
// kumo lacks TagUser, TagRole and TagPolicy, which is only logged.
func (r *run) tagged(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil && r.emulated {
		t.Logf("%s: the emulator cannot: %v", what, err)
		return
	}
	must(t, err, what)
}

// TestLiveIAMValidatesPolicies: IAM refuses a malformed policy document,
// which kumo accepts; byob's documents are never refused.
func TestLiveIAMValidatesPolicies(t *testing.T) {
	r := newRun(t, "aws")
	if r.emulated {
		t.Skip("kumo accepts any policy document: this is what the live run checks")
	}
	ctx := context.Background()
	iamc := iam.NewFromConfig(r.aws)
	bad := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"not-an-arn"}]}`
	_, err := iamc.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(Prefix + r.id + "-malformed"), PolicyDocument: aws.String(bad)})
	if err == nil || !strings.Contains(err.Error(), "MalformedPolicyDocument") {
		t.Errorf("IAM accepted a malformed policy: %v", err)
	}
	doc := templates.S3Access(templates.S3(Prefix+r.id+"-x"), "exports/").JSON()
	p, err := iamc.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(Prefix + r.id + "-valid"), PolicyDocument: aws.String(doc),
		Tags: []iamtypes.Tag{{Key: aws.String(Tag), Value: aws.String(r.id)}}})
	must(t, err, "IAM refused byob's policy document")
	_, _ = iamc.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: p.Policy.Arn})
}
