package s3bucket_test

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
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/growthloop/byob/internal/testsupport/providertest"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/bundlefile"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/s3bucket/awstest"
	"github.com/growthloop/byob/templates"
)

// The setup the tests make: bucket acme-exports-<id> in us-west-2 of the
// emulator's account, for setup name t<id>, with Snowflake, whose
// integration (DESC INTEGRATION) named its IAM user and external ID.
const (
	region        = "us-west-2"
	snowflakeUser = "arn:aws:iam::999999999999:user/sfc-byob-test"
	externalID    = "GROWTHLOOP_SFCRole=1_abc="
	// warehouseStep is the warehouse's step that reads its IAM user.
	warehouseStep = "snowflake-integration"
)

// fixture is one setup against the emulator, and the run environment its
// steps get. kumo is one cloud per test process: each fixture names its
// bucket and IAM identities after a suffix no other test uses.
type fixture struct {
	t     *testing.T
	srv   *awstest.Server
	c     *s3bucket.Clients // the admin's, to look at and change the cloud
	setup providers.Setup
	names s3bucket.Names
	bg    *runenv.Background

	rec providertest.Recorder
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := awstest.New()
	t.Cleanup(srv.Close)
	return newSetup(t, srv, awstest.Unique())
}

// newSetup is a setup of name t<id> for bucket acme-exports-<id> on srv,
// with files of its own.
func newSetup(t *testing.T, srv *awstest.Server, id string) *fixture {
	t.Helper()
	f := &fixture{t: t, srv: srv, c: s3bucket.NewClients(srv.Config())}
	dir := t.TempDir()
	cfg := new(providers.Config{
		Provider: s3bucket.Name, Bucket: "acme-exports-" + id, Prefix: "exports/", TTLDays: 7, Name: "t" + id,
		Warehouse: "snowflake", OrgID: "1234", Bundle: filepath.Join(dir, "bundle.json"), State: filepath.Join(dir, "state.json"),
	}.With(s3bucket.Settings{Region: region}))
	f.names = s3bucket.NamesOf(cfg)
	f.bg = runenv.NewBackground()
	t.Cleanup(f.bg.End)
	f.setup = providers.Setup{
		Config: cfg, Conn: s3bucket.NewConn(f.c), Keys: s3bucket.Provider{}.Keys(cfg), WarehouseStep: warehouseStep,
		Values: providers.NewValues(map[string]string{s3bucket.BucketRegion.Name: region,
			providers.WarehouseUserARN.Name: snowflakeUser, providers.ExternalID.Name: externalID}),
		Propagation: runenv.Propagation{Timeout: 2 * time.Second, Initial: time.Millisecond, Max: 5 * time.Millisecond},
		ReRun:       "byob init --provider s3",
		Now:         time.Now(),
	}
	if _, err := f.setup.Conn.Preflight(context.Background(), f.setup, providers.ChangeAccess); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) run() *runenv.Run { return f.rec.Run(f.bg, f.setup.Values) }

// steps are the steps of a new run, by ID.
func (f *fixture) steps() map[string]providers.Step {
	return providertest.ByID((s3bucket.Provider{}).Steps(f.setup))
}

func (f *fixture) check(s providers.Step) providers.Observation {
	f.t.Helper()
	return providertest.Check(f.t, f.run(), s, f.setup.Values)
}

func (f *fixture) apply(s providers.Step) {
	f.t.Helper()
	providertest.Apply(f.t, f.run(), s, f.setup.Values)
}

// gate runs step id's gate in a new run.
func (f *fixture) gate(id string) error {
	return f.steps()[id].(providers.Gate).Gate(context.Background(), f.run(), f.setup.Values)
}

// converge runs a new run's steps as byob init does (providertest.Converge).
func (f *fixture) converge() map[string]providers.Observation {
	f.t.Helper()
	return providertest.Converge(f.t, f.run, (s3bucket.Provider{}).Steps(f.setup), f.setup.Values)
}

// deliver writes the bundle of a finished run and lets the key store drop
// the pending secret, as byob init does at the end.
func (f *fixture) deliver() {
	f.t.Helper()
	b := bundlefile.Bundle{Version: bundlefile.Version, Provider: s3bucket.Name, Bucket: f.setup.Config.Bucket, Prefix: f.setup.Config.Prefix}
	if !(s3bucket.Provider{}).Bundle(f.setup, &b) {
		f.t.Fatalf("no secret held for key %q", f.setup.Values.Get(s3bucket.AccessKeyID))
	}
	data, _ := json.Marshal(b)
	if err := os.WriteFile(f.setup.Config.Bundle, data, 0o600); err != nil {
		f.t.Fatal(err)
	}
	if err := f.setup.Keys.Settle(); err != nil {
		f.t.Fatal(err)
	}
}

