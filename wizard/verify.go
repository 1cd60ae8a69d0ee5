package wizard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/growthloop/byob/graph"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
)

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// Propagation bounds the wait for a new key to work.
	Propagation runenv.Propagation
	// Now is the time key ages are measured at; time.Now when zero.
	Now time.Time
	// OnWait is told why a check waits (a new key propagating), as it
	// waits. It may be called from several goroutines at once.
	OnWait func(checkID, msg string)
	// OnPreflight is told what preflight found, before the checks end.
	OnPreflight func(Preflight)
}

// CheckReport is one check's outcome, as byob verify prints it.
type CheckReport struct {
	ID     string                `json:"id"`
	Title  string                `json:"title"`
	Status providers.CheckStatus `json:"status"`
	Detail string                `json:"detail"`
	Remedy string                `json:"remedy,omitempty"`

	stands bool
}

// Report is every check of a verify run. OK is true when no check failed
// or could not run (warnings are OK).
type Report struct {
	OK     bool          `json:"ok"`
	Checks []CheckReport `json:"checks"`
}

// verifyNode is a check and the checks it waits for.
type verifyNode struct {
	check providers.Check
	needs []string
}

func (n verifyNode) ID() string      { return n.check.ID }
func (n verifyNode) Needs() []string { return n.needs }

// Verify checks, live and without changing anything, that the setup cfg
// describes is in place and works: every step of its plan is observed
// (Done passes; missing or different fails with the fix), then the
// providers' probes prove the key and the warehouse reach the bucket.
// Checks run concurrently; a check whose prerequisite is missing is
// reported as not run. The error is for what stops every check (no
// credentials, preflight).
func Verify(ctx context.Context, cfg Config, deps Deps, values *providers.Values, bundle *Bundle, o VerifyOptions) (Report, error) {
	deps.Propagation = o.Propagation
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if bundle == nil {
		bundle = &Bundle{}
	}
	plan, err := NewPlan(cfg, values, deps)
	if err != nil {
		return Report{}, err
	}
	reRun := "re-run " + InitCommand(cfg)
	var nodes []verifyNode
	for _, s := range plan.Steps {
		if provedByUse(s) {
			continue // a probe checks it by using it
		}
		nodes = append(nodes, verifyNode{check: stepCheck(s, values, reRun), needs: s.Needs()})
	}
	ss := setups(&cfg, values, deps)
	for _, p := range cfg.Active() {
		s := ss[p.Name()]
		s.Bundle, s.Now, s.ReRun = bundle, o.Now, reRun
		for _, probe := range p.Probes(s) {
			nodes = append(nodes, verifyNode{check: probe.Check, needs: probe.Needs})
		}
	}
	if old := values.Get(providers.RotationOldKey); old != "" {
		nodes = append(nodes, verifyNode{check: rotationCheck(cfg, values, old)})
	}
	g, err := graph.New(nodes)
	if err != nil {
		return Report{}, fmt.Errorf("verify's checks: %w", err)
	}
	// The steps' reads and the checks that need nothing found first start
	// beside the preflight; the report waits for the preflight, and for
	// the probes' clean-up. A run stopped at the preflight stops them.
	bg := runenv.NewBackground()
	defer bg.End()
	// Checks record nothing; their waits are told to OnWait.
	run := runenv.NewRun(bg, runenv.Hooks{})
	rn := newRunner(ctx, run, nil, values, func(e Event) {
		if e.Kind == EventWait && o.OnWait != nil {
			o.OnWait(e.Step, e.Detail)
		}
	})
	plan.prefetch(ctx, run, provedByUse) // only the steps verify checks
	for _, n := range nodes {
		if n.check.Start != nil {
			n.check.Start(ctx, rn.env(n.check.ID, n.check.Title, time.Now()))
		}
	}
	// Read access is enough: a check whose own read is denied says so.
	if _, err := preflight(ctx, &cfg, deps, values, providers.ReadAccess, o.OnPreflight); err != nil {
		return Report{}, err
	}
	return runChecks(ctx, rn, g), nil
}

// provedByUse reports whether verify leaves step s to a probe, which
// proves it by using what it made (a key).
func provedByUse(s providers.Step) bool {
	p, ok := s.(providers.ProvedByUse)
	return ok && p.ProvedByUse()
}

