package providers

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"
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
func (l KeyLedger) Begin(r *Run, v *Values, known []string) (Intent, error) {
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
		if err := Sleep(ctx, pause); err != nil {
			return err
		}
		pause = min(2*pause, 5*time.Second)
	}
}
