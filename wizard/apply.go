package wizard

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/aws"
	"github.com/growthloop/byob/providers/gcp"
	"github.com/growthloop/byob/snowflake"
)

// Connections say how to reach the clouds.
type Connections struct {
	AWSProfile string
	Snowflake  snowflake.ConnOptions
	// LookupEnv reads gcloud's endpoint overrides.
	LookupEnv func(string) (string, bool)
}

// Open connects to what cfg needs. close releases the connections.
func Open(ctx context.Context, cfg *Config, conn Connections) (deps Deps, close func(), err error) {
	close = func() {}
	if cfg.Snowflake() {
		sfCfg, err := conn.Snowflake.Config()
		if err != nil {
			return deps, close, Usagef("%v", err)
		}
		db, err := snowflake.Open(ctx, sfCfg)
		if err != nil {
			return deps, close, err
		}
		deps.Snowflake, close = db, func() { db.Close() }
	}
	switch cfg.Provider {
	case ProviderS3:
		// The S3 calls name the bucket's region themselves: it may only be
		// known after preflight.
		deps.AWS, err = aws.Connect(ctx, conn.AWSProfile, cfg.Region)
	case ProviderGCS:
		deps.GCP, _, err = gcp.Connect(ctx, conn.LookupEnv)
	}
	if err != nil {
		close()
		return deps, func() {}, err
	}
	return deps, close, nil
}

// Preflight is what byob learned before changing anything.
type Preflight struct {
	Region    string // the bucket's region or location, maybe from Snowflake's
	Caller    aws.Caller
	Snowflake snowflake.Session
	Warnings  []string
}

// RunPreflight checks the connections work and who they act as, records
// the account id, and defaults the region from the Snowflake account's
// when cfg has none. On Google Cloud it checks the caller has gcpAccess
// to the project. It changes nothing in any cloud.
func RunPreflight(ctx context.Context, cfg *Config, deps Deps, values *providers.Values, gcpAccess gcp.Access) (Preflight, error) {
	var pf Preflight
	if cfg.Snowflake() {
		s, err := snowflake.CurrentSession(ctx, deps.Snowflake)
		if err != nil {
			return pf, err
		}
		pf.Snowflake = s
		flag, where, cloud := "--region", &cfg.Region, "AWS"
		if cfg.Provider == ProviderGCS {
			flag, where, cloud = "--location", &cfg.Location, "GCP"
		}
		sfRegion, sameCloud := snowflake.CloudRegion(s.Region, cloud)
		switch {
		case *where == "" && !sameCloud:
			return pf, Usagef("missing required flags: %s (the Snowflake account is in %s, not on %s)", flag, s.Region, cloud)
		case *where == "":
			*where = sfRegion
		case sameCloud && !strings.EqualFold(*where, sfRegion):
			pf.Warnings = append(pf.Warnings, fmt.Sprintf("the bucket's region %s differs from the Snowflake account's %s: unloads across regions cost data transfer", *where, sfRegion))
		}
	}
	if cfg.Provider == ProviderS3 {
		if err := aws.ValidateRegion(cfg.Region); err != nil {
			return pf, &UsageError{Invalid: []InvalidValue{{Flag: "--region", Value: cfg.Region, Rule: err.Error()}}}
		}
		values.Set(providers.AWSRegion, cfg.Region)
		pf.Region = cfg.Region
		recorded := values.Get(providers.AWSAccountID)
		caller, err := aws.Preflight(ctx, deps.AWS, values)
		if err != nil {
			return pf, err
		}
		pf.Caller = caller
		if recorded != "" && recorded != caller.AccountID {
			values.Set(providers.AWSAccountID, recorded)
			return pf, Usagef("%s records a setup in AWS account %s, but the credentials reach account %s (%s): use credentials of account %s (--profile or AWS_PROFILE), or pass another --state",
				cfg.State, recorded, caller.AccountID, caller.ARN, recorded)
		}
	}
	if cfg.Provider == ProviderGCS {
		if err := gcp.ValidateLocation(cfg.Location); err != nil {
			return pf, &UsageError{Invalid: []InvalidValue{{Flag: "--location", Value: cfg.Location, Rule: err.Error()}}}
		}
		values.Set(gcp.GCSLocation, cfg.Location)
		pf.Region = cfg.Location
		if err := gcp.Preflight(ctx, deps.GCP, cfg.GCPProject, gcpAccess); err != nil {
			return pf, err
		}
	}
	return pf, nil
}

// WithIdentities returns ctx carrying who runs (for error messages that
// name the denied caller or role).
func (pf Preflight) WithIdentities(ctx context.Context) context.Context {
	return snowflake.WithRole(aws.WithCaller(ctx, pf.Caller.ARN), pf.Snowflake.Role)
}

// Outcome is what Apply did.
type Outcome struct {
	Result
	Preflight     Preflight
	BundleWritten bool
	// Pending is the file that keeps a new key's secret when the run
	// stopped before the bundle could hold it; "" when there is none.
	Pending string
}

// Prepare loads the state file for cfg and the values it holds, refusing
// a state file of another setup. It reads only local files, so it runs
// before any connection (and in a dry run).
func Prepare(cfg Config) (*State, *providers.Values, error) {
	state, err := LoadState(cfg.State)
	if err != nil {
		return nil, nil, err
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
	Propagation     providers.Propagation
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
// key's secret waits in a 0600 file beside the bundle until the run
// finishes; only a finished run writes the bundle.
func Apply(ctx context.Context, cfg Config, deps Deps, state *State, values *providers.Values, o ApplyOptions) (Outcome, error) {
	var out Outcome
	pf, err := RunPreflight(ctx, &cfg, deps, values, gcp.Operator)
	out.Preflight = pf
	if err != nil {
		return out, err
	}
	if o.OnPreflight != nil {
		o.OnPreflight(pf)
	}
	if err := checkTargets(cfg, values, o.Force); err != nil {
		return out, err
	}
	deps.Propagation = o.Propagation
	deps.ResetExternalID = o.ResetExternalID
	plan, err := NewPlan(cfg, values, deps)
	if err != nil {
		return out, err
	}
	if o.Confirm != nil {
		if err := o.Confirm(plan); err != nil {
			return out, err
		}
	}
	state.Inputs = &cfg
	if err := state.Record("", StepState{}, values); err != nil {
		return out, err
	}
	res, err := Run(pf.WithIdentities(ctx), plan, state, o.OnEvent, o.ConfirmDrift)
	out.Result = res
	if err != nil {
		if _, statErr := os.Stat(PendingPath(cfg.Bundle)); statErr == nil {
			out.Pending = PendingPath(cfg.Bundle)
		}
		return out, err
	}
	out.BundleWritten, err = deliver(cfg, values)
	return out, err
}
