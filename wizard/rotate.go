package wizard

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
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
	Propagation runenv.Propagation
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
	rn      *runner
	cfg     Config
	deps    Deps
	state   *State
	values  *providers.Values
	o       RotateOptions
	setup   providers.Setup
	rotator providers.KeyRotator
	keys    providers.KeyStore
}

func startRotation(ctx context.Context, bg *runenv.Background, cfg Config, deps Deps, state *State, values *providers.Values, o RotateOptions) (*rotation, Preflight, error) {
	deps.Propagation = o.Propagation
	pf, err := preflight(ctx, &cfg, deps, values, providers.RotateAccess, o.OnPreflight)
	if err != nil {
		return nil, pf, err
	}
	bp := cfg.BucketProvider()
	rot, ok := bp.(providers.KeyRotator)
	if !ok {
		return nil, pf, providers.Usagef("byob cannot rotate the keys of %s", bp.Title())
	}
	rt := &rotation{ctx: ctx, rn: newRunner(ctx, runenv.NewRun(bg, runenv.Hooks{}), state, values, o.OnEvent), cfg: cfg, deps: deps, state: state, values: values, o: o, rotator: rot}
	rt.setup = setups(&rt.cfg, values, deps)[bp.Name()]
	rt.keys = rt.setup.Keys
	return rt, pf, nil
}

// step runs one step of the phase through the runner, and saves the
// state once it is done. The phase's steps see the caller's cancellation:
// each records what it made before it waits.
func (rt *rotation) step(id, title string, f func(ctx context.Context, r *runenv.Run) error) error {
	return rt.rn.do(rt.ctx, id, title, "", func(ctx context.Context, r *runenv.Run, _ func(EventKind, string)) (EventKind, string, error) {
		if err := f(ctx, r); err != nil {
			return "", "", err
		}
		return EventApplied, "", rt.state.Save(rt.values)
	})
}

// Rotate is the first phase of a key rotation: it keeps the current bundle
// (and key file) as the previous one, gives GrowthLoop's identity a new
// key, proves it works and writes the new bundle. The old key stays
// active: GrowthLoop uses it until the new bundle is uploaded there, and
// FinishRotation retires it. A stopped phase resumes; a phase that
// finished before only proves the new key again.
func Rotate(ctx context.Context, cfg Config, deps Deps, state *State, values *providers.Values, o RotateOptions) (RotateOutcome, error) {
	bg := runenv.NewBackground()
	defer bg.End()
	rt, pf, err := startRotation(ctx, bg, cfg, deps, state, values, o)
	out := RotateOutcome{Preflight: pf}
	if err != nil {
		return out, err
	}
	out.Old = values.Get(providers.RotationOldKey)
	if out.Old == "" {
		// A setup taken over keeps the key GrowthLoop holds, in no bundle.
		if out.Old = cmp.Or(rt.keys.Delivered(), values.Get(providers.GrowthLoopsKey)); out.Old == "" {
			return out, providers.Usagef("%s holds no key of this setup: run byob init first, or pass the --bundle it wrote", cfg.Bundle)
		}
		// Recorded before anything changes: a run killed from here on
		// resumes this rotation.
		values.Set(providers.RotationOldKey, out.Old)
		values.Set(providers.RotationStarted, time.Now().UTC().Format(time.RFC3339))
	}
	out.Started = true
	out.Previous = rt.keys.PreviousFiles()
	if out.Old != values.Get(providers.GrowthLoopsKey) { // that one's secret is GrowthLoop's alone: no bundle to keep
		err = rt.step(StepRetain, "Keep the current bundle as "+out.Previous[0]+" until the rotation finishes", func(context.Context, *runenv.Run) error {
			return rt.keys.Retain(out.Old)
		})
		if err != nil {
			return out, err
		}
	}
	// A phase that delivered its key before only proves it again.
	if out.New = rt.keys.Delivered(); out.New == out.Old || out.New == "" {
		err = rt.step(StepNewKey, "Create a new key for GrowthLoop, keeping the current key "+out.Old+" active", func(ctx context.Context, r *runenv.Run) (err error) {
			out.New, err = rt.rotator.NewKey(ctx, r, rt.setup)
			return err
		})
		if err != nil {
			out.Pending = rt.keys.PendingFile()
			return out, err
		}
	}
	err = rt.step(StepProve, "Prove the new key "+out.New+" writes, reads and lists under "+cfg.Prefix, func(ctx context.Context, r *runenv.Run) error {
		return rt.rotator.ProveKey(ctx, r, rt.setup, out.New)
	})
	if err == nil {
		err = rt.step(StepDeliver, "Write the new bundle "+cfg.Bundle+" (mode 0600)", func(context.Context, *runenv.Run) error {
			_, err := deliver(cfg, values, rt.deps)
			return err
		})
	}
	out.Pending = rt.keys.PendingFile()
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
	bg := runenv.NewBackground()
	defer bg.End()
	var out RotateOutcome
	if done, ok := FinishedRotation(cfg, values); ok {
		return done, nil
	}
	out.Old = values.Get(providers.RotationOldKey)
	if out.Old == "" {
		return out, providers.Usagef("no key rotation under way in %s: start one with byob rotate-keys", cfg.State)
	}
	rt, pf, err := startRotation(ctx, bg, cfg, deps, state, values, o)
	out.Preflight = pf
	if err != nil {
		return out, err
	}
	if out.New = rt.keys.Delivered(); out.New == "" || out.New == out.Old {
		return out, providers.Usagef("the rotation's first phase has not finished: run byob rotate-keys, upload the new bundle in GrowthLoop, then run byob rotate-keys --finish")
	}
	out.Started = true
	err = rt.step(StepProve, "Prove the bundle's key "+out.New+" writes, reads and lists under "+cfg.Prefix, func(ctx context.Context, r *runenv.Run) error {
		if err := rt.rotator.ProveKey(ctx, r, rt.setup, out.New); err != nil {
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
	err = rt.step(StepRetire, title, func(ctx context.Context, r *runenv.Run) error {
		return rt.rotator.RetireKey(ctx, r, rt.setup, out.Old, o.KeepOld)
	})
	if err != nil {
		return out, err
	}
	out.Kept = o.KeepOld
	out.Previous = rt.keys.PreviousFiles()
	return out, rt.step(StepRelease, "Remove the previous bundle", func(context.Context, *runenv.Run) error {
		if err := rt.keys.Release(); err != nil {
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
