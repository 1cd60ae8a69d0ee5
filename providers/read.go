package providers

import (
	"context"
	"sync"
)

// Read is a cloud read of a step, shared by its Check and Apply (Apply
// runs right after Check, or after the user confirmed what Check showed)
// and, for a Prefetcher, started before the step's turn: Get answers with
// the read already made or under way, and reads only when there is none.
// A step forgets the read (Forget) once it changed what was read.
type Read[T any] struct {
	mu   sync.Mutex
	call *readCall[T]
}

type readCall[T any] struct {
	done  chan struct{}
	early bool // started by Start, before the step's turn
	val   T
	err   error
}

// Start begins the read in the run's background, unless one is held. It
// runs on its own: cancelling ctx does not stop it, the run's end does
// (WithBackground). An early read that fails is read again by Get, with
// the step's own context (which names who runs it in an error).
func (r *Read[T]) Start(ctx context.Context, read func(context.Context) (T, error)) {
	r.start(ctx, read, true)
}

func (r *Read[T]) start(ctx context.Context, read func(context.Context) (T, error), early bool) *readCall[T] {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.call != nil {
		return r.call
	}
	c := &readCall[T]{done: make(chan struct{}), early: early}
	r.call = c
	rctx, cancel := detached(ctx)
	Go(ctx, func() {
		defer close(c.done)
		defer cancel()
		c.val, c.err = read(rctx)
	})
	return c
}

// Get returns the held read, waiting for it; without one it reads now.
func (r *Read[T]) Get(ctx context.Context, read func(context.Context) (T, error)) (T, error) {
	c := r.start(ctx, read, false)
	select {
	case <-c.done:
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
	if c.err != nil && c.early {
		r.mu.Lock()
		if r.call == c {
			r.call = nil
		}
		r.mu.Unlock()
		return r.Get(ctx, read)
	}
	return c.val, c.err
}

// Forget drops the held read: the next Get reads again.
func (r *Read[T]) Forget() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.call = nil
}

// Prefetcher is a step whose Check reads what no step before it changes:
// the runner calls Prefetch as a run starts, beside the preflight, so
// that the read is answered when the step's turn comes. Prefetch starts
// reads (Read.Start) and returns at once; it reads only what it can
// address with what v already knows.
type Prefetcher interface {
	Prefetch(ctx context.Context, v *Values)
}

// Gate is a step that can tell before any change, from reads that need
// nothing made first, that it will fail (GrowthLoop's role does not exist,
// the schema is missing): the run stops while nothing is made. Gate only
// reads; v is a copy of the run's values, which the run drops.
type Gate interface {
	Gate(ctx context.Context, v *Values) error
}
