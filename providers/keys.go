package providers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/growthloop/byob/providers/runenv"
)

// KeyLedger records, in the state file, the keys byob made on one
// identity (an IAM user, a service account) and a key creation under way:
// byob only ever deletes keys it made, and a key a lost answer made is
// still known to be byob's.
type KeyLedger struct {
	created, retired, intent Key
}

// NewKeyLedger is the ledger kept under the values prefix.created_keys,
// prefix.retired_keys and prefix.key_intent.
func NewKeyLedger(prefix string) KeyLedger {
	return KeyLedger{created: Key{Name: prefix + ".created_keys"}, retired: Key{Name: prefix + ".retired_keys"}, intent: Key{Name: prefix + ".key_intent"}}
}

func ids(v *Values, k Key) []string {
	if s := v.Get(k); s != "" {
		return strings.Split(s, ",")
	}
	return nil
}

func setIDs(v *Values, k Key, list []string) {
	list = slices.Clone(list)
	slices.Sort(list)
	if list = slices.Compact(list); len(list) == 0 {
		v.Delete(k)
		return
	}
	v.Set(k, strings.Join(list, ","))
}

// Created returns the ids of the keys byob made.
func (l KeyLedger) Created(v *Values) []string { return ids(v, l.created) }

// SetCreated records the ids of the keys byob made.
func (l KeyLedger) SetCreated(v *Values, list []string) { setIDs(v, l.created, list) }

// Retired returns the ids of the keys a rotation deactivated and kept
// (--keep-old): init leaves them, the next rotation deletes them.
func (l KeyLedger) Retired(v *Values) []string { return ids(v, l.retired) }

// Retire records that byob deactivated key id and kept it.
func (l KeyLedger) Retire(v *Values, id string) { setIDs(v, l.retired, append(l.Retired(v), id)) }

// Deleted forgets key id, which byob deleted.
func (l KeyLedger) Deleted(v *Values, id string) {
	drop := func(s string) bool { return s == id }
	setIDs(v, l.created, slices.DeleteFunc(l.Created(v), drop))
	setIDs(v, l.retired, slices.DeleteFunc(l.Retired(v), drop))
}

// Prune goes through the ids of an identity's keys: it deletes (del) and
// forgets those that go, and returns the others (known) and byob's among
// them (mine).
func (l KeyLedger) Prune(ctx context.Context, v *Values, ids []string, goes, ours func(id string) bool, del func(context.Context, string) error) (known, mine []string, err error) {
	for _, id := range ids {
		if goes(id) {
			if err := del(ctx, id); err != nil {
				return nil, nil, err
			}
			l.Deleted(v, id)
			continue
		}
		known = append(known, id)
		if ours(id) {
			mine = append(mine, id)
		}
	}
	return known, mine, nil
}

// Forget drops the ledger (after the keys were deleted).
func (l KeyLedger) Forget(v *Values) {
	v.Delete(l.created)
	v.Delete(l.retired)
	v.Delete(l.intent)
}

// Intent is a key creation under way: when it started and which keys
// existed before.
type Intent struct {
	At    time.Time `json:"at"`
	Known []string  `json:"known"`
}

// intentWindow is how far from an intent's time (clock skew included) a
// key it made can have been created.
const intentWindow = 15 * time.Minute

// Made reports whether a key the intent did not know, created at created,
// was made under it.
func (in Intent) Made(id string, created time.Time) bool {
	d := created.Sub(in.At)
	return !slices.Contains(in.Known, id) && d > -intentWindow && d < intentWindow
}

// Begin records that a key is about to be made, known listing the keys
// there now, and saves it before the call.
func (l KeyLedger) Begin(r *runenv.Run, v *Values, known []string) (Intent, error) {
	in := Intent{At: time.Now().UTC(), Known: known}
	b, _ := json.Marshal(in)
	v.Set(l.intent, string(b))
	return in, r.Checkpoint()
}

// Intent returns the creation under way, if any.
func (l KeyLedger) Intent(v *Values) (Intent, bool) {
	var in Intent
	return in, json.Unmarshal([]byte(v.Get(l.intent)), &in) == nil && !in.At.IsZero()
}

// End forgets the creation under way: what it made is recorded or deleted.
func (l KeyLedger) End(v *Values) { v.Delete(l.intent) }

// LostAnswerAttempts bounds how often a call that is not idempotent is
// made when its answers are lost.
const LostAnswerAttempts = 6

