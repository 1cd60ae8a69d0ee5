package runenv

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// TestEndStopsTheRunsBackground: a read nobody waited for is cancelled by
// the run's end, a clean-up it leaves runs with a live context, and End
// returns only once both are done.
func TestEndStopsTheRunsBackground(t *testing.T) {
	ctx := context.Background()
	bg := NewBackground()
	run := NewRun(bg, Hooks{})
	// End's wait orders these writes before the reads below.
	var (
		readErr, cleanErr error
		cleaned           bool
	)
	Start(ctx, run, "slow", func(ctx context.Context) (int, error) {
		<-ctx.Done() // a read under way when the run stops
		readErr = ctx.Err()
		run.Cleanup(ctx, func(ctx context.Context) {
			time.Sleep(20 * time.Millisecond)
			cleanErr, cleaned = ctx.Err(), true
		})
		return 0, ctx.Err()
	})
	bg.End()
	if !errors.Is(readErr, context.Canceled) {
		t.Errorf("the early read saw %v, want it cancelled", readErr)
	}
	if !cleaned {
		t.Error("End returned before the clean-up ran")
	}
	if cleanErr != nil {
		t.Errorf("the clean-up ran with a dead context: %v", cleanErr)
	}
	// Work handed to an ended run runs at once, and is not lost.
	ran := false
	run.Go(func() { ran = true })
	if !ran {
		t.Error("Go after the end did not run its function")
	}
	// A read asked for after the end reaches nothing.
	if _, err := Read(ctx, run, "late", func(ctx context.Context) (int, error) { return 1, ctx.Err() }); !errors.Is(err, context.Canceled) {
		t.Errorf("a read after the end ran with a live context: %v", err)
	}
}

// TestEndWaitsForWork: End returns only once the work handed to Go is
// done, whichever step's run handed it.
func TestEndWaitsForWork(t *testing.T) {
	bg := NewBackground()
	a, b := NewRun(bg, Hooks{}), NewRun(bg, Hooks{})
	var done [2]bool
	a.Go(func() { time.Sleep(20 * time.Millisecond); done[0] = true })
	b.Go(func() { time.Sleep(10 * time.Millisecond); done[1] = true })
	bg.End()
	if !done[0] || !done[1] {
		t.Errorf("End returned before the work was done: %v", done)
	}
}

// TestRunReachesItsRunner: what a step checkpoints, reports and counts
// through its run reaches the hooks its runner gave, and a wait of Poll
// is reported there.
func TestRunReachesItsRunner(t *testing.T) {
	bg := NewBackground()
	defer bg.End()
	var (
		saves   int
		reports []string
		counts  [][2]int
	)
	r := NewRun(bg, Hooks{
		Checkpoint: func() error { saves++; return nil },
		Report:     func(msg string) { reports = append(reports, msg) },
		Count:      func(what string, done, total int) { counts = append(counts, [2]int{done, total}) },
	})
	if err := r.Checkpoint(); err != nil || saves != 1 {
		t.Errorf("Checkpoint: %v, %d saves, want 1", err, saves)
	}
	r.Count("objects deleted", 3, 5)
	if !slices.Equal(counts, [][2]int{{3, 5}}) {
		t.Errorf("Count reached %v, want 3 of 5", counts)
	}
	tries := 0
	err := Propagation{Initial: time.Millisecond}.Poll(context.Background(), r, "waiting for IAM", func(context.Context) error {
		if tries++; tries < 2 {
			return ErrNotYet
		}
		return nil
	})
	if err != nil || len(reports) != 1 || reports[0] != "waiting for IAM (0s so far)" {
		t.Errorf("Poll: %v, reported %q", err, reports)
	}
	// A failed save is the step's error.
	failing := NewRun(bg, Hooks{Checkpoint: func() error { return errors.New("disk full") }})
	if err := failing.Checkpoint(); err == nil {
		t.Error("a failed save was not returned")
	}
}

// TestReadOutlivesItsCaller: within a run, the caller that started a read
// giving up does not stop it; another waiter gets its answer.
func TestReadOutlivesItsCaller(t *testing.T) {
	ctx := context.Background()
	bg := NewBackground()
	defer bg.End()
	run := NewRun(bg, Hooks{})
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
	if _, err := Read(first, run, "r", read); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled waiter: %v", err)
	}
	close(release)
	if v, err := Read(ctx, run, "r", read); v != 7 || err != nil {
		t.Errorf("the read went on: got %d %v, want 7", v, err)
	}
}

// TestNilRunIsNotANoOp: a runner that passes no run fails loudly, where a
// context without a checkpoint used to save nothing silently.
func TestNilRunIsNotANoOp(t *testing.T) {
	var r *Run
	defer func() {
		if recover() == nil {
			t.Error("Checkpoint on a nil run returned")
		}
	}()
	_ = r.Checkpoint()
}
