package runenv

import (
	"context"
	"errors"
	"testing"
	"time"
)

// counter is a read that counts how often it is made.
type counter struct{ n int }

func (c *counter) read(val int, err error) func(context.Context) (int, error) {
	return func(context.Context) (int, error) { c.n++; return val, err }
}

// TestReadsAreTheRuns: within a run a request is made once, whichever
// step's run (Of, With, Ahead) asks; another request, another run, and a
// step's reads after its Forget are made anew; a shared read survives a
// step's Forget.
func TestReadsAreTheRuns(t *testing.T) {
	ctx := context.Background()
	bg := NewBackground()
	defer bg.End()
	run := NewRun(bg, Hooks{})
	a, b := run.Of("a"), run.Of("b")
	var c counter
	for _, r := range []*Run{a, a.Ahead(), a.With(Hooks{Report: func(string) {}})} {
		if v, err := Read(ctx, r, "get x", c.read(1, nil)); v != 1 || err != nil {
			t.Fatalf("read = %d, %v", v, err)
		}
	}
	if c.n != 1 {
		t.Errorf("one request of one step made %d times", c.n)
	}
	_, _ = Read(ctx, a, "get y", c.read(2, nil))
	_, _ = Read(ctx, b, "get x", c.read(3, nil))
	_, _ = Read(ctx, NewRun(bg, Hooks{}).Of("a"), "get x", c.read(4, nil))
	if c.n != 4 {
		t.Errorf("another request, step or run: %d reads, want 4", c.n)
	}
	var shared counter
	_, _ = Shared(ctx, a, "grants", shared.read(5, nil))
	if v, _ := Shared(ctx, b, "grants", shared.read(6, nil)); v != 5 || shared.n != 1 {
		t.Errorf("a shared read: got %d after %d reads, want 5 after 1", v, shared.n)
	}
	a.Forget()
	if v, _ := Read(ctx, a, "get x", c.read(7, nil)); v != 7 {
		t.Errorf("after Forget, a's read answered %d, want a new read", v)
	}
	if v, _ := Read(ctx, b, "get x", c.read(8, nil)); v != 3 {
		t.Errorf("a's Forget dropped b's read: %d", v)
	}
	if _, _ = Shared(ctx, a, "grants", shared.read(9, nil)); shared.n != 1 {
		t.Error("a's Forget dropped the shared read")
	}
	run.ForgetAll()
	if v, _ := Read(ctx, b, "get x", c.read(10, nil)); v != 10 {
		t.Errorf("after ForgetAll, b's read answered %d", v)
	}
}

// TestAFailedReadAheadIsMadeAgain: a read made ahead of the step's turn
// that failed is made again in the turn; one that failed in the turn is
// the answer. Held answers with what was asked, and says what was not.
func TestAFailedReadAheadIsMadeAgain(t *testing.T) {
	ctx := context.Background()
	bg := NewBackground()
	defer bg.End()
	r := NewRun(bg, Hooks{}).Of("s")
	denied := errors.New("denied")
	var c counter
	if _, err := Read(ctx, r.Ahead(), "get", c.read(0, denied)); !errors.Is(err, denied) {
		t.Fatalf("ahead: %v", err)
	}
	if _, ok, err := Held[int](ctx, r, "get"); !ok || !errors.Is(err, denied) {
		t.Errorf("Held = %v, %v; want the failed read", ok, err)
	}
	if v, err := Read(ctx, r, "get", c.read(1, nil)); v != 1 || err != nil || c.n != 2 {
		t.Errorf("in the turn: %d, %v after %d reads; want a new read", v, err, c.n)
	}
	_, _ = Read(ctx, r, "other", c.read(0, denied))
	if _, err := Read(ctx, r, "other", c.read(2, nil)); !errors.Is(err, denied) || c.n != 3 {
		t.Errorf("a failure in the turn was read again: %v, %d reads", err, c.n)
	}
	if _, ok, _ := Held[int](ctx, r, "never"); ok {
		t.Error("Held found a read nobody asked for")
	}
	// A nil of an interface type is an answer, not a panic.
	if v, err := Read(ctx, r, "nil", func(context.Context) (error, error) { return nil, nil }); v != nil || err != nil {
		t.Errorf("nil answer: %v, %v", v, err)
	}
}

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
