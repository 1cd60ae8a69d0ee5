package keys

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
)

// Ledger records, in the state file, the keys byob made on one
// identity (an IAM user, a service account) and a key creation under way:
// byob only ever deletes keys it made, and a key a lost answer made is
// still known to be byob's.
type Ledger struct {
	created, retired, intent providers.Key
}

// NewLedger is the ledger kept under the values prefix.created_keys,
// prefix.retired_keys and prefix.key_intent.
func NewLedger(prefix string) Ledger {
	return Ledger{created: providers.Key{Name: prefix + ".created_keys"}, retired: providers.Key{Name: prefix + ".retired_keys"}, intent: providers.Key{Name: prefix + ".key_intent"}}
}

func ids(v *providers.Values, k providers.Key) []string {
	if s := v.Get(k); s != "" {
		return strings.Split(s, ",")
	}
	return nil
}

func setIDs(v *providers.Values, k providers.Key, list []string) {
	list = slices.Clone(list)
	slices.Sort(list)
	if list = slices.Compact(list); len(list) == 0 {
		v.Delete(k)
		return
	}
	v.Set(k, strings.Join(list, ","))
}

// Created returns the ids of the keys byob made.
func (l Ledger) Created(v *providers.Values) []string { return ids(v, l.created) }

// SetCreated records the ids of the keys byob made.
func (l Ledger) SetCreated(v *providers.Values, list []string) { setIDs(v, l.created, list) }

// Retired returns the ids of the keys a rotation deactivated and kept
// (--keep-old): init leaves them, the next rotation deletes them.
func (l Ledger) Retired(v *providers.Values) []string { return ids(v, l.retired) }

// Retire records that byob deactivated key id and kept it.
func (l Ledger) Retire(v *providers.Values, id string) {
	setIDs(v, l.retired, append(l.Retired(v), id))
}

// Deleted forgets key id, which byob deleted.
func (l Ledger) Deleted(v *providers.Values, id string) {
	drop := func(s string) bool { return s == id }
	setIDs(v, l.created, slices.DeleteFunc(l.Created(v), drop))
	setIDs(v, l.retired, slices.DeleteFunc(l.Retired(v), drop))
}

// Forget drops the ledger (after the keys were deleted).
func (l Ledger) Forget(v *providers.Values) {
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
func (l Ledger) Begin(r *runenv.Run, v *providers.Values, known []string) (Intent, error) {
	in := Intent{At: time.Now().UTC(), Known: known}
	b, _ := json.Marshal(in)
	v.Set(l.intent, string(b))
	return in, r.Checkpoint()
}

// Intent returns the creation under way, if any.
func (l Ledger) Intent(v *providers.Values) (Intent, bool) {
	var in Intent
	return in, json.Unmarshal([]byte(v.Get(l.intent)), &in) == nil && !in.At.IsZero()
}

// End forgets the creation under way: what it made is recorded or deleted.
func (l Ledger) End(v *providers.Values) { v.Delete(l.intent) }

// teardown says what destroy does with an identity's keys (noun: "access
// key"; who: "user x"): it deletes the keys the ledger records and any a
// creation stopped before its answer was recorded made (an intent).
func (l Ledger) teardown(v *providers.Values, step, noun, who string) providers.Teardown {
	var what []string
	if ids := l.Created(v); len(ids) > 0 {
		what = append(what, noun+" "+strings.Join(ids, ", "))
	}
	if _, stopped := l.Intent(v); stopped {
		what = append(what, "any "+noun+" a stopped run made")
	}
	if len(what) == 0 {
		return providers.TeardownOf(v, step, "", "the "+noun+" of "+who)
	}
	return providers.Teardown{Remove: fmt.Sprintf("delete %s of %s (GrowthLoop's exports stop)", strings.Join(what, " and "), who)}
}

// toDestroy returns the ids of the keys destroy deletes: the ledger's and,
// when a creation was stopped before its answer was recorded, those of
// the identity's keys (list reads them, only then) it made.
func toDestroy[K any](l Ledger, view View[K], v *providers.Values, list func() ([]K, error)) ([]string, error) {
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
