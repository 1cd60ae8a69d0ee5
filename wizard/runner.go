package wizard

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
)

// runner is the one loop apply, destroy, the rotation's phases and verify's
// checks run their nodes through. It gives each node its run environment
// (checkpoints save the state file, waits and counts become events), sends
// events one at a time, no node starting after a failure, and says at the
// end how the run ended.
type runner struct {
	ctx     context.Context // the caller's: once cancelled, nothing new starts
	run     *runenv.Run     // the run every node's environment is of
	state   *State          // saved at each checkpoint; nil records nothing (verify)
	values  *providers.Values
	onEvent func(Event)

	mu   sync.Mutex
	errs []error // the nodes' failures, in the order they happened
}

func newRunner(ctx context.Context, run *runenv.Run, state *State, values *providers.Values, onEvent func(Event)) *runner {
	return &runner{ctx: ctx, run: run, state: state, values: values, onEvent: onEvent}
}

// emit sends e, one event at a time.
func (rn *runner) emit(e Event) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if rn.onEvent != nil {
		rn.onEvent(e)
	}
}

// stopped reports whether a node failed or the run was cancelled: no new
// node starts.
func (rn *runner) stopped() bool {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	return len(rn.errs) > 0 || rn.ctx.Err() != nil
}

// nodeCtx is the context nodes run in: never cancelled with the run, since
// a change cut off half-way is worse than finishing the running node.
func (rn *runner) nodeCtx() context.Context { return context.WithoutCancel(rn.ctx) }

// env is the run environment of node id: its checkpoints save the state
// file, its waits and counts are its events, its reads are its own.
func (rn *runner) env(id, title string, start time.Time) *runenv.Run {
	h := runenv.Hooks{
		Report: func(msg string) {
			rn.emit(Event{Step: id, Title: title, Kind: EventWait, Detail: msg, Elapsed: time.Since(start)})
		},
		Count: func(what string, done, total int) {
			rn.emit(Event{Step: id, Title: title, Kind: EventProgress, Detail: what, Done: done, Total: total, Elapsed: time.Since(start)})
		},
	}
	if rn.state != nil {
		h.Checkpoint = func() error { return rn.state.Save(rn.values) }
	}
	return rn.run.With(h).Of(id)
}

// do runs one node: a start event (detail says what it does, when its
// title does not), then action, then the event action returns, or a
// failed one. action may send events of its own through ev. do returns
// the failure, as a *StepError, and keeps it for the run's end.
func (rn *runner) do(ctx context.Context, id, title, detail string, action func(ctx context.Context, r *runenv.Run, ev func(EventKind, string)) (EventKind, string, error)) error {
	start := time.Now()
	ev := func(kind EventKind, detail string) {
		rn.emit(Event{Step: id, Title: title, Kind: kind, Detail: detail, Elapsed: time.Since(start)})
	}
	ev(EventStart, detail)
	kind, detail, err := action(ctx, rn.env(id, title, start), ev)
	if err != nil {
		err = &StepError{Step: id, Title: title, Err: err}
		ev(EventFailed, err.Error())
		rn.fail(err)
		return err
	}
	ev(kind, detail)
	return nil
}

// fail keeps err for the run's end.
func (rn *runner) fail(err error) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	rn.errs = append(rn.errs, err)
}

// failed reports whether a node failed.
func (rn *runner) failed() bool {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	return len(rn.errs) > 0
}

// end waits for the state file's writes and says how the run ended: its
// failures (a failed write included), every one of them, since nodes run
// at once and each may lack its own permission; ErrCancelled when it was
// cancelled (or a question declined) and nothing failed; else nil.
func (rn *runner) end() error {
	if rn.state != nil {
		if err := rn.state.Flush(); err != nil {
			rn.fail(err)
		}
	}
	rn.mu.Lock()
	defer rn.mu.Unlock()
	// A question declined while another node failed is no cancellation:
	// the run failed.
	errs := rn.errs
	if failed := slices.DeleteFunc(slices.Clone(errs), func(err error) bool { return errors.Is(err, ErrCancelled) }); len(failed) > 0 {
		errs = failed
	}
	switch {
	case len(errs) == 0 && rn.ctx.Err() != nil:
		return ErrCancelled
	case len(errs) == 1:
		return errs[0]
	}
	return errors.Join(errs...)
}

// preflight opens every session that reaches the clouds (RunPreflight),
// and tells onPreflight what it found.
func preflight(ctx context.Context, cfg *Config, deps Deps, values *providers.Values, access providers.Access, onPreflight func(Preflight)) (Preflight, error) {
	pf, err := RunPreflight(ctx, cfg, deps, values, access)
	if err == nil && onPreflight != nil {
		onPreflight(pf)
	}
	return pf, err
}
