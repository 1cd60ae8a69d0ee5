// Package runenv is the environment a step or check runs in: its run's
// background work (Background, Run), reads shared and started early
// (Read, Start, Shared), and waits for a cloud's eventual consistency (Propagation).
// The engine makes it; providers only use it.
package runenv

import (
	"context"
	"sync"
	"time"
)

// Background is the work a run leaves going beside it: reads started
// before their turn (Start, the engine's look ahead), clean-ups of probes
// (Run.Cleanup) and init's proofs (Run.Go). A run ends its background
// before it returns, so that nothing it started still reaches the cloud
// once it has: a run stopped at the preflight would otherwise leave its
// early probes writing to the bucket, with nobody left to delete what
// they wrote.
type Background struct {
	stopped context.Context // cancelled by End: stops the reads
	stop    context.CancelFunc
	mu      sync.Mutex // ended, and every wg.Add
	ended   bool
	wg      sync.WaitGroup
}

// cleanupTimeout bounds a clean-up: the run waits for it.
const cleanupTimeout = 30 * time.Second

// NewBackground starts a run's background. The run calls End as it
// returns.
func NewBackground() *Background {
	b := &Background{}
	b.stopped, b.stop = context.WithCancel(context.Background())
	return b
}

// End cancels the reads nobody waited for, and waits for them and for
// every clean-up.
func (b *Background) End() {
	b.stop()
	b.mu.Lock()
	b.ended = true
	b.mu.Unlock()
	b.wg.Wait()
}

// goWait runs f on its own goroutine; End waits for it. Once the run
// ended, f runs at once on the caller's.
func (b *Background) goWait(f func()) {
	b.mu.Lock()
	if b.ended {
		b.mu.Unlock()
		f()
		return
	}
	b.wg.Add(1)
	b.mu.Unlock()
	go func() {
		defer b.wg.Done()
		f()
	}()
}

// detached is ctx's values without its cancellation: a read shared by
// several waiters outlives the one that started it. End cancels it.
func (b *Background) detached(ctx context.Context) (context.Context, context.CancelFunc) {
	d, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if b.stopped.Err() != nil { // the run ended
		cancel()
		return d, cancel
	}
	stop := context.AfterFunc(b.stopped, cancel)
	return d, func() { stop(); cancel() }
}

// Hooks are how a step tells its runner what it does. A nil hook is one
// the runner has no use for (verify keeps no state: its checks have no
// Checkpoint).
type Hooks struct {
	// Checkpoint saves the values recorded so far to the state file.
	Checkpoint func() error
	// Report says why the step waits.
	Report func(msg string)
	// Count says how far a long task has come.
	Count func(what string, done, total int)
}

// Run is a step's run environment: the run's background and its runner's
// hooks. The runner passes one to every Check, Apply and Destroy; its
// methods panic on a nil *Run.
type Run struct {
	bg    *Background
	hooks Hooks
	reads *reads
	step  string // whose reads it makes (Read, Forget)
	ahead bool   // the engine's look ahead, before the step's turn
}

// NewRun is a new run in background bg, with reads of its own.
func NewRun(bg *Background, h Hooks) *Run { return &Run{bg: bg, hooks: h, reads: &reads{}} }

// With is r with the runner's hooks h: the same run, the same reads.
func (r *Run) With(h Hooks) *Run {
	c := *r
	c.hooks = h
	return &c
}

// Of is r for the step (or check) id: its reads are that step's.
func (r *Run) Of(id string) *Run {
	c := *r
	c.step = id
	return &c
}

// Ahead is r for the engine's look ahead: reads before the step's turn,
// made again in its turn if they failed.
func (r *Run) Ahead() *Run {
	c := *r
	c.ahead = true
	return &c
}

// Checkpoint saves the values the step has recorded so far to the state
// file. A step calls it before a change it must not lose track of (the
// intent to create a key), and as soon as the cloud answered one (the new
// key's id), before it waits on anything: a run killed at any moment then
// leaves a record of everything it made.
func (r *Run) Checkpoint() error {
	if r.hooks.Checkpoint == nil {
		return nil
	}
	return r.hooks.Checkpoint()
}

// Report tells the user, through the runner, what a step is doing.
func (r *Run) Report(msg string) {
	if r.hooks.Report != nil {
		r.hooks.Report(msg)
	}
}

// Count tells the user, through the runner, that done of total things
// (what: "objects deleted") are done.
func (r *Run) Count(what string, done, total int) {
	if r.hooks.Count != nil {
		r.hooks.Count(what, done, total)
	}
}

// Go runs f on its own goroutine, in the run's background: the run's end
// waits for it. Once the run ended, f runs at once on the caller's.
func (r *Run) Go(f func()) { r.bg.goWait(f) }

// Cleanup runs f in the background, with a context that the run's end
// does not cancel (a probe object is deleted even when the run stopped);
// the run waits for it, at most cleanupTimeout, before it returns.
func (r *Run) Cleanup(ctx context.Context, f func(context.Context)) {
	r.Go(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		f(ctx)
	})
}
