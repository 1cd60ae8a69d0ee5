package gcsbucket_test

import (
	"context"
	"encoding/json"
	"errors"
	"path"
	"slices"
	"strings"
	"testing"

	iamapi "google.golang.org/api/iam/v1"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/gcsbucket/gcptest"
	"github.com/growthloop/byob/providers/keys"
	"github.com/growthloop/byob/snowflake/snowflaketest"
)

// TestDestroyRemovesWhatByobMade: each step says what destroy removes;
// destroying in the plan's reverse order removes byob's keys, bindings,
// service account and roles, keeps the bucket (no --delete-bucket) and
// the bucket's other bindings, and forgets the keys.
func TestDestroyRemovesWhatByobMade(t *testing.T) {
	f := newFixture(t)
	f.converge()
	v := f.setup.Values
	key := v.Get(gcsbucket.KeyID)
	plan := (gcsbucket.Provider{}).Steps(f.setup)
	want := map[string]providers.Teardown{
		gcsbucket.StepBucket:           {Keep: "bucket acme-exports and its objects are kept, private, exports under exports/ still expiring after 14 days (--delete-bucket deletes it)"},
		gcsbucket.StepWriterRole:       {Remove: "delete custom role growthloop_byob_writer (Google keeps a deleted role 7 days; byob init undeletes it)"},
		gcsbucket.StepServiceAccount:   {Remove: "delete service account " + account},
		gcsbucket.StepWriterBinding:    {Remove: "remove the binding of " + writerRole + " to serviceAccount:" + account + " on bucket acme-exports"},
		gcsbucket.StepKey:              {Remove: "delete key " + key + " of service account " + account + " (GrowthLoop's exports stop)"},
		gcsbucket.StepSnowflakeRole:    {Remove: "delete custom role growthloop_byob_snowflake (Google keeps a deleted role 7 days; byob init undeletes it)"},
		gcsbucket.StepSnowflakeBinding: {Remove: "remove the binding of " + snowflakeRole + " to serviceAccount:" + snowflaketest.GCPServiceAccount + " on bucket acme-exports"},
	}
	for _, s := range plan {
		td, err := s.Teardown(context.Background(), v)
		if err != nil || td != want[s.ID()] {
			t.Errorf("%s: teardown %+v %v, want %+v", s.ID(), td, err, want[s.ID()])
		}
	}
	// Someone else holds GrowthLoop's role on the bucket too.
	bindings := f.g.Bindings(bucket)
	for i, b := range bindings {
		if b.Role == writerRole {
			bindings[i].Members = append(slices.Clone(b.Members), "user:dev@acme.com")
		}
	}
	f.g.SetBindings(bucket, bindings)
	for _, s := range slices.Backward(plan) {
		if s.ID() == gcsbucket.StepBucket {
			continue // kept
		}
		if err := s.Destroy(context.Background(), f.run(), v); err != nil {
			t.Fatalf("destroy %s: %v", s.ID(), err)
		}
	}
	if f.g.HasAccount(account) || len(f.g.Keys(account)) != 0 {
		t.Errorf("the service account or its key is left: keys %q", f.g.Keys(account))
	}
	for _, id := range []string{"growthloop_byob_writer", "growthloop_byob_snowflake"} {
		if r := f.g.Role(id); r == nil || !r.Deleted {
			t.Errorf("role %s: %+v, want deleted", id, r)
		}
	}
	if b := f.g.Bindings(bucket); len(b) != 2 || !bound(b, "roles/storage.legacyBucketOwner", "projectOwner:"+gcptest.Project) ||
		!bound(b, writerRole, "user:dev@acme.com") || bound(b, writerRole, "serviceAccount:"+account) {
		t.Errorf("bucket bindings %+v: the project owners' and the other member's stay", b)
	}
	if f.g.Bucket(bucket) == nil {
		t.Error("the bucket is gone")
	}
	if v.Get(gcsbucket.KeyID) != "" || len(gcsbucket.CreatedKeys(v)) != 0 {
		t.Errorf("the keys are remembered: %v", v.Map())
	}
	// Done twice is done: what is gone is not an error.
	for _, s := range slices.Backward(plan) {
		if s.ID() == gcsbucket.StepBucket {
			continue
		}
		if err := s.Destroy(context.Background(), f.run(), v); err != nil {
			t.Errorf("destroy %s again: %v", s.ID(), err)
		}
	}
}

