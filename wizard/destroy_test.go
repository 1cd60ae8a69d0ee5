package wizard_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

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

// destroy runs byob destroy --yes as the command does.
func destroy(t *testing.T, cfg wizard.Config, deps wizard.Deps, remove providers.DestroyOptions) (wizard.DestroyOutcome, []wizard.Event, error) {
	t.Helper()
	state, values, err := wizard.Prepare(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var events []wizard.Event
	out, err := wizard.Destroy(context.Background(), cfg, deps, state, values, wizard.DestroyOptions{
		Remove:      remove,
		Propagation: runenv.Propagation{Timeout: 10 * time.Second, Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond},
		OnEvent:     func(ev wizard.Event) { events = append(events, ev) },
	})
	return out, events, err
}

func mustDestroy(t *testing.T, cfg wizard.Config, deps wizard.Deps, remove providers.DestroyOptions) (wizard.DestroyOutcome, []wizard.Event) {
	t.Helper()
	out, events, err := destroy(t, cfg, deps, remove)
	if err != nil {
		t.Fatalf("destroy: %v\n%+v", err, events)
	}
	return out, events
}

func keptReasons(out wizard.DestroyOutcome) string {
	var s []string
	for _, k := range out.Kept {
		s = append(s, k.Step.ID()+": "+k.Keep)
	}
	return strings.Join(s, "\n")
}

// iamReads read an IAM user, a role and policies (by name, in the test
// account), each failing once its object is gone.
func iamReads(ctx context.Context, e *env, user, role string, policies ...string) []func() error {
	reads := []func() error{
		func() error {
			_, err := e.admin.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(user)})
			return err
		},
		func() error {
			_, err := e.admin.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)})
			return err
		},
	}
	for _, p := range policies {
		reads = append(reads, func() error {
			_, err := e.admin.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::" + awstest.AccountID + ":policy/" + p)})
			return err
		})
	}
	return reads
}

