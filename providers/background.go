package providers

import (
	"context"
	"sync"
	"time"
)

// A run's background is the work it leaves going beside it: reads started
// before their turn (Read.Start, Check.Early), clean-ups of probes
// (Cleanup) and init's proofs (Go). A run ends its background before it
// returns, so that nothing it started still reaches the cloud once it has:
// a run stopped at the preflight would otherwise leave its early probes
// writing to the bucket, with nobody left to delete what they wrote.
type background struct {
	stopped context.Context // cancelled by end: stops the reads
	stop    context.CancelFunc
	mu      sync.Mutex // ended, and every wg.Add
	ended   bool
	wg      sync.WaitGroup
}

type backgroundKey struct{}

// cleanupTimeout bounds a clean-up: the run waits for it.
const cleanupTimeout = 30 * time.Second

// WithBackground returns ctx for a run, and end, which the run calls as it
// returns: it cancels the reads nobody waited for and waits for them and
// for every clean-up.
func WithBackground(ctx context.Context) (_ context.Context, end func()) {
	b := &background{}
	b.stopped, b.stop = context.WithCancel(context.Background())
	return context.WithValue(ctx, backgroundKey{}, b), func() {
		b.stop()
		b.mu.Lock()
		b.ended = true
		b.mu.Unlock()
		b.wg.Wait()
	}
}

// Go runs f on its own goroutine, in the run's background when ctx has
// one: the run's end waits for it. Once the run ended, f runs at once on
// the caller's.
func Go(ctx context.Context, f func()) {
	b, ok := ctx.Value(backgroundKey{}).(*background)
	if !ok {
		go f()
		return
	}
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
// several waiters outlives the one that started it. The run's end cancels
// it.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	d, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if b, ok := ctx.Value(backgroundKey{}).(*background); ok {
		if b.stopped.Err() != nil { // the run ended
			cancel()
			return d, cancel
		}
		stop := context.AfterFunc(b.stopped, cancel)
		return d, func() { stop(); cancel() }
	}
	return d, cancel
}

// Cleanup runs f in the background, with a context that the run's end
// does not cancel (a probe object is deleted even when the run stopped);
// the run waits for it before it returns. Without a background (outside a
// run) f runs at once.
func Cleanup(ctx context.Context, f func(context.Context)) {
	run := func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		f(ctx)
	}
	if ctx.Value(backgroundKey{}) == nil {
		run()
		return
	}
	Go(ctx, run)
}
