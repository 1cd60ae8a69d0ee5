package gcsbucket_test

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

	iamapi "google.golang.org/api/iam/v1"

	"github.com/growthloop/byob/internal/testsupport/providertest"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/bundlefile"
	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/gcsbucket/gcptest"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/snowflake/snowflaketest"
	"github.com/growthloop/byob/templates"
)

// The setup the tests make: bucket acme-exports in US-CENTRAL1 of the
// fake's project, for setup name growthloop, with Snowflake.
const (
	bucket        = "acme-exports"
	account       = "growthloop-byob@" + gcptest.Project + ".iam.gserviceaccount.com"
	writerRole    = "projects/" + gcptest.Project + "/roles/growthloop_byob_writer"
	snowflakeRole = "projects/" + gcptest.Project + "/roles/growthloop_byob_snowflake"
	// warehouseStep is the warehouse's step that reads its service
	// account (Snowflake's DESC INTEGRATION).
	warehouseStep = "snowflake-integration"
)

// fixture is one setup against the fake, and the run environment its
// steps get.
type fixture struct {
	t     *testing.T
	g     *gcptest.Server
	c     *gcsbucket.Clients
	setup providers.Setup
	bg    *runenv.Background

	rec providertest.Recorder
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, g: gcptest.New()}
	t.Cleanup(f.g.Close)
	f.c = f.g.Clients()
	f.c.SetRetry(gcsbucket.Retry{Attempts: 3, Initial: time.Millisecond, Max: 5 * time.Millisecond})
	dir := t.TempDir()
	cfg := new(providers.Config{
		Provider: gcsbucket.Name, Bucket: bucket, Prefix: "exports/", OrgID: "org-1",
		TTLDays: 14, Name: "growthloop", Warehouse: "snowflake",
		Bundle: filepath.Join(dir, "bundle.json"), State: filepath.Join(dir, "state.json"),
	}.With(gcsbucket.Settings{Project: gcptest.Project, Location: "US-CENTRAL1", KeyFile: filepath.Join(dir, "credentials.json")}))
	f.bg = runenv.NewBackground()
	t.Cleanup(f.bg.End)
	f.setup = providers.Setup{
		Config: cfg, Conn: gcsbucket.NewConn(f.c), Keys: gcsbucket.Provider{}.Keys(cfg), WarehouseStep: warehouseStep,
		// DESC INTEGRATION named Snowflake's service account.
		Values:      providers.NewValues(map[string]string{providers.WarehouseServiceAccount.Name: snowflaketest.GCPServiceAccount}),
		Propagation: runenv.Propagation{Timeout: 2 * time.Second, Initial: time.Millisecond, Max: 5 * time.Millisecond},
		ReRun:       "byob init --provider gcs",
		Now:         time.Now(),
	}
	return f
}

func (f *fixture) run() *runenv.Run { return f.rec.Run(f.bg, f.setup.Values) }

// steps are the steps of a new run, by ID.
func (f *fixture) steps() map[string]providers.Step {
	return providertest.ByID((gcsbucket.Provider{}).Steps(f.setup))
}

func (f *fixture) check(s providers.Step) providers.Observation {
	f.t.Helper()
	return providertest.Check(f.t, f.run(), s, f.setup.Values)
}

func (f *fixture) apply(s providers.Step) {
	f.t.Helper()
	providertest.Apply(f.t, f.run(), s, f.setup.Values)
}

// converge runs a new run's steps as byob init does (providertest.Converge).
func (f *fixture) converge() map[string]providers.Observation {
	f.t.Helper()
	return providertest.Converge(f.t, f.run, (gcsbucket.Provider{}).Steps(f.setup), f.setup.Values)
}

// keyFile is what byob wrote to the key file.
func (f *fixture) keyFile() (id, email string) {
	f.t.Helper()
	b, err := os.ReadFile(gcsbucket.SettingsOf(f.setup.Config).KeyFile)
	if err != nil {
		f.t.Fatal(err)
	}
	var k struct {
		ID    string `json:"private_key_id"`
		Email string `json:"client_email"`
	}
	if err := json.Unmarshal(b, &k); err != nil {
		f.t.Fatal(err)
	}
	return k.ID, k.Email
}

