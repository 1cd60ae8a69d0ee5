// Package providertest runs one provider's steps in its own package's
// tests, as the engine would, without the engine. Only tests import it.
package providertest

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/render/plan"
	"github.com/growthloop/byob/render/terraform"
)

// ByID are steps by their ID.
func ByID(steps []providers.Step) map[string]providers.Step {
	out := map[string]providers.Step{}
	for _, s := range steps {
		out[s.ID()] = s
	}
	return out
}

// Check runs s's Check in run r, as the step's own; an error fails the
// test.
func Check(t testing.TB, r *runenv.Run, s providers.Step, v *providers.Values) providers.Observation {
	t.Helper()
	obs, err := s.Check(context.Background(), r.Of(s.ID()), v)
	if err != nil {
		t.Fatalf("check %s: %v", s.ID(), err)
	}
	return obs
}

// Apply runs s's Apply in run r, as the step's own, then drops the step's
// reads as the engine does; an error fails the test.
func Apply(t testing.TB, r *runenv.Run, s providers.Step, v *providers.Values) {
	t.Helper()
	r = r.Of(s.ID())
	err := s.Apply(context.Background(), r, v)
	r.Forget()
	if err != nil {
		t.Fatalf("apply %s: %v", s.ID(), err)
	}
}

// Converge runs steps as byob init does, each in a new run from run: the
// gates first, then each step's Check in plan order, recording what a
// missing step makes as byob's (unless adopted) and applying each step
// not done. It returns what each check saw; an error fails the test.
func Converge(t testing.TB, run func() *runenv.Run, steps []providers.Step, v *providers.Values) map[string]providers.Observation {
	t.Helper()
	for _, s := range steps {
		if g, ok := s.(providers.Gate); ok {
			if err := g.Gate(context.Background(), run().Of(s.ID()), v); err != nil {
				t.Fatalf("gate %s: %v", s.ID(), err)
			}
		}
	}
	seen := map[string]providers.Observation{}
	for _, s := range steps {
		obs := Check(t, run(), s, v)
		seen[s.ID()] = obs
		if obs.Status == providers.Missing && v.Get(providers.AdoptedKey(s.ID())) == "" {
			v.Set(providers.CreatedKey(s.ID()), "true")
		}
		if obs.Status != providers.Done {
			Apply(t, run(), s, v)
		}
	}
	return seen
}

// Prefetch runs ahead the Check of each step that reads before its
// turn, on a copy of v, as the engine does beside the preflight, and
// waits for it.
func Prefetch(r *runenv.Run, steps []providers.Step, v *providers.Values) {
	for _, s := range steps {
		if e, ok := s.(providers.ReadsEarly); ok && e.ReadsEarly(v) {
			_, _ = s.Check(context.Background(), r.Of(s.ID()).Ahead(), providers.NewValues(v.Map()))
		}
	}
}

// Probe runs the probe id of probes in a run of its own, and waits for
// its clean-ups; no such probe fails the test.
func Probe(t testing.TB, probes []providers.Probe, id string) providers.CheckResult {
	t.Helper()
	for _, p := range probes {
		if p.ID == id {
			bg := runenv.NewBackground()
			defer bg.End()
			return p.Run(context.Background(), runenv.NewRun(bg, runenv.Hooks{}))
		}
	}
	t.Fatalf("no probe %s", id)
	return providers.CheckResult{}
}

// MustContain fails the test for each of wants that got (what it is)
// does not contain.
func MustContain(t testing.TB, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s %q does not say %q", what, got, w)
		}
	}
}

// Recorder is what a provider's steps tell their runner, as the engine
// hears it: the values at each checkpoint, each wait, each count.
type Recorder struct {
	mu          sync.Mutex
	checkpoints []map[string]string
	reports     []string
	counted     [][2]int
}

// Run is a run environment in bg that records into rec; a checkpoint
// records v as it is then.
func (rec *Recorder) Run(bg *runenv.Background, v *providers.Values) *runenv.Run {
	return runenv.NewRun(bg, runenv.Hooks{
		Checkpoint: func() error {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			rec.checkpoints = append(rec.checkpoints, v.Map())
			return nil
		},
		Report: func(msg string) {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			rec.reports = append(rec.reports, msg)
		},
		Count: func(_ string, done, total int) {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			rec.counted = append(rec.counted, [2]int{done, total})
		},
	})
}

// Checkpoints are the values at each checkpoint so far.
func (rec *Recorder) Checkpoints() []map[string]string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.checkpoints)
}

// Reports are the waits reported so far.
func (rec *Recorder) Reports() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.reports)
}

// Counted are the counts (done, total) reported so far.
func (rec *Recorder) Counted() [][2]int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.counted)
}

// Model is the plan byob render reads of p's part of setup s, with no
// connection: the values known set, and each unknown one of refs a
// reference, as render builds it.
func Model(p providers.Provider, s providers.Setup, known *providers.Values, refs map[providers.Key]string) *plan.Model {
	v := providers.NewValues(known.Map())
	for k, expr := range refs {
		if v.Get(k) == "" {
			v.Set(k, plan.Ref(expr))
		}
	}
	s.Conn, s.Values = nil, v
	m := &plan.Model{Config: *s.Config, Artifacts: map[string][]providers.Artifact{}}
	for _, st := range p.Steps(s) {
		m.Steps = append(m.Steps, st.ID())
		m.Artifacts[st.ID()] = st.Artifacts(v)
	}
	return m
}

// Terraform is r's part of the Terraform module of m, every step of m
// made (as byob render --state writes it): the module, and its files by
// path. An error fails the test.
func Terraform(t testing.TB, r terraform.Renderer, m *plan.Model, refs map[providers.Key]string, known *providers.Values) (*terraform.Module, map[string]string) {
	t.Helper()
	made := map[string]bool{}
	for _, id := range m.Steps {
		made[id] = true
	}
	mod := terraform.New(m, refs, known, made)
	if err := r.Terraform(mod); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range mod.Files() {
		files[f.Path] = f.Content
	}
	return mod, files
}