// RetryLost makes a call that is not idempotent, with no blind retry. When
// it fails and maybeApplied says its answer may have been lost, recover
// looks at what the lost call made (deleting it, or finding it was done,
// which ends RetryLost successfully) before it is tried again.
func RetryLost(ctx context.Context, maybeApplied func(error) bool, call func(context.Context) error, recover func(context.Context) (done bool, err error)) error {
	pause := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := call(ctx)
		if err == nil || !maybeApplied(err) || attempt == LostAnswerAttempts {
			return err
		}
		if done, rerr := recover(ctx); rerr != nil || done {
			return rerr
		}
		if err := runenv.Sleep(ctx, pause); err != nil {
			return err
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// KeyView says what byob reads of one cloud's key type K: its id, whether
// it works (active, enabled) and when it was made.
type KeyView[K any] struct {
	ID      func(K) string
	Active  func(K) bool
	Created func(K) time.Time
}

// KeySet is an identity's keys as byob sees them, for every cloud: which
// it made (the ledger, or a creation under way whose answer was lost),
// which a rotation retired, and which it holds (the key store).
type KeySet[K any] struct {
	KeyView[K]
	Keys    []K
	ours    map[string]bool
	retired []string
	store   KeyStore
	ledger  KeyLedger
}

// NewKeySet is an identity's keys (list), as ledger l and the key store
// know them.
func NewKeySet[K any](l KeyLedger, view KeyView[K], v *Values, store KeyStore, list []K) KeySet[K] {
	ks := KeySet[K]{KeyView: view, Keys: list, ours: map[string]bool{}, retired: l.Retired(v), store: store, ledger: l}
	for _, id := range l.Created(v) {
		ks.ours[id] = true
	}
	if in, ok := l.Intent(v); ok {
		for _, k := range list {
			if in.Made(view.ID(k), view.Created(k)) {
				ks.ours[view.ID(k)] = true
			}
		}
	}
	return ks
}

// Find returns key id; ok is false when there is none.
func (ks KeySet[K]) Find(id string) (k K, ok bool) {
	i := slices.IndexFunc(ks.Keys, func(k K) bool { return ks.ID(k) == id })
	if id == "" || i < 0 {
		return k, false
	}
	return ks.Keys[i], true
}

// Exists reports whether there is a key id.
func (ks KeySet[K]) Exists(id string) bool {
	_, ok := ks.Find(id)
	return ok
}

// Works reports whether key id exists and is active.
func (ks KeySet[K]) Works(id string) bool {
	k, ok := ks.Find(id)
	return ok && ks.Active(k)
}

// Ours reports whether byob made key id.
func (ks KeySet[K]) Ours(id string) bool { return ks.ours[id] }

// Unwanted are the keys byob deletes: its own keys whose secret it does
// not hold (they can never be delivered), and held keys that no longer
// work (a new key replaces them). A key a rotation retired stays until
// the next rotation.
func (ks KeySet[K]) Unwanted() []string {
	var out []string
	for _, k := range ks.Keys {
		id := ks.ID(k)
		held := Holds(ks.store, id)
		if slices.Contains(ks.retired, id) {
			continue
		}
		if ks.ours[id] && !held || held && !ks.Active(k) {
			out = append(out, id)
		}
	}
	return out
}

// Prune deletes the unwanted keys (and, with retired, the keys a rotation
// retired) and returns the ids of the others, and of byob's among them.
func (ks KeySet[K]) Prune(ctx context.Context, v *Values, retired bool, del func(context.Context, string) error) (known, ours []string, err error) {
	var ids []string
	for _, k := range ks.Keys {
		ids = append(ids, ks.ID(k))
	}
	unwanted := ks.Unwanted()
	goes := func(id string) bool {
		return slices.Contains(unwanted, id) || retired && slices.Contains(ks.retired, id)
	}
	return ks.ledger.Prune(ctx, v, ids, goes, ks.Ours, del)
}

// Foreign are the keys byob did not make and does not hold: reported,
// never touched.
func (ks KeySet[K]) Foreign() []K {
	var out []K
	for _, k := range ks.Keys {
		if id := ks.ID(k); !ks.ours[id] && !Holds(ks.store, id) {
			out = append(out, k)
		}
	}
	return out
}

// Adopted is the key GrowthLoop holds on a setup taken over: the one a
// run recorded, else with adopt (init --adopt) the newest working key
// byob did not make. "" when there is none.
func (ks KeySet[K]) Adopted(v *Values, adopt bool) string {
	if id := v.Get(GrowthLoopsKey); id != "" && ks.Works(id) {
		return id
	}
	if !adopt {
		return ""
	}
	newest, at := "", time.Time{}
	for _, k := range ks.Keys {
		if id := ks.ID(k); !ks.ours[id] && ks.Active(k) && ks.Created(k).After(at) {
			newest, at = id, ks.Created(k)
		}
	}
	return newest
}

// Teardown says what destroy does with an identity's keys (noun: "access
// key"; who: "user x"): it deletes the keys the ledger records and any a
// creation stopped before its answer was recorded made (an intent).
func (l KeyLedger) Teardown(v *Values, step, noun, who string) Teardown {
	var what []string
	if ids := l.Created(v); len(ids) > 0 {
		what = append(what, noun+" "+strings.Join(ids, ", "))
	}
	if _, stopped := l.Intent(v); stopped {
		what = append(what, "any "+noun+" a stopped run made")
	}
	if len(what) == 0 {
		return TeardownOf(v, step, "", "the "+noun+" of "+who)
	}
	return Teardown{Remove: fmt.Sprintf("delete %s of %s (GrowthLoop's exports stop)", strings.Join(what, " and "), who)}
}

// ToDestroy returns the ids of the keys destroy deletes: the ledger's and,
// when a creation was stopped before its answer was recorded, those of
// the identity's keys (list reads them, only then) it made.
func ToDestroy[K any](l KeyLedger, view KeyView[K], v *Values, list func() ([]K, error)) ([]string, error) {
	ids := l.Created(v)
	in, stopped := l.Intent(v)
	if !stopped {
		return ids, nil
	}
	keys, err := list()
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if id := view.ID(k); in.Made(id, view.Created(k)) && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}
