package keys

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/growthloop/byob/internal/prose"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
)

// Cloud is one cloud's calls on the keys of one identity (an IAM user, a
// service account), and the words its messages use.
type Cloud[K any] struct {
	View[K]
	// State is a key's status as the cloud words it ("Active",
	// "disabled").
	State func(K) string
	// Noun is what a key is called ("access key"); Owner, its identity
	// ("user x"); Holder, what holds the delivered key ("the bundle", a
	// key file's path); File, what GrowthLoop is given ("bundle").
	Noun, Owner, Holder, File string
	// List lists the identity's keys.
	List func(context.Context) ([]K, error)
	// Create makes one key, with no retry of its own, and returns its id
	// and secret; on an error after the key was made, it deletes it.
	Create func(context.Context) (id string, secret []byte, err error)
	// Delete deletes key id; Disable turns it off.
	Delete, Disable func(ctx context.Context, id string) error
	// Gone reports an error saying the identity or key does not exist.
	Gone func(error) bool
	// MaybeApplied reports whether a failed call may have been carried
	// out: its answer was lost.
	MaybeApplied func(error) bool
	// Waiting says what a creation waits for while the new identity is
	// not visible yet.
	Waiting string
	// Works, when set, waits until a new key works.
	Works func(ctx context.Context, r *runenv.Run, id string, secret []byte) error
}

// Lifecycle is how byob keeps exactly one key whose secret it holds on an
// identity, for every cloud: what init checks and applies, what a
// rotation makes and retires, and what destroy deletes. byob only ever
// deletes keys it made; a key's secret is kept (Store) and its id recorded
// (Value, Ledger) before byob waits on anything.
type Lifecycle[K any] struct {
	Cloud[K]
	Ledger Ledger
	Store  providers.KeyStore
	// Value is where the setup's key id is kept.
	Value       providers.Key
	Propagation runenv.Propagation
}

// Set is the identity's keys (list) as byob sees them.
func (l Lifecycle[K]) Set(v *providers.Values, list []K) Set[K] {
	return NewSet(l.Ledger, l.View, v, l.Store, list)
}

// Keys lists the identity's keys; none when the identity does not exist.
func (l Lifecycle[K]) Keys(ctx context.Context) ([]K, error) {
	list, err := l.List(ctx)
	if l.Gone(err) {
		return nil, nil
	}
	return list, err
}

// Describe is a key as a message names it: "AKIA… (Active, 3 days old)";
// the age is left out when the cloud did not say when it was made.
func (l Lifecycle[K]) Describe(k K, now time.Time) string {
	if l.Created(k).IsZero() {
		return fmt.Sprintf("%s (%s)", l.ID(k), l.State(k))
	}
	return fmt.Sprintf("%s (%s, %s old)", l.ID(k), l.State(k), Age(now, l.Created(k)))
}

// foreign describes the keys byob did not make and does not hold: they
// are reported and never touched. "" when there are none.
func (l Lifecycle[K]) foreign(ks Set[K], now time.Time) string {
	var names []string
	for _, k := range ks.Foreign() {
		names = append(names, l.Describe(k, now))
	}
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf("%s also has %s %s, which byob did not create; left alone", l.Owner, l.Noun, strings.Join(names, " and "))
}

// Check says whether the identity has the one key byob delivers, given
// its keys (list). With adopt, a setup taken over keeps the key GrowthLoop
// already holds.
func (l Lifecycle[K]) Check(v *providers.Values, list []K, adopt bool) providers.Observation {
	ks := l.Set(v, list)
	now := time.Now()
	delivered, pending := l.Store.Delivered(), l.Store.Pending()
	obs := func(st providers.Status, reason string) providers.Observation {
		if f := l.foreign(ks, now); f != "" {
			reason = strings.TrimPrefix(reason+"; "+f, "; ")
		}
		return providers.Observation{Status: st, Reason: reason}
	}
	if id := ks.Adopted(v, adopt); delivered == "" && pending == "" && id != "" {
		// GrowthLoop holds this key's secret: keep it, make no other.
		v.Set(l.Value, id)
		v.Set(providers.GrowthLoopsKey, id)
		k, _ := ks.Find(id)
		return providers.Observation{Status: providers.Done, Reason: fmt.Sprintf("%s %s of %s (%s old) is the one GrowthLoop holds: left in place, and no new %s is written; byob rotate-keys replaces it",
			l.Noun, id, l.Owner, Age(now, l.Created(k)), l.File)}
	}
	switch {
	case pending != delivered && ks.Works(pending):
		return obs(providers.Missing, fmt.Sprintf("%s %s, made by a run that did not finish, goes into %s", l.Noun, pending, l.Holder))
	case ks.Exists(delivered) && !ks.Works(delivered):
		k, _ := ks.Find(delivered)
		return obs(providers.Drifted, fmt.Sprintf("%s %s of %s is %s in IAM: a new key replaces it and %s is deleted (upload the new %s to GrowthLoop)",
			l.Noun, delivered, l.Holder, l.State(k), delivered, l.File))
	case delivered == "":
		return obs(providers.Missing, "")
	case !ks.Works(delivered):
		return obs(providers.Missing, fmt.Sprintf("%s %s of %s no longer exists", l.Noun, delivered, l.Holder))
	case len(ks.Unwanted()) > 0:
		return obs(providers.Drifted, fmt.Sprintf("%s %s was made by byob but its secret was lost, so it can never be used: it is deleted", l.Noun, strings.Join(ks.Unwanted(), ", ")))
	}
	// The delivered key is the setup's, whatever the state file says.
	v.Set(l.Value, delivered)
	return obs(providers.Done, "")
}

