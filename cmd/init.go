package cmd

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/gcp"
	"github.com/growthloop/byob/wizard"
)

// initOptions are byob init's flag values.
type initOptions struct {
	cfg         wizard.Config
	conn        wizard.Connections
	configFile  string
	dryRun      bool
	yes         bool
	force       bool
	output      string
	propagation time.Duration
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
	f.BoolVar(&o.dryRun, "dry-run", false, "print the plan and change nothing (needs no credentials)")
	f.BoolVar(&o.yes, "yes", false, "apply without asking for confirmation")
	f.StringVar(&o.output, "output", "text", "output format: text or json")
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
	cfg.ApplyDefaults()
	if cfg.Provider == wizard.ProviderGCS && cfg.GCPProject == "" {
		cfg.GCPProject = gcp.DefaultProject(ctx, streams.LookupEnv, !o.dryRun)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := validateConnection(o.conn, o.propagation); err != nil {
		return err
	}
	state, values, err := wizard.Prepare(cfg, streams.Rand)
	if err != nil {
		return err
	}
	if o.dryRun {
		return printPlan(streams, o.output, wizard.NewPlan(cfg, values, wizard.Deps{}))
	}
	if !o.yes && !streams.Interactive {
		return wizard.Usagef("not a terminal, so byob cannot ask before changing your cloud: pass --yes to apply, or --dry-run to print the plan")
	}
	deps, closeConns, err := streams.connect(ctx, &cfg, o.conn)
	if err != nil {
		return err
	}
	defer closeConns()
	ui := newProgress(streams, o.output)
	opts := wizard.ApplyOptions{
		Force:       o.force,
		Propagation: providers.Propagation{Timeout: o.propagation},
		OnPreflight: func(pf wizard.Preflight) { ui.preflight(pf) },
		OnEvent:     ui.event,
	}
	if !o.yes {
		opts.Confirm = func(plan *wizard.Plan) error {
			if err := printPlan(streams, "text", plan); err != nil {
				return err
			}
			if !confirm(streams, "Apply this plan?") {
				return wizard.ErrCancelled
			}
			return nil
		}
		opts.ConfirmDrift = func(s providers.Step, obs providers.Observation) error {
			if !confirm(streams, fmt.Sprintf("%s: %s. Change it as shown?", s.Title(), obs.Reason)) {
				return fmt.Errorf("left as it is (%s); re-run with --yes to reconcile it: %w", obs.Reason, wizard.ErrCancelled)
			}
			return nil
		}
	}
	out, err := wizard.Apply(ctx, cfg, deps, state, values, opts)
	ui.summary(cfg, out, err)
	return err
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

// confirm asks a yes/no question on the terminal; only "y" or "yes" is yes.
func confirm(streams *IOStreams, question string) bool {
	fmt.Fprintf(streams.Out, "\n%s [y/N] ", question)
	line, _ := bufio.NewReader(streams.In).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}
