package runenv

import (
	"context"
	"sync"
)

// reads are a run's cloud reads, each made at most once: a step's Check,
// Gate and Apply, and the engine's look ahead before the step's turn,
// share one answer for one request. The engine owns them: it drops a
// step's reads once the step changed the cloud (Run.Forget). A run made
// by NewRun has reads of its own; the runs derived from it (Of, Ahead,
// With) share them.
type reads struct {
	mu    sync.Mutex
	calls map[readKey]*readCall
}

// readKey names a read: the step it belongs to (the run's Of; shared for
// reads several steps share) and the request itself, with everything it
// is addressed by.
type readKey struct {
	scope, what string
}

// shared is the scope of reads several steps share.
const shared = "\x00shared"

type readCall struct {
	done  chan struct{}
	early bool // made ahead of the step's turn
	val   any
	err   error
}

// Read returns the run's answer to the request what, waiting for it
// when it is under way; without one it reads now. A read made ahead of
// the step's turn that failed is made again (its error may be one the
// preflight since explained, or a caller since known).
//
// what names the request fully (the call and what it is addressed by:
// bucket, region, account), so that a read is never the answer to
// another request. The answer is shared (the look ahead may still be
// reading it): a caller copies what it changes.
func Read[T any](ctx context.Context, r *Run, what string, read func(context.Context) (T, error)) (T, error) {
	return get(ctx, r, readKey{r.step, what}, read)
}

// Shared is Read for a read several steps make alike (the grants of a
// role, the keys of a user): the first asks, the others share its answer,
// and no step's change drops it.
func Shared[T any](ctx context.Context, r *Run, what string, read func(context.Context) (T, error)) (T, error) {
	return get(ctx, r, readKey{shared, what}, read)
}

// Start begins the request what in the run's background, unless it is
// made or under way, and returns at once: a later Read answers with it.
// It runs on its own: cancelling ctx does not stop it, the run's end does
// (Background.End).
func Start[T any](ctx context.Context, r *Run, what string, read func(context.Context) (T, error)) {
	start(ctx, r, readKey{r.step, what}, read)
}

// Held is the answer to the request what when it was made (or is under
// way) in this run, waiting for it; ok is false when it was not asked.
func Held[T any](ctx context.Context, r *Run, what string) (val T, ok bool, err error) {
	rs := r.reads
	rs.mu.Lock()
	c := rs.calls[readKey{r.step, what}]
	rs.mu.Unlock()
	if c == nil {
		return val, false, nil
	}
	val, err = answer[T](ctx, c)
	return val, true, err
}

// answer waits for c's answer, or for ctx's end.
func answer[T any](ctx context.Context, c *readCall) (T, error) {
	var zero T
	select {
	case <-c.done:
	case <-ctx.Done():
		return zero, ctx.Err()
	}
	val, _ := c.val.(T) // a nil of an interface type holds no T
	return val, c.err
}

func start[T any](ctx context.Context, r *Run, k readKey, read func(context.Context) (T, error)) *readCall {
	rs := r.reads
	rs.mu.Lock()
	if c := rs.calls[k]; c != nil {
		rs.mu.Unlock()
		return c
	}
	if rs.calls == nil {
		rs.calls = map[readKey]*readCall{}
	}
	c := &readCall{done: make(chan struct{}), early: r.ahead}
	rs.calls[k] = c
	// Unlocked before Go: after the run's end, Go runs read on this
	// goroutine, and read may read through the run too.
	rs.mu.Unlock()
	rctx, cancel := r.bg.detached(ctx)
	r.Go(func() {
		defer close(c.done)
		defer cancel()
		c.val, c.err = read(rctx)
	})
	return c
}

func get[T any](ctx context.Context, r *Run, k readKey, read func(context.Context) (T, error)) (T, error) {
	c := start(ctx, r, k, read)
	val, err := answer[T](ctx, c)
	if err != nil && ctx.Err() == nil && c.early && !r.ahead {
		rs := r.reads
		rs.mu.Lock()
		if rs.calls[k] == c {
			delete(rs.calls, k)
		}
		rs.mu.Unlock()
		return get(ctx, r, k, read)
	}
	return val, err
}

// Forget drops the reads of r's step: the engine calls it once the step
// changed the cloud, so that nothing reads the cloud as it was.
func (r *Run) Forget() {
	rs := r.reads
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for k := range rs.calls {
		if k.scope == r.step {
			delete(rs.calls, k)
		}
	}
}

// ForgetAll drops every read of the run: the engine calls it when the
// plan is built anew (the steps address other endpoints).
func (r *Run) ForgetAll() {
	r.reads.mu.Lock()
	defer r.reads.mu.Unlock()
	r.reads.calls = nil
}
