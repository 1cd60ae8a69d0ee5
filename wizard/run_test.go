package wizard

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
)

// fakeStep is a step whose Apply blocks until released.
type fakeStep struct {
	providers.Basic
	started chan struct{}
	release chan struct{}
	mu      sync.Mutex
	applied bool
}

func newFakeStep(id string, needs ...string) *fakeStep {
	return &fakeStep{Basic: providers.Basic{StepID: id, StepTitle: id, StepNeeds: needs},
		started: make(chan struct{}, 1), release: make(chan struct{})}
}

func (s *fakeStep) Artifacts(*providers.Values) []providers.Artifact { return nil }
func (s *fakeStep) Check(context.Context, *runenv.Run, *providers.Values) (providers.Observation, error) {
	return providers.Observation{Status: providers.Missing}, nil
}
func (s *fakeStep) Apply(ctx context.Context, _ *runenv.Run, v *providers.Values) error {
	s.started <- struct{}{}
	<-s.release
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applied = true
	v.Set(providers.Key{Name: s.StepID}, "done")
	return ctx.Err()
}
func (s *fakeStep) Teardown(context.Context, *providers.Values) (providers.Teardown, error) {
	return providers.Teardown{}, nil
}
func (s *fakeStep) Destroy(context.Context, *runenv.Run, *providers.Values) error { return nil }

func (s *fakeStep) wasApplied() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.applied
}

// newRun is a run in a background the test's end ends.
func newRun(t *testing.T) *runenv.Run {
	bg := runenv.NewBackground()
	t.Cleanup(bg.End)
	return runenv.NewRun(bg, runenv.Hooks{})
}

func testPlan(t *testing.T, steps ...providers.Step) (*Plan, *State) {
	state, err := LoadState(filepath.Join(t.TempDir(), "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := newPlan(Config{}, providers.NewValues(nil), steps)
	if err != nil {
		t.Fatal(err)
	}
	return p, state
}

// TestRunIndependentStepsConcurrently: two steps without needs both start
// before either finishes; the one that needs both starts after.
func TestRunIndependentStepsConcurrently(t *testing.T) {
	a, b, c := newFakeStep("a"), newFakeStep("b"), newFakeStep("c", "a", "b")
	p, state := testPlan(t, a, b, c)
	done := make(chan error)
	go func() { _, err := Run(context.Background(), newRun(t), p, state, nil, nil); done <- err }()
	<-a.started
	<-b.started
	select {
	case <-c.started:
		t.Fatal("c started before its needs finished")
	case <-time.After(20 * time.Millisecond):
	}
	close(a.release)
	close(b.release)
	<-c.started
	close(c.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if state.Steps["c"].Status != "done" || state.Values["c"] != "done" {
		t.Errorf("state = %+v", state)
	}
}

// TestRunCancelFinishesRunningStep: Ctrl-C lets the running step finish
// (its context is not cancelled), starts nothing new, and records it.
func TestRunCancelFinishesRunningStep(t *testing.T) {
	a, b := newFakeStep("a"), newFakeStep("b", "a")
	p, state := testPlan(t, a, b)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := Run(ctx, newRun(t), p, state, nil, nil); done <- err }()
	<-a.started
	cancel()
	close(a.release)
	err := <-done
	if !errors.Is(err, ErrCancelled) {
		t.Fatalf("Run = %v, want ErrCancelled", err)
	}
	if !a.wasApplied() || b.wasApplied() {
		t.Errorf("a applied %v (want true), b applied %v (want false)", a.wasApplied(), b.wasApplied())
	}
	reloaded, _ := LoadState(state.path)
	if reloaded.Steps["a"].Status != "done" {
		t.Errorf("the finished step must be in the state file: %+v", reloaded.Steps)
	}
}

// failStep fails its Check.
type failStep struct{ fakeStep }

func (s *failStep) Check(context.Context, *runenv.Run, *providers.Values) (providers.Observation, error) {
	return providers.Observation{}, errors.New("boom")
}

func TestRunStopsDependentsOfAFailure(t *testing.T) {
	f := &failStep{*newFakeStep("f")}
	after := newFakeStep("after", "f")
	p, state := testPlan(t, f, after)
	_, err := Run(context.Background(), newRun(t), p, state, nil, nil)
	var se *StepError
	if !errors.As(err, &se) || se.Step != "f" {
		t.Fatalf("Run = %v", err)
	}
	if after.wasApplied() || state.Steps["f"].Status != "failed" || state.Steps["f"].Error == "" {
		t.Errorf("state = %+v", state.Steps)
	}
}

// TestPlanRefusesAnUndeclaredDependency: a step that reads a value
// another step sets must need that step, or it could read it while it is
// being set.
func TestPlanRefusesAnUndeclaredDependency(t *testing.T) {
	arn := providers.Key{Name: "warehouse.arn"}
	writer := newFakeStep("integration")
	writer.Basic = writer.Basic.Writing(arn)
	reader := newFakeStep("role")
	reader.Basic = reader.Basic.Reading(arn)
	_, err := newPlan(Config{}, providers.NewValues(nil), []providers.Step{writer, reader})
	if err == nil || !strings.Contains(err.Error(), "role reads warehouse.arn, which integration sets, but does not need integration") {
		t.Fatalf("newPlan = %v", err)
	}
	reader.Basic.StepNeeds = []string{"middle"}
	middle := newFakeStep("middle", "integration")
	if _, err := newPlan(Config{}, providers.NewValues(nil), []providers.Step{writer, middle, reader}); err != nil {
		t.Errorf("a need through another step is a need: %v", err)
	}
	if _, err := newPlan(Config{}, providers.NewValues(nil), []providers.Step{newFakeStep("a", "gone")}); err == nil || !strings.Contains(err.Error(), "a needs gone") {
		t.Errorf("an unknown need: %v", err)
	}
}

// TestRunnerEndsWithEveryFailure: the run's end names every failure; a
// cancellation (a declined question) among failures is no cancellation
// of the run; alone, it is.
func TestRunnerEndsWithEveryFailure(t *testing.T) {
	denied, other := errors.New("denied"), errors.New("other")
	for _, tc := range []struct {
		errs []error
		is   []error
		not  error
	}{
		{[]error{denied}, []error{denied}, ErrCancelled},
		{[]error{denied, other}, []error{denied, other}, ErrCancelled},
		{[]error{ErrCancelled, denied}, []error{denied}, ErrCancelled},
		{[]error{ErrCancelled}, []error{ErrCancelled}, denied},
	} {
		rn := newRunner(context.Background(), newRun(t), nil, providers.NewValues(nil), nil)
		for _, err := range tc.errs {
			rn.fail(&StepError{Step: "s", Title: "s", Err: err})
		}
		err := rn.end()
		for _, want := range tc.is {
			if !errors.Is(err, want) {
				t.Errorf("%v: end() = %v, want it to be %v", tc.errs, err, want)
			}
		}
		if errors.Is(err, tc.not) {
			t.Errorf("%v: end() = %v, must not be %v", tc.errs, err, tc.not)
		}
	}
}
