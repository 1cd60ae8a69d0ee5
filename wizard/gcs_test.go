package wizard_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/gcsbucket/gcptest"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/providers/snowflakestage"
	"github.com/growthloop/byob/snowflake/snowflaketest"
	"github.com/growthloop/byob/templates"
	"github.com/growthloop/byob/wizard"
)

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
		Provider: gcsbucket.Name, Bucket: "acme-exports", GCPProject: gcptest.Project, Location: "US-CENTRAL1",
		Warehouse: warehouse, OrgID: "1234", TTLDays: 14,
		Bundle: filepath.Join(e.dir, "bundle.json"), State: filepath.Join(e.dir, "state.json"), KeyFile: filepath.Join(e.dir, "credentials.json"),
	}
	if warehouse == snowflakestage.Name {
		c.SnowflakeDatabase, c.GrowthLoopRole = "ANALYTICS", "GROWTHLOOP"
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
	if !iamCfg.UniformBucketLevelAccess.Enabled || iamCfg.PublicAccessPrevention != "enforced" || !strings.EqualFold(b.Location, cfg.Location) {
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
	keyJSON, err := os.ReadFile(cfg.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	var key struct {
		PrivateKeyID string `json:"private_key_id"`
	}
	if json.Unmarshal(keyJSON, &key) != nil || key.PrivateKeyID != keys[0] {
		t.Errorf("key file holds key %q, IAM has %v", key.PrivateKeyID, keys)
	}
	for _, f := range []string{cfg.KeyFile, cfg.Bundle, cfg.State} {
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
	if err != nil || bundle.Provider != "gcs" || bundle.GCPKeyID != keys[0] || bundle.GCPKeyFile != cfg.KeyFile ||
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
		in := e.sf.Integration(cfg.Integration)
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

func TestGCSFullRunThenNoOp(t *testing.T) {
	for _, warehouse := range []string{providers.WarehouseNone, snowflakestage.Name} {
		t.Run(warehouse, func(t *testing.T) {
			e := newGCSEnv(t)
			e.gcp.NewAccountDelay(2) // the new account is not usable at once
			cfg := e.config(warehouse)
			e.mustApply(cfg)
			e.inspect(cfg)
			gcpBefore, sfBefore := e.gcp.Mutations(), e.sf.Mutations()
			out := e.mustApply(cfg)
			if e.gcp.Mutations() != gcpBefore || e.sf.Mutations() != sfBefore {
				t.Errorf("re-run mutated: GCP %v", e.gcp.Requests()[len(e.gcp.Requests())-10:])
			}
			if len(out.Applied) != 0 || out.BundleWritten {
				t.Errorf("re-run outcome %+v", out)
			}
			e.inspect(cfg)
		})
	}
}

// TestGCSResumeAfterFailureAtEachStep fails the k-th mutating call, for
// every k, then re-runs. The number of calls varies (two bindings may race
// for the bucket policy's etag), so k runs until a run is not hit.
func TestGCSResumeAfterFailureAtEachStep(t *testing.T) {
	for _, side := range []string{"gcp", "snowflake"} {
		for k := 1; ; k++ {
			e := newGCSEnv(t)
			cfg := e.config(snowflakestage.Name)
			if side == "gcp" {
				e.gcp.FailMutation(k)
			} else {
				e.sf.FailMutation(k)
			}
			_, err := e.apply(cfg)
			if err == nil {
				if k < 6 {
					t.Fatalf("%s: only %d mutations to fail", side, k-1)
				}
				e.inspect(cfg)
				break
			}
			e.mustApply(cfg)
			e.inspect(cfg)
		}
	}
}

// TestGCSKeyBlockedByOrgPolicy: the managed constraint (organizations
// since May 2024) and the legacy one each stop at the key, with the
// rest in place, naming the constraint Google named and how an
// organization policy administrator lifts either for this project;
// another FAILED_PRECONDITION is reported as itself.
func TestGCSKeyBlockedByOrgPolicy(t *testing.T) {
	for _, constraint := range []string{gcsbucket.ManagedKeyCreationConstraint, gcsbucket.KeyCreationConstraint} {
		t.Run(constraint, func(t *testing.T) {
			e := newGCSEnv(t)
			e.gcp.BlockKeys(constraint)
			cfg := e.config(providers.WarehouseNone)
			_, err := e.apply(cfg)
			var ope *gcsbucket.OrgPolicyError
			if !errors.As(err, &ope) || ope.Constraint != constraint {
				t.Fatalf("apply = %v, want an OrgPolicyError naming %s", err, constraint)
			}
			for _, want := range []string{"blocked by the organization policy constraint " + constraint,
				"name: projects/" + gcptest.Project + "/policies/iam.managed.disableServiceAccountKeyCreation", "gcloud org-policies set-policy policy.yaml",
				"gcloud resource-manager org-policies disable-enforce iam.disableServiceAccountKeyCreation --project=" + gcptest.Project} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q: %v", want, err)
				}
			}
			if e.gcp.Bucket(cfg.Bucket) == nil || len(e.gcp.Bindings(cfg.Bucket)) < 2 {
				t.Error("the rest of the setup must stay in place")
			}
			e.gcp.BlockKeys("")
			e.mustApply(cfg)
			e.inspect(cfg)
		})
	}
	e := newGCSEnv(t)
	e.gcp.FailPrecondition("The service account is disabled.")
	_, err := e.apply(e.config(providers.WarehouseNone))
	var ope *gcsbucket.OrgPolicyError
	if errors.As(err, &ope) || err == nil || !strings.Contains(err.Error(), "The service account is disabled.") {
		t.Errorf("another precondition failure: %v", err)
	}
}

func TestGCSBucketOwnedElsewhereAndAdopted(t *testing.T) {
	e := newGCSEnv(t)
	cfg := e.config(providers.WarehouseNone)
	e.gcp.Foreign(cfg.Bucket)
	if _, err := e.apply(cfg); err == nil || !strings.Contains(err.Error(), "taken by another project") {
		t.Fatalf("apply = %v", err)
	}

	e2 := newGCSEnv(t)
	cfg2 := e2.config(providers.WarehouseNone)
	e2.gcp.SetBucket(gcptest.Bucket{Name: cfg2.Bucket, Location: "US-CENTRAL1", Lifecycle: json.RawMessage(`{"rule":[{"action":{"type":"SetStorageClass","storageClass":"COLDLINE"},"condition":{"age":30}}]}`)})
	e2.mustApply(cfg2)
	e2.inspect(cfg2)
	if !strings.Contains(string(e2.gcp.Bucket(cfg2.Bucket).Lifecycle), "COLDLINE") {
		t.Error("an adopted bucket's other lifecycle rules must be kept")
	}
}

func TestGCSPreflightNamesMissingPermissions(t *testing.T) {
	e := newGCSEnv(t)
	e.gcp.Granted([]string{"storage.buckets.create"})
	_, err := e.apply(e.config(providers.WarehouseNone))
	if err == nil || !strings.Contains(err.Error(), "iam.serviceAccountKeys.create") || e.gcp.Mutations() != 0 {
		t.Errorf("apply = %v, mutations %d", err, e.gcp.Mutations())
	}
}

func TestGCSLocationDefaultsToSnowflakes(t *testing.T) {
	e := newGCSEnv(t)
	cfg := e.config(snowflakestage.Name)
	cfg.Location = ""
	out := e.mustApply(cfg)
	if out.Preflight.Region != "us-central1" {
		t.Errorf("location = %q", out.Preflight.Region)
	}
}

func TestGCSLostKeyFileIsReplaced(t *testing.T) {
	e := newGCSEnv(t)
	cfg := e.config(providers.WarehouseNone)
	e.mustApply(cfg)
	email := gcsbucket.NamesFor(cfg.Name).ServiceAccount + "@" + gcptest.Project + ".iam.gserviceaccount.com"
	old := e.gcp.Keys(email)[0]
	os.Remove(cfg.KeyFile)
	e.mustApply(cfg)
	if keys := e.gcp.Keys(email); len(keys) != 1 || keys[0] == old {
		t.Errorf("keys = %v, want one new key instead of %s", keys, old)
	}
	e.inspect(cfg)

	os.WriteFile(cfg.KeyFile, []byte(`{"private_key_id":"someone-elses"}`), 0o600)
	if _, err := e.apply(cfg); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("a key file that is not this setup's must not be overwritten without --force: %v", err)
	}
}

// TestGCSLostKeyAnswerAndForeignKeys: a key Google made whose answer was
// lost is deleted; a key byob did not make is reported and kept; a
// disabled key of byob's is replaced.
func TestGCSLostKeyAnswerAndForeignKeys(t *testing.T) {
	e := newGCSEnv(t)
	cfg := e.config(providers.WarehouseNone)
	e.gcp.LoseKeyAnswers(1)
	e.mustApply(cfg)
	e.inspect(cfg) // exactly one key, the key file's

	email := gcsbucket.NamesFor(cfg.Name).ServiceAccount + "@" + gcptest.Project + ".iam.gserviceaccount.com"
	old := e.gcp.Keys(email)[0]
	other := e.gcp.AddKey(email)
	e.gcp.DisableKey(old)
	e.mustApply(cfg)
	keys := e.gcp.Keys(email)
	if len(keys) != 2 || !slices.Contains(keys, other) || slices.Contains(keys, old) {
		t.Errorf("keys %v: want the other key %s and a new one instead of the disabled %s", keys, other, old)
	}
	var reported bool
	for _, ev := range e.events {
		if ev.Step == gcsbucket.StepKey && strings.Contains(ev.Detail, other+", which byob did not create; left alone") {
			reported = true
		}
	}
	if !reported {
		t.Errorf("the other key must be reported: %+v", e.events)
	}
}

// TestGCSEarlierSetupIsBroughtUpToDate: a bucket whose lifecycle only
// deletes live objects (byob before noncurrent versions expired) gets the
// second rule on the next init, keeping the bucket's other rules.
func TestGCSEarlierSetupIsBroughtUpToDate(t *testing.T) {
	e := newGCSEnv(t)
	cfg := e.config(snowflakestage.Name)
	e.mustApply(cfg)
	b := e.gcp.Bucket(cfg.Bucket)
	b.Lifecycle = json.RawMessage(`{"rule":[{"action":{"type":"Delete"},"condition":{"age":14,"matchesPrefix":["exports/"]}},` +
		`{"action":{"type":"SetStorageClass","storageClass":"COLDLINE"},"condition":{"age":30}}]}`)
	e.gcp.SetBucket(*b)
	out := e.mustApply(cfg)
	if !slices.Equal(out.Applied, []string{gcsbucket.StepBucket}) {
		t.Errorf("applied %v, want only %s", out.Applied, gcsbucket.StepBucket)
	}
	e.inspect(cfg)
	if !strings.Contains(string(e.gcp.Bucket(cfg.Bucket).Lifecycle), "COLDLINE") {
		t.Error("the bucket's other lifecycle rules must be kept")
	}
}

// TestSameNameOnAnotherGCSBucketIsRefused: the service account another
// setup of the same --name made for another bucket is not taken over
// without --adopt; the refused run changes nothing.
func TestSameNameOnAnotherGCSBucketIsRefused(t *testing.T) {
	e := newGCSEnv(t)
	first := e.config(providers.WarehouseNone)
	e.mustApply(first)

	second := first
	second.Bucket += "-second"
	dir := t.TempDir()
	second.State, second.Bundle, second.KeyFile = filepath.Join(dir, "state.json"), filepath.Join(dir, "bundle.json"), filepath.Join(dir, "credentials.json")
	before := e.gcp.Mutations()
	state, values, err := wizard.Prepare(second)
	must(t, err)
	prop := runenv.Propagation{Timeout: 10 * time.Second, Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}
	_, err = wizard.Apply(context.Background(), second, e.deps, state, values, wizard.ApplyOptions{Propagation: prop})
	var ue *providers.UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "another byob setup's") || !strings.Contains(err.Error(), "gs://"+first.Bucket+",") ||
		!strings.Contains(err.Error(), "--name") || !strings.Contains(err.Error(), "--adopt") {
		t.Fatalf("same name, another bucket: %v", err)
	}
	if n := e.gcp.Mutations() - before; n != 0 {
		t.Errorf("the refused run changed %d things", n)
	}
	if _, err := wizard.Apply(context.Background(), second, e.deps, state, values, wizard.ApplyOptions{Adopt: true, Propagation: prop}); err != nil {
		t.Fatalf("--adopt: %v", err)
	}
}
