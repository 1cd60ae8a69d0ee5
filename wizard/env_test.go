package wizard_test

// The environments the scenarios run in: clean clouds (kumo, the GCP and
// Snowflake fakes) reached through byob's real clients, and what checks a
// finished setup in them.

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/gcsbucket/gcptest"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/s3bucket/awstest"
	"github.com/growthloop/byob/providers/snowflakestage"
	"github.com/growthloop/byob/snowflake"
	"github.com/growthloop/byob/snowflake/snowflaketest"
	"github.com/growthloop/byob/templates"
	"github.com/growthloop/byob/wizard"
)

// env is a clean AWS (kumo behind awstest) and Snowflake (the wire fake)
// with real SDK and driver connections to them.
type env struct {
	t      testing.TB
	aws    *awstest.Server
	sf     *snowflaketest.Server
	deps   wizard.Deps
	admin  *s3bucket.Clients // byob's clients, for the tests' own calls
	dir    string
	id     string // kumo is shared by the whole test binary: names carry it
	events []wizard.Event
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, aws: awstest.New(), sf: snowflaketest.New(), dir: t.TempDir(), id: awstest.Unique()}
	t.Cleanup(e.aws.Close)
	t.Cleanup(e.sf.Close)
	e.connect(s3bucket.NewClients(e.aws.Config()), e.sf.Connect(t, "ACCOUNTADMIN", nil))
	return e
}

// connect makes byob reach AWS through c and Snowflake through db.
func (e *env) connect(c *s3bucket.Clients, db *snowflake.Pool) {
	e.admin = c
	e.deps.Conns = map[string]providers.Conn{s3bucket.Name: s3bucket.NewConn(c), snowflakestage.Name: snowflakestage.NewConn(db)}
}