// inRegion sends an S3 call to the bucket's region.
func inRegion(o *s3.Options) { o.Region = region }

// createBucket makes bucket in loc, as someone before byob.
func (f *fixture) createBucket(bucket, loc string) {
	f.t.Helper()
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	if loc != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(loc)}
	}
	if _, err := f.c.S3.CreateBucket(context.Background(), in, func(o *s3.Options) { o.Region = awstest.BucketRegion(loc) }); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) policyARN(name string) string {
	return "arn:aws:iam::" + awstest.AccountID + ":policy/" + name
}

// policy is the default version's document of policy name.
func (f *fixture) policy(name string) string {
	f.t.Helper()
	ctx, arn := context.Background(), f.policyARN(name)
	p, err := f.c.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		f.t.Fatal(err)
	}
	v, err := f.c.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.Policy.DefaultVersionId})
	if err != nil {
		f.t.Fatal(err)
	}
	doc, _ := url.PathUnescape(aws.ToString(v.PolicyVersion.Document))
	return doc
}

// versions are the ids of policy name's versions.
func (f *fixture) versions(name string) []string {
	f.t.Helper()
	out, err := f.c.IAM.ListPolicyVersions(context.Background(), &iam.ListPolicyVersionsInput{PolicyArn: aws.String(f.policyARN(name))})
	if err != nil {
		f.t.Fatal(err)
	}
	var ids []string
	for _, v := range out.Versions {
		ids = append(ids, aws.ToString(v.VersionId))
	}
	return ids
}

// keys are the user's access keys, id to status.
func (f *fixture) keys() map[string]iamtypes.StatusType {
	f.t.Helper()
	out, err := f.c.IAM.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(f.names.User)})
	if err != nil {
		f.t.Fatal(err)
	}
	m := map[string]iamtypes.StatusType{}
	for _, k := range out.AccessKeyMetadata {
		m[aws.ToString(k.AccessKeyId)] = k.Status
	}
	return m
}

// attached are the ARNs of the policies attached to the user, or the role.
func (f *fixture) attached(role bool) []string {
	f.t.Helper()
	ctx := context.Background()
	var arns []string
	if role {
		out, err := f.c.IAM.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(f.names.Role)})
		if err != nil {
			f.t.Fatal(err)
		}
		for _, a := range out.AttachedPolicies {
			arns = append(arns, aws.ToString(a.PolicyArn))
		}
		return arns
	}
	out, err := f.c.IAM.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(f.names.User)})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, a := range out.AttachedPolicies {
		arns = append(arns, aws.ToString(a.PolicyArn))
	}
	return arns
}

// bucketPolicy is the bucket's policy, "" when none.
func (f *fixture) bucketPolicy() string {
	out, err := f.c.S3.GetBucketPolicy(context.Background(), &s3.GetBucketPolicyInput{Bucket: aws.String(f.setup.Config.Bucket)}, inRegion)
	if err != nil {
		return ""
	}
	return aws.ToString(out.Policy)
}

// rules are the bucket's lifecycle rules, by ID.
func (f *fixture) rules() map[string]s3types.LifecycleRule {
	f.t.Helper()
	out, err := f.c.S3.GetBucketLifecycleConfiguration(context.Background(), &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(f.setup.Config.Bucket)}, inRegion)
	if err != nil {
		f.t.Fatal(err)
	}
	m := map[string]s3types.LifecycleRule{}
	for _, r := range out.Rules {
		m[aws.ToString(r.ID)] = r
	}
	return m
}

// mutations are the changing calls since call number from.
func (f *fixture) mutations(from int) []string {
	var out []string
	for _, c := range f.srv.Calls()[from:] {
		if c.Mutating {
			out = append(out, c.Service+" "+c.Action)
		}
	}
	return out
}

