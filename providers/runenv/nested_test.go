package runenv

import (
	"context"
	"testing"
	"time"
)

// TestANestedReadAfterTheEndReturns: a read whose function reads through
// the run (an Early check reading the user's keys, runenv.Shared) asked
// after the run's end answers, as a plain read after the end does
// (TestEndStopsTheRunsBackground), rather than waiting on the run's reads
// forever: start holds the reads' lock while Go runs the function on the
// caller's goroutine.
func TestANestedReadAfterTheEndReturns(t *testing.T) {
	ctx := context.Background()
	bg := NewBackground()
	run := NewRun(bg, Hooks{}).Of("check")
	bg.End()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = Read(ctx, run, "check x", func(ctx context.Context) (int, error) {
			return Shared(ctx, run, "keys", func(ctx context.Context) (int, error) { return 1, ctx.Err() })
		})
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("a nested read after the end never returned (self-deadlock on reads.mu)")
	}
}
