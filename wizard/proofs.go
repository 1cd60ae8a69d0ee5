package wizard

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
)

// proofs are init's proofs (providers.Probe.Proof). Each starts as soon as
// the steps it needs are done, beside the rest of the run (the access
// key's wait for IAM, say), and is reported as a step of its own once the
// bundle is written; a failure is the run's.
type proofs struct {
	ctx    context.Context
	bg     *runenv.Background
	cancel context.CancelFunc
	mu     sync.Mutex // the fields below, and every call of emit
	emit   func(Event)
	list   []*proof
}

type proof struct {
	providers.Probe
	waiting  map[string]bool // the steps it needs that are not done
	started  time.Time       // zero until it runs
	reported bool            // report emitted its start
	lastWait string          // its last progress message before that
	result   chan providers.CheckResult
}

// startProofs makes init's proofs and starts those that need no step of
// the plan; onEvent starts the others.
func startProofs(ctx context.Context, bg *runenv.Background, plan *Plan, cfg Config, values *providers.Values, deps Deps, onEvent func(Event)) *proofs {
	p := &proofs{bg: bg, emit: func(Event) {}}
	p.ctx, p.cancel = context.WithCancel(ctx)
	if onEvent != nil {
		p.emit = onEvent
	}
	ss := setups(&cfg, values, deps)
	for _, pv := range cfg.Active() {
		s := ss[pv.Name()]
		s.Bundle, s.Now, s.ReRun = &Bundle{}, time.Now(), "re-run "+InitCommand(cfg)
		for _, probe := range pv.Probes(s) {
			if !probe.Proof {
				continue
			}
			pf := &proof{Probe: probe, waiting: map[string]bool{}, result: make(chan providers.CheckResult, 1)}
			for _, id := range probe.Needs {
				if _, ok := plan.graph.Node(id); ok {
					pf.waiting[id] = true
				}
			}
			p.list = append(p.list, pf)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pf := range p.list {
		if len(pf.waiting) == 0 {
			p.start(pf)
		}
	}
	return p
}

// onEvent passes the run's event on and starts the proofs whose steps are
// now all done.
func (p *proofs) onEvent(e Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.emit(e)
	if e.Kind != EventApplied && e.Kind != EventInPlace {
		return
	}
	for _, pf := range p.list {
		delete(pf.waiting, e.Step)
		if len(pf.waiting) == 0 && pf.started.IsZero() {
			p.start(pf)
		}
	}
}

// start runs pf; p.mu is held.
func (p *proofs) start(pf *proof) {
	pf.started = time.Now()
	r := runenv.NewRun(p.bg, runenv.Hooks{Report: func(msg string) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if pf.reported {
			p.emit(Event{Step: pf.ID, Title: pf.Title, Kind: EventWait, Detail: msg, Elapsed: time.Since(pf.started)})
		} else {
			pf.lastWait = msg
		}
	}})
	r.Go(func() { pf.result <- pf.Run(p.ctx, r) })
}

// report waits for each proof in turn (starting any still waiting: its
// steps are done once the run succeeded) and reports it.
func (p *proofs) report() ([]string, error) {
	var proved []string
	for _, pf := range p.list {
		p.mu.Lock()
		if pf.started.IsZero() {
			p.start(pf)
		}
		pf.reported = true
		ev := func(kind EventKind, detail string) {
			p.emit(Event{Step: pf.ID, Title: pf.Title, Kind: kind, Detail: detail, Elapsed: time.Since(pf.started)})
		}
		ev(EventStart, "")
		if pf.lastWait != "" {
			ev(EventWait, pf.lastWait)
		}
		p.mu.Unlock()
		res := <-pf.result
		p.mu.Lock()
		if res.Status != providers.Pass {
			err := &StepError{Step: pf.ID, Title: pf.Title, Err: fmt.Errorf("%s; %s", res.Detail, res.Remedy)}
			ev(EventFailed, err.Error())
			p.mu.Unlock()
			return proved, err
		}
		ev(EventProved, res.Detail)
		p.mu.Unlock()
		proved = append(proved, pf.Title)
	}
	return proved, nil
}

// stop ends the proofs still running (the run failed).
func (p *proofs) stop() { p.cancel() }