// TestFirstRunMakesEverythingThenNothing: a new setup makes the bucket in
// its region, private (public access block, ACLs off), encrypted, TLS-only
// and expiring the prefix; both policies with exactly byob's documents;
// the role trusting Snowflake's user and external ID, with Snowflake's
// policy; the user with GrowthLoop's policy and one access key, whose id
// is saved before the run waits for it to work. A second run finds
// everything done and changes nothing.
func TestFirstRunMakesEverythingThenNothing(t *testing.T) {
	f := newFixture(t)
	ctx, cfg := context.Background(), f.setup.Config
	seen := f.converge()
	for _, id := range []string{s3bucket.StepBucket, s3bucket.StepPublicAccessBlock, s3bucket.StepBucketPolicy, s3bucket.StepLifecycle, s3bucket.StepPolicy,
		s3bucket.StepSnowflakePolicy, s3bucket.StepRole, s3bucket.StepRolePolicy, s3bucket.StepUser, s3bucket.StepUserPolicy, s3bucket.StepAccessKey} {
		if seen[id].Status != providers.Missing {
			t.Errorf("%s: %+v before anything was made", id, seen[id])
		}
	}

	loc, err := f.c.S3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(cfg.Bucket)})
	if err != nil || loc.LocationConstraint != region {
		t.Errorf("bucket location %+v %v", loc, err)
	}
	pab, err := f.c.S3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(cfg.Bucket)}, inRegion)
	if c := pab.PublicAccessBlockConfiguration; err != nil || !aws.ToBool(c.BlockPublicAcls) || !aws.ToBool(c.IgnorePublicAcls) ||
		!aws.ToBool(c.BlockPublicPolicy) || !aws.ToBool(c.RestrictPublicBuckets) {
		t.Errorf("public access block %+v %v", pab, err)
	}
	enc, err := f.c.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(cfg.Bucket)}, inRegion)
	if err != nil || enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAes256 {
		t.Errorf("encryption %+v %v", enc, err)
	}
	bucket := templates.Bucket{Partition: "aws", Name: cfg.Bucket}
	if got := f.bucketPolicy(); !templates.SameDocument(got, templates.TLSOnlyBucketPolicy(bucket).JSON()) {
		t.Errorf("bucket policy %s", got)
	}
	own, err := f.c.S3.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(cfg.Bucket)}, inRegion)
	if err != nil || own.OwnershipControls.Rules[0].ObjectOwnership != s3types.ObjectOwnershipBucketOwnerEnforced {
		t.Errorf("ownership %+v %v", own, err)
	}
	rule, ok := f.rules()[templates.ExpireRuleID]
	if !ok || aws.ToString(rule.Filter.Prefix) != "exports/" || aws.ToInt32(rule.Expiration.Days) != 7 || aws.ToInt32(rule.NoncurrentVersionExpiration.NoncurrentDays) != 7 {
		t.Errorf("lifecycle %+v", f.rules())
	}

	if got := f.policy(f.names.Policy); !templates.SameDocument(got, templates.S3Access(bucket, "exports/").JSON()) {
		t.Errorf("GrowthLoop's policy %s", got)
	}
	if got := f.policy(f.names.SnowflakePolicy); !templates.SameDocument(got, templates.S3SnowflakeAccess(bucket, "exports/").JSON()) {
		t.Errorf("Snowflake's policy %s", got)
	}
	role, err := f.c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(f.names.Role)})
	if err != nil {
		t.Fatal(err)
	}
	trust, _ := url.PathUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument))
	if !templates.SameDocument(trust, templates.SnowflakeTrust(snowflakeUser, externalID).JSON()) {
		t.Errorf("trust %s", trust)
	}
	if got := f.attached(true); !slices.Equal(got, []string{f.policyARN(f.names.SnowflakePolicy)}) {
		t.Errorf("role's policies %q", got)
	}
	if got := f.attached(false); !slices.Equal(got, []string{f.policyARN(f.names.Policy)}) {
		t.Errorf("user's policies %q", got)
	}

	v := f.setup.Values
	id := v.Get(s3bucket.AccessKeyID)
	if keys := f.keys(); len(keys) != 1 || keys[id] != iamtypes.StatusTypeActive || !slices.Equal(s3bucket.CreatedKeys(v), []string{id}) {
		t.Errorf("keys %v, the setup's %q, byob's %q", keys, id, s3bucket.CreatedKeys(v))
	}
	if f.setup.Keys.Pending() != id || len(f.setup.Keys.Secret(id)) == 0 {
		t.Errorf("the new key's secret is not held: pending %q", f.setup.Keys.Pending())
	}
	if fi, err := os.Stat(s3bucket.PendingPath(cfg.Bundle)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("pending file %v %v", fi, err)
	}
	if last := f.rec.Checkpoints()[len(f.rec.Checkpoints())-1]; last[s3bucket.AccessKeyID.Name] != id {
		t.Errorf("the key's id was not saved: %v", last)
	}
	if !slices.ContainsFunc(f.srv.Calls(), func(c awstest.Call) bool { return c.Action == "GetCallerIdentity" && c.KeyID == id }) {
		t.Error("byob did not wait for the new key to work (no GetCallerIdentity signed with it)")
	}

	f.deliver()
	before := len(f.srv.Calls())
	for id, obs := range f.converge() {
		if obs.Status != providers.Done || obs.Reason != "" {
			t.Errorf("second run, %s: %+v", id, obs)
		}
	}
	if m := f.mutations(before); len(m) != 0 {
		t.Errorf("the second run changed %q", m)
	}
}