// Apply leaves the identity with one key whose secret byob holds, given
// its keys (list): it deletes byob's keys that can never be delivered,
// settles on a key a run already made when it still works, and makes one
// otherwise.
func (l Lifecycle[K]) Apply(ctx context.Context, r *runenv.Run, v *providers.Values, list []K) error {
	ks := l.Set(v, list)
	known, ours, err := ks.Prune(ctx, v, false, l.delete)
	if err != nil {
		return err
	}
	// Whatever an unfinished creation made is now either held or deleted.
	l.Ledger.End(v)
	for _, id := range []string{l.Store.Pending(), l.Store.Delivered()} {
		if !ks.Works(id) {
			continue
		}
		v.Set(l.Value, id)
		l.Ledger.SetCreated(v, append(ours, id))
		if err := r.Checkpoint(); err != nil || id == l.Store.Delivered() {
			return err
		}
		return l.wait(ctx, r, id)
	}
	l.Ledger.SetCreated(v, ours)
	_, err = l.create(ctx, r, v, known, ours)
	return err
}

// Rotate makes the key that replaces the delivered one, after deleting
// byob's keys that can never be delivered and those earlier rotations
// retired; a key a stopped rotation made is taken when it works.
func (l Lifecycle[K]) Rotate(ctx context.Context, r *runenv.Run, v *providers.Values) (string, error) {
	list, err := l.List(ctx)
	if err != nil {
		return "", err
	}
	ks := l.Set(v, list)
	known, ours, err := ks.Prune(ctx, v, true, l.delete)
	if err != nil {
		return "", err
	}
	l.Ledger.End(v)
	if pending := l.Store.Pending(); ks.Works(pending) {
		v.Set(l.Value, pending)
		l.Ledger.SetCreated(v, append(ours, pending))
		return pending, r.Checkpoint()
	}
	l.Ledger.SetCreated(v, ours)
	return l.create(ctx, r, v, known, ours)
}

