package providers

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestEndStopsTheRunsBackground: a read nobody waited for is cancelled by
// the run's end, a clean-up it leaves runs with a live context, and end
// returns only once both are done.
func TestEndStopsTheRunsBackground(t *testing.T) {
	ctx, end := WithBackground(context.Background())
	// end's wait orders these writes before the reads below.
	var (
		r                 Read[int]
		readErr, cleanErr error
		cleaned           bool
	)
	r.Start(ctx, func(ctx context.Context) (int, error) {
		<-ctx.Done() // a read under way when the run stops
		readErr = ctx.Err()
		Cleanup(ctx, func(ctx context.Context) {
			time.Sleep(20 * time.Millisecond)
			cleanErr, cleaned = ctx.Err(), true
		})
		return 0, ctx.Err()
	})
	end()
	if !errors.Is(readErr, context.Canceled) {
		t.Errorf("the early read saw %v, want it cancelled", readErr)
	}
	if !cleaned {
		t.Error("end returned before the clean-up ran")
	}
	if cleanErr != nil {
		t.Errorf("the clean-up ran with a dead context: %v", cleanErr)
	}
	// Work handed to an ended run runs at once, and is not lost.
	ran := false
	Go(ctx, func() { ran = true })
	if !ran {
		t.Error("Go after the end did not run its function")
	}
	// A read asked for after the end reaches nothing.
	var late Read[int]
	if _, err := late.Get(ctx, func(ctx context.Context) (int, error) { return 1, ctx.Err() }); !errors.Is(err, context.Canceled) {
		t.Errorf("a read after the end ran with a live context: %v", err)
	}
}

// TestReadOutlivesItsCaller: within a run, the caller that started a read
// giving up does not stop it; another waiter gets its answer.
func TestReadOutlivesItsCaller(t *testing.T) {
	ctx, end := WithBackground(context.Background())
	defer end()
	var r Read[int]
	release := make(chan struct{})
	read := func(ctx context.Context) (int, error) {
		select {
		case <-release:
			return 7, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	first, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.Get(first, read); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled waiter: %v", err)
	}
	close(release)
	if v, err := r.Get(ctx, read); v != 7 || err != nil {
		t.Errorf("the read went on: got %d %v, want 7", v, err)
	}
}