// lifecycle is a bucket's lifecycle rules.
func lifecycle(t *testing.T, b *gcptest.Bucket) []templates.GCSLifecycleRule {
	t.Helper()
	var lc templates.GCSLifecycle
	if err := json.Unmarshal(b.Lifecycle, &lc); err != nil {
		t.Fatalf("lifecycle %s: %v", b.Lifecycle, err)
	}
	return lc.Rule
}

// hasByobRules reports whether the rules delete objects under exports/ at
// 14 days, and their noncurrent versions 14 days after.
func hasByobRules(rules []templates.GCSLifecycleRule) bool {
	var age, noncurrent bool
	for _, r := range rules {
		if r.Action.Type != "Delete" || !slices.Equal(r.Condition.MatchesPrefix, []string{"exports/"}) {
			continue
		}
		age = age || r.Condition.Age == 14 && r.Condition.DaysSinceNoncurrentTime == 0
		noncurrent = noncurrent || r.Condition.DaysSinceNoncurrentTime == 14 && r.Condition.Age == 0
	}
	return age && noncurrent
}

func bound(bindings []gcptest.Binding, role, member string) bool {
	return slices.ContainsFunc(bindings, func(b gcptest.Binding) bool { return b.Role == role && slices.Contains(b.Members, member) })
}

// TestFirstRunMakesEverythingThenNothing: a new setup makes the bucket
// (private, uniform access, the lifecycle rules), both custom roles with
// exactly their permissions, the service account, the bindings on the
// bucket only and one key, whose file and id are saved before the run
// goes on. A second run finds everything done and changes nothing.
func TestFirstRunMakesEverythingThenNothing(t *testing.T) {
	f := newFixture(t)
	for id, obs := range f.converge() {
		if obs.Status != providers.Missing {
			t.Errorf("%s: %+v before anything was made", id, obs)
		}
	}
	b := f.g.Bucket(bucket)
	if b == nil || b.Location != "US-CENTRAL1" {
		t.Fatalf("bucket %+v", b)
	}
	var iamCfg struct {
		UniformBucketLevelAccess struct{ Enabled bool } `json:"uniformBucketLevelAccess"`
		PublicAccessPrevention   string                 `json:"publicAccessPrevention"`
	}
	if err := json.Unmarshal(b.IAMConfiguration, &iamCfg); err != nil || !iamCfg.UniformBucketLevelAccess.Enabled || iamCfg.PublicAccessPrevention != "enforced" {
		t.Errorf("iamConfiguration %s", b.IAMConfiguration)
	}
	if !hasByobRules(lifecycle(t, b)) {
		t.Errorf("lifecycle %s", b.Lifecycle)
	}
	for id, perms := range map[string][]string{"growthloop_byob_writer": templates.GCSWriterPermissions, "growthloop_byob_snowflake": templates.GCSSnowflakePermissions} {
		if r := f.g.Role(id); r == nil || !slices.Equal(r.IncludedPermissions, perms) {
			t.Errorf("role %s: %+v", id, r)
		}
	}
	if !f.g.HasAccount(account) {
		t.Errorf("no service account %s", account)
	}
	bindings := f.g.Bindings(bucket)
	if !bound(bindings, writerRole, "serviceAccount:"+account) || !bound(bindings, snowflakeRole, "serviceAccount:"+snowflaketest.GCPServiceAccount) ||
		!bound(bindings, "roles/storage.legacyBucketOwner", "projectOwner:"+gcptest.Project) {
		t.Errorf("bucket bindings %+v", bindings)
	}
	if len(f.g.ProjectBindings()) != 0 {
		t.Errorf("project bindings %+v: byob grants on the bucket only", f.g.ProjectBindings())
	}

	keys := f.g.Keys(account)
	id, email := f.keyFile()
	v := f.setup.Values
	if len(keys) != 1 || keys[0] != id || email != account || v.Get(gcsbucket.KeyID) != id || !slices.Equal(gcsbucket.CreatedKeys(v), keys) {
		t.Errorf("keys %q, key file %s of %s, values %v", keys, id, email, v.Map())
	}
	if fi, err := os.Stat(gcsbucket.SettingsOf(f.setup.Config).KeyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", fi, err)
	}
	if last := f.rec.Checkpoints()[len(f.rec.Checkpoints())-1]; last[gcsbucket.KeyID.Name] != id {
		t.Errorf("the key's id was not saved: %v", last)
	}
	var bundle bundlefile.Bundle
	if !(gcsbucket.Provider{}).Bundle(f.setup, &bundle) || bundle.GCPKeyID != id || bundle.GCPServiceAccount != account || bundle.GCPKeyFile != gcsbucket.SettingsOf(f.setup.Config).KeyFile {
		t.Errorf("bundle %+v", bundle)
	}

	mutations := f.g.Mutations()
	for id, obs := range f.converge() {
		if obs.Status != providers.Done || obs.Reason != "" {
			t.Errorf("second run: %s %+v", id, obs)
		}
	}
	if f.g.Mutations() != mutations {
		t.Errorf("the second run made %d changes", f.g.Mutations()-mutations)
	}
}