// runChecks runs every check once the checks it needs have finished; a
// check whose prerequisite failed or could not be checked is not run.
// Unlike a step, a check sees the run's cancellation (verify --timeout).
func runChecks(ctx context.Context, rn *runner, g *graph.Graph[verifyNode]) Report {
	results := graph.Run(ctx, g, parallelism, func(ctx context.Context, n verifyNode, before []CheckReport) CheckReport {
		r := CheckReport{ID: n.check.ID, Title: n.check.Title}
		// What a check proves rests on what it needs: a check whose
		// prerequisite failed, or could not run, is not checked (a key
		// refused everywhere is also refused outside the prefix), unless
		// what it rests on stands (CheckResult.Stands).
		for _, b := range before {
			if b.Status == providers.Unknown || (b.Status == providers.Fail && !b.stands) {
				r.Status, r.Detail = providers.Unknown, "not checked: "+b.Title+" did not pass"
				return r
			}
		}
		res := n.check.Run(ctx, rn.env(n.check.ID, n.check.Title, time.Now()))
		if ctx.Err() != nil && res.Status != providers.Pass {
			res = providers.CannotRun(fmt.Errorf("timed out: %w", ctx.Err()), "raise --timeout and re-run byob verify")
		}
		r.Status, r.Detail, r.Remedy, r.stands = res.Status, res.Detail, res.Remedy, res.Stands
		return r
	})
	rep := Report{OK: true, Checks: results}
	for _, r := range results {
		if r.Status == providers.Fail || r.Status == providers.Unknown {
			rep.OK = false
		}
	}
	return rep
}

// CheckRotation is the check of a key rotation that was started and not
// finished.
const CheckRotation = "key-rotation"

// rotationCheck warns of a rotation that keeps the old key old, naming the
// command that finishes it.
func rotationCheck(cfg Config, v *providers.Values, old string) providers.Check {
	return providers.Check{ID: CheckRotation, Title: "No key rotation is left half done", Run: func(context.Context, *runenv.Run) providers.CheckResult {
		since := v.Get(providers.RotationStarted)
		if cfg.BucketProvider().Keys(&cfg).Delivered() == old {
			return providers.Warned("run byob rotate-keys to finish its first phase",
				"a key rotation started %s has not made the new key yet; the bundle still holds %s", since, old)
		}
		return providers.Warned("upload the new bundle in GrowthLoop (Settings > Organization > Storage), then run byob rotate-keys --finish",
			"a key rotation started %s is not finished: the old key %s is still active", since, old)
	}}
}

// stepCheck turns a plan step's Check into a health check: Done passes,
// Missing and Drifted fail with the fix (only a drift lets what depends
// on the step be checked), a Mismatch (a bucket elsewhere) fails, and any
// other error means the check could not run.
func stepCheck(s providers.Step, v *providers.Values, reRun string) providers.Check {
	return providers.Check{ID: s.ID(), Title: verifyTitle(s), Run: func(ctx context.Context, r *runenv.Run) providers.CheckResult {
		obs, err := s.Check(ctx, r, v)
		var mm *providers.Mismatch
		switch {
		case errors.As(err, &mm):
			// It is elsewhere (another region, another account): what
			// depends on it cannot be checked here.
			return providers.Failed("see the detail: "+reRun+" with the right flags", "%v", err)
		case err != nil:
			return providers.CannotRun(err, "grant byob's caller read access to it and re-run byob verify")
		case obs.Status == providers.Done && obs.Warning != "":
			return providers.Warned("review it: byob leaves it in place", "%s", obs.Warning)
		case obs.Status == providers.Done:
			if obs.Reason != "" {
				return providers.Passed("%s", obs.Reason)
			}
			return providers.Passed("as expected")
		case obs.Status == providers.Missing:
			detail := "missing; byob init would: " + s.Title()
			if obs.Reason != "" {
				detail = "missing: " + obs.Reason
			}
			return providers.Failed(reRun, "%s", detail)
		}
		remedy := reRun
		for _, a := range obs.Fix {
			remedy += ", or run: " + strings.Join(strings.Fields(a.Content), " ")
		}
		res := providers.Failed(remedy, "%s", obs.Reason)
		res.Stands = true
		return res
	}}
}

// verifyTitle says what a step's check proves.
func verifyTitle(s providers.Step) string {
	if v, ok := s.(interface{ VerifyTitle() string }); ok {
		return v.VerifyTitle()
	}
	return s.Title()
}

// InitCommand is the byob init command line that makes (or restores) the
// setup cfg describes: --provider, then every setup flag whose value is not
// its default, and those of always whatever their value, in name order.
func InitCommand(cfg Config, always ...string) string {
	// What the flags default to; a default derived from other inputs (the
	// integration's name) as it derives for this setup.
	def := Config{Provider: cfg.Provider, Warehouse: cfg.Warehouse, TTLDays: providers.DefaultTTLDays}
	def.ApplyDefaults()
	def.Warehouse = providers.WarehouseNone
	fields := setupFields(&cfg)
	sort.Slice(fields, func(i, j int) bool { return fields[i].Flag < fields[j].Flag })
	parts := []string{"byob init --provider " + cfg.Provider}
	for _, f := range fields {
		val := f.String(&cfg)
		if f.Flag == "provider" || val == "" || val == f.String(&def) && !slices.Contains(always, f.Flag) {
			continue
		}
		parts = append(parts, "--"+f.Flag+" "+ShellQuote(val))
	}
	if cfg.AllowUnknownRegion && len(cfg.Warnings()) > 0 {
		parts = append(parts, providers.AllowUnknownRegionFlag) // a region byob does not know
	}
	return strings.Join(parts, " ")
}

// ShellQuote quotes s for a POSIX shell when it needs it.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@=,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
