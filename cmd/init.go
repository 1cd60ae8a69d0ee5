package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"

	"github.com/growthloop/byob/internal/safetext"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/aws"
	"github.com/growthloop/byob/providers/gcp"
	"github.com/growthloop/byob/wizard"
	"github.com/growthloop/byob/wizard/form"
)

// initOptions are byob init's flag values.
type initOptions struct {
	cfg        wizard.Config
	conn       wizard.Connections
	configFile string
	dryRun     bool
	yes        bool
	force      bool
	// resetExternalID gives an existing integration a new external ID.
	resetExternalID bool
	output          string
	propagation     time.Duration
	accessible      bool
	// given reports the flags the user set; the form does not ask them.
	given func(flag string) bool
}

// newInitCmd builds `byob init`, or `byob plan` (init --dry-run) when plan
// is true.
func newInitCmd(streams *IOStreams, plan bool) *cobra.Command {
	o := &initOptions{}
	c := &cobra.Command{
		Use:   "init",
		Short: "Create the bucket, IAM and Snowflake objects GrowthLoop exports to",
		Long: `init creates everything GrowthLoop needs to export to your own bucket, in
one pass that is safe to re-run: a re-run resumes after a failure and
changes nothing when the setup is complete.

--dry-run prints every step and the exact documents and SQL it would apply,
without credentials or network access.

Every flag can also be set with an environment variable BYOB_<FLAG>
(--ttl-days: BYOB_TTL_DAYS) or a key of the YAML file given with --config.`,
		Example: `  byob init --provider s3 --bucket acme-growthloop-exports --region us-east-1 \
    --warehouse snowflake --org-id 1234 --snowflake-database ANALYTICS \
    --growthloop-role GROWTHLOOP --dry-run

  byob init --provider gcs --bucket acme-growthloop-exports \
    --gcp-project acme-data --location US --dry-run --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindSources(cmd.Flags(), streams.LookupEnv); err != nil {
				return err
			}
			if plan {
				o.dryRun = true
			}
			o.given = cmd.Flags().Changed
			return runInit(cmd.Context(), streams, o)
		},
	}
	if plan {
		c.Use = "plan"
		c.Short = "Print the plan of init without changing anything (init --dry-run)"
		c.Long = "plan is byob init --dry-run: it prints every step and artifact and needs no credentials."
		c.Example = ""
	}
	f := c.Flags()
	addSetupFlags(f, &o.cfg)
	f.StringVar(&o.configFile, "config", "", "YAML file whose keys are flag names")
	addConnectionFlags(f, &o.conn, &o.propagation)
	f.BoolVar(&o.force, "force", false, "overwrite an existing bundle file that is not this setup's")
	f.BoolVar(&o.resetExternalID, "reset-external-id", false, "give an existing storage integration a new external ID (and the role's trust); upload the new bundle to GrowthLoop afterwards")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the plan and change nothing (needs no credentials)")
	f.BoolVar(&o.yes, "yes", false, "apply without asking for confirmation")
	f.StringVar(&o.output, "output", "text", "output format: text or json")
	f.BoolVar(&o.accessible, "accessible", false, "ask line by line, for screen readers (also TERM=dumb)")
	if plan {
		_ = f.MarkHidden("dry-run")
	}
	return c
}

func runInit(ctx context.Context, streams *IOStreams, o *initOptions) error {
	if o.output != "text" && o.output != "json" {
		return &wizard.UsageError{Invalid: []wizard.InvalidValue{{Flag: "--output", Value: o.output, Rule: `must be "text" or "json"`}}}
	}
	cfg := o.cfg
	defaults := func() {
		cfg.ApplyDefaults()
		if cfg.Provider == wizard.ProviderGCS && cfg.GCPProject == "" {
			cfg.GCPProject = gcp.DefaultProject(ctx, streams.LookupEnv, !o.dryRun)
		}
	}
	defaults()
	// A terminal is needed only for the form: without one, what is missing
	// is a usage error below.
	asked := streams.Interactive && o.output == "text" && len(cfg.Missing()) > 0
	fo := o.formOptions(streams)
	if asked {
		if err := askSetup(ctx, streams, o, &cfg, fo); err != nil {
			return err
		}
		defaults()
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := validateConnection(o.conn, o.propagation); err != nil {
		return err
	}
	if !o.dryRun {
		if !o.yes && !streams.Interactive {
			return wizard.Usagef("not a terminal, so byob cannot ask before changing your cloud: pass --yes to apply, or --dry-run to print the plan")
		}
		if !o.yes && o.output == "json" {
			return wizard.Usagef("--output json is for machines, which cannot answer a question: pass --yes to apply, or --dry-run to print the plan")
		}
		// One run at a time changes a setup; the lock is taken before the
		// state file is read and held until the end.
		lock, err := wizard.LockState(cfg.State, "byob init")
		if err != nil {
			return err
		}
		defer lock.Unlock()
		wizard.RemoveTemps(cfg.State, cfg.Bundle, wizard.PendingPath(cfg.Bundle), cfg.KeyFile)
	}
	state, values, err := wizard.Prepare(cfg)
	if err != nil {
		return err
	}
	if asked {
		fmt.Fprintf(streams.Out, "The same setup without questions:\n  %s\n\n", commandLine(cfg, o.conn, o.dryRun))
	}
	tui := streams.Interactive && o.output == "text" && !fo.Accessible
	if o.dryRun {
		plan, err := wizard.NewPlan(cfg, values, wizard.Deps{})
		if err != nil {
			return err
		}
		if asked && tui {
			if err := reviewPlan(ctx, streams, plan, true); err != nil {
				return err
			}
		}
		return printPlan(streams, o.output, plan)
	}
	deps, closeConns, err := streams.connect(ctx, &cfg, o.conn)
	if err != nil {
		return err
	}
	defer closeConns()
	deps.Random = streams.Rand
	opts := wizard.ApplyOptions{Force: o.force, ResetExternalID: o.resetExternalID, Propagation: providers.Propagation{Timeout: o.propagation}}
	if !o.yes {
		opts.Confirm = func(plan *wizard.Plan) error {
			if tui {
				return reviewPlan(ctx, streams, plan, false)
			}
			if err := printPlan(streams, "text", plan); err != nil {
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
	resume := commandLine(cfg, o.conn, false)
	if tui {
		return applyLive(ctx, streams, cfg, deps, state, values, opts, resume)
	}
	ui := newProgress(streams, o.output)
	opts.OnPreflight = func(pf wizard.Preflight) { ui.preflight(safePreflight(pf)) }
	opts.OnEvent = func(e wizard.Event) { ui.event(safeEvent(e)) }
	out, err := wizard.Apply(ctx, cfg, deps, state, values, opts)
	ui.summary(cfg, out, err, resume)
	return err
}

// formOptions are how the questions of one run are asked: line by line
// with --accessible (BYOB_ACCESSIBLE=1) or on a terminal that cannot draw
// a form (TERM=dumb), when accessible prompts share one line reader.
func (o *initOptions) formOptions(streams *IOStreams) form.Options {
	_, noColor := streams.LookupEnv("NO_COLOR")
	term, _ := streams.LookupEnv("TERM")
	fo := form.Options{Accessible: o.accessible || term == "dumb", In: streams.In, Out: streams.Out, Plain: noColor || term == "dumb"}
	if fo.Accessible {
		fo.In = form.Lines(streams.In)
	}
	return fo
}

// askSetup runs the form for what the flags did not give.
func askSetup(ctx context.Context, streams *IOStreams, o *initOptions, cfg *wizard.Config, fo form.Options) error {
	o.conn.Snowflake.LookupEnv = streams.LookupEnv
	src := form.Sources{
		AWSProfiles:          func() ([]string, error) { return aws.Profiles(streams.LookupEnv) },
		SnowflakeConnections: o.conn.Snowflake.ConnectionNames,
		GCPProject:           func() string { return gcp.DefaultProject(ctx, streams.LookupEnv, !o.dryRun) },
	}
	a := form.Answers{Config: cfg, Conn: &o.conn, Given: o.given, DryRun: o.dryRun}
	return form.Ask(ctx, a, src, fo)
}

// applyLive applies with the live checklist; Ctrl-C stops after the
// running steps. It ends with a summary box.
func applyLive(ctx context.Context, streams *IOStreams, cfg wizard.Config, deps wizard.Deps, state *wizard.State, values *providers.Values, opts wizard.ApplyOptions, resume string) error {
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var p *tea.Program
	done := make(chan error, 1)
	opts.OnPreflight = func(pf wizard.Preflight) { newProgress(streams, "text").preflight(safePreflight(pf)) }
	review := opts.Confirm
	opts.Confirm = func(plan *wizard.Plan) error {
		if review != nil {
			if err := review(plan); err != nil {
				return err
			}
		}
		p = tea.NewProgram(newChecklist(plan, stop), tea.WithContext(ctx), tea.WithInput(streams.In), tea.WithOutput(streams.Out))
		go func() { _, err := p.Run(); done <- err }()
		return nil
	}
	opts.OnEvent = func(e wizard.Event) { p.Send(eventMsg(safeEvent(e))) }
	if drift := opts.ConfirmDrift; drift != nil {
		opts.ConfirmDrift = func(s providers.Step, obs providers.Observation) error {
			_ = p.ReleaseTerminal()
			defer p.RestoreTerminal()
			return drift(s, obs)
		}
	}
	out, err := wizard.Apply(runCtx, cfg, deps, state, values, opts)
	if p != nil {
		p.Send(runDone{})
		<-done
	}
	if runCtx.Err() != nil && err != nil {
		err = fmt.Errorf("stopped after the running steps: %w", wizard.ErrCancelled)
	}
	var lines []string
	if out.BundleWritten {
		lines = append(lines, fmt.Sprintf("Bundle: %s (mode 0600; keep it private)", cfg.Bundle))
	}
	switch {
	case err != nil && p == nil:
		return err // nothing started: the error says why
	case err != nil:
		lines = append(lines, "Stopped. What finished is recorded in "+cfg.State+".")
		if out.Pending != "" {
			lines = append(lines, "The new key's secret waits in "+out.Pending+" (mode 0600) until a run finishes.")
		}
	case len(out.Applied) == 0:
		lines = append(lines, "Everything was already in place; nothing changed.", "Next: "+nextStep+".")
	default:
		lines = append(lines, fmt.Sprintf("Created: %s applied, %d already in place.", plural(len(out.Applied), "change"), len(out.InPlace)), "Next: "+nextStep+".", "Check it any time: byob verify")
	}
	summaryBox(streams.Out, lines...)
	if err != nil {
		// Outside the box, so it copies cleanly.
		fmt.Fprintf(streams.Out, "Resume with:\n  %s\n", resume)
	}
	return err
}

// commandLine is the byob init command that makes the same setup without
// questions.
func commandLine(cfg wizard.Config, conn wizard.Connections, dryRun bool) string {
	parts := []string{wizard.InitCommand(cfg)}
	sc := conn.Snowflake
	port := ""
	if sc.Port != 0 {
		port = fmt.Sprint(sc.Port)
	}
	for _, f := range []struct{ flag, value string }{
		{"profile", conn.AWSProfile}, {"snowflake-connection", sc.Connection}, {"snowflake-account", sc.Account},
		{"snowflake-user", sc.User}, {"snowflake-role", sc.Role}, {"snowflake-warehouse", sc.Warehouse},
		{"snowflake-authenticator", sc.Authenticator}, {"snowflake-private-key-file", sc.PrivateKeyFile},
		{"snowflake-host", sc.Host}, {"snowflake-port", port}, {"snowflake-protocol", sc.Protocol},
	} {
		if f.value != "" {
			parts = append(parts, "--"+f.flag+" "+wizard.ShellQuote(f.value))
		}
	}
	if dryRun {
		return strings.Join(append(parts, "--dry-run"), " ")
	}
	return strings.Join(append(parts, "--yes"), " ")
}

func printPlan(streams *IOStreams, output string, plan *wizard.Plan) error {
	if output == "json" {
		enc := json.NewEncoder(streams.Out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(plan.Doc())
	}
	return renderPlan(streams.Out, plan.Doc())
}

// validateConnection checks the connection flags before any network call.
func validateConnection(conn wizard.Connections, propagation time.Duration) error {
	var bad []wizard.InvalidValue
	sc := conn.Snowflake
	if sc.Port < 0 || sc.Port > 65535 {
		bad = append(bad, wizard.InvalidValue{Flag: "--snowflake-port", Value: fmt.Sprint(sc.Port), Rule: "must be a port number 1-65535"})
	}
	switch sc.Protocol {
	case "", "http", "https":
	default:
		bad = append(bad, wizard.InvalidValue{Flag: "--snowflake-protocol", Value: sc.Protocol, Rule: `must be "https" or "http"`})
	}
	switch strings.ToLower(sc.Authenticator) {
	case "", "snowflake", "externalbrowser", "snowflake_jwt", "oauth":
	default:
		bad = append(bad, wizard.InvalidValue{Flag: "--snowflake-authenticator", Value: sc.Authenticator, Rule: "must be snowflake, externalbrowser, snowflake_jwt or oauth"})
	}
	if propagation <= 0 {
		bad = append(bad, wizard.InvalidValue{Flag: "--propagation-timeout", Value: propagation.String(), Rule: "must be positive"})
	}
	if len(bad) > 0 {
		return &wizard.UsageError{Invalid: bad}
	}
	return nil
}
