package wizard

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
)

// Open connects each of cfg's providers. close releases the connections.
func Open(ctx context.Context, cfg *Config, env providers.Env) (conns map[string]providers.Conn, close func(), err error) {
	conns = map[string]providers.Conn{}
	close = func() {
		for _, c := range conns {
			c.Close()
		}
	}
	active := cfg.Active()
	// What the environment says is checked before anything is reached.
	var bad []providers.InvalidValue
	for _, p := range active {
		if ec, ok := p.(providers.EnvChecker); ok {
			bad = append(bad, ec.CheckEnv(env)...)
		}
	}
	if len(bad) > 0 {
		return nil, func() {}, &providers.UsageError{Invalid: bad}
	}
	// The warehouse first: preflight reads its region before the bucket's.
	for i := len(active) - 1; i >= 0; i-- {
		p := active[i]
		c, err := p.Connect(ctx, cfg, env)
		if err != nil {
			close()
			return nil, func() {}, err
		}
		conns[p.Name()] = c
	}
	return conns, close, nil
}

// Preflight is what byob learned before changing anything.
type Preflight struct {
	Region     string // the bucket's region or location, maybe the warehouse's
	Identities []providers.Identity
	Warnings   []string
}

// RunPreflight checks the connections work and who they act as, and
// records what the plan needs (the account id). The providers' preflights
// run at once: neither needs the other's answer. Without a region for the
// bucket it takes the warehouse's, when the warehouse runs on the bucket's
// cloud. It changes nothing in any cloud.
func RunPreflight(ctx context.Context, cfg *Config, deps Deps, values *providers.Values, access providers.Access) (Preflight, error) {
	var pf Preflight
	bp, wh := cfg.BucketProvider(), cfg.WarehouseProvider()
	where, _ := providers.Lookup(bp.Location())
	ss := setups(cfg, values, deps)
	var (
		bucketID, whID   providers.Identity
		bucketErr, whErr error
		wg               sync.WaitGroup
	)
	wg.Go(func() { bucketID, bucketErr = deps.Conns[bp.Name()].Preflight(ctx, ss[bp.Name()], access) })
	if wh != nil {
		wg.Go(func() { whID, whErr = deps.Conns[wh.Name()].Preflight(ctx, ss[wh.Name()], access) })
	}
	wg.Wait()
	if err := errors.Join(whErr, bucketErr); err != nil {
		return pf, firstUsage(err)
	}
	if wh != nil {
		cloud := bp.Storage(cfg).Cloud
		region, sameCloud := whID.RegionIn(cloud)
		switch loc := where.String(cfg); {
		case loc == "" && !sameCloud:
			return pf, providers.Usagef("missing required flags: --%s (the %s account is in %s, not on %s)", where.Flag, wh.Title(), whID.Region, strings.ToUpper(cloud))
		case loc == "" && region == "":
			return pf, providers.Usagef("missing required flags: --%s (the %s account's region %s is not one byob knows the %s name of)", where.Flag, wh.Title(), whID.Region, strings.ToUpper(cloud))
		case loc == "":
			_ = where.Set(cfg, region)
		case sameCloud && region != "" && !strings.EqualFold(loc, region):
			pf.Warnings = append(pf.Warnings, fmt.Sprintf("the bucket's region %s differs from the %s account's %s: unloads across regions cost data transfer", loc, wh.Title(), region))
		}
	}
	// The location may come from the warehouse: check it as its flag.
	if bad := bp.Validate(cfg); len(bad) > 0 {
		return pf, &providers.UsageError{Invalid: bad}
	}
	if p, ok := bp.(providers.Placer); ok {
		var w *providers.Identity
		var title string
		if wh != nil {
			w, title = &whID, wh.Title()
		}
		if err := p.CheckPlacement(cfg, values, w, title); err != nil {
			return pf, err
		}
	}
	pf.Region = where.String(cfg)
	values.Set(bp.LocationKey(), pf.Region)
	bucketID.Summary += fmt.Sprintf(", bucket %s %s", where.Flag, pf.Region)
	// The bucket's cloud comes first, as the plan does.
	pf.Identities = []providers.Identity{bucketID}
	if wh != nil {
		pf.Identities = append(pf.Identities, whID)
	}
	for _, id := range pf.Identities {
		pf.Warnings = append(pf.Warnings, id.Warnings...)
	}
	return pf, nil
}

// firstUsage returns the usage error among errs (a joined error), which
// says what the user must change; else errs.
func firstUsage(errs error) error {
	var ue *providers.UsageError
	if errors.As(errs, &ue) {
		return ue
	}
	if j, ok := errs.(interface{ Unwrap() []error }); ok && len(j.Unwrap()) == 1 {
		return j.Unwrap()[0]
	}
	return errs
}

