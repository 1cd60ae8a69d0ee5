package wizard

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/growthloop/byob/providers"
)

// Rotation's events: the steps of a phase, as applied events.
const (
	StepRetain  = "rotate-retain"
	StepNewKey  = "rotate-new-key"
	StepProve   = "rotate-prove"
	StepDeliver = "rotate-deliver"
	StepRetire  = "rotate-retire"
	StepRelease = "rotate-release"
)

// RotateOptions tune Rotate and FinishRotation.
type RotateOptions struct {
	Propagation providers.Propagation
	// KeepOld deactivates the old key without deleting it (FinishRotation).
	KeepOld     bool
	OnPreflight func(Preflight)
	OnEvent     func(Event)
}

// RotateOutcome is what a phase of a rotation did.
type RotateOutcome struct {
	Preflight Preflight
	// Started says the phase changed something: the state file records it.
	Started  bool
	Old, New string
	// Previous are the files that keep the old key until the rotation
	// finishes.
	Previous []string
	// Pending is the file that keeps the new key's secret when the phase
	// stopped before the bundle could hold it; "" when there is none.
	Pending string
	Kept    bool // the old key was deactivated, not deleted
	// Finished says the rotation had finished before this run (one that
	// stopped right after its last change): there was nothing to do.
	Finished bool
}

// rotation is one phase of a rotation under way.
type rotation struct {
	ctx     context.Context
	cfg     Config
	deps    Deps
	state   *State
	values  *providers.Values
	o       RotateOptions
	setup   providers.Setup
	rotator providers.KeyRotator
	keys    providers.KeyStore
}

func startRotation(ctx context.Context, cfg Config, deps Deps, state *State, values *providers.Values, o RotateOptions) (*rotation, Preflight, error) {
	deps.Propagation = o.Propagation
	pf, err := RunPreflight(ctx, &cfg, deps, values, providers.RotateAccess)
	if err != nil {
		return nil, pf, err
	}
	if o.OnPreflight != nil {
		o.OnPreflight(pf)
	}
	bp := cfg.BucketProvider()
	rot, ok := bp.(providers.KeyRotator)
	if !ok {
		return nil, pf, providers.Usagef("byob cannot rotate the keys of %s", bp.Title())
	}
	r := &rotation{ctx: pf.WithIdentities(ctx), cfg: cfg, deps: deps, state: state, values: values, o: o, rotator: rot}
	r.setup = setups(&r.cfg, values, deps)[bp.Name()]
	r.keys = r.setup.Keys
	return r, pf, nil
}

// step runs one step of the phase, reporting it, and saves the state.
func (r *rotation) step(id, title string, f func(ctx context.Context) error) error {
	start := time.Now()
	ev := func(kind EventKind, detail string) {
		if r.o.OnEvent != nil {
			r.o.OnEvent(Event{Step: id, Title: title, Kind: kind, Detail: detail, Elapsed: time.Since(start)})
		}
	}
	ev(EventStart, "")
	ctx := providers.WithProgress(r.ctx, func(msg string) { ev(EventWait, msg) })
	ctx = providers.WithCheckpoint(ctx, func() error { return r.state.Save(r.values) })
	err := f(ctx)
	if err == nil {
		err = r.state.Save(r.values)
	}
	if err != nil {
		err = &StepError{Step: id, Title: title, Err: err}
		ev(EventFailed, err.Error())
		return err
	}
	ev(EventApplied, "")
	return nil
}