// TestBucketAdoptedAndReconciled: a bucket the caller already owns is
// adopted, never recorded as byob's, its objects left alone; its settings
// are brought to byob's while the customer's own bucket policy statement
// and lifecycle rule stay.
func TestBucketAdoptedAndReconciled(t *testing.T) {
	f := newFixture(t)
	ctx, cfg := context.Background(), f.setup.Config
	f.createBucket(cfg.Bucket, region)
	if _, err := f.c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(cfg.Bucket), Key: aws.String("keep/me.txt"), Body: strings.NewReader("x")}, inRegion); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(cfg.Bucket),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true)}}, inRegion); err != nil {
		t.Fatal(err)
	}
	theirs := `{"Version":"2012-10-17","Statement":[{"Sid":"AuditRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + awstest.AccountID +
		`:role/audit"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::` + cfg.Bucket + `/audit/*"}]}`
	if _, err := f.c.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(cfg.Bucket), Policy: aws.String(theirs)}, inRegion); err != nil {
		t.Fatal(err)
	}
	// byob's rule at another TTL, and the customer's own.
	if _, err := f.c.S3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(cfg.Bucket),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{
			{ID: aws.String("logs"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("logs/")},
				Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(30)}},
			{ID: aws.String(templates.ExpireRuleID), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("exports/")},
				Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(90)}},
		}}}, inRegion); err != nil {
		t.Fatal(err)
	}

	seen := f.converge()
	if obs := seen[s3bucket.StepBucket]; obs.Status != providers.Done || !strings.HasPrefix(obs.Reason, "adopted the existing bucket "+cfg.Bucket+" you own") {
		t.Errorf("bucket %+v", obs)
	}
	if providers.Owned(f.setup.Values, s3bucket.StepBucket) {
		t.Error("the adopted bucket is recorded as byob's")
	}
	for id, reason := range map[string]string{
		s3bucket.StepPublicAccessBlock: "public access block settings BlockPublicPolicy, IgnorePublicAcls and RestrictPublicBuckets are off: all four are turned on",
		s3bucket.StepBucketPolicy:      "the bucket policy does not deny requests without TLS",
		s3bucket.StepLifecycle:         "lifecycle rule byob-expire-exports on exports/ expires objects after 90 days; byob's expires exports/ and its noncurrent versions after 7 days and aborts incomplete uploads after 1 day",
	} {
		if obs := seen[id]; obs.Status != providers.Drifted || obs.Reason != reason {
			t.Errorf("%s: %+v, want drift %q", id, obs, reason)
		}
	}
	if _, err := f.c.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(cfg.Bucket), Key: aws.String("keep/me.txt")}, inRegion); err != nil {
		t.Errorf("the bucket's object: %v", err)
	}
	pol := f.bucketPolicy()
	providertest.MustContain(t, "bucket policy", pol, `"AuditRead"`, `"DenyInsecureTransport"`, `"aws:SecureTransport"`)
	rules := f.rules()
	if len(rules) != 2 || aws.ToInt32(rules["logs"].Expiration.Days) != 30 || aws.ToInt32(rules[templates.ExpireRuleID].Expiration.Days) != 7 {
		t.Errorf("lifecycle rules %+v", rules)
	}
	for _, s := range f.steps() {
		if s.ID() >= "s3" && s.ID() < "s4" {
			if obs := f.check(s); obs.Status != providers.Done {
				t.Errorf("%s after the run: %+v", s.ID(), obs)
			}
		}
	}
}

// TestBucketByobCannotUse: another account's bucket, the caller's own in
// another region, and the caller's own that refuses HeadBucket stop the
// run at the gate, each saying what is wrong, whether the bucket was
// sighted beside the preflight (the account not known yet) or asked as
// its owner; nothing is changed.
func TestBucketByobCannotUse(t *testing.T) {
	cases := []struct {
		name  string
		setUp func(f *fixture)
		want  []string
	}{
		{"another account's", func(f *fixture) { f.srv.Foreign(f.setup.Config.Bucket) },
			[]string{`bucket name "` + "acme-exports-", `belongs to another AWS account: choose another --bucket`}},
		{"in another region", func(f *fixture) { f.createBucket(f.setup.Config.Bucket, "eu-central-1") },
			[]string{"is in eu-central-1, not us-west-2: re-run with --region eu-central-1 or choose another --bucket"}},
		{"another account's, the bucket list refused", func(f *fixture) {
			f.srv.Foreign(f.setup.Config.Bucket)
			f.srv.Deny("GET /")
		}, []string{"refused s3:ListBucket (HeadBucket): either it belongs to another AWS account", "s3:ListAllMyBuckets, also refused"}},
	}
	for _, tc := range cases {
		for _, sighted := range []bool{false, true} {
			t.Run(tc.name, func(t *testing.T) {
				f := newFixture(t)
				tc.setUp(f)
				before := len(f.srv.Calls())
				s := f.steps()[s3bucket.StepBucket]
				run := f.run().Of(s.ID())
				if sighted {
					// Beside the preflight: the account is not known yet.
					v := providers.NewValues(f.setup.Values.Map())
					v.Delete(s3bucket.AccountID)
					providertest.Prefetch(run, []providers.Step{s}, v)
				}
				err := s.(providers.Gate).Gate(context.Background(), run, f.setup.Values)
				var me *providers.Mismatch
				if !errors.As(err, &me) {
					t.Fatalf("sighted %v: gate = %v, want a mismatch", sighted, err)
				}
				providertest.MustContain(t, "error", err.Error(), tc.want...)
				if m := f.mutations(before); len(m) != 0 {
					t.Errorf("changed %q", m)
				}
			})
		}
	}

	// The caller's own bucket, HeadBucket denied: the missing permission
	// is named.
	f := newFixture(t)
	f.createBucket(f.setup.Config.Bucket, region)
	f.srv.Deny("HEAD bucket")
	err := f.gate(s3bucket.StepBucket)
	var ad *s3bucket.AccessDeniedError
	if !errors.As(err, &ad) || ad.Action != "s3:ListBucket (HeadBucket "+f.setup.Config.Bucket+")" || ad.Caller != awstest.AdminARN {
		t.Errorf("own bucket, HeadBucket denied: %v", err)
	}

	// Taken between the check and the create.
	f = newFixture(t)
	s := f.steps()[s3bucket.StepBucket]
	if obs := f.check(s); obs.Status != providers.Missing {
		t.Fatalf("check %+v", obs)
	}
	f.srv.Foreign(f.setup.Config.Bucket)
	if err := s.Apply(context.Background(), f.run(), f.setup.Values); err == nil || !strings.Contains(err.Error(), "belongs to another AWS account") {
		t.Errorf("create of a taken name: %v", err)
	}
}

