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
	"github.com/growthloop/byob/wizard"
)

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
	providers.UpdateSection(&cfg, func(s *gcsbucket.Settings) { s.Location = "" })
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
	os.Remove(gcsbucket.SettingsOf(&cfg).KeyFile)
	e.mustApply(cfg)
	if keys := e.gcp.Keys(email); len(keys) != 1 || keys[0] == old {
		t.Errorf("keys = %v, want one new key instead of %s", keys, old)
	}
	e.inspect(cfg)

	os.WriteFile(gcsbucket.SettingsOf(&cfg).KeyFile, []byte(`{"private_key_id":"someone-elses"}`), 0o600)
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
		if ev.Step == gcsbucket.StepKey && strings.Contains(ev.Detail, other+" (enabled") && strings.Contains(ev.Detail, "which byob did not create; left alone") {
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
	second.State, second.Bundle = filepath.Join(dir, "state.json"), filepath.Join(dir, "bundle.json")
	providers.UpdateSection(&second, func(s *gcsbucket.Settings) { s.KeyFile = filepath.Join(dir, "credentials.json") })
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