func (e *env) config() wizard.Config {
	c := wizard.Config{
		Provider: s3bucket.Name, Bucket: "acme-exports-" + e.id, Name: "t" + e.id, Warehouse: snowflakestage.Name,
		OrgID: "1234", TTLDays: 7,
		Bundle: filepath.Join(e.dir, "bundle.json"), State: filepath.Join(e.dir, "state.json"),
	}.With(s3bucket.Settings{Region: "us-west-2"}).With(snowflakestage.Settings{Database: "ANALYTICS", GrowthLoopRole: "GROWTHLOOP"})
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// apply runs byob init --yes as the command does.
func (e *env) apply(cfg wizard.Config) (wizard.Outcome, error) {
	e.t.Helper()
	return e.applyWith(cfg, runenv.Propagation{Timeout: 10 * time.Second, Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond})
}

// applyWith is apply waiting for propagation as prop says.
func (e *env) applyWith(cfg wizard.Config, prop runenv.Propagation) (wizard.Outcome, error) {
	e.t.Helper()
	state, values, err := wizard.Prepare(cfg)
	if err != nil {
		return wizard.Outcome{}, err
	}
	e.events = nil
	return wizard.Apply(context.Background(), cfg, e.deps, state, values, wizard.ApplyOptions{
		Propagation: prop,
		OnEvent:     func(ev wizard.Event) { e.events = append(e.events, ev) },
	})
}

func (e *env) mustApply(cfg wizard.Config) wizard.Outcome {
	e.t.Helper()
	out, err := e.apply(cfg)
	if err != nil {
		e.t.Fatalf("apply: %v", err)
	}
	return out
}

func (e *env) bundle(cfg wizard.Config) *wizard.Bundle {
	e.t.Helper()
	b, err := wizard.ReadBundle(cfg.Bundle)
	if err != nil || b == nil {
		e.t.Fatalf("bundle: %v %v", b, err)
	}
	return b
}

func (e *env) state(cfg wizard.Config) map[string]any {
	e.t.Helper()
	b, err := os.ReadFile(cfg.State)
	if err != nil {
		e.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// inspect checks every resource of a finished S3 + Snowflake setup
// through the SDK and the fake.
func (e *env) inspect(cfg wizard.Config) {
	t := e.t
	t.Helper()
	ctx := context.Background()
	c := e.admin
	bucket := aws.String(cfg.Bucket)
	inRegion := func(o *s3.Options) { o.Region = s3bucket.SettingsOf(&cfg).Region }

	pab, err := c.S3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: bucket}, inRegion)
	if err != nil {
		t.Fatal(err)
	}
	if p := pab.PublicAccessBlockConfiguration; !aws.ToBool(p.BlockPublicAcls) || !aws.ToBool(p.IgnorePublicAcls) || !aws.ToBool(p.BlockPublicPolicy) || !aws.ToBool(p.RestrictPublicBuckets) {
		t.Errorf("public access block: %+v", p)
	}
	enc, err := c.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: bucket}, inRegion)
	if err != nil || enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAes256 {
		t.Errorf("encryption: %v", err)
	}
	pol, err := c.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket}, inRegion)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := s3bucket.PartitionOf(s3bucket.SettingsOf(&cfg).Region)
	if _, has := templates.MergeStatement(aws.ToString(pol.Policy), templates.TLSOnlyBucketPolicy(templates.Bucket{Partition: part.ID, Name: cfg.Bucket}).Statement[0]); !has {
		t.Errorf("bucket policy lacks the TLS-only statement: %s", aws.ToString(pol.Policy))
	}
	lc, err := c.S3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: bucket}, inRegion)
	if err != nil {
		t.Fatal(err)
	}
	if r := lc.Rules; len(r) != 1 || aws.ToString(r[0].Filter.Prefix) != cfg.Prefix || aws.ToInt32(r[0].Expiration.Days) != int32(cfg.TTLDays) ||
		r[0].NoncurrentVersionExpiration == nil || aws.ToInt32(r[0].NoncurrentVersionExpiration.NoncurrentDays) != int32(cfg.TTLDays) ||
		r[0].AbortIncompleteMultipartUpload == nil || aws.ToInt32(r[0].AbortIncompleteMultipartUpload.DaysAfterInitiation) != 1 {
		t.Errorf("lifecycle rules: %+v", lc.Rules)
	}
	loc, err := c.S3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: bucket})
	if err != nil || awstest.BucketRegion(string(loc.LocationConstraint)) != s3bucket.SettingsOf(&cfg).Region {
		t.Errorf("bucket location %q, %v", loc.LocationConstraint, err)
	}

	names := s3bucket.NamesFor(cfg.Name)
	policyARN := part.IAMARN(awstest.AccountID, "policy/"+names.Policy)
	snowflakePolicyARN := part.IAMARN(awstest.AccountID, "policy/"+names.SnowflakePolicy)
	s3Bucket := templates.Bucket{Partition: part.ID, Name: cfg.Bucket}
	for arn, want := range map[string]templates.Policy{
		policyARN:          templates.S3Access(s3Bucket, cfg.Prefix),
		snowflakePolicyARN: templates.S3SnowflakeAccess(s3Bucket, cfg.Prefix),
	} {
		gp, err := c.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		pv, err := c.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: gp.Policy.DefaultVersionId})
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := url.QueryUnescape(aws.ToString(pv.PolicyVersion.Document))
		if !templates.SameDocument(doc, want.JSON()) {
			t.Errorf("policy %s document: %s", arn, doc)
		}
	}

	role, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(names.Role)})
	if err != nil {
		t.Fatal(err)
	}
	trust, _ := url.QueryUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument))
	in := e.sf.Integration(snowflakestage.SettingsOf(&cfg).Integration)
	if in == nil {
		t.Fatal("no integration")
	}
	userARN := strings.Replace(snowflaketest.IAMUserARN, "arn:aws:", "arn:"+part.ID+":", 1)
	if !templates.SameDocument(trust, templates.SnowflakeTrust(userARN, in.ExternalID).JSON()) {
		t.Errorf("trust policy %s does not name Snowflake's user with the integration's external ID %s", trust, in.ExternalID)
	}
	if in.RoleARN != aws.ToString(role.Role.Arn) || !strings.HasPrefix(in.RoleARN, "arn:"+part.ID+":iam::") || in.ExternalID == "" || strings.HasPrefix(in.ExternalID, "byob-") && len(in.ExternalID) != 45 {
		t.Errorf("integration %+v, role %s", in, aws.ToString(role.Role.Arn))
	}
	if strings.Join(in.AllowedLocations, ",") != part.Scheme+cfg.Bucket+"/"+cfg.Prefix || !in.Enabled || in.Provider != part.StorageProvider {
		t.Errorf("integration %+v", in)
	}
	ra, err := c.IAM.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(names.Role)})
	if err != nil || len(ra.AttachedPolicies) != 1 || aws.ToString(ra.AttachedPolicies[0].PolicyArn) != snowflakePolicyARN {
		t.Errorf("role attachments: %v %v", ra.AttachedPolicies, err)
	}
	ua, err := c.IAM.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(names.User)})
	if err != nil || len(ua.AttachedPolicies) != 1 || aws.ToString(ua.AttachedPolicies[0].PolicyArn) != policyARN {
		t.Errorf("user attachments: %+v %v", ua, err)
	}
	keys, err := c.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(names.User)})
	if err != nil || len(keys.AccessKeyMetadata) != 1 {
		t.Fatalf("want exactly one access key, got %+v %v", keys, err)
	}

	st := e.sf.Stage("ANALYTICS.FLYWHEEL_SYSTEM.FLYWHEEL_EXTERNAL_STAGE")
	if st == nil || st.URL != part.Scheme+cfg.Bucket+"/"+cfg.Prefix+cfg.OrgID+"/" || st.Integration != snowflakestage.SettingsOf(&cfg).Integration {
		t.Errorf("stage %+v", st)
	}
	for _, g := range [][2]string{{"INTEGRATION", "FLYWHEEL_APP_AWS"}, {"DATABASE", "ANALYTICS"}, {"SCHEMA", "ANALYTICS.FLYWHEEL_SYSTEM"}, {"STAGE", "ANALYTICS.FLYWHEEL_SYSTEM.FLYWHEEL_EXTERNAL_STAGE"}} {
		if !e.sf.HasGrant("GROWTHLOOP", "USAGE", g[0], g[1]) {
			t.Errorf("GROWTHLOOP lacks USAGE on %s %s", g[0], g[1])
		}
	}

	b := e.bundle(cfg)
	if b.Version != 1 || b.Provider != "s3" || b.Bucket != cfg.Bucket || b.Region != s3bucket.SettingsOf(&cfg).Region || b.Prefix != cfg.Prefix || b.OrgID != cfg.OrgID {
		t.Errorf("bundle %+v", b)
	}
	if b.AWSAccessKeyID != aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId) || b.AWSSecretAccessKey == "" {
		t.Errorf("bundle key %s does not match IAM's %s", b.AWSAccessKeyID, aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId))
	}
	if b.Snowflake == nil || b.Snowflake.Stage != "ANALYTICS.FLYWHEEL_SYSTEM.FLYWHEEL_EXTERNAL_STAGE" || b.Snowflake.RoleARN != in.RoleARN || b.Snowflake.ExternalID != in.ExternalID || b.Snowflake.Integration != "FLYWHEEL_APP_AWS" {
		t.Errorf("bundle snowflake %+v", b.Snowflake)
	}
	if fi, err := os.Stat(cfg.Bundle); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("bundle mode %v %v", fi.Mode(), err)
	}
	if fi, err := os.Stat(cfg.State); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state mode %v %v", fi.Mode(), err)
	}
	for _, f := range []string{cfg.State} {
		data, _ := os.ReadFile(f)
		if bytes.Contains(data, []byte(b.AWSSecretAccessKey)) {
			t.Errorf("%s holds the secret key", f)
		}
	}
	for _, ev := range e.events {
		if strings.Contains(ev.Detail, b.AWSSecretAccessKey) {
			t.Errorf("event %+v shows the secret key", ev)
		}
	}
}