// TestDestroyLeavesAForeignKeysAccount: deleting the service account
// would delete a key someone else made on it: it is kept, saying why.
func TestDestroyLeavesAForeignKeysAccount(t *testing.T) {
	f := newFixture(t)
	f.converge()
	theirs := f.g.AddKey(account)
	steps := f.steps()
	if err := steps[gcsbucket.StepKey].Destroy(context.Background(), f.run(), f.setup.Values); err != nil {
		t.Fatal(err)
	}
	err := steps[gcsbucket.StepServiceAccount].Destroy(context.Background(), f.run(), f.setup.Values)
	var kept *providers.Kept
	if !errors.As(err, &kept) || !strings.Contains(err.Error(), "service account "+account+" has key "+theirs+", which byob did not create") {
		t.Fatalf("destroy = %v, want it kept", err)
	}
	if !f.g.HasAccount(account) || !slices.Equal(f.g.Keys(account), []string{theirs}) {
		t.Errorf("account %v, keys %q", f.g.HasAccount(account), f.g.Keys(account))
	}
}

// TestDestroyBucket: the bucket byob made goes only with --delete-bucket,
// and one holding objects (versions counted) only with --delete-objects
// too; then every generation is deleted, with progress, and the bucket.
func TestDestroyBucket(t *testing.T) {
	f := newFixture(t)
	f.converge()
	b := f.g.Bucket(bucket)
	b.Versioning = json.RawMessage(`{"enabled":true}`)
	f.g.SetBucket(*b)
	f.g.PutObject(bucket, "exports/org-1/a.csv", []byte("1"))
	f.g.PutObject(bucket, "exports/org-1/a.csv", []byte("2"))
	f.g.PutObject(bucket, "logs/x", []byte("3"))
	teardown := func(o providers.DestroyOptions) (providers.Teardown, error) {
		f.setup.Destroy = o
		return f.steps()[gcsbucket.StepBucket].Teardown(context.Background(), f.setup.Values)
	}

	_, err := teardown(providers.DestroyOptions{DeleteBucket: true})
	var ue *providers.UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "bucket acme-exports holds 3 objects (versions included): pass --delete-objects") {
		t.Errorf("teardown with --delete-bucket = %v", err)
	}
	// Written after the plan: the delete is refused, and says so.
	err = f.steps()[gcsbucket.StepBucket].Destroy(context.Background(), f.run(), f.setup.Values)
	if err == nil || !strings.Contains(err.Error(), "bucket acme-exports is not empty") || !strings.Contains(err.Error(), "--delete-objects") {
		t.Errorf("destroy without --delete-objects = %v", err)
	}

	td, err := teardown(providers.DestroyOptions{DeleteBucket: true, DeleteObjects: true})
	if err != nil || td.Remove != "delete the 3 objects (versions included) in bucket acme-exports, then the bucket" {
		t.Errorf("teardown %+v %v", td, err)
	}
	if err := f.steps()[gcsbucket.StepBucket].Destroy(context.Background(), f.run(), f.setup.Values); err != nil {
		t.Fatal(err)
	}
	if f.g.Bucket(bucket) != nil || f.g.Generations(bucket) != 0 {
		t.Errorf("bucket %+v with %d generations left", f.g.Bucket(bucket), f.g.Generations(bucket))
	}
	if len(f.rec.Counted()) == 0 || f.rec.Counted()[len(f.rec.Counted())-1] != [2]int{3, 3} {
		t.Errorf("progress %v, want it to end at 3 of 3", f.rec.Counted())
	}
	if td, err := teardown(providers.DestroyOptions{DeleteBucket: true}); err != nil || td.Remove != "forget bucket acme-exports (already deleted)" {
		t.Errorf("teardown of a deleted bucket %+v %v", td, err)
	}
}

