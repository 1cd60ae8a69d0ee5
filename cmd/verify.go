package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/wizard"
)

// VerifyOptions are byob verify's flag values and dependencies.
type VerifyOptions struct {
	*Factory
	Config      providers.Config
	ConfigFile  string
	Output      string
	Timeout     time.Duration
	Propagation time.Duration
	// AccessKeyID is GrowthLoop's key on a setup without a bundle (made
	// by hand): its age and state are checked.
	AccessKeyID string
	// Given reports the flags the user set: the others come from the state
	// file.
	Given func(flag string) bool
}

// DefaultVerifyTimeout bounds a whole verify run.
const DefaultVerifyTimeout = 5 * time.Minute

// NewCmdVerify builds `byob verify`. runF, when set, runs instead of
// runVerify.
func NewCmdVerify(f *Factory, runF func(context.Context, *VerifyOptions) error) *cobra.Command {
	o := &VerifyOptions{Factory: f}
	c := &cobra.Command{
		Use:   "verify",
		Short: "Check, live, that a setup is in place and works",
		Long: `verify checks everything GrowthLoop depends on, without changing anything:
the bucket's settings, the IAM policy, role and trust, the Snowflake
integration, grants and stage, and that the bundle's key can write, read and
list under the prefix (and, on S3, nothing outside it).

The setup is read from the state file byob init wrote (--state) and the
bundle. init's flags override what the state file says, or describe a
setup that has none (one made by hand, or from byob render's code); the
defaults shown are for that case. Each failure comes with the command
that fixes it.

Exit codes: 0 every check passed (warnings allowed), 1 a check failed or
could not run, 2 usage error.`,
		Example: `  byob verify
  byob verify --state prod/byob-state.json --bundle prod/growthloop-byob-bundle.json
  byob verify --output json --timeout 2m   # for CI`,
	}
	bindSetup(c, f, providers.Reads, &o.Config, &o.ConfigFile, &o.Given, func(ctx context.Context) error {
		if runF != nil {
			return runF(ctx, o)
		}
		return runVerify(ctx, o)
	})
	fs := c.Flags()
	fs.DurationVar(&o.Propagation, "propagation-timeout", runenv.DefaultPropagationTimeout, "how long to wait for a new access key to work")
	fs.DurationVar(&o.Timeout, "timeout", DefaultVerifyTimeout, "bound on the whole run; checks still running then are reported as not run")
	fs.StringVar(&o.Output, "output", "text", "output format: text or json")
	fs.StringVar(&o.AccessKeyID, "access-key-id", "", "GrowthLoop's access key on a setup without a bundle (s3): its age and state are checked")
	addConnectFlags(c, f)
	return c
}

func runVerify(ctx context.Context, o *VerifyOptions) error {
	bad := checkRunFlags(o.Factory, o.Output, o.Propagation)
	if o.Timeout <= 0 {
		bad = append(bad, providers.InvalidValue{Flag: "--timeout", Value: o.Timeout.String(), Rule: "must be positive"})
	}
	if len(bad) > 0 {
		return &providers.UsageError{Invalid: bad}
	}
	cfg, state, err := stateSetup(o.Config, o.Given)
	if err != nil {
		return err
	}
	if err := state.NotDestroyed("verify", wizard.InitCommand(cfg)); err != nil {
		return err
	}
	env := o.env(false)
	providers.Defaults(&cfg, env)
	if err := cfg.Validate(); err != nil {
		if ue, ok := err.(*providers.UsageError); ok && state.Inputs == nil && (o.Given("state") || !setupGiven(o.Given)) {
			ue.Msg = fmt.Sprintf("no setup recorded in %s: pass --state of a setup made by byob init, or describe the setup with init's flags", cfg.State)
		}
		return err
	}
	if err := checkFiles(&cfg); err != nil {
		return err
	}
	bundle, err := wizard.ReadBundle(cfg.Bundle)
	if err != nil {
		return err
	}
	values := providers.NewValues(state.Values)
	if o.AccessKeyID != "" {
		values.Set(providers.GrowthLoopsKey, o.AccessKeyID)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	conns, closeConns, err := o.Open(ctx, &cfg, env)
	if err != nil {
		return err
	}
	defer closeConns()
	connected := connecting(o.IO, o.Output, false, &cfg, conns)
	defer connected()
	var r Reporter = &textReporter{io: o.IO}
	if o.Output == "json" {
		r = newJSONReporter(o.IO, "byob verify")
	}
	rep, err := wizard.Verify(ctx, cfg, wizard.Deps{Conns: conns}, values, bundle, wizard.VerifyOptions{
		Propagation: runenv.Propagation{Timeout: o.Propagation},
		OnWait:      func(_, msg string) { connected(); r.Waiting(msg) },
		OnPreflight: func(wizard.Preflight) { connected() },
	})
	connected()
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return fmt.Errorf("verify stopped by --timeout %s: %w", o.Timeout, err)
		}
		return err
	}
	if err := r.Checks(rep); err != nil {
		return err
	}
	if !rep.OK {
		return &checksFailed{checksSummary(rep)}
	}
	return nil
}

// checksFailed is a verify run in which a check failed or could not run:
// exit code 1.
type checksFailed struct{ summary string }

func (e *checksFailed) Error() string { return "verify: " + e.summary }
