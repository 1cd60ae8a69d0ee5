package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/growthloop/byob/internal/safetext"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/wizard"
	"github.com/growthloop/byob/wizard/form"
)

// InitOptions are byob init's flag values and dependencies.
type InitOptions struct {
	*Factory
	Config          providers.Config
	ConfigFile      string
	DryRun          bool
	Yes             bool
	Force           bool
	ResetExternalID bool
	Adopt, Prune    bool
	Output          string
	Propagation     time.Duration
	Accessible      bool
	// Given reports the flags the user set (command line, environment,
	// config file): the form does not ask them.
	Given func(flag string) bool
}

const initLong = `init creates everything GrowthLoop needs to export to your own bucket, in
one pass that is safe to re-run: a re-run resumes after a failure and
changes nothing when the setup is complete.

--dry-run prints every step and the exact documents and SQL it would apply,
without credentials or network access.

Every flag can also be set with an environment variable BYOB_FLAG_NAME
(--ttl-days: BYOB_TTL_DAYS) or a key of the YAML file given with --config.`

// NewCmdInit builds `byob init`. runF, when set, runs instead of runInit
// (tests check the options a command line makes).
func NewCmdInit(f *Factory, runF func(context.Context, *InitOptions) error) *cobra.Command {
	return newCmdInit(f, providers.Creates, runF)
}

// newCmdInit builds init's command, with the flags' help for a command
// of use u.
func newCmdInit(f *Factory, u providers.Use, runF func(context.Context, *InitOptions) error) *cobra.Command {
	o := &InitOptions{Factory: f}
	c := &cobra.Command{
		Use:   "init",
		Short: "Create the bucket, IAM and Snowflake objects GrowthLoop exports to",
		Long:  initLong,
		Example: `  byob init --provider s3 --bucket acme-growthloop-exports --region us-east-1 \
    --warehouse snowflake --org-id 1234 --snowflake-database ANALYTICS \
    --growthloop-role GROWTHLOOP --dry-run

  byob init --provider gcs --bucket acme-growthloop-exports \
    --gcp-project acme-data --location US --dry-run --output json`,
	}
	bindSetup(c, f, u, &o.Config, &o.ConfigFile, &o.Given, func(ctx context.Context) error {
		if runF != nil {
			return runF(ctx, o)
		}
		return runInit(ctx, o)
	})
	fs := c.Flags()
	fs.DurationVar(&o.Propagation, "propagation-timeout", runenv.DefaultPropagationTimeout, "how long to wait for new IAM users, keys and roles to work")
	fs.StringVar(&o.Output, "output", "text", "output format: text or json")
	addConnectFlags(c, f)
	fs.BoolVar(&o.Accessible, "accessible", false, "ask line by line, for screen readers (also TERM=dumb)")
	fs.BoolVar(&o.DryRun, "dry-run", false, "print the plan and change nothing (needs no credentials)")
	fs.BoolVar(&o.Yes, "yes", false, "apply without asking for confirmation")
	fs.BoolVar(&o.Force, "force", false, "overwrite an existing bundle file that is not this setup's")
	fs.BoolVar(&o.Adopt, "adopt", false, "take over a setup made by hand under the names given (--policy-name …): repair it in place, keep the key GrowthLoop holds, create nothing that exists")
	fs.BoolVar(&o.Prune, "prune", false, "also remove what a setup made by hand holds beyond byob's documents: policy statements of your own, project-level grants")
	fs.BoolVar(&o.ResetExternalID, "reset-external-id", false, "give an existing storage integration a new external ID (and the role's trust); upload the new bundle to GrowthLoop afterwards")
	return c
}

// NewCmdPlan builds `byob plan`, which is byob init --dry-run.
func NewCmdPlan(f *Factory, runF func(context.Context, *InitOptions) error) *cobra.Command {
	c := newCmdInit(f, providers.Plans, func(ctx context.Context, o *InitOptions) error {
		o.DryRun = true
		if runF != nil {
			return runF(ctx, o)
		}
		return runInit(ctx, o)
	})
	c.Use = "plan"
	c.Short = "Print the plan of init without changing anything (init --dry-run)"
	c.Long = `plan is byob init --dry-run: it prints every step and artifact, reaches no
cloud and needs no credentials. It takes init's flags; those that say how
to reach the clouds (--profile, --snowflake-*) are not listed, and go into
the init command it prints.`
	c.Example = ""
	// A dry run changes and reaches nothing (the connection flags are
	// hidden with the fields).
	for _, name := range []string{"dry-run", "yes", "force", "reset-external-id", "adopt", "prune", "propagation-timeout", "connect-timeout", "snowflake-timeout", "verbose"} {
		_ = c.Flags().MarkHidden(name)
	}
	return c
}