// createBucket makes a bucket outside byob, in the region whose
// LocationConstraint is loc.
func (e *env) createBucket(bucket, loc string) {
	e.t.Helper()
	_, err := e.admin.S3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(loc)}},
		func(o *s3.Options) { o.Region = awstest.BucketRegion(loc) })
	if err != nil {
		e.t.Fatal(err)
	}
}

// statementsSince are the statements run after the first n that start
// with prefix.
func (e *env) statementsSince(n int, prefix string) []string {
	var out []string
	for _, q := range e.sf.Statements()[n:] {
		if strings.Contains(q, "REPLACE") || strings.HasPrefix(q, "DROP") {
			e.t.Errorf("byob must never recreate: %s", q)
		}
		if strings.HasPrefix(q, prefix) {
			out = append(out, q)
		}
	}
	return out
}

// gcsEnv is the GCP fake and the Snowflake fake with real clients.
type gcsEnv struct {
	t      testing.TB
	gcp    *gcptest.Server
	sf     *snowflaketest.Server
	deps   wizard.Deps
	admin  *gcsbucket.Clients
	dir    string
	events []wizard.Event
}

func newGCSEnv(t testing.TB) *gcsEnv {
	t.Helper()
	e := &gcsEnv{t: t, gcp: gcptest.New(), sf: snowflaketest.New(), dir: t.TempDir()}
	t.Cleanup(e.gcp.Close)
	t.Cleanup(e.sf.Close)
	e.sf.SetRegion("GCP_US_CENTRAL1")
	c := e.gcp.Clients()
	e.admin = c
	e.deps.Conns = map[string]providers.Conn{gcsbucket.Name: gcsbucket.NewConn(c), snowflakestage.Name: snowflakestage.NewConn(e.sf.Connect(t, "ACCOUNTADMIN", nil))}
	return e
}