// TestDestroyRemovesExactlyWhatByobMade: on an adopted bucket with
// objects, a statement of its own in the bucket policy, another IAM user
// with keys and a grant the role already had, destroy removes every IAM
// and Snowflake object byob made and nothing else; a second destroy
// changes nothing.
func TestDestroyRemovesExactlyWhatByobMade(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	ctx := context.Background()
	inRegion := func(o *s3.Options) { o.Region = s3bucket.SettingsOf(&cfg).Region }
	_, err := e.admin.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(cfg.Bucket),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(s3bucket.SettingsOf(&cfg).Region)}})
	must(t, err)
	_, err = e.admin.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(cfg.Bucket), Key: aws.String("reports/q3.csv"), Body: strings.NewReader("x")}, inRegion)
	must(t, err)
	own := `{"Version":"2012-10-17","Statement":[{"Sid":"Auditors","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + awstest.AccountID +
		`:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::` + cfg.Bucket + `/reports/*"}]}`
	_, err = e.admin.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(cfg.Bucket), Policy: aws.String(own)}, inRegion)
	must(t, err)
	other := "other-" + e.id
	_, err = e.admin.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(other)})
	must(t, err)
	otherKey, err := e.admin.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(other)})
	must(t, err)
	e.sf.Grant("GROWTHLOOP", "USAGE", "DATABASE", "ANALYTICS")

	e.mustApply(cfg)
	names := s3bucket.NamesFor(cfg.Name)
	before := len(e.aws.Mutations())
	out, events := mustDestroy(t, cfg, e.deps, providers.DestroyOptions{})

	removed := slices.Sorted(slices.Values(out.Removed))
	want := slices.Sorted(slices.Values([]string{s3bucket.StepAccessKey, s3bucket.StepUserPolicy, s3bucket.StepUser, s3bucket.StepRolePolicy, s3bucket.StepRole,
		s3bucket.StepPolicy, s3bucket.StepSnowflakePolicy, snowflakestage.StepStageGrants, snowflakestage.StepStage, snowflakestage.StepIntegrationGrant, snowflakestage.StepIntegration}))
	if !slices.Equal(removed, want) {
		t.Errorf("removed %v\nwant %v", removed, want)
	}
	if k := keptReasons(out); !strings.Contains(k, "s3-bucket: bucket "+cfg.Bucket+", with its objects, was there before byob: left alone") {
		t.Errorf("the adopted bucket must be named as kept:\n%s", k)
	}
	// IAM: nothing of byob's is left.
	for _, call := range iamReads(ctx, e, names.User, names.Role, names.Policy, names.SnowflakePolicy) {
		if err := call(); err == nil || !strings.Contains(err.Error(), "NoSuchEntity") {
			t.Errorf("an IAM object byob made is still there: %v", err)
		}
	}
	// Snowflake: the integration and stage are dropped, byob's grants
	// revoked, the grant the role had before kept.
	if e.sf.Integration(snowflakestage.SettingsOf(&cfg).Integration) != nil || e.sf.Stage("ANALYTICS.FLYWHEEL_SYSTEM.FLYWHEEL_EXTERNAL_STAGE") != nil {
		t.Error("the integration or the stage is still there")
	}
	if g := e.sf.Grants("GROWTHLOOP"); !slices.Equal(g, []string{"USAGE|DATABASE|ANALYTICS"}) {
		t.Errorf("GROWTHLOOP's grants after destroy: %v, want only the one it had before", g)
	}
	// What byob did not make is untouched.
	if _, err := e.admin.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(cfg.Bucket), Key: aws.String("reports/q3.csv")}, inRegion); err != nil {
		t.Errorf("the adopted bucket's object: %v", err)
	}
	pol, err := e.admin.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(cfg.Bucket)}, inRegion)
	if err != nil || !strings.Contains(aws.ToString(pol.Policy), "Auditors") {
		t.Errorf("the bucket policy's own statement: %v %v", pol, err)
	}
	keys, err := e.admin.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(other)})
	if err != nil || len(keys.AccessKeyMetadata) != 1 || aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId) != aws.ToString(otherKey.AccessKey.AccessKeyId) {
		t.Errorf("another user's key: %+v %v", keys, err)
	}
	for _, m := range e.aws.Mutations()[before:] {
		if strings.Contains(m.Path+m.Form.Encode(), other) || m.Action == "PUT ?policy" || m.Action == "DELETE ?policy" || m.Action == "PUT ?lifecycle" {
			t.Errorf("destroy touched what byob did not make: %s %s", m.Action, m.Path)
		}
	}
	for _, ev := range events {
		if ev.Kind == wizard.EventFailed {
			t.Errorf("event %+v", ev)
		}
	}

	// A second destroy is a no-op.
	before, sfBefore := len(e.aws.Mutations()), e.sf.Mutations()
	out, _ = mustDestroy(t, cfg, e.deps, providers.DestroyOptions{})
	if len(out.Removed) != 0 || len(e.aws.Mutations()) != before || e.sf.Mutations() != sfBefore {
		t.Errorf("second destroy: removed %v, AWS %v", out.Removed, e.aws.Mutations()[before:])
	}
}

// TestDestroyBucketOnlyWhenAskedAndEmptyOnlyWithObjects: the bucket byob
// made goes only with --delete-bucket; holding objects (versions and
// delete markers included), only with --delete-objects, which is checked
// before anything is removed.
func TestDestroyBucketOnlyWhenAskedAndEmptyOnlyWithObjects(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	ctx := context.Background()
	inRegion := func(o *s3.Options) { o.Region = s3bucket.SettingsOf(&cfg).Region }
	e.mustApply(cfg)
	_, err := e.admin.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(cfg.Bucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}, inRegion)
	must(t, err)
	for i := range 1203 {
		_, err := e.admin.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(cfg.Bucket), Key: aws.String(fmt.Sprintf("exports/1234/f%04d.csv", i%1100)), Body: strings.NewReader("x")}, inRegion)
		must(t, err)
	}
	_, err = e.admin.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(cfg.Bucket), Key: aws.String("exports/1234/f0001.csv")}, inRegion)
	must(t, err)

	// Without --delete-bucket the bucket and its objects stay.
	out, _ := mustDestroy(t, cfg, e.deps, providers.DestroyOptions{})
	if k := keptReasons(out); !strings.Contains(k, "--delete-bucket deletes it") || !strings.Contains(k, "exports under exports/ still expiring after 7 days") {
		t.Errorf("kept:\n%s", k)
	}

	// --delete-bucket on a bucket with objects is refused before any change.
	before := len(e.aws.Mutations())
	_, _, err = destroy(t, cfg, e.deps, providers.DestroyOptions{DeleteBucket: true})
	var ue *providers.UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "1000 or more objects") || !strings.Contains(err.Error(), "--delete-objects") {
		t.Fatalf("want a usage error naming --delete-objects, got %v", err)
	}
	if m := e.aws.Mutations()[before:]; len(m) != 0 {
		t.Errorf("a refused destroy changed %v", m)
	}

	out, events := mustDestroy(t, cfg, e.deps, providers.DestroyOptions{DeleteBucket: true, DeleteObjects: true})
	if !slices.Contains(out.Removed, s3bucket.StepBucket) {
		t.Errorf("removed %v", out.Removed)
	}
	if _, err := e.admin.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(cfg.Bucket)}, inRegion); err == nil {
		t.Error("the bucket is still there")
	}
	var last wizard.Event
	for _, ev := range events {
		if ev.Kind == wizard.EventProgress {
			last = ev
		}
	}
	if last.Total != 1204 || last.Done != 1204 {
		t.Errorf("progress ended at %d of %d, want 1204 of 1204 (1203 versions and a delete marker)", last.Done, last.Total)
	}
	noneDone(t, cfg)
}

// noneDone: after a destroy that deleted the bucket, the state says no
// step is done (a bucket's settings went with it).
func noneDone(t *testing.T, cfg wizard.Config) {
	t.Helper()
	state, err := wizard.LoadState(cfg.State)
	must(t, err)
	for id, st := range state.Steps {
		if st.Status == wizard.StepDone {
			t.Errorf("after the bucket's deletion, the state still has %s done", id)
		}
	}
}

// TestDestroyLeavesWhatHoldsOnToByobsObjects: a key someone else made on
// byob's user keeps the user (IAM refuses to delete it), named with why;
// everything else goes.
func TestDestroyLeavesWhatHoldsOnToByobsObjects(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.mustApply(cfg)
	names := s3bucket.NamesFor(cfg.Name)
	foreign, err := e.admin.IAM.CreateAccessKey(context.Background(), &iam.CreateAccessKeyInput{UserName: aws.String(names.User)})
	must(t, err)
	theirs := "theirs-" + e.id
	pol, err := e.admin.IAM.CreatePolicy(context.Background(), &iam.CreatePolicyInput{PolicyName: aws.String(theirs),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`)})
	must(t, err)
	_, err = e.admin.IAM.AttachUserPolicy(context.Background(), &iam.AttachUserPolicyInput{UserName: aws.String(names.User), PolicyArn: pol.Policy.Arn})
	must(t, err)
	out, _ := mustDestroy(t, cfg, e.deps, providers.DestroyOptions{})
	want := "iam-user: IAM user " + names.User + " still has access key " + aws.ToString(foreign.AccessKey.AccessKeyId) + " and attached policy " + theirs + ", which byob did not create"
	if k := keptReasons(out); !strings.Contains(k, want) {
		t.Errorf("kept:\n%s\nwant %s", k, want)
	}
	keys, err := e.admin.IAM.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(names.User)})
	if err != nil || len(keys.AccessKeyMetadata) != 1 || aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId) != aws.ToString(foreign.AccessKey.AccessKeyId) {
		t.Errorf("keys left: %+v %v", keys, err)
	}
}

// TestDestroyGCS: bindings byob added go and the bucket's other bindings
// stay; the service account, roles and key go; the bucket with
// --delete-bucket --delete-objects, noncurrent generations included.
func TestDestroyGCS(t *testing.T) {
	e := newGCSEnv(t)
	cfg := e.config(snowflakestage.Name)
	e.mustApply(cfg)
	names := gcsbucket.NamesFor(cfg.Name)
	b := e.gcp.Bucket(cfg.Bucket)
	b.Versioning = []byte(`{"enabled":true}`)
	e.gcp.SetBucket(*b)
	for i := range 150 {
		e.gcp.PutObject(cfg.Bucket, fmt.Sprintf("exports/f%d", i%100), []byte("x"))
	}
	others := append(e.gcp.Bindings(cfg.Bucket), gcptest.Binding{Role: "roles/storage.objectViewer", Members: []string{"group:auditors@acme.com"}})
	e.gcp.SetBindings(cfg.Bucket, others)
	foreignBucket := "acme-other"
	e.gcp.SetBucket(gcptest.Bucket{Name: foreignBucket, Location: "US"})
	e.gcp.PutObject(foreignBucket, "keep", []byte("x"))

	out, events := mustDestroy(t, cfg, e.deps, providers.DestroyOptions{})
	if e.gcp.HasAccount(gcsbucket.Params{Project: gcptest.Project, Names: names}.ServiceAccountEmail()) {
		t.Error("the service account is still there")
	}
	for _, r := range []string{names.WriterRole, names.SnowflakeRole} {
		if role := e.gcp.Role(r); role != nil && !role.Deleted {
			t.Errorf("role %s is still there", r)
		}
	}
	bindings := e.gcp.Bindings(cfg.Bucket)
	if !slices.ContainsFunc(bindings, func(b gcptest.Binding) bool { return slices.Equal(b.Members, []string{"group:auditors@acme.com"}) }) ||
		slices.ContainsFunc(bindings, func(b gcptest.Binding) bool {
			return strings.Contains(strings.Join(b.Members, ","), "byob") || strings.Contains(b.Role, "byob")
		}) {
		t.Errorf("bindings after destroy: %+v", bindings)
	}
	if e.gcp.Bucket(cfg.Bucket) == nil || e.gcp.Generations(cfg.Bucket) != 150 {
		t.Error("without --delete-bucket the bucket and its objects stay")
	}
	for _, ev := range events {
		if ev.Kind == wizard.EventFailed {
			t.Errorf("event %+v", ev)
		}
	}
	if k := keptReasons(out); !strings.Contains(k, "--delete-bucket deletes it") {
		t.Errorf("kept:\n%s", k)
	}

	_, events = mustDestroy(t, cfg, e.deps, providers.DestroyOptions{DeleteBucket: true, DeleteObjects: true})
	if e.gcp.Bucket(cfg.Bucket) != nil {
		t.Error("the bucket is still there")
	}
	if e.gcp.Bucket(foreignBucket) == nil || len(e.gcp.Objects(foreignBucket)) != 1 {
		t.Error("another bucket was touched")
	}
	if last := events[len(events)-1]; last.Kind != wizard.EventRemoved || last.Step != gcsbucket.StepBucket {
		t.Errorf("last event %+v", last)
	}
	noneDone(t, cfg)
}

// TestDestroyKeepsAnAdoptedIntegration: an integration that was there
// before byob (here pointing elsewhere, reconciled by init) is never
// dropped, and destroy names it; the stage byob made on it goes.
func TestDestroyKeepsAnAdoptedIntegration(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.sf.SetIntegration(snowflakestage.SettingsOf(&cfg).Integration, snowflaketest.Integration{Provider: "S3", Enabled: true,
		RoleARN: "arn:aws:iam::" + awstest.AccountID + ":role/old", ExternalID: "theirs", AllowedLocations: []string{"s3://old/"}})
	e.mustApply(cfg)
	out, _ := mustDestroy(t, cfg, e.deps, providers.DestroyOptions{})
	if e.sf.Integration(snowflakestage.SettingsOf(&cfg).Integration) == nil {
		t.Fatal("destroy dropped an integration byob did not create")
	}
	if k := keptReasons(out); !strings.Contains(k, "snowflake-integration: storage integration "+snowflakestage.SettingsOf(&cfg).Integration+" was there before byob: left alone") {
		t.Errorf("kept:\n%s", k)
	}
	if !slices.Contains(out.Removed, snowflakestage.StepStage) || e.sf.Stage("ANALYTICS.FLYWHEEL_SYSTEM.FLYWHEEL_EXTERNAL_STAGE") != nil {
		t.Errorf("the stage byob made must go: removed %v", out.Removed)
	}
}

// TestDestroyDeletedBucketsSettingsNeitherStayNorGo: once the bucket byob
// made is deleted, a second destroy says nothing of its settings (they
// went with it), and the state records the destroy.
func TestDestroyDeletedBucketsSettingsNeitherStayNorGo(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.mustApply(cfg)
	remove := providers.DestroyOptions{DeleteBucket: true, DeleteObjects: true}
	out, _ := mustDestroy(t, cfg, e.deps, remove)
	if !slices.Contains(out.Removed, s3bucket.StepBucket) || len(out.Kept) != 0 {
		t.Fatalf("removed %v, kept:\n%s", out.Removed, keptReasons(out))
	}
	state, err := wizard.LoadState(cfg.State)
	must(t, err)
	if state.Destroyed == nil || time.Since(state.Destroyed.At) > time.Minute || len(state.Destroyed.Kept) != 0 {
		t.Fatalf("state after destroy: %+v", state.Destroyed)
	}
	first := state.Destroyed.At
	for k := range state.Values {
		if strings.HasPrefix(k, "created.") || strings.HasPrefix(k, "applying.") || strings.HasPrefix(k, "rotation.") {
			t.Errorf("the state still records %s after everything went", k)
		}
	}

	before := len(e.aws.Mutations())
	out, events := mustDestroy(t, cfg, e.deps, remove)
	if len(out.Removed) != 0 || len(out.Kept) != 0 || len(e.aws.Mutations()) != before {
		t.Errorf("second destroy: removed %v, kept:\n%s", out.Removed, keptReasons(out))
	}
	for _, ev := range events {
		t.Errorf("second destroy said %s: %s", ev.Kind, ev.Title)
	}
	state, err = wizard.LoadState(cfg.State)
	must(t, err)
	if state.Destroyed == nil || !state.Destroyed.At.Equal(first) {
		t.Errorf("a second destroy that changed nothing moved the record: %+v, first %v", state.Destroyed, first)
	}
	if err := state.NotDestroyed("verify", "byob init"); err == nil || !strings.Contains(err.Error(), "byob init makes the setup anew") {
		t.Errorf("NotDestroyed = %v", err)
	}
}

// TestDestroyRecordsWhatItKept: a destroy that keeps the bucket (and what
// byob adopted) records it; init then makes the setup anew on the kept
// bucket, which is still byob's.
func TestDestroyRecordsWhatItKept(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.mustApply(cfg)
	mustDestroy(t, cfg, e.deps, providers.DestroyOptions{})
	state, err := wizard.LoadState(cfg.State)
	must(t, err)
	if state.Destroyed == nil || len(state.Destroyed.Kept) != 1 || state.Destroyed.Kept[0].Step != s3bucket.StepBucket ||
		!strings.Contains(state.Destroyed.Kept[0].Why, "--delete-bucket deletes it") {
		t.Fatalf("state after destroy: %+v", state.Destroyed)
	}
	var de *wizard.DestroyedError
	if err := state.NotDestroyed("rotate-keys", "byob init"); !errors.As(err, &de) || de.Init != "byob init" || !strings.Contains(err.Error(), `what it kept, the file lists under "destroyed"`) {
		t.Errorf("NotDestroyed = %v", err)
	}
	// Another setup may not take this state: it records a bucket byob made.
	other := cfg
	other.Bucket += "-other"
	var ue *providers.UsageError
	if _, _, err := wizard.Prepare(other); !errors.As(err, &ue) {
		t.Errorf("another setup on a state that kept a bucket: %v", err)
	}

	e.mustApply(cfg)
	state, err = wizard.LoadState(cfg.State)
	must(t, err)
	if state.Destroyed != nil || !providers.Owned(providers.NewValues(state.Values), s3bucket.StepBucket) {
		t.Errorf("after init: destroyed %+v, values %v", state.Destroyed, state.Values)
	}
	e.aws.ConfineKeysTo(cfg.Prefix)
	rep := verify(t, cfg, e.deps, wizard.VerifyOptions{})
	if f := failing(rep); len(f) != 0 {
		t.Errorf("verify after init made the setup anew: %v", f)
	}
}

// TestABucketDeletedByHandIsOnlyForgotten: destroy without --delete-bucket
// on a bucket byob made and someone deleted forgets it (it says so, and
// counts it apart from what it removed) and sends no DeleteBucket: a
// bucket made again while destroy asked to confirm stays.
func TestABucketDeletedByHandIsOnlyForgotten(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.mustApply(cfg)
	ctx := context.Background()
	inRegion := func(o *s3.Options) { o.Region = s3bucket.SettingsOf(&cfg).Region }
	_, err := e.admin.S3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(cfg.Bucket)}, inRegion)
	must(t, err)
	_, err = e.admin.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(cfg.Bucket)}, inRegion)
	must(t, err)
	state, values, err := wizard.Prepare(cfg)
	must(t, err)
	out, err := wizard.Destroy(ctx, cfg, e.deps, state, values, wizard.DestroyOptions{
		Confirm: func(d *wizard.DestroyPlan) error {
			e.createBucket(cfg.Bucket, s3bucket.SettingsOf(&cfg).Region) // made again meanwhile
			return nil
		},
	})
	must(t, err)
	if !slices.Contains(out.Forgotten, s3bucket.StepBucket) || slices.Contains(out.Removed, s3bucket.StepBucket) {
		t.Errorf("removed %v, forgotten %v", out.Removed, out.Forgotten)
	}
	if _, err := e.admin.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(cfg.Bucket)}, inRegion); err != nil {
		t.Errorf("destroy without --delete-bucket deleted the bucket: %v", err)
	}
	if after, err := wizard.LoadState(cfg.State); err != nil || after.Values[providers.CreatedKey(s3bucket.StepBucket).Name] != "" {
		t.Errorf("the state still records the bucket as byob's: %v", err)
	}
}