// TestPrefetchReadsOnce: on a re-run the reads started beside the
// preflight answer the checks, each sent once.
func TestPrefetchReadsOnce(t *testing.T) {
	f := newFixture(t)
	f.converge()
	f.deliver()
	before := len(f.srv.Calls())
	steps := (s3bucket.Provider{}).Steps(f.setup)
	run := f.run()
	providertest.Prefetch(run, steps, f.setup.Values)
	for _, s := range steps {
		if obs := providertest.Check(t, run, s, f.setup.Values); obs.Status != providers.Done {
			t.Errorf("%s: %+v", s.ID(), obs)
		}
	}
	counts := map[string]int{}
	for _, c := range f.srv.Calls()[before:] {
		counts[c.Action]++
	}
	for action, n := range map[string]int{"HEAD bucket": 1, "GET ?location": 1, "GET ?publicAccessBlock": 1, "GET ?encryption": 1, "GET ?policy": 1,
		"GET ?ownershipControls": 1, "GET ?lifecycle": 1, "GetPolicy": 2, "GetRole": 1, "GetUser": 1, "ListAccessKeys": 1,
		"ListAttachedUserPolicies": 1, "ListAttachedRolePolicies": 1} {
		if counts[action] != n {
			t.Errorf("%s sent %d times, want %d: %v", action, counts[action], n, counts)
		}
	}
}

