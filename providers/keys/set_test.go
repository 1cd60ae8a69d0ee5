package keys_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/keys"
	"github.com/growthloop/byob/providers/runenv"
)

// testKey is a cloud's key as a test states it.
type testKey struct {
	id      string
	active  bool
	created time.Time
}

var testView = keys.View[testKey]{
	ID:      func(k testKey) string { return k.id },
	Active:  func(k testKey) bool { return k.active },
	Created: func(k testKey) time.Time { return k.created },
}

// heldStore holds the key delivered and the key pending.
type heldStore struct {
	providers.KeyStore
	delivered, pending string
}

func (s heldStore) Delivered() string { return s.delivered }
func (s heldStore) Pending() string   { return s.pending }
func (s heldStore) Previous() string  { return "" }

// TestKeySet: byob's keys are those the ledger records and those a
// creation under way made; it deletes its own keys whose secret it does
// not hold and held keys that no longer work, never another's; a retired
// key stays until a rotation prunes it; --adopt takes the newest working
// key byob did not make.
func TestKeySet(t *testing.T) {
	ledger := keys.NewLedger("test")
	v := providers.NewValues(nil)
	now := time.Now()
	ledger.SetCreated(v, []string{"mine-held", "mine-lost", "mine-retired"})
	ledger.Retire(v, "mine-retired")
	if _, err := ledger.Begin(runenv.NewRun(runenv.NewBackground(), runenv.Hooks{}), v, []string{"mine-held", "mine-lost", "mine-retired", "theirs-old", "theirs-new", "theirs-off"}); err != nil {
		t.Fatal(err)
	}
	list := []testKey{
		{"mine-held", true, now.Add(-time.Hour)},
		{"mine-lost", true, now.Add(-time.Hour)},
		{"mine-retired", false, now.Add(-time.Hour)},
		{"made-under-intent", true, now},
		{"theirs-old", true, now.Add(-48 * time.Hour)},
		{"theirs-new", true, now.Add(-24 * time.Hour)},
		{"theirs-off", false, now.Add(-time.Minute)},
	}
	ks := keys.NewSet(ledger, testView, v, heldStore{delivered: "mine-held"}, list)
	if !ks.Ours("made-under-intent") || ks.Ours("theirs-new") {
		t.Error("a key the creation under way made is byob's; one it knew is not")
	}
	if got := ks.Unwanted(); !slices.Equal(got, []string{"mine-lost", "made-under-intent"}) {
		t.Errorf("unwanted %v", got)
	}
	if !ks.Works("mine-held") || ks.Works("mine-retired") || ks.Exists("gone") {
		t.Error("Works / Exists")
	}
	var foreign []string
	for _, k := range ks.Foreign() {
		foreign = append(foreign, k.id)
	}
	if !slices.Equal(foreign, []string{"theirs-old", "theirs-new", "theirs-off"}) {
		t.Errorf("foreign %v", foreign)
	}
	if got := ks.Adopted(v, false); got != "" {
		t.Errorf("adopted without --adopt: %q", got)
	}
	if got := ks.Adopted(v, true); got != "theirs-new" {
		t.Errorf("adopted %q, want the newest working key byob did not make", got)
	}

	var deleted []string
	del := func(_ context.Context, id string) error { deleted = append(deleted, id); return nil }
	known, ours, err := ks.Prune(context.Background(), v, true, del)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(deleted, []string{"mine-lost", "mine-retired", "made-under-intent"}) {
		t.Errorf("a rotation's prune deleted %v", deleted)
	}
	if !slices.Equal(ours, []string{"mine-held"}) || len(known) != 4 {
		t.Errorf("known %v, ours %v", known, ours)
	}
	if got := ledger.Created(v); !slices.Equal(got, []string{"mine-held"}) || len(ledger.Retired(v)) != 0 {
		t.Errorf("the ledger after the prune: created %v, retired %v", got, ledger.Retired(v))
	}
}
