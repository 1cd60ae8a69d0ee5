package wizard

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/growthloop/byob/graph"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
)

// EventKind is what happened to a step.
type EventKind string

// Event kinds, in the order a step goes through them.
const (
	EventStart   EventKind = "start"    // checking, then applying
	EventDrift   EventKind = "drift"    // there but different; Detail says how and what fixes it
	EventWait    EventKind = "wait"     // waiting for propagation; Detail says why
	EventApplied EventKind = "applied"  // changed the cloud
	EventInPlace EventKind = "in-place" // already done: nothing changed
	EventFailed  EventKind = "failed"
	EventProved  EventKind = "proved" // a check proved the finished setup works
)

// Event is one progress report. Detail never holds a secret.
type Event struct {
	Step    string        `json:"step"`
	Title   string        `json:"title"`
	Kind    EventKind     `json:"event"`
	Detail  string        `json:"detail,omitempty"`
	Elapsed time.Duration `json:"elapsed_ns"`
	// Done of Total things (EventProgress).
	Done  int `json:"done,omitempty"`
	Total int `json:"total,omitempty"`
}

// StepError is the failure of one step.
type StepError struct {
	Step, Title string
	Err         error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("%s [%s]: %v", e.Title, e.Step, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// Result says what a run did.
type Result struct {
	Applied []string // step ids that changed something
	InPlace []string // step ids that were already done
}

// parallelism bounds how many steps run at once.
const parallelism = 8

// Run walks the plan: each step starts once the steps it needs are done,
// independent steps run concurrently. A step whose Check says Done is not
// applied. The state is saved after every step. On the first failure no
// further step starts; running steps finish, and Run returns every
// failure.
// When ctx is cancelled (Ctrl-C) the same happens: running steps finish
// (their calls are not cut off half-way), nothing new starts.
//
// confirmDrift, when not nil, is asked before a drifted step is reconciled
// (one question at a time); an error fails that step. Each step runs in
// run r, saving the state when it checkpoints; what the plan's look ahead
// and gates read in r answers its steps.
func Run(ctx context.Context, r *runenv.Run, p *Plan, state *State, onEvent func(Event), confirmDrift func(providers.Step, providers.Observation) error) (Result, error) {
	rn := newRunner(ctx, r, state, p.Values, onEvent)
	var (
		mu  sync.Mutex
		res Result
		// confirmMu keeps drift questions from interleaving.
		confirmMu sync.Mutex
	)
	graph.Run(rn.nodeCtx(), p.graph, parallelism, func(ctx context.Context, s providers.Step, needs []bool) bool {
		if slices.Contains(needs, false) || rn.stopped() {
			return false
		}
		err := rn.do(ctx, s.ID(), s.Title(), "", func(ctx context.Context, r *runenv.Run, ev func(EventKind, string)) (EventKind, string, error) {
			kind, detail, err := runStep(ctx, r, s, p.Values, func(obs providers.Observation) error {
				ev(EventDrift, driftDetail(obs))
				if confirmDrift == nil {
					return nil
				}
				confirmMu.Lock()
				defer confirmMu.Unlock()
				return confirmDrift(s, obs)
			})
			if err != nil {
				return kind, detail, err
			}
			// Done: the state file records it behind the run (a failed
			// write fails the run at its end).
			state.Record(s.ID(), StepState{Status: StepDone, At: time.Now().UTC()}, p.Values)
			mu.Lock()
			if kind == EventApplied {
				res.Applied = append(res.Applied, s.ID())
			} else {
				res.InPlace = append(res.InPlace, s.ID())
			}
			mu.Unlock()
			return kind, detail, nil
		})
		if err != nil {
			state.Record(s.ID(), StepState{Status: StepFailed, At: time.Now().UTC(), Error: err.Error()}, p.Values)
			return false
		}
		return true
	})
	return res, rn.end()
}

// runStep checks a step and applies it unless it is already done. A
// drifted step is reported through drift first.
//
// What was missing is marked as being created (and saved) before Apply,
// and as created after it: a run killed in between leaves the mark, and
// the next run, finding the object there, knows byob made it.
func runStep(ctx context.Context, r *runenv.Run, s providers.Step, v *providers.Values, drift func(providers.Observation) error) (EventKind, string, error) {
	obs, err := s.Check(ctx, r, v)
	if err != nil {
		return "", "", err
	}
	applying, created := providers.ApplyingKey(s.ID()), providers.CreatedKey(s.ID())
	switch obs.Status {
	case providers.Done:
		if v.Get(applying) != "" {
			v.Set(created, "true")
			v.Delete(applying)
		} else if !providers.Owned(v, s.ID()) {
			v.Set(providers.AdoptedKey(s.ID()), "true")
		}
		return EventInPlace, obs.Reason, nil
	case providers.Drifted:
		if err := drift(obs); err != nil {
			return "", "", err
		}
		if !providers.Owned(v, s.ID()) {
			v.Set(providers.AdoptedKey(s.ID()), "true")
		}
	case providers.Missing:
		if v.Get(created) == "" {
			v.Delete(providers.AdoptedKey(s.ID()))
			v.Set(applying, "true")
			if err := r.Checkpoint(); err != nil {
				return "", "", err
			}
		}
	}
	err = s.Apply(ctx, r, v)
	r.Forget() // what the step read is no longer so
	if err != nil {
		return "", "", err
	}
	if v.Get(applying) != "" {
		v.Set(created, "true")
		v.Delete(applying)
	}
	if obs.Status == providers.Drifted {
		return EventApplied, "", nil // the drift event told its reason
	}
	return EventApplied, obs.Reason, nil
}

// driftDetail is the reason for the drift and the statements that fix it.
func driftDetail(obs providers.Observation) string {
	d := obs.Reason
	for _, f := range obs.Fix {
		d += "\n" + f.Content
	}
	return d
}
