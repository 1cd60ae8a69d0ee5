package gcsbucket_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/growthloop/byob/internal/testsupport/providertest"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/gcsbucket/gcptest"
)

// probe runs the setup's probe id (providertest.Probe).
func (f *fixture) probe(id string) providers.CheckResult {
	f.t.Helper()
	return providertest.Probe(f.t, (gcsbucket.Provider{}).Probes(f.setup), id)
}

// TestProbesWaitForWhatTheyCheck: the key's proof waits for the bucket,
// the account and its binding, and is the bundle's key proof; who else
// reads the exports waits for Snowflake's service account.
func TestProbesWaitForWhatTheyCheck(t *testing.T) {
	f := newFixture(t)
	needs := map[string][]string{}
	for _, p := range (gcsbucket.Provider{}).Probes(f.setup) {
		needs[p.ID] = p.Needs
		if p.KeyProof != (p.ID == gcsbucket.CheckKeyWorks) {
			t.Errorf("%s: key proof %v", p.ID, p.KeyProof)
		}
	}
	for id, want := range map[string][]string{
		gcsbucket.CheckKeyWorks:       {gcsbucket.StepBucket, gcsbucket.StepServiceAccount, gcsbucket.StepWriterBinding},
		gcsbucket.CheckNoProjectGrant: {gcsbucket.StepServiceAccount},
		gcsbucket.CheckKeyHygiene:     {gcsbucket.StepServiceAccount},
		gcsbucket.CheckNoPublicAccess: {gcsbucket.StepBucket},
		gcsbucket.CheckOtherReaders:   {gcsbucket.StepBucket, warehouseStep},
	} {
		if !slices.Equal(needs[id], want) {
			t.Errorf("%s needs %q, want %q", id, needs[id], want)
		}
	}
}

// TestKeyWorks: the key file's key writes, reads and lists a probe object
// under the prefix, which is then deleted; each way the key can be wrong
// fails with what is wrong.
func TestKeyWorks(t *testing.T) {
	f := newFixture(t)
	f.converge()
	res := f.probe(gcsbucket.CheckKeyWorks)
	if res.Status != providers.Pass || !strings.HasPrefix(res.Detail, "wrote, read and listed gs://acme-exports/exports/byob-verify/") {
		t.Errorf("result %+v", res)
	}
	if got := f.g.Objects(bucket); len(got) != 0 {
		t.Errorf("the probe object stays: %q", got)
	}
	id, _ := f.keyFile()

	// Without its binding, the key is refused.
	f.g.SetBindings(bucket, nil)
	res = f.probe(gcsbucket.CheckKeyWorks)
	if res.Status != providers.Fail || res.Remedy != "byob init --provider gcs (restores the role and its binding on the bucket)" {
		t.Errorf("unbound: %+v", res)
	}
	providertest.MustContain(t, "detail", res.Detail, "write gs://acme-exports/exports/byob-verify/", "with key "+id)

	// A disabled key gets no token; the listing says so, at once.
	f.g.DisableKey(id)
	res = f.probe(gcsbucket.CheckKeyWorks)
	if res.Status != providers.Fail || res.Detail != "key "+id+" of "+gcsbucket.SettingsOf(f.setup.Config).KeyFile+" is disabled" || res.Remedy != "gcloud iam service-accounts keys enable "+id+" --iam-account "+account {
		t.Errorf("disabled key: %+v", res)
	}

	// A deleted key gets no token; the listing says it is gone.
	f.g.DeleteKey(account, id)
	res = f.probe(gcsbucket.CheckKeyWorks)
	if res.Status != providers.Fail || res.Detail != "key "+id+" of "+gcsbucket.SettingsOf(f.setup.Config).KeyFile+" no longer exists" {
		t.Errorf("deleted key: %+v", res)
	}

	// Another account's key file.
	other, _ := json.Marshal(map[string]string{"private_key_id": "k1", "client_email": "someone@acme-data.iam.gserviceaccount.com", "private_key": "x"})
	if err := os.WriteFile(gcsbucket.SettingsOf(f.setup.Config).KeyFile, other, 0o600); err != nil {
		t.Fatal(err)
	}
	res = f.probe(gcsbucket.CheckKeyWorks)
	if res.Status != providers.Fail || res.Detail != gcsbucket.SettingsOf(f.setup.Config).KeyFile+" is a key of someone@acme-data.iam.gserviceaccount.com, not of "+account {
		t.Errorf("another account's key: %+v", res)
	}

	// No file: GrowthLoop's own key (a setup taken over) cannot be
	// proved, which warns; byob's own fails.
	if err := os.Remove(gcsbucket.SettingsOf(f.setup.Config).KeyFile); err != nil {
		t.Fatal(err)
	}
	if res = f.probe(gcsbucket.CheckKeyWorks); res.Status != providers.Fail || !strings.HasPrefix(res.Detail, "cannot read the key file") {
		t.Errorf("no key file: %+v", res)
	}
	f.setup.Values.Set(providers.GrowthLoopsKey, "theirs")
	if res = f.probe(gcsbucket.CheckKeyWorks); res.Status != providers.Warn || res.Detail != "key theirs is GrowthLoop's: its file is not here, so byob cannot prove what it can do" {
		t.Errorf("GrowthLoop's key: %+v", res)
	}
}