// create makes a key. The intent is saved before the call, the secret and
// the id right after the answer, and only then does byob wait for the key
// to work.
func (l Lifecycle[K]) create(ctx context.Context, r *runenv.Run, v *providers.Values, known, ours []string) (string, error) {
	in, err := l.Ledger.Begin(r, v, known)
	if err != nil {
		return "", err
	}
	var id string
	var secret []byte
	err = l.Propagation.Poll(ctx, r, l.Waiting, func(ctx context.Context) error {
		var err error
		id, secret, err = l.createOnce(ctx, in)
		if l.Gone(err) {
			return fmt.Errorf("%w: %v", runenv.ErrNotYet, err)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	if err := l.Store.Keep(id, secret); err != nil {
		// A key whose secret cannot be kept can never be delivered.
		_ = l.delete(ctx, id)
		return "", fmt.Errorf("keep the new %s's secret in %s: %w", l.Noun, l.Holder, err)
	}
	v.Set(l.Value, id)
	l.Ledger.SetCreated(v, append(ours, id))
	l.Ledger.End(v)
	if err := r.Checkpoint(); err != nil {
		return "", err
	}
	return id, l.waitFor(ctx, r, id, secret)
}

// createOnce makes a key without blind retries: a retry of a call whose
// answer was lost would leave a key whose secret nobody has. Instead byob
// deletes the keys the lost call made, then tries again.
func (l Lifecycle[K]) createOnce(ctx context.Context, in Intent) (id string, secret []byte, err error) {
	err = runenv.RetryLost(ctx, l.MaybeApplied, func(ctx context.Context) (err error) {
		id, secret, err = l.Create(ctx)
		return err
	}, func(ctx context.Context) (bool, error) {
		list, err := l.List(ctx)
		if err != nil {
			return false, err
		}
		for _, k := range list {
			if id := l.ID(k); in.Made(id, l.Created(k)) && !providers.Holds(l.Store, id) {
				if err := l.delete(ctx, id); err != nil {
					return false, err
				}
			}
		}
		return false, nil
	})
	return id, secret, err
}

// Claim makes key id, which a stopped run made and byob holds, the
// setup's: it is byob's when the creation that run began made it, and
// that creation ends here.
func (l Lifecycle[K]) Claim(ctx context.Context, v *providers.Values, id string) error {
	v.Set(l.Value, id)
	in, ok := l.Ledger.Intent(v)
	if !ok {
		return nil
	}
	list, err := l.List(ctx)
	if err != nil {
		return err
	}
	if k, ok := l.Set(v, list).Find(id); ok && in.Made(id, l.Created(k)) {
		l.Ledger.SetCreated(v, append(l.Ledger.Created(v), id))
	}
	l.Ledger.End(v)
	return nil
}

// wait waits until a key whose secret byob holds works.
func (l Lifecycle[K]) wait(ctx context.Context, r *runenv.Run, id string) error {
	return l.waitFor(ctx, r, id, l.Store.Secret(id))
}

func (l Lifecycle[K]) waitFor(ctx context.Context, r *runenv.Run, id string, secret []byte) error {
	if l.Works == nil || len(secret) == 0 {
		return nil
	}
	return l.Works(ctx, r, id, secret)
}

// delete deletes key id; one already gone is no error.
func (l Lifecycle[K]) delete(ctx context.Context, id string) error {
	if err := l.Delete(ctx, id); err != nil && !l.Gone(err) {
		return err
	}
	return nil
}

// Retire turns key id off, after a rotation replaced it, and deletes it;
// with keep it stays, turned off, until the next rotation.
func (l Lifecycle[K]) Retire(ctx context.Context, v *providers.Values, id string, keep bool) error {
	err := l.Disable(ctx, id)
	switch {
	case l.Gone(err):
		l.Ledger.Deleted(v, id)
		return nil
	case err != nil:
		return err
	case keep:
		l.Ledger.Retire(v, id)
		return nil
	}
	if err := l.delete(ctx, id); err != nil {
		return fmt.Errorf("the old %s %s is turned off but not deleted: %w", l.Noun, id, err)
	}
	l.Ledger.Deleted(v, id)
	return nil
}

// Teardown says what destroy does with the keys (step is the key step).
func (l Lifecycle[K]) Teardown(v *providers.Values, step string) providers.Teardown {
	return l.Ledger.teardown(v, step, l.Noun, l.Owner)
}

// Destroy deletes the keys byob made, those of a stopped run included,
// and forgets them.
func (l Lifecycle[K]) Destroy(ctx context.Context, v *providers.Values) error {
	ids, err := toDestroy(l.Ledger, l.View, v, func() ([]K, error) { return l.Keys(ctx) })
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		if err := l.delete(ctx, id); err != nil {
			errs = append(errs, err)
			continue
		}
		l.Ledger.Deleted(v, id)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	l.Ledger.Forget(v)
	v.Delete(l.Value)
	return nil
}

// Age is how long ago created was, in whole days: "1 day".
func Age(now, created time.Time) string {
	return prose.Count(int(now.Sub(created).Hours()/24), "day")
}

// Listed are the identity's keys as the run read them (runenv.Read): one
// read for the key step's Check, Gate and Apply.
func (l Lifecycle[K]) Listed(ctx context.Context, r *runenv.Run) ([]K, error) {
	return runenv.Read(ctx, r, "the keys of "+l.Owner, l.Keys)
}

// Observe is l.Check over the run's read.
func (l Lifecycle[K]) Observe(ctx context.Context, r *runenv.Run, v *providers.Values, adopt bool) (providers.Observation, error) {
	list, err := l.Listed(ctx, r)
	if err != nil {
		return providers.Observation{}, err
	}
	return l.Check(v, list, adopt), nil
}

// Converge is l.Apply over the run's read.
func (l Lifecycle[K]) Converge(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	list, err := l.Listed(ctx, r)
	if err != nil {
		return err
	}
	return l.Apply(ctx, r, v, list)
}