// answered are the flags the form's command lines spell out even at their
// default: the warehouse, whose answer decides what else is asked.
var answered = []string{"warehouse"}

func runInit(ctx context.Context, o *InitOptions) (err error) {
	io := o.IO
	if bad := checkRunFlags(o.Factory, o.Output, o.Propagation); len(bad) > 0 {
		return &providers.UsageError{Invalid: bad}
	}
	cfg := o.Config
	env := o.env(o.DryRun)
	providers.Defaults(&cfg, env)
	// A terminal is needed only for the form: without one, what is missing
	// is a usage error below.
	asked := io.CanPrompt() && o.Output == "text" && len(cfg.Missing()) > 0
	fo := formOptions(io, o.Accessible)
	var conns map[string]providers.Conn
	closeConns := func() {}
	defer func() { closeConns() }()
	if asked {
		// Whatever stops the run once answers were given, they are not
		// lost: the command line that gives them again, and the dry run
		// that needs no credentials. The warehouse is spelled out even
		// when none: the form would ask it again.
		unanswered := initCommandLine(cfg)
		defer func() {
			if err != nil && initCommandLine(cfg) != unanswered {
				err = &afterError{err, fmt.Sprintf("\nYour answers as a command line (it asks only what is missing):\n  %s\nThe plan needs no credentials:\n  %s --dry-run\n",
					initCommandLine(cfg, answered...), wizard.InitCommand(cfg, answered...))}
			}
		}()
		a := form.Answers{Config: &cfg, Given: o.Given, DryRun: o.DryRun, Env: env, Reach: func(ctx context.Context) (err error) {
			conns, closeConns, err = reach(ctx, o, cfg)
			return err
		}}
		if err := form.Ask(ctx, a, fo); err != nil {
			return err
		}
		providers.Defaults(&cfg, env)
	}
	if err := cfg.ValidateNew(); err != nil {
		return err
	}
	if err := checkFiles(&cfg); err != nil {
		return err
	}
	warn(io, cfg.Warnings())
	if !o.DryRun {
		if !o.Yes && o.Output == "json" {
			return providers.Usagef("--output json is for machines, which cannot answer a question: pass --yes to apply, or --dry-run to print the plan")
		}
		if !o.Yes && !io.CanPrompt() {
			return providers.Usagef("not a terminal, so byob cannot ask before changing your cloud: pass --yes to apply, or --dry-run to print the plan")
		}
		// One run at a time changes a setup; the lock is taken before the
		// state file is read and held until the end.
		lock, err := wizard.LockState(cfg.State, "byob init")
		if err != nil {
			return err
		}
		defer lock.Unlock()
		wizard.RemoveTemps(cfg)
	}
	state, values, err := wizard.Prepare(cfg)
	if err != nil {
		return err
	}
	if asked {
		// After the plan and the run, where it does not scroll away.
		defer func() {
			if err == nil {
				fmt.Fprintf(io.Out, "\nThe same setup without questions:\n  %s\n", commandLine(cfg, o.DryRun, answered...))
			}
		}()
	}
	tui := io.CanPrompt() && o.Output == "text" && !fo.Accessible
	if o.DryRun {
		plan, err := wizard.NewPlan(cfg, values, wizard.Deps{})
		if err != nil {
			return err
		}
		if asked && tui {
			if err := reviewPlan(ctx, io, plan, true); err != nil {
				return err
			}
		}
		return printPlan(io, o.Output, plan)
	}
	return apply(ctx, o, cfg, conns, state, values, tui, fo)
}