func (e *gcsEnv) config(warehouse string) wizard.Config {
	c := wizard.Config{
		Provider: gcsbucket.Name, Bucket: "acme-exports", Warehouse: warehouse, OrgID: "1234", TTLDays: 14,
		Bundle: filepath.Join(e.dir, "bundle.json"), State: filepath.Join(e.dir, "state.json"),
	}.With(gcsbucket.Settings{Project: gcptest.Project, Location: "US-CENTRAL1", KeyFile: filepath.Join(e.dir, "credentials.json")})
	if warehouse == snowflakestage.Name {
		c = c.With(snowflakestage.Settings{Database: "ANALYTICS", GrowthLoopRole: "GROWTHLOOP"})
	}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *gcsEnv) apply(cfg wizard.Config) (wizard.Outcome, error) {
	state, values, err := wizard.Prepare(cfg)
	if err != nil {
		return wizard.Outcome{}, err
	}
	e.events = nil
	return wizard.Apply(context.Background(), cfg, e.deps, state, values, wizard.ApplyOptions{
		Propagation: runenv.Propagation{Timeout: 10 * time.Second, Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond},
		OnEvent:     func(ev wizard.Event) { e.events = append(e.events, ev) },
	})
}

func (e *gcsEnv) mustApply(cfg wizard.Config) wizard.Outcome {
	e.t.Helper()
	out, err := e.apply(cfg)
	if err != nil {
		e.t.Fatalf("apply: %v", err)
	}
	return out
}