// TestDryRunTeardown: with no connection, destroy's plan decides from the
// state alone.
func TestDryRunTeardown(t *testing.T) {
	f := newFixture(t)
	f.setup.Conn = nil
	f.setup.Destroy = providers.DestroyOptions{DeleteBucket: true}
	v := providers.NewValues(map[string]string{providers.CreatedKey(gcsbucket.StepBucket).Name: "true", providers.AdoptedKey(gcsbucket.StepServiceAccount).Name: "true"})
	steps := f.steps()
	if td, _ := steps[gcsbucket.StepBucket].Teardown(context.Background(), v); td.Remove != "delete bucket acme-exports if it is empty (--delete-objects deletes its objects too)" {
		t.Errorf("bucket %+v", td)
	}
	if td, _ := steps[gcsbucket.StepServiceAccount].Teardown(context.Background(), v); td.Keep != "service account "+account+" was there before byob: left alone" {
		t.Errorf("adopted service account %+v", td)
	}
	if td, _ := steps[gcsbucket.StepKey].Teardown(context.Background(), v); td != (providers.Teardown{}) {
		t.Errorf("no key made: %+v", td)
	}
	if f.g.Mutations() != 0 || len(f.g.Requests()) != 0 {
		t.Errorf("a dry run reached Google: %q", f.g.Requests())
	}
}

// TestGCSBucketGoneBeforeDestroy: bindings on a bucket someone deleted
// are gone with it.
func TestGCSBucketGoneBeforeDestroy(t *testing.T) {
	f := newFixture(t)
	f.converge()
	f.setup.Destroy = providers.DestroyOptions{DeleteBucket: true, DeleteObjects: true}
	if err := f.steps()[gcsbucket.StepBucket].Destroy(context.Background(), f.run(), f.setup.Values); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{gcsbucket.StepWriterBinding, gcsbucket.StepSnowflakeBinding, gcsbucket.StepBucket} {
		if err := f.steps()[id].Destroy(context.Background(), f.run(), f.setup.Values); err != nil {
			t.Errorf("destroy %s after the bucket: %v", id, err)
		}
	}
}

// TestDestroyDeletesTheKeyOfAStoppedRun: a run killed after keys.create
// was sent, before it recorded the key, leaves only its intent in the
// state file; destroy deletes the key that run made, and leaves a key
// that was there before.
func TestDestroyDeletesTheKeyOfAStoppedRun(t *testing.T) {
	f := newFixture(t)
	f.converge()
	ledger := keys.NewLedger("gcp") // the package's, as the state file names it
	v := f.setup.Values
	before := ledger.Created(v)
	ledger.SetCreated(v, nil) // the key there before is not byob's
	if _, err := ledger.Begin(f.run(), v, before); err != nil {
		t.Fatal(err)
	}
	// The stopped run's keys.create.
	made, err := f.c.IAM.Projects.ServiceAccounts.Keys.Create("projects/"+gcptest.Project+"/serviceAccounts/"+account, &iamapi.CreateServiceAccountKeyRequest{}).Do()
	if err != nil {
		t.Fatal(err)
	}
	step := f.steps()[gcsbucket.StepKey]
	td, err := step.Teardown(context.Background(), v)
	if err != nil || td.Remove != "delete any key a stopped run made of service account "+account+" (GrowthLoop's exports stop)" {
		t.Errorf("teardown %+v, %v", td, err)
	}
	if err := step.Destroy(context.Background(), f.run(), v); err != nil {
		t.Fatal(err)
	}
	if keys := f.g.Keys(account); !slices.Equal(keys, before) {
		t.Errorf("keys left %q: want only %q (the stopped run made %s)", keys, before, path.Base(made.Name))
	}
	if _, stopped := ledger.Intent(v); stopped {
		t.Error("the intent stays")
	}
}

// TestABucketDeletedByHandIsGone: a bucket byob made and someone deleted
// is gone, with --delete-bucket or without: destroy forgets it and calls
// no Destroy (wizard's TestABucketDeletedByHandIsOnlyForgotten).
func TestABucketDeletedByHandIsGone(t *testing.T) {
	f := newFixture(t)
	f.converge()
	ctx := context.Background()
	f.setup.Destroy = providers.DestroyOptions{DeleteBucket: true}
	if err := f.steps()[gcsbucket.StepBucket].Destroy(ctx, f.run(), f.setup.Values); err != nil { // deleted by hand, as it were
		t.Fatal(err)
	}
	for _, o := range []providers.DestroyOptions{{}, {DeleteBucket: true}} {
		f.setup.Destroy = o
		td, err := f.steps()[gcsbucket.StepBucket].Teardown(ctx, f.setup.Values)
		if err != nil || !td.Gone || td.Remove != "forget bucket "+f.setup.Config.Bucket+" (already deleted)" {
			t.Errorf("%+v: teardown %+v %v", o, td, err)
		}
	}
}