// TestPreflight: the caller's account is recorded; a state file of
// another account is refused, naming both and what to do.
func TestPreflight(t *testing.T) {
	f := newFixture(t)
	id, err := f.setup.Conn.Preflight(context.Background(), f.setup, providers.ReadAccess)
	if err != nil || id.Summary != "AWS: "+awstest.AdminARN+" (account "+awstest.AccountID+")" || f.setup.Values.Get(s3bucket.AccountID) != awstest.AccountID {
		t.Fatalf("preflight %+v %v", id, err)
	}
	f.setup.Values.Set(s3bucket.AccountID, "111122223333")
	_, err = f.setup.Conn.Preflight(context.Background(), f.setup, providers.ReadAccess)
	var ue *providers.UsageError
	if !errors.As(err, &ue) {
		t.Fatalf("another account's state: %v", err)
	}
	providertest.MustContain(t, "error", err.Error(), "records a setup in AWS account 111122223333, but the credentials reach account "+awstest.AccountID, "use credentials of account 111122223333")
	if got := f.setup.Values.Get(s3bucket.AccountID); got != "111122223333" {
		t.Errorf("the recorded account became %s", got)
	}
}

// TestDryRunArtifacts: with no connection each step shows what it would
// send, unknown values as placeholders, and what it says of the setup.
func TestDryRunArtifacts(t *testing.T) {
	f := newFixture(t)
	before := len(f.srv.Calls())
	f.setup.Conn = nil
	v := providers.NewValues(map[string]string{s3bucket.BucketRegion.Name: "eu-west-1"})
	arts := map[string]string{}
	for _, s := range (s3bucket.Provider{}).Steps(f.setup) {
		var all []string
		for _, a := range s.Artifacts(v) {
			all = append(all, a.Name+": "+a.Content)
		}
		arts[s.ID()] = strings.Join(all, "\n")
	}
	cfg, n := f.setup.Config, f.names
	for id, want := range map[string][]string{
		s3bucket.StepBucket:            {`"Bucket": "` + cfg.Bucket + `"`, `"LocationConstraint": "eu-west-1"`},
		s3bucket.StepPublicAccessBlock: {`"RestrictPublicBuckets": true`},
		s3bucket.StepEncryption:        {`"SSEAlgorithm": "AES256"`},
		s3bucket.StepBucketPolicy:      {`"aws:SecureTransport": "false"`},
		s3bucket.StepObjectOwnership:   {`"BucketOwnerEnforced"`},
		s3bucket.StepLifecycle:         {`"Prefix": "exports/"`, `"Days": 7`},
		s3bucket.StepPolicy:            {"IAM policy " + n.Policy, "arn:aws:s3:::" + cfg.Bucket + "/exports/*"},
		s3bucket.StepRole:              {"trust policy of IAM role " + n.Role, providers.WarehouseUserARN.Placeholder, providers.ExternalID.Placeholder},
		s3bucket.StepUserPolicy:        {"attach policy arn:aws:iam::" + s3bucket.AccountID.Placeholder + ":policy/" + n.Policy + " to user " + n.User},
		s3bucket.StepUser:              {"create IAM user " + n.User},
		s3bucket.StepAccessKey:         {"create one access key for " + n.User},
	} {
		providertest.MustContain(t, id, arts[id], want...)
	}
	p := s3bucket.Provider{}
	if got := p.Describe(cfg); got != "S3 bucket "+cfg.Bucket+" in us-west-2" {
		t.Errorf("describe %q", got)
	}
	grantees := p.Permissions(cfg)
	if len(grantees) == 0 || !strings.Contains(grantees[0].Who, n.User) || !slices.Contains(grantees[0].Permissions, "s3:PutObject") {
		t.Errorf("permissions %+v", grantees)
	}
	if st := p.Storage(cfg); st.Role == nil || st.Role(f.setup.Values) != "arn:aws:iam::"+awstest.AccountID+":role/"+n.Role || st.TrustStep != s3bucket.StepRolePolicy {
		t.Errorf("storage %+v", st)
	}
	if calls := f.srv.Calls()[before:]; len(calls) != 0 {
		t.Errorf("a dry run reached AWS: %+v", calls)
	}
}