// inspect checks every resource of a finished GCS setup in the fake.
func (e *gcsEnv) inspect(cfg wizard.Config) {
	t := e.t
	t.Helper()
	b := e.gcp.Bucket(cfg.Bucket)
	if b == nil {
		t.Fatal("no bucket")
	}
	var iamCfg struct {
		UniformBucketLevelAccess struct{ Enabled bool } `json:"uniformBucketLevelAccess"`
		PublicAccessPrevention   string                 `json:"publicAccessPrevention"`
	}
	_ = json.Unmarshal(b.IAMConfiguration, &iamCfg)
	if !iamCfg.UniformBucketLevelAccess.Enabled || iamCfg.PublicAccessPrevention != "enforced" || !strings.EqualFold(b.Location, gcsbucket.SettingsOf(&cfg).Location) {
		t.Errorf("bucket %+v", b)
	}
	var lc templates.GCSLifecycle
	_ = json.Unmarshal(b.Lifecycle, &lc)
	if i := slices.IndexFunc(lc.Rule, func(r templates.GCSLifecycleRule) bool {
		return r.Action.Type == "Delete" && r.Condition.Age == cfg.TTLDays && slices.Equal(r.Condition.MatchesPrefix, []string{cfg.Prefix})
	}); i < 0 {
		t.Errorf("lifecycle %s lacks the delete rule", b.Lifecycle)
	}
	if i := slices.IndexFunc(lc.Rule, func(r templates.GCSLifecycleRule) bool {
		return r.Action.Type == "Delete" && r.Condition.DaysSinceNoncurrentTime == cfg.TTLDays && r.Condition.Age == 0 && slices.Equal(r.Condition.MatchesPrefix, []string{cfg.Prefix})
	}); i < 0 {
		t.Errorf("lifecycle %s lacks the rule deleting noncurrent versions", b.Lifecycle)
	}
	names := gcsbucket.NamesFor(cfg.Name)
	role := e.gcp.Role(names.WriterRole)
	if role == nil || !slices.Equal(role.IncludedPermissions, templates.GCSWriterPermissions) || role.Deleted {
		t.Errorf("writer role %+v", role)
	}
	email := names.ServiceAccount + "@" + gcptest.Project + ".iam.gserviceaccount.com"
	if !e.gcp.HasAccount(email) {
		t.Error("no service account")
	}
	member := func(role, m string) bool {
		for _, bd := range e.gcp.Bindings(cfg.Bucket) {
			if bd.Role == role && slices.Contains(bd.Members, m) {
				return true
			}
		}
		return false
	}
	if !member("projects/"+gcptest.Project+"/roles/"+names.WriterRole, "serviceAccount:"+email) {
		t.Errorf("bucket bindings %+v lack the writer binding", e.gcp.Bindings(cfg.Bucket))
	}
	if !member("roles/storage.legacyBucketOwner", "projectOwner:"+gcptest.Project) {
		t.Error("the bucket's other bindings must be kept")
	}
	keys := e.gcp.Keys(email)
	if len(keys) != 1 {
		t.Fatalf("want exactly one key, got %v", keys)
	}
	keyJSON, err := os.ReadFile(gcsbucket.SettingsOf(&cfg).KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	var key struct {
		PrivateKeyID string `json:"private_key_id"`
	}
	if json.Unmarshal(keyJSON, &key) != nil || key.PrivateKeyID != keys[0] {
		t.Errorf("key file holds key %q, IAM has %v", key.PrivateKeyID, keys)
	}
	for _, f := range []string{gcsbucket.SettingsOf(&cfg).KeyFile, cfg.Bundle, cfg.State} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v", f, fi.Mode(), err)
		}
	}
	for _, f := range []string{cfg.Bundle, cfg.State} {
		data, _ := os.ReadFile(f)
		if strings.Contains(string(data), "PRIVATE KEY") {
			t.Errorf("%s holds the private key", f)
		}
	}
	for _, ev := range e.events {
		if strings.Contains(ev.Detail, "PRIVATE KEY") {
			t.Errorf("event shows the key: %+v", ev)
		}
	}
	bundle, err := wizard.ReadBundle(cfg.Bundle)
	if err != nil || bundle.Provider != "gcs" || bundle.GCPKeyID != keys[0] || bundle.GCPKeyFile != gcsbucket.SettingsOf(&cfg).KeyFile ||
		bundle.GCPServiceAccount != email || bundle.GCPProject != gcptest.Project || bundle.Bucket != cfg.Bucket {
		t.Errorf("bundle %+v %v", bundle, err)
	}
	if cfg.WarehouseProvider() != nil {
		sfRole := e.gcp.Role(names.SnowflakeRole)
		if sfRole == nil || !slices.Equal(sfRole.IncludedPermissions, templates.GCSSnowflakePermissions) {
			t.Errorf("snowflake role %+v", sfRole)
		}
		if !member("projects/"+gcptest.Project+"/roles/"+names.SnowflakeRole, "serviceAccount:"+snowflaketest.GCPServiceAccount) {
			t.Errorf("bindings %+v lack Snowflake's", e.gcp.Bindings(cfg.Bucket))
		}
		in := e.sf.Integration(snowflakestage.SettingsOf(&cfg).Integration)
		if in == nil || in.Provider != "GCS" || strings.Join(in.AllowedLocations, ",") != "gcs://"+cfg.Bucket+"/"+cfg.Prefix {
			t.Errorf("integration %+v", in)
		}
		st := e.sf.Stage("ANALYTICS.FLYWHEEL_SYSTEM.FLYWHEEL_EXTERNAL_STAGE")
		if st == nil || st.URL != "gcs://"+cfg.Bucket+"/"+cfg.Prefix+cfg.OrgID+"/" || st.Integration != "FLYWHEEL_APP_GCS" {
			t.Errorf("stage %+v", st)
		}
		if !e.sf.HasGrant("GROWTHLOOP", "USAGE", "INTEGRATION", "FLYWHEEL_APP_GCS") || !e.sf.HasGrant("GROWTHLOOP", "USAGE", "STAGE", "ANALYTICS.FLYWHEEL_SYSTEM.FLYWHEEL_EXTERNAL_STAGE") {
			t.Error("GROWTHLOOP lacks its grants")
		}
		if bundle.Snowflake == nil || bundle.Snowflake.GCPServiceAccount != snowflaketest.GCPServiceAccount {
			t.Errorf("bundle snowflake %+v", bundle.Snowflake)
		}
	}
}