// reach connects to cfg's clouds and asks each who byob acts as there,
// showing what it reaches while it waits, and then who.
func reach(ctx context.Context, o *InitOptions, cfg providers.Config) (map[string]providers.Conn, func(), error) {
	conns, closeConns, err := o.Open(ctx, &cfg, o.env(false))
	if err != nil {
		return nil, func() {}, err
	}
	connected := connecting(o.IO, "text", o.Accessible, &cfg, conns)
	active := cfg.Active()
	ids, errs := make([]providers.Identity, len(active)), make([]error, len(active))
	var wg sync.WaitGroup
	for i, p := range active {
		wg.Go(func() {
			ids[i], errs[i] = conns[p.Name()].Preflight(ctx, providers.Setup{Config: &cfg, Values: providers.NewValues(nil)}, providers.ChangeAccess)
		})
	}
	wg.Wait()
	connected()
	if err := errors.Join(errs...); err != nil {
		closeConns()
		return nil, func() {}, err
	}
	for _, id := range ids {
		o.IO.println(safetext.String(id.Summary))
	}
	return conns, closeConns, nil
}

// apply connects (unless conns are open), asks (unless --yes), applies
// and reports.
func apply(ctx context.Context, o *InitOptions, cfg providers.Config, conns map[string]providers.Conn, state *wizard.State, values *providers.Values, tui bool, fo form.Options) error {
	io := o.IO
	connected := func() {} // the form's reach said it connects
	if conns == nil {
		var closeConns func()
		var err error
		if conns, closeConns, err = o.Open(ctx, &cfg, o.env(false)); err != nil {
			return err
		}
		defer closeConns()
		connected = connecting(o.IO, o.Output, o.Accessible, &cfg, conns)
	}
	defer connected()
	// Ctrl-C in the checklist (a key in raw mode) and SIGINT alike stop the
	// run after the running steps.
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	opts := wizard.ApplyOptions{Force: o.Force, ResetExternalID: o.ResetExternalID, Adopt: o.Adopt, Prune: o.Prune, Propagation: runenv.Propagation{Timeout: o.Propagation}}
	if !o.Yes {
		opts.Confirm = func(plan *wizard.Plan) error {
			if tui {
				return reviewPlan(ctx, io, plan, false)
			}
			if err := printPlan(io, "text", plan); err != nil {
				return err
			}
			return form.Confirm(ctx, "Apply this plan?", "", fo)
		}
		opts.ConfirmDrift = func(s providers.Step, obs providers.Observation) error {
			reason := safetext.String(obs.Reason)
			err := form.Confirm(ctx, s.Title()+": change it as shown?", reason, fo)
			if errors.Is(err, wizard.ErrCancelled) {
				return fmt.Errorf("left as it is (%s); re-run with --yes to reconcile it: %w", reason, wizard.ErrCancelled)
			}
			return err
		}
	}
	var r Reporter = &textReporter{io: io, accessible: o.Accessible}
	switch {
	case o.Output == "json":
		r = newJSONReporter(io, "byob init")
	case tui:
		tr := newTUIReporter(io)
		review := opts.Confirm
		opts.Confirm = func(plan *wizard.Plan) error {
			if review != nil {
				if err := review(plan); err != nil {
					return err
				}
			}
			tr.start(ctx, plan, stop)
			return nil
		}
		if drift := opts.ConfirmDrift; drift != nil {
			opts.ConfirmDrift = func(s providers.Step, obs providers.Observation) error {
				defer tr.pause()()
				return drift(s, obs)
			}
		}
		r = tr
	}
	opts.OnPreflight = func(pf wizard.Preflight) { connected(); r.Preflight(pf) }
	opts.OnEvent = r.Event
	out, err := wizard.Apply(runCtx, cfg, wizard.Deps{Conns: conns, Random: o.Rand}, state, values, opts)
	connected()
	if runCtx.Err() != nil && err != nil {
		err = fmt.Errorf("stopped after the running steps: %w", wizard.ErrCancelled)
	}
	if !out.Started && o.Output != "json" {
		return err // nothing began: the error says why
	}
	r.Done(RunOutcome{Outcome: out, Err: err, Bundle: cfg.Bundle, State: cfg.State, Resume: commandLine(cfg, false)})
	return err
}

// formOptions are how the questions of one run are asked: line by line
// when accessible, in colour when the terminal allows it.
func formOptions(io *IOStreams, accessible bool) form.Options {
	fo := form.Options{Accessible: io.Accessible(accessible), In: io.In, Out: io.UIOut(), Plain: !io.ColorEnabled()}
	if fo.Accessible {
		fo.In = form.Lines(io.In)
	}
	return fo
}

func printPlan(io *IOStreams, output string, plan *wizard.Plan) error {
	if output == "json" {
		enc := json.NewEncoder(io.Out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(plan.Doc())
	}
	return renderPlan(io.Out, plan)
}
