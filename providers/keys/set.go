package keys

import (
	"context"
	"slices"
	"time"

	"github.com/growthloop/byob/providers"
)

// View says what byob reads of one cloud's key type K: its id, whether
// it works (active, enabled) and when it was made.
type View[K any] struct {
	ID      func(K) string
	Active  func(K) bool
	Created func(K) time.Time
}

// Set is an identity's keys as byob sees them, for every cloud: which
// it made (the ledger, or a creation under way whose answer was lost),
// which a rotation retired, and which it holds (the key store).
type Set[K any] struct {
	View[K]
	Keys    []K
	ours    map[string]bool
	retired []string
	store   providers.KeyStore
	ledger  Ledger
}

// NewSet is an identity's keys (list), as ledger l and the key store
// know them.
func NewSet[K any](l Ledger, view View[K], v *providers.Values, store providers.KeyStore, list []K) Set[K] {
	ks := Set[K]{View: view, Keys: list, ours: map[string]bool{}, retired: l.Retired(v), store: store, ledger: l}
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
func (ks Set[K]) Find(id string) (k K, ok bool) {
	i := slices.IndexFunc(ks.Keys, func(k K) bool { return ks.ID(k) == id })
	if id == "" || i < 0 {
		return k, false
	}
	return ks.Keys[i], true
}

// Exists reports whether there is a key id.
func (ks Set[K]) Exists(id string) bool {
	_, ok := ks.Find(id)
	return ok
}

// Works reports whether key id exists and is active.
func (ks Set[K]) Works(id string) bool {
	k, ok := ks.Find(id)
	return ok && ks.Active(k)
}

// Ours reports whether byob made key id.
func (ks Set[K]) Ours(id string) bool { return ks.ours[id] }

// Unwanted are the keys byob deletes: its own keys whose secret it does
// not hold (they can never be delivered), and held keys that no longer
// work (a new key replaces them). A key a rotation retired stays until
// the next rotation.
func (ks Set[K]) Unwanted() []string {
	var out []string
	for _, k := range ks.Keys {
		id := ks.ID(k)
		held := providers.Holds(ks.store, id)
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
// retired), forgetting them in the ledger, and returns the ids of the
// others, and of byob's among them.
func (ks Set[K]) Prune(ctx context.Context, v *providers.Values, retired bool, del func(context.Context, string) error) (known, ours []string, err error) {
	unwanted := ks.Unwanted()
	for _, k := range ks.Keys {
		id := ks.ID(k)
		if slices.Contains(unwanted, id) || retired && slices.Contains(ks.retired, id) {
			if err := del(ctx, id); err != nil {
				return nil, nil, err
			}
			ks.ledger.Deleted(v, id)
			continue
		}
		known = append(known, id)
		if ks.ours[id] {
			ours = append(ours, id)
		}
	}
	return known, ours, nil
}

// Foreign are the keys byob did not make and does not hold: reported,
// never touched.
func (ks Set[K]) Foreign() []K {
	var out []K
	for _, k := range ks.Keys {
		if id := ks.ID(k); !ks.ours[id] && !providers.Holds(ks.store, id) {
			out = append(out, k)
		}
	}
	return out
}

// Adopted is the key GrowthLoop holds on a setup taken over: the one a
// run recorded, else with adopt (init --adopt) the newest working key
// byob did not make. "" when there is none.
func (ks Set[K]) Adopted(v *providers.Values, adopt bool) string {
	if id := v.Get(providers.GrowthLoopsKey); id != "" && ks.Works(id) {
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