// Rotate is the first phase of a key rotation: it keeps the current bundle
// (and key file) as the previous one, gives GrowthLoop's identity a new
// key, proves it works and writes the new bundle. The old key stays
// active: GrowthLoop uses it until the new bundle is uploaded there, and
// FinishRotation retires it. A stopped phase resumes; a phase that
// finished before only proves the new key again.
func Rotate(ctx context.Context, cfg Config, deps Deps, state *State, values *providers.Values, o RotateOptions) (RotateOutcome, error) {
	ctx, end := providers.WithBackground(ctx)
	defer end()
	r, pf, err := startRotation(ctx, cfg, deps, state, values, o)
	out := RotateOutcome{Preflight: pf}
	if err != nil {
		return out, err
	}
	out.Old = values.Get(providers.RotationOldKey)
	if out.Old == "" {
		// A setup taken over keeps the key GrowthLoop holds, in no bundle.
		if out.Old = cmp.Or(r.keys.Delivered(), values.Get(providers.GrowthLoopsKey)); out.Old == "" {
			return out, providers.Usagef("%s holds no key of this setup: run byob init first, or pass the --bundle it wrote", cfg.Bundle)
		}
		// Recorded before anything changes: a run killed from here on
		// resumes this rotation.
		values.Set(providers.RotationOldKey, out.Old)
		values.Set(providers.RotationStarted, time.Now().UTC().Format(time.RFC3339))
	}
	out.Started = true
	out.Previous = r.keys.PreviousFiles()
	if out.Old != values.Get(providers.GrowthLoopsKey) { // that one's secret is GrowthLoop's alone: no bundle to keep
		err = r.step(StepRetain, "Keep the current bundle as "+out.Previous[0]+" until the rotation finishes", func(context.Context) error {
			return r.keys.Retain(out.Old)
		})
		if err != nil {
			return out, err
		}
	}
	// A phase that delivered its key before only proves it again.
	if out.New = r.keys.Delivered(); out.New == out.Old || out.New == "" {
		err = r.step(StepNewKey, "Create a new key besides "+out.Old, func(ctx context.Context) (err error) {
			out.New, err = r.rotator.NewKey(ctx, r.setup)
			return err
		})
		if err != nil {
			out.Pending = r.keys.PendingFile()
			return out, err
		}
	}
	err = r.step(StepProve, "Prove the new key "+out.New+" writes, reads and lists under "+cfg.Prefix, func(ctx context.Context) error {
		return r.rotator.ProveKey(ctx, r.setup, out.New)
	})
	if err == nil {
		err = r.step(StepDeliver, "Write the new bundle "+cfg.Bundle+" (mode 0600)", func(context.Context) error {
			_, err := deliver(cfg, values, r.deps)
			return err
		})
	}
	out.Pending = r.keys.PendingFile()
	return out, err
}

// FinishedRotation is what FinishRotation does once the rotation finished
// in an earlier run (one stopped right after its last change): nothing,
// with no connection needed.
func FinishedRotation(cfg Config, values *providers.Values) (RotateOutcome, bool) {
	retired := values.Get(providers.RotationRetired)
	if values.Get(providers.RotationOldKey) != "" || retired == "" {
		return RotateOutcome{}, false
	}
	return RotateOutcome{Old: retired, New: cfg.BucketProvider().Keys(&cfg).Delivered(), Finished: true}, true
}

// FinishRotation is the second phase: once the bundle's new key works, the
// old key is deactivated, then deleted (kept deactivated with KeepOld),
// and the previous bundle removed. The new key is proved first: the only
// working key is never retired.
func FinishRotation(ctx context.Context, cfg Config, deps Deps, state *State, values *providers.Values, o RotateOptions) (RotateOutcome, error) {
	ctx, end := providers.WithBackground(ctx)
	defer end()
	var out RotateOutcome
	if done, ok := FinishedRotation(cfg, values); ok {
		return done, nil
	}
	out.Old = values.Get(providers.RotationOldKey)
	if out.Old == "" {
		return out, providers.Usagef("no key rotation under way in %s: start one with byob rotate-keys", cfg.State)
	}
	r, pf, err := startRotation(ctx, cfg, deps, state, values, o)
	out.Preflight = pf
	if err != nil {
		return out, err
	}
	if out.New = r.keys.Delivered(); out.New == "" || out.New == out.Old {
		return out, providers.Usagef("the rotation's first phase has not finished: run byob rotate-keys, upload the new bundle in GrowthLoop, then run byob rotate-keys --finish")
	}
	out.Started = true
	err = r.step(StepProve, "Prove the bundle's key "+out.New+" writes, reads and lists under "+cfg.Prefix, func(ctx context.Context) error {
		if err := r.rotator.ProveKey(ctx, r.setup, out.New); err != nil {
			return fmt.Errorf("%w; the old key %s stays active", err, out.Old)
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	title := "Deactivate and delete the old key " + out.Old
	if o.KeepOld {
		title = "Deactivate the old key " + out.Old + " (kept; the next rotation deletes it)"
	}
	err = r.step(StepRetire, title, func(ctx context.Context) error {
		return r.rotator.RetireKey(ctx, r.setup, out.Old, o.KeepOld)
	})
	if err != nil {
		return out, err
	}
	out.Kept = o.KeepOld
	out.Previous = r.keys.PreviousFiles()
	return out, r.step(StepRelease, "Remove the previous bundle", func(context.Context) error {
		if err := r.keys.Release(); err != nil {
			return err
		}
		values.Delete(providers.RotationOldKey)
		values.Delete(providers.RotationStarted)
		values.Set(providers.RotationRetired, out.Old) // a --finish run again says it is done
		if values.Get(providers.GrowthLoopsKey) == out.Old {
			values.Delete(providers.GrowthLoopsKey) // byob holds the setup's key now
		}
		return nil
	})
}
