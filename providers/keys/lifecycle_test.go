package keys_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/keys"
	"github.com/growthloop/byob/providers/runenv"
)

// memCloud is an identity's keys held in memory, with the faults a cloud
// shows: a lost answer to a creation that was carried out, an identity not
// visible yet.
type memCloud struct {
	keys    map[string]*testKey
	n       int
	creates int
	// lose is how many creations lose their answer after making the key.
	lose int
	// hidden is how many creations find the identity not visible yet.
	hidden int
}

var (
	errLost = errors.New("connection reset")
	errGone = errors.New("404 not found")
)

func newMemCloud() *memCloud { return &memCloud{keys: map[string]*testKey{}} }

func (m *memCloud) add(active bool, created time.Time) string {
	m.n++
	id := fmt.Sprintf("k%d", m.n)
	m.keys[id] = &testKey{id: id, active: active, created: created}
	return id
}

func (m *memCloud) ids() []string {
	var out []string
	for id := range m.keys {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// memStore is a key store in memory.
type memStore struct {
	providers.KeyStore
	delivered, pending string
	secrets            map[string][]byte
	failKeep           bool
}

func (s *memStore) Delivered() string { return s.delivered }
func (s *memStore) Pending() string   { return s.pending }
func (s *memStore) Previous() string  { return "" }
func (s *memStore) Secret(id string) []byte {
	return s.secrets[id]
}
func (s *memStore) Keep(id string, secret []byte) error {
	if s.failKeep {
		return errors.New("disk full")
	}
	s.secrets[id], s.pending = secret, id
	return nil
}

// fixture is a lifecycle over a memCloud, recording the checkpoints and
// which keys had their secret kept when byob waited for one to work.
type fixture struct {
	cloud       *memCloud
	store       *memStore
	life        keys.Lifecycle[testKey]
	v           *providers.Values
	checkpoints int
	waited      []string
}

var keyID = providers.Key{Name: "test.key_id"}

func newFixture() *fixture {
	f := &fixture{cloud: newMemCloud(), store: &memStore{secrets: map[string][]byte{}}, v: providers.NewValues(nil)}
	m := f.cloud
	f.life = keys.Lifecycle[testKey]{
		Cloud: keys.Cloud[testKey]{
			View:   testView,
			State:  func(k testKey) string { return map[bool]string{true: "Active", false: "Inactive"}[k.active] },
			Noun:   "access key",
			Owner:  "user u",
			Holder: "the bundle",
			File:   "bundle",
			List: func(context.Context) ([]testKey, error) {
				var out []testKey
				for _, id := range m.ids() {
					out = append(out, *m.keys[id])
				}
				return out, nil
			},
			Create: func(context.Context) (string, []byte, error) {
				m.creates++
				if m.hidden > 0 {
					m.hidden--
					return "", nil, errGone
				}
				id := m.add(true, time.Now())
				if m.lose > 0 {
					m.lose--
					return "", nil, errLost
				}
				return id, []byte("secret-of-" + id), nil
			},
			Delete: func(_ context.Context, id string) error {
				if m.keys[id] == nil {
					return errGone
				}
				delete(m.keys, id)
				return nil
			},
			Disable: func(_ context.Context, id string) error {
				if m.keys[id] == nil {
					return errGone
				}
				m.keys[id].active = false
				return nil
			},
			Gone:         func(err error) bool { return errors.Is(err, errGone) },
			MaybeApplied: func(err error) bool { return errors.Is(err, errLost) },
			Waiting:      "waiting for the user",
			Works: func(_ context.Context, _ *runenv.Run, id string, secret []byte) error {
				if string(f.store.Secret(id)) != string(secret) || f.v.Get(keyID) != id {
					return fmt.Errorf("waited on key %s before its secret and id were kept", id)
				}
				f.waited = append(f.waited, id)
				return nil
			},
		},
		Ledger:      keys.NewLedger("test"),
		Store:       f.store,
		Value:       keyID,
		Propagation: runenv.Propagation{Timeout: 5 * time.Second, Initial: time.Millisecond, Max: time.Millisecond},
	}
	return f
}

func (f *fixture) run() *runenv.Run {
	return runenv.NewRun(runenv.NewBackground(), runenv.Hooks{Checkpoint: func() error { f.checkpoints++; return nil }})
}

func (f *fixture) apply(t *testing.T) {
	t.Helper()
	list, _ := f.life.List(context.Background())
	if err := f.life.Apply(context.Background(), f.run(), f.v, list); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) check() providers.Observation {
	list, _ := f.life.List(context.Background())
	return f.life.Check(f.v, list, false)
}

// TestApplyMakesOneKey: the first run makes a key, keeps its secret and
// records it before waiting for it; a run after the bundle was written
// changes nothing; a key the cloud made while its answer was lost is
// deleted, never left behind, and no key is made twice by a blind retry.
func TestApplyMakesOneKey(t *testing.T) {
	f := newFixture()
	f.cloud.lose, f.cloud.hidden = 1, 1
	if obs := f.check(); obs.Status != providers.Missing {
		t.Fatalf("check of nothing: %+v", obs)
	}
	f.apply(t)
	if ids := f.cloud.ids(); len(ids) != 1 || f.v.Get(keyID) != ids[0] {
		t.Fatalf("keys %v, recorded %q: want the one key made, recorded", ids, f.v.Get(keyID))
	}
	if f.cloud.creates != 3 || !slices.Equal(f.waited, f.cloud.ids()) || f.checkpoints < 2 {
		t.Errorf("creates %d (want 3: hidden, lost, made), waited %v, checkpoints %d", f.cloud.creates, f.waited, f.checkpoints)
	}
	if got := f.life.Ledger.Created(f.v); !slices.Equal(got, f.cloud.ids()) {
		t.Errorf("ledger %v", got)
	}
	if _, ok := f.life.Ledger.Intent(f.v); ok {
		t.Error("the intent outlived the creation")
	}

	// The run stopped before the bundle was written: the next one takes
	// the pending key and makes none.
	id := f.store.pending
	if obs := f.check(); obs.Status != providers.Missing || !strings.Contains(obs.Reason, "made by a run that did not finish, goes into the bundle") {
		t.Errorf("check of a pending key: %+v", obs)
	}
	f.apply(t)
	if f.cloud.creates != 3 || f.v.Get(keyID) != id {
		t.Errorf("the pending key was not taken: creates %d", f.cloud.creates)
	}

	f.store.delivered, f.store.pending = id, ""
	if obs := f.check(); obs.Status != providers.Done {
		t.Errorf("check of the delivered key: %+v", obs)
	}
}

// TestApplyReplacesWhatCannotBeDelivered: byob's key whose secret is lost
// is deleted, an inactive delivered key is replaced, and another's key is
// named and never touched.
func TestApplyReplacesWhatCannotBeDelivered(t *testing.T) {
	f := newFixture()
	theirs := f.cloud.add(true, time.Now().Add(-72*time.Hour))
	lost := f.cloud.add(true, time.Now())
	off := f.cloud.add(false, time.Now())
	f.life.Ledger.SetCreated(f.v, []string{lost, off})
	f.store.delivered = off
	obs := f.check()
	if obs.Status != providers.Drifted || !strings.HasPrefix(obs.Reason, "access key "+off+" of the bundle is Inactive in IAM: a new key replaces it") ||
		!strings.HasSuffix(obs.Reason, "user u also has access key "+theirs+" (Active, 3 days old), which byob did not create; left alone") {
		t.Errorf("check: %+v", obs)
	}
	f.apply(t)
	ids := f.cloud.ids()
	if len(ids) != 2 || !slices.Contains(ids, theirs) || slices.Contains(ids, lost) || slices.Contains(ids, off) {
		t.Errorf("keys after apply %v", ids)
	}

	f = newFixture()
	f.store.failKeep = true
	if err := f.life.Apply(context.Background(), f.run(), f.v, nil); err == nil || !strings.Contains(err.Error(), "keep the new access key's secret in the bundle: disk full") {
		t.Errorf("apply with a secret that cannot be kept: %v", err)
	}
	if ids := f.cloud.ids(); len(ids) != 0 {
		t.Errorf("a key whose secret could not be kept was left: %v", ids)
	}
}

// TestRotateAndRetire: a rotation prunes the keys earlier rotations
// retired and makes the new key; the old one is turned off and kept with
// keep, deleted without; one gone already is forgotten.
func TestRotateAndRetire(t *testing.T) {
	f := newFixture()
	f.apply(t)
	old := f.v.Get(keyID)
	f.store.delivered, f.store.pending = old, ""
	id, err := f.life.Rotate(context.Background(), f.run(), f.v)
	if err != nil || id == old || f.v.Get(keyID) != id {
		t.Fatalf("rotate: %q, %v", id, err)
	}
	if err := f.life.Retire(context.Background(), f.v, old, true); err != nil || f.cloud.keys[old].active {
		t.Fatalf("retire, keeping: %v", err)
	}
	if got := f.life.Ledger.Retired(f.v); !slices.Equal(got, []string{old}) {
		t.Errorf("retired %v", got)
	}
	f.store.delivered, f.store.pending = id, ""
	newer, err := f.life.Rotate(context.Background(), f.run(), f.v)
	if err != nil || f.cloud.keys[old] != nil {
		t.Fatalf("the next rotation keeps the retired key: %v", err)
	}
	if err := f.life.Retire(context.Background(), f.v, id, false); err != nil || f.cloud.keys[id] != nil {
		t.Fatalf("retire: %v", err)
	}
	if err := f.life.Retire(context.Background(), f.v, "gone", false); err != nil {
		t.Errorf("retiring a key already gone: %v", err)
	}
	if got := f.life.Ledger.Created(f.v); !slices.Equal(got, []string{newer}) {
		t.Errorf("ledger after the rotations %v, want %s", got, newer)
	}
}

// TestDestroyDeletesByobsKeysOnly: destroy deletes the ledger's keys and
// one a stopped creation made, leaves another's, and forgets the keys.
func TestDestroyDeletesByobsKeysOnly(t *testing.T) {
	f := newFixture()
	theirs := f.cloud.add(true, time.Now().Add(-time.Hour))
	f.apply(t)
	if _, err := f.life.Ledger.Begin(f.run(), f.v, f.cloud.ids()); err != nil {
		t.Fatal(err)
	}
	f.cloud.add(true, time.Now()) // the stopped run's creation
	if td := f.life.Teardown(f.v, "key"); !strings.Contains(td.Remove, "and any access key a stopped run made of user u") {
		t.Errorf("teardown %+v", td)
	}
	if err := f.life.Destroy(context.Background(), f.v); err != nil {
		t.Fatal(err)
	}
	if ids := f.cloud.ids(); !slices.Equal(ids, []string{theirs}) {
		t.Errorf("keys after destroy %v, want only %s", ids, theirs)
	}
	if f.v.Get(keyID) != "" || len(f.life.Ledger.Created(f.v)) != 0 {
		t.Error("destroy did not forget the keys")
	}
}

// TestClaimTakesTheKeyOfAStoppedCreation: a key made under the intent of a
// run that stopped before recording it becomes byob's; one that was there
// before does not.
func TestClaimTakesTheKeyOfAStoppedCreation(t *testing.T) {
	f := newFixture()
	before := f.cloud.add(true, time.Now())
	if _, err := f.life.Ledger.Begin(f.run(), f.v, f.cloud.ids()); err != nil {
		t.Fatal(err)
	}
	made := f.cloud.add(true, time.Now())
	if err := f.life.Claim(context.Background(), f.v, made); err != nil {
		t.Fatal(err)
	}
	if got := f.life.Ledger.Created(f.v); !slices.Equal(got, []string{made}) || f.v.Get(keyID) != made {
		t.Errorf("ledger %v, key %q: want %s", got, f.v.Get(keyID), made)
	}
	if _, ok := f.life.Ledger.Intent(f.v); ok {
		t.Error("the intent outlived the claim")
	}
	if _, err := f.life.Ledger.Begin(f.run(), f.v, f.cloud.ids()); err != nil {
		t.Fatal(err)
	}
	if err := f.life.Claim(context.Background(), f.v, before); err != nil || slices.Contains(f.life.Ledger.Created(f.v), before) {
		t.Errorf("a key that was there before the creation was claimed (%v)", err)
	}
}

// TestDestroyGoesOnPastAFailedDelete: a key IAM refuses to delete stays in
// the ledger, with the setup's key id, for the next destroy; the others
// are deleted and forgotten.
func TestDestroyGoesOnPastAFailedDelete(t *testing.T) {
	f := newFixture()
	stuck := f.cloud.add(true, time.Now())
	gone := f.cloud.add(true, time.Now())
	f.life.Ledger.SetCreated(f.v, []string{stuck, gone})
	f.v.Set(keyID, stuck)
	del := f.life.Delete
	f.life.Delete = func(ctx context.Context, id string) error {
		if id == stuck {
			return errors.New("AccessDenied")
		}
		return del(ctx, id)
	}
	if err := f.life.Destroy(context.Background(), f.v); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("destroy: %v", err)
	}
	if ids := f.cloud.ids(); !slices.Equal(ids, []string{stuck}) {
		t.Errorf("keys after destroy %v, want only %s", ids, stuck)
	}
	if got := f.life.Ledger.Created(f.v); !slices.Equal(got, []string{stuck}) || f.v.Get(keyID) != stuck {
		t.Errorf("ledger %v, key %q: the key not deleted must stay recorded", got, f.v.Get(keyID))
	}
}