// TestBucketAdoptedAndReconciled: an existing bucket with access and
// lifecycle settings of its own is adopted, its drift named; applying
// fixes the settings and keeps the bucket's other lifecycle rules.
func TestBucketAdoptedAndReconciled(t *testing.T) {
	f := newFixture(t)
	f.g.SetBucket(gcptest.Bucket{Name: bucket, Location: "US-CENTRAL1",
		IAMConfiguration: json.RawMessage(`{"uniformBucketLevelAccess":{"enabled":false},"publicAccessPrevention":"inherited"}`),
		Lifecycle:        json.RawMessage(`{"rule":[{"action":{"type":"Delete"},"condition":{"age":400,"matchesPrefix":["logs/"]}}]}`)})
	s := f.steps()[gcsbucket.StepBucket]
	obs := f.check(s)
	if obs.Status != providers.Drifted {
		t.Fatalf("check = %+v", obs)
	}
	providertest.MustContain(t, "reason", obs.Reason, "uniform bucket-level access is off", "public access prevention is not enforced",
		"the lifecycle rules do not delete objects under exports/ at age 14 days", "adopted the existing bucket acme-exports; its objects are left alone")
	f.apply(s)
	rules := lifecycle(t, f.g.Bucket(bucket))
	if !hasByobRules(rules) || !slices.ContainsFunc(rules, func(r templates.GCSLifecycleRule) bool {
		return r.Condition.Age == 400 && slices.Equal(r.Condition.MatchesPrefix, []string{"logs/"})
	}) {
		t.Errorf("lifecycle %+v: byob's rules, and the bucket's own kept", rules)
	}
	if obs := f.check(f.steps()[gcsbucket.StepBucket]); obs.Status != providers.Done || obs.Reason != "adopted the existing bucket acme-exports; its objects are left alone" {
		t.Errorf("after the update: %+v", obs)
	}
}

// TestBucketByobCannotUse: a bucket elsewhere, or another project's,
// stops the run at the gate with the flag that fixes it.
func TestBucketByobCannotUse(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(g *gcptest.Server)
		says  []string
	}{
		{"in another location", func(g *gcptest.Server) { g.SetBucket(gcptest.Bucket{Name: bucket, Location: "EU"}) },
			[]string{"bucket acme-exports is in EU, not US-CENTRAL1", "--location EU"}},
		{"another project's", func(g *gcptest.Server) { g.Foreign(bucket) },
			[]string{`bucket name "acme-exports" is taken by another project`, "--bucket"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tc.setup(f.g)
			err := f.steps()[gcsbucket.StepBucket].(providers.Gate).Gate(context.Background(), f.run(), providers.NewValues(nil))
			var m *providers.Mismatch
			if !errors.As(err, &m) {
				t.Fatalf("gate = %v, want a mismatch", err)
			}
			providertest.MustContain(t, "gate", err.Error(), tc.says...)
			if f.g.Mutations() != 0 {
				t.Errorf("%d changes", f.g.Mutations())
			}
		})
	}
}