// TestKeyHygiene: one recent key passes; two outside a rotation, or an
// old one (CIS 1.14: 90 days), warn; none, or no account, fails.
func TestKeyHygiene(t *testing.T) {
	f := newFixture(t)
	if res := f.probe(gcsbucket.CheckKeyHygiene); res.Status != providers.Fail || res.Detail != "service account "+account+" does not exist" {
		t.Errorf("no account: %+v", res)
	}
	f.converge()
	id, _ := f.keyFile()
	if res := f.probe(gcsbucket.CheckKeyHygiene); res.Status != providers.Pass || res.Detail != "1 enabled key, none older than 90 days" {
		t.Errorf("one key: %+v", res)
	}
	f.setup.Now = time.Now().Add(100 * 24 * time.Hour)
	if res := f.probe(gcsbucket.CheckKeyHygiene); res.Status != providers.Warn || res.Detail != "key "+id+" is 100 days old" || !strings.Contains(res.Remedy, "byob rotate-keys") {
		t.Errorf("old key: %+v", res)
	}
	f.setup.Now = time.Now()
	other := f.g.AddKey(account)
	if res := f.probe(gcsbucket.CheckKeyHygiene); res.Status != providers.Warn || res.Detail != account+" has 2 enabled keys" {
		t.Errorf("two keys: %+v", res)
	}
	f.setup.Values.Set(providers.RotationOldKey, id)
	if res := f.probe(gcsbucket.CheckKeyHygiene); res.Status != providers.Pass {
		t.Errorf("two keys while rotating: %+v", res)
	}
	f.g.DisableKey(id)
	f.g.DisableKey(other)
	if res := f.probe(gcsbucket.CheckKeyHygiene); res.Status != providers.Fail || res.Detail != account+" has no enabled key" {
		t.Errorf("no enabled key: %+v", res)
	}
}

// TestNoProjectGrant: a project-level role of GrowthLoop's account fails,
// with --prune and the gcloud command as the fix.
func TestNoProjectGrant(t *testing.T) {
	f := newFixture(t)
	if res := f.probe(gcsbucket.CheckNoProjectGrant); res.Status != providers.Pass || res.Detail != "no binding on project acme-data" {
		t.Errorf("result %+v", res)
	}
	f.g.SetProjectBindings([]gcptest.Binding{{Role: "roles/storage.objectAdmin", Members: []string{"serviceAccount:" + account}}})
	res := f.probe(gcsbucket.CheckNoProjectGrant)
	if res.Status != providers.Fail || res.Detail != account+" holds roles/storage.objectAdmin on the whole project acme-data, not only on the bucket" {
		t.Errorf("result %+v", res)
	}
	providertest.MustContain(t, "remedy", res.Remedy, "byob init --prune", "gcloud projects remove-iam-policy-binding acme-data --member=serviceAccount:"+account+" --role=roles/storage.objectAdmin")
}

