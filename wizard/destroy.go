package wizard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/growthloop/byob/graph"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
)

// Destroy's events, besides start, wait and failed.
const (
	EventRemoved  EventKind = "removed"  // destroy removed what the step made
	EventKept     EventKind = "kept"     // destroy left it; Detail says why
	EventProgress EventKind = "progress" // Done of Total things, Detail says which
)

// Removal is what destroy does with one step's object.
type Removal struct {
	Step providers.Step
	providers.Teardown
}

// DestroyPlan is what destroy removes and keeps, in the order it goes:
// each step after the steps that need it.
type DestroyPlan struct {
	Config   Config
	Removals []Removal
	plan     *Plan
}

// Removes reports whether the plan removes anything.
func (d *DestroyPlan) Removes() bool {
	return slices.ContainsFunc(d.Removals, func(r Removal) bool { return r.Remove != "" })
}

// PlanDestroy asks each step of the setup what destroy does with it. With
// deps.Conns nil (a dry run) it decides from the state file alone;
// connected, steps may read the cloud (is the bucket empty?).
func PlanDestroy(ctx context.Context, cfg Config, deps Deps, values *providers.Values) (*DestroyPlan, error) {
	plan, err := NewPlan(cfg, values, deps)
	if err != nil {
		return nil, err
	}
	d := &DestroyPlan{Config: cfg, plan: plan}
	steps := plan.Steps
	for i := len(steps) - 1; i >= 0; i-- {
		s := steps[i]
		td, err := s.Teardown(ctx, values)
		var ue *providers.UsageError
		switch {
		case errors.As(err, &ue):
			return nil, err
		case err != nil:
			return nil, fmt.Errorf("%s [%s]: %w", s.Title(), s.ID(), err)
		}
		if td.Remove != "" || td.Keep != "" {
			d.Removals = append(d.Removals, Removal{Step: s, Teardown: td})
		}
	}
	return d, nil
}

// keptObjects is what destroy kept, in the plan's order.
func keptObjects(d *DestroyPlan, kept []Removal) []KeptObject {
	why := map[string]string{}
	for _, k := range kept {
		why[k.Step.ID()] = k.Keep
	}
	var out []KeptObject
	for _, r := range d.Removals {
		if w, ok := why[r.Step.ID()]; ok {
			out = append(out, KeptObject{Step: r.Step.ID(), Why: w})
		}
	}
	return out
}

// DestroyOptions tune Destroy.
type DestroyOptions struct {
	Remove      providers.DestroyOptions
	Propagation runenv.Propagation
	// OnPreflight is told what preflight found, before the plan is shown.
	OnPreflight func(Preflight)
	// Confirm is asked before the first removal; an error stops the run.
	// Nil removes without asking.
	Confirm func(*DestroyPlan) error
	OnEvent func(Event)
}

// DestroyOutcome is what Destroy did.
type DestroyOutcome struct {
	Preflight Preflight
	// Started says removals began: the state file records them.
	Started bool
	Removed []string // step ids
	Kept    []Removal
	// Forgotten are the steps whose object was gone already (deleted by
	// hand): the state file no longer records them.
	Forgotten []string
}

// Destroy removes what byob made for the setup, walking the plan in
// reverse: a step's object goes once everything that needs it is gone,
// independent ones at once. Only what the state file records as byob's is
// removed; what byob found in place is kept and named. Each removal is
// recorded in the state file as it is made, so a second run is a no-op and
// a killed run finishes on the next. On the first failure nothing that the
// failed step needs is removed.
func Destroy(ctx context.Context, cfg Config, deps Deps, state *State, values *providers.Values, o DestroyOptions) (DestroyOutcome, error) {
	bg := runenv.NewBackground()
	defer bg.End()
	var out DestroyOutcome
	deps.Propagation, deps.Destroy = o.Propagation, o.Remove
	pf, err := preflight(ctx, &cfg, deps, values, providers.RemoveAccess, o.OnPreflight)
	out.Preflight = pf
	if err != nil {
		return out, err
	}
	d, err := PlanDestroy(ctx, cfg, deps, values)
	if err != nil {
		return out, err
	}
	if o.Confirm != nil {
		if err := o.Confirm(d); err != nil {
			return out, err
		}
	}
	out.Started = true
	rn := newRunner(ctx, runenv.NewRun(bg, runenv.Hooks{}), state, values, o.OnEvent)
	var mu sync.Mutex // guards out
	removal := map[string]Removal{}
	for _, r := range d.Removals {
		removal[r.Step.ID()] = r
	}
	graph.RunReverse(rn.nodeCtx(), d.plan.graph, parallelism, func(ctx context.Context, s providers.Step, after []bool) bool {
		r, ok := removal[s.ID()]
		switch {
		case slices.Contains(after, false) || rn.stopped():
			return false
		case !ok:
			return true
		case r.Remove == "":
			// Destroy's events are titled by what is removed, or kept.
			rn.emit(Event{Step: s.ID(), Title: r.Keep, Kind: EventKept, Detail: r.Keep})
			mu.Lock()
			out.Kept = append(out.Kept, r)
			mu.Unlock()
			return true
		}
		err := rn.do(ctx, s.ID(), r.Remove, r.Remove, func(ctx context.Context, run *runenv.Run, _ func(EventKind, string)) (EventKind, string, error) {
			var kept *providers.Kept
			var err error
			if !r.Gone {
				err = s.Destroy(ctx, run, values)
			}
			switch {
			case errors.As(err, &kept):
				mu.Lock()
				out.Kept = append(out.Kept, Removal{Step: s, Teardown: providers.Teardown{Keep: kept.Reason}})
				mu.Unlock()
				return EventKept, kept.Reason, nil
			case err != nil:
				return "", "", err
			}
			gone := []string{s.ID()}
			if h, ok := s.(providers.Holder); ok {
				gone = append(gone, h.Holds()...)
			}
			for _, id := range gone {
				providers.Forget(values, id)
				state.Record(id, StepState{Status: StepRemoved, At: time.Now().UTC()}, values)
			}
			mu.Lock()
			if r.Gone {
				out.Forgotten = append(out.Forgotten, s.ID())
			} else {
				out.Removed = append(out.Removed, s.ID())
			}
			mu.Unlock()
			return EventRemoved, r.Remove, nil
		})
		if err != nil {
			state.Record(s.ID(), StepState{Status: StepFailed, At: time.Now().UTC(), Error: err.Error()}, values)
			return false
		}
		return true
	})
	if !rn.failed() && ctx.Err() == nil {
		// Finished: the state says so, and what stayed. A rotation's
		// keys went with the key step.
		for _, k := range []providers.Key{providers.RotationOldKey, providers.RotationStarted, providers.RotationRetired} {
			values.Delete(k)
		}
		at := time.Now()
		if prev := state.Destroyed; prev != nil && len(out.Removed) == 0 {
			at = prev.At // a second run changed nothing
		}
		state.MarkDestroyed(at, keptObjects(d, out.Kept))
		state.Record("", StepState{}, values)
	}
	return out, rn.end()
}
