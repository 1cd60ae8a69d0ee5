package runenv

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
// (Background.End). An early read that fails is read again by Get, in the
// step's turn (once the preflight learned who runs, which its error
// names).
func (rd *Read[T]) Start(ctx context.Context, r *Run, read func(context.Context) (T, error)) {
	rd.start(ctx, r, read, true)
}

func (rd *Read[T]) start(ctx context.Context, r *Run, read func(context.Context) (T, error), early bool) *readCall[T] {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if rd.call != nil {
		return rd.call
	}
	c := &readCall[T]{done: make(chan struct{}), early: early}
	rd.call = c
	rctx, cancel := r.bg.detached(ctx)
	r.Go(func() {
		defer close(c.done)
		defer cancel()
		c.val, c.err = read(rctx)
	})
	return c
}

// Get returns the held read, waiting for it; without one it reads now, in
// r's background.
func (rd *Read[T]) Get(ctx context.Context, r *Run, read func(context.Context) (T, error)) (T, error) {
	c := rd.start(ctx, r, read, false)
	select {
	case <-c.done:
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
	if c.err != nil && c.early {
		rd.mu.Lock()
		if rd.call == c {
			rd.call = nil
		}
		rd.mu.Unlock()
		return rd.Get(ctx, r, read)
	}
	return c.val, c.err
}

// Forget drops the held read: the next Get reads again.
func (rd *Read[T]) Forget() {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	rd.call = nil
}