// TestWhoElseReachesTheBucket: the public is a failure where it reaches
// the exports and a warning where a condition keeps it to other objects;
// other readers of the exports (predefined or custom roles) are named
// with the command that removes them; byob's and the project's own are
// expected.
func TestWhoElseReachesTheBucket(t *testing.T) {
	f := newFixture(t)
	f.converge()
	for _, id := range []string{gcsbucket.CheckNoPublicAccess, gcsbucket.CheckOtherReaders} {
		if res := f.probe(id); res.Status != providers.Pass {
			t.Errorf("%s on byob's setup: %+v", id, res)
		}
	}
	elsewhere := &gcptest.Condition{Title: "logs", Expression: `resource.name.startsWith("projects/_/buckets/acme-exports/objects/logs/")`}
	mine := f.g.Bindings(bucket)
	set := func(extra ...gcptest.Binding) { f.g.SetBindings(bucket, append(slices.Clone(mine), extra...)) }

	set(gcptest.Binding{Role: "roles/storage.objectViewer", Members: []string{"allUsers"}})
	res := f.probe(gcsbucket.CheckNoPublicAccess)
	if res.Status != providers.Fail || !strings.HasPrefix(res.Detail, "allUsers holds roles/storage.objectViewer") ||
		res.Remedy != "gcloud storage buckets remove-iam-policy-binding gs://acme-exports --member=allUsers --role=roles/storage.objectViewer" {
		t.Errorf("public: %+v", res)
	}
	set(gcptest.Binding{Role: "roles/storage.objectViewer", Members: []string{"allUsers"}, Condition: elsewhere})
	if res := f.probe(gcsbucket.CheckNoPublicAccess); res.Status != providers.Warn || !strings.Contains(res.Detail, "on objects outside exports/ only") {
		t.Errorf("public elsewhere: %+v", res)
	}

	set(gcptest.Binding{Role: "roles/storage.objectViewer", Members: []string{"group:analysts@acme.com"}},
		gcptest.Binding{Role: "roles/storage.objectViewer", Members: []string{"user:ops@acme.com"}, Condition: elsewhere},
		gcptest.Binding{Role: writerRole, Members: []string{"user:dev@acme.com"}}, // a custom role that reads objects
		gcptest.Binding{Role: "roles/storage.legacyBucketReader", Members: []string{"projectViewer:" + gcptest.Project}})
	res = f.probe(gcsbucket.CheckOtherReaders)
	if res.Status != providers.Warn || res.Detail != "also read the exports under exports/: group:analysts@acme.com (roles/storage.objectViewer), user:dev@acme.com ("+writerRole+")" {
		t.Errorf("other readers: %+v", res)
	}
	providertest.MustContain(t, "remedy", res.Remedy, "gcloud storage buckets remove-iam-policy-binding gs://acme-exports --member=group:analysts@acme.com --role=roles/storage.objectViewer")
	set(gcptest.Binding{Role: "roles/storage.objectViewer", Members: []string{"user:ops@acme.com"}, Condition: elsewhere})
	if res := f.probe(gcsbucket.CheckOtherReaders); res.Status != providers.Pass || !strings.Contains(res.Detail, "user:ops@acme.com (roles/storage.objectViewer) read only objects outside exports/") {
		t.Errorf("a reader elsewhere: %+v", res)
	}
}

// TestRotation: a new key is made beside the current one and written to
// the key file (the old one kept as .previous), proved by use, and the
// old one retired: deleted, or with keep disabled and remembered.
func TestRotation(t *testing.T) {
	for _, keep := range []bool{false, true} {
		f := newFixture(t)
		f.converge()
		p, s, v := gcsbucket.Provider{}, f.setup, f.setup.Values
		old, _ := f.keyFile()
		if err := s.Keys.Retain(old); err != nil {
			t.Fatal(err)
		}
		id, err := p.NewKey(context.Background(), f.run(), s)
		if err != nil {
			t.Fatal(err)
		}
		if held, _ := f.keyFile(); held != id || id == old || s.Keys.Previous() != old {
			t.Errorf("key file holds %s, .previous %s; new %s, old %s", held, s.Keys.Previous(), id, old)
		}
		if got := f.g.Keys(account); len(got) != 2 || !slices.Contains(got, id) || !slices.Contains(got, old) {
			t.Errorf("keys %q", got)
		}
		if err := p.ProveKey(context.Background(), f.run(), s, "another"); err == nil || !strings.Contains(err.Error(), "holds key "+`"`+id+`"`+", not another") {
			t.Errorf("proving another key: %v", err)
		}
		if err := p.ProveKey(context.Background(), f.run(), s, id); err != nil {
			t.Fatalf("prove: %v", err)
		}
		if err := p.RetireKey(context.Background(), f.run(), s, old, keep); err != nil {
			t.Fatal(err)
		}
		created := gcsbucket.CreatedKeys(v)
		switch keys := f.g.Keys(account); {
		case !keep && (!slices.Equal(keys, []string{id}) || !slices.Equal(created, []string{id})):
			t.Errorf("retired and deleted: keys %q, byob's %q", keys, created)
		case keep && (len(keys) != 2 || v.Get(providers.Key{Name: "gcp.retired_keys"}) != old):
			t.Errorf("retired and kept: keys %q, values %v", keys, v.Map())
		}
		if v.Get(gcsbucket.KeyID) != id {
			t.Errorf("the setup's key is %s, want %s", v.Get(gcsbucket.KeyID), id)
		}
		// Retiring a key that is gone is done.
		f.g.DeleteKey(account, old)
		if err := p.RetireKey(context.Background(), f.run(), s, old, keep); err != nil {
			t.Errorf("retire a deleted key: %v", err)
		}
	}
}

// TestNewKeyBlocked: a rotation refused by an organization policy says so
// and leaves the current key.
func TestNewKeyBlocked(t *testing.T) {
	f := newFixture(t)
	f.converge()
	old, _ := f.keyFile()
	f.g.BlockKeys(gcsbucket.KeyCreationConstraint)
	_, err := gcsbucket.Provider{}.NewKey(context.Background(), f.run(), f.setup)
	var pe *gcsbucket.OrgPolicyError
	if !errors.As(err, &pe) || pe.Constraint != gcsbucket.KeyCreationConstraint {
		t.Fatalf("new key = %v", err)
	}
	if held, _ := f.keyFile(); held != old || !slices.Equal(f.g.Keys(account), []string{old}) {
		t.Errorf("key file %s, keys %q", held, f.g.Keys(account))
	}
}