// TestRoleDrift: a custom role with other permissions is patched to
// exactly GrowthLoop's; a deleted one (Google keeps it 7 days) is
// undeleted.
func TestRoleDrift(t *testing.T) {
	f := newFixture(t)
	f.converge()
	ctx := context.Background()
	if _, err := f.c.IAM.Projects.Roles.Patch(writerRole, &iamapi.Role{IncludedPermissions: []string{"storage.objects.get", "storage.objects.delete"}}).
		UpdateMask("includedPermissions").Context(ctx).Do(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.IAM.Projects.Roles.Delete(snowflakeRole).Context(ctx).Do(); err != nil {
		t.Fatal(err)
	}
	steps := f.steps()
	if obs := f.check(steps[gcsbucket.StepWriterRole]); obs.Status != providers.Drifted || obs.Reason != "role growthloop_byob_writer has permissions [storage.objects.get storage.objects.delete]" {
		t.Errorf("writer role: %+v", obs)
	}
	if obs := f.check(steps[gcsbucket.StepSnowflakeRole]); obs.Status != providers.Drifted || obs.Reason != "role growthloop_byob_snowflake was deleted; it is undeleted" {
		t.Errorf("Snowflake's role: %+v", obs)
	}
	f.apply(steps[gcsbucket.StepWriterRole])
	f.apply(steps[gcsbucket.StepSnowflakeRole])
	if r := f.g.Role("growthloop_byob_writer"); !slices.Equal(r.IncludedPermissions, templates.GCSWriterPermissions) {
		t.Errorf("writer role %+v", r)
	}
	if r := f.g.Role("growthloop_byob_snowflake"); r.Deleted || !slices.Equal(r.IncludedPermissions, templates.GCSSnowflakePermissions) {
		t.Errorf("Snowflake's role %+v", r)
	}
}

// TestServiceAccountOfAnotherSetup: a service account of the same name
// that byob made for another bucket is not taken over without --adopt.
func TestServiceAccountOfAnotherSetup(t *testing.T) {
	f := newFixture(t)
	if _, err := f.c.IAM.Projects.ServiceAccounts.Create("projects/"+gcptest.Project, &iamapi.CreateServiceAccountRequest{AccountId: "growthloop-byob",
		ServiceAccount: &iamapi.ServiceAccount{Description: "Writes GrowthLoop exports to gs://other-exports"}}).Do(); err != nil {
		t.Fatal(err)
	}
	gate := func() error {
		return f.steps()[gcsbucket.StepServiceAccount].(providers.Gate).Gate(context.Background(), f.run(), f.setup.Values)
	}
	err := gate()
	var ue *providers.UsageError
	if !errors.As(err, &ue) {
		t.Fatalf("gate = %v, want a usage error", err)
	}
	providertest.MustContain(t, "gate", err.Error(), "service account "+account+" is another byob setup's: it was made for gs://other-exports, not gs://acme-exports", "--name", "--adopt")
	f.setup.Adopt = true
	if err := gate(); err != nil {
		t.Errorf("with --adopt: %v", err)
	}
}

// TestBindingWaitsForTheNewServiceAccount: bucket IAM does not know a
// new service account at once; the binding is tried again, saying why,
// and keeps the bucket's other bindings.
func TestBindingWaitsForTheNewServiceAccount(t *testing.T) {
	f := newFixture(t)
	f.g.NewAccountDelay(2)
	f.g.SetBucket(gcptest.Bucket{Name: bucket, Location: "US-CENTRAL1"})
	f.g.SetBindings(bucket, []gcptest.Binding{{Role: "roles/storage.objectViewer", Members: []string{"group:analysts@acme.com"}}})
	f.converge()
	bindings := f.g.Bindings(bucket)
	if !bound(bindings, writerRole, "serviceAccount:"+account) || !bound(bindings, "roles/storage.objectViewer", "group:analysts@acme.com") {
		t.Errorf("bindings %+v", bindings)
	}
	if !slices.ContainsFunc(f.rec.Reports(), func(r string) bool {
		return strings.HasPrefix(r, "waiting for the new service account to be usable in bucket IAM")
	}) {
		t.Errorf("reports %q", f.rec.Reports())
	}
}

// TestPruneTakesTheAccountOffTheProject: with --prune, the service
// account's project-level roles are named with the gcloud command, then
// removed; other members of those bindings stay.
func TestPruneTakesTheAccountOffTheProject(t *testing.T) {
	f := newFixture(t)
	f.setup.Prune = true
	f.g.SetProjectBindings([]gcptest.Binding{{Role: "roles/storage.admin", Members: []string{"serviceAccount:" + account, "user:ops@acme.com"}}})
	obs := f.converge()[gcsbucket.StepProjectGrants]
	if obs.Status != providers.Drifted || obs.Reason != account+" holds roles/storage.admin on the whole project acme-data, not only on the bucket: removed (--prune)" {
		t.Errorf("check = %+v", obs)
	}
	if len(obs.Fix) != 1 || obs.Fix[0].Content != "gcloud projects remove-iam-policy-binding acme-data --member=serviceAccount:"+account+" --role=roles/storage.admin" {
		t.Errorf("fix %+v", obs.Fix)
	}
	if got := f.g.ProjectBindings(); len(got) != 1 || !slices.Equal(got[0].Members, []string{"user:ops@acme.com"}) {
		t.Errorf("project bindings %+v", got)
	}
	if obs := f.check(f.steps()[gcsbucket.StepProjectGrants]); obs.Status != providers.Done {
		t.Errorf("after: %+v", obs)
	}
	if td, err := f.steps()[gcsbucket.StepProjectGrants].Teardown(context.Background(), f.setup.Values); err != nil || td != (providers.Teardown{}) {
		t.Errorf("teardown %+v %v: the grant was the customer's", td, err)
	}
}

// TestKeyFileLost: a key byob made whose file is gone can never be
// delivered: it is deleted, and a new key written. A key someone else
// made is reported and left alone.
func TestKeyFileLost(t *testing.T) {
	f := newFixture(t)
	f.converge()
	old := f.setup.Values.Get(gcsbucket.KeyID)
	theirs := f.g.AddKey(account)
	if err := os.Remove(gcsbucket.SettingsOf(f.setup.Config).KeyFile); err != nil {
		t.Fatal(err)
	}
	s := f.steps()[gcsbucket.StepKey]
	obs := f.check(s)
	if obs.Status != providers.Missing || !strings.HasPrefix(obs.Reason, "service account "+account+" also has key "+theirs+" (enabled, ") || !strings.HasSuffix(obs.Reason, "old), which byob did not create; left alone") {
		t.Errorf("check = %+v", obs)
	}
	f.apply(s)
	id, _ := f.keyFile()
	keys := f.g.Keys(account)
	if id == old || slices.Contains(keys, old) || !slices.Contains(keys, id) || !slices.Contains(keys, theirs) || len(keys) != 2 {
		t.Errorf("keys %q; the file holds %s, the lost one was %s", keys, id, old)
	}
	if got := gcsbucket.CreatedKeys(f.setup.Values); !slices.Equal(got, []string{id}) {
		t.Errorf("byob's keys %q", got)
	}
}

// TestKeyDisabledOrUnwanted: a disabled key is replaced and deleted; a
// key the state says byob made but whose file it does not hold is
// deleted; the key file's key stays.
func TestKeyDisabledOrUnwanted(t *testing.T) {
	t.Run("disabled", func(t *testing.T) {
		f := newFixture(t)
		f.converge()
		old := f.setup.Values.Get(gcsbucket.KeyID)
		f.g.DisableKey(old)
		s := f.steps()[gcsbucket.StepKey]
		obs := f.check(s)
		if obs.Status != providers.Drifted || !strings.HasPrefix(obs.Reason, "key "+old+" of "+gcsbucket.SettingsOf(f.setup.Config).KeyFile+" is disabled in IAM: a new key replaces it") {
			t.Errorf("check = %+v", obs)
		}
		f.apply(s)
		if id, _ := f.keyFile(); id == old || !slices.Equal(f.g.Keys(account), []string{id}) {
			t.Errorf("keys %q, the file holds %s", f.g.Keys(account), id)
		}
	})
	t.Run("unwanted", func(t *testing.T) {
		f := newFixture(t)
		f.converge()
		held := f.setup.Values.Get(gcsbucket.KeyID)
		lost := f.g.AddKey(account)
		f.setup.Values.Set(providers.Key{Name: "gcp.created_keys"}, held+","+lost)
		s := f.steps()[gcsbucket.StepKey]
		obs := f.check(s)
		if obs.Status != providers.Drifted || obs.Reason != "key "+lost+" was made by byob but its secret was lost, so it can never be used: it is deleted" {
			t.Errorf("check = %+v", obs)
		}
		f.apply(s)
		if got := f.g.Keys(account); !slices.Equal(got, []string{held}) {
			t.Errorf("keys %q, want only the held %s", got, held)
		}
		if got := gcsbucket.CreatedKeys(f.setup.Values); !slices.Equal(got, []string{held}) {
			t.Errorf("byob's keys %q", got)
		}
	})
}

// TestKeyOfASetupTakenOver: with --adopt, the key GrowthLoop already
// holds on a service account made by hand is kept: no key file is
// written and no other key made.
func TestKeyOfASetupTakenOver(t *testing.T) {
	f := newFixture(t)
	f.setup.Adopt = true
	if _, err := f.c.IAM.Projects.ServiceAccounts.Create("projects/"+gcptest.Project, &iamapi.CreateServiceAccountRequest{AccountId: "growthloop-byob"}).Do(); err != nil {
		t.Fatal(err)
	}
	theirs := f.g.AddKey(account)
	s := f.steps()[gcsbucket.StepKey]
	obs := f.check(s)
	if obs.Status != providers.Done || !strings.HasPrefix(obs.Reason, "key "+theirs+" of service account "+account+" (2 days old) is the one GrowthLoop holds") {
		t.Errorf("check = %+v", obs)
	}
	if v := f.setup.Values; v.Get(gcsbucket.KeyID) != theirs || v.Get(providers.GrowthLoopsKey) != theirs {
		t.Errorf("values %v", v.Map())
	}
	if _, err := os.Stat(gcsbucket.SettingsOf(f.setup.Config).KeyFile); err == nil {
		t.Error("a key file was written")
	}
	// The next run, without --adopt, keeps it too: the state names it.
	f.setup.Adopt = false
	if obs := f.check(f.steps()[gcsbucket.StepKey]); obs.Status != providers.Done || !slices.Equal(f.g.Keys(account), []string{theirs}) {
		t.Errorf("next run: %+v, keys %q", obs, f.g.Keys(account))
	}
}

// TestKeyCreationBlocked: an organization policy that forbids keys is
// named, with how to allow keys for the project only.
func TestKeyCreationBlocked(t *testing.T) {
	f := newFixture(t)
	f.g.BlockKeys(gcsbucket.ManagedKeyCreationConstraint)
	steps := f.steps()
	f.check(steps[gcsbucket.StepServiceAccount])
	f.apply(steps[gcsbucket.StepServiceAccount])
	err := steps[gcsbucket.StepKey].Apply(context.Background(), f.run(), f.setup.Values)
	var pe *gcsbucket.OrgPolicyError
	if !errors.As(err, &pe) || pe.Constraint != gcsbucket.ManagedKeyCreationConstraint || pe.Project != gcptest.Project {
		t.Fatalf("apply = %v, want an OrgPolicyError", err)
	}
	providertest.MustContain(t, "error", err.Error(), "gcloud org-policies set-policy policy.yaml", "then run the same byob command again")
	if len(f.g.Keys(account)) != 0 {
		t.Errorf("keys %q", f.g.Keys(account))
	}
}

// TestKeyAnswerLost: a key creation whose answer is lost made a key
// nobody holds: byob deletes it and makes one whose file it writes.
func TestKeyAnswerLost(t *testing.T) {
	f := newFixture(t)
	f.g.LoseKeyAnswers(1)
	f.converge()
	id, _ := f.keyFile()
	if got := f.g.Keys(account); !slices.Equal(got, []string{id}) {
		t.Errorf("keys %q, want only the key file's %s", got, id)
	}
}