// Outcome is what Apply did.
type Outcome struct {
	Result
	Preflight Preflight
	// Started says the run began: the state file records it.
	Started       bool
	BundleWritten bool
	// Pending is the file that keeps a new key's secret when the run
	// stopped before the bundle could hold it; "" when there is none.
	Pending string
	// Proved are the titles of the checks that proved the setup works.
	Proved []string
}

// Prepare loads the state file for cfg and the values it holds, refusing
// a state file of another setup. It reads only local files, so it runs
// before any connection (and in a dry run).
func Prepare(cfg Config) (*State, *providers.Values, error) {
	state, err := LoadState(cfg.State)
	if err != nil {
		return nil, nil, err
	}
	if d := state.Destroyed; d != nil && len(d.Kept) == 0 && state.Matches(cfg) != nil {
		// The setup was destroyed and nothing of it kept: the file may
		// start another. One that kept something (a bucket byob made is
		// still byob's) stays that setup's.
		state = newState(cfg.State)
	}
	if err := state.Matches(cfg); err != nil {
		return nil, nil, err
	}
	return state, providers.NewValues(state.Values), nil
}

// ApplyOptions tune Apply.
type ApplyOptions struct {
	Force bool // overwrite a bundle that is not this setup's
	// ResetExternalID gives an existing integration a new external ID.
	ResetExternalID bool
	// Adopt takes over a setup made by hand; Prune removes what it holds
	// beyond byob's documents (providers.Setup).
	Adopt, Prune bool
	Propagation  runenv.Propagation
	// OnPreflight is told what preflight found, before the plan is shown.
	OnPreflight func(Preflight)
	// Confirm is asked before the first change; an error stops the run
	// (ErrCancelled for "no"). Nil applies without asking.
	Confirm func(*Plan) error
	// ConfirmDrift is asked before something that exists but differs is
	// changed (an integration with another external ID); nil changes it.
	ConfirmDrift func(providers.Step, providers.Observation) error
	// OnEvent receives progress, one event at a time.
	OnEvent func(Event)
}

// Apply runs preflight, builds the plan with live connections, asks to
// confirm, runs it, and writes the bundle. The state file records the
// inputs before the first change, and every change as it is made. A new
// key's secret waits in a 0600 file until the run finishes; only a
// finished run writes the bundle.
func Apply(ctx context.Context, cfg Config, deps Deps, state *State, values *providers.Values, o ApplyOptions) (Outcome, error) {
	bg := runenv.NewBackground()
	defer bg.End()
	// The run: the plan's look ahead and its gates read in it, and the
	// steps' turns answer from those reads.
	run := runenv.NewRun(bg, runenv.Hooks{})
	var out Outcome
	deps.Propagation = o.Propagation
	deps.ResetExternalID = o.ResetExternalID
	deps.Adopt, deps.Prune = o.Adopt, o.Prune
	// The plan is built, and its steps start their reads, beside the
	// preflight: reads change nothing, and a run that stops at the
	// preflight cancels them (its background's End).
	plan, err := NewPlan(cfg, values, deps)
	if err != nil {
		return out, err
	}
	plan.prefetch(ctx, run, nil)
	pf, err := preflight(ctx, &cfg, deps, values, providers.ChangeAccess, o.OnPreflight)
	out.Preflight = pf
	if err != nil {
		return out, err
	}
	if before, now := cfg.BucketProvider().Storage(&plan.Config), cfg.BucketProvider().Storage(&cfg); before.Service != now.Service || before.Scheme != now.Scheme {
		// The location the preflight found is in another partition than
		// the plan assumed: its ARNs and URLs change with it.
		if plan, err = NewPlan(cfg, values, deps); err != nil {
			return out, err
		}
		run.ForgetAll()
		plan.prefetch(ctx, run, nil)
	}
	plan.Config = cfg // with the location the preflight found
	if !o.Force {
		if err := checkTargets(cfg, values); err != nil {
			return out, err
		}
	}
	if err := plan.settle(ctx, run); err != nil {
		return out, err
	}
	if o.Confirm != nil {
		if err := o.Confirm(plan); err != nil {
			return out, err
		}
	}
	// The setup's inputs are written behind: every creation saves the
	// whole state first anyway. A destroyed setup is made anew.
	state.Inputs, state.Destroyed = InputsOf(cfg), nil
	state.Record("", StepState{}, values)
	out.Started = true
	pr := startProofs(ctx, bg, plan, cfg, values, deps, o.OnEvent)
	defer pr.stop()
	res, err := Run(ctx, run, plan, state, pr.onEvent, o.ConfirmDrift)
	out.Result = res
	if err != nil {
		out.Pending = cfg.BucketProvider().Keys(&cfg).PendingFile()
		return out, err
	}
	if out.BundleWritten, err = deliver(cfg, values, deps); err != nil {
		return out, err
	}
	out.Proved, err = pr.report()
	return out, err
}
