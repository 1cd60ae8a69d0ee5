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
	cfg := &o.cfg
	f.StringVar(&cfg.Provider, "provider", "", "cloud of the bucket: s3 or gcs")
	f.StringVar(&cfg.Bucket, "bucket", "", "bucket name (created, or adopted when you already own it)")
	f.StringVar(&cfg.Region, "region", "", "AWS region of the bucket (s3; defaults to the Snowflake account's region)")
	f.StringVar(&cfg.GCPProject, "gcp-project", "", "Google Cloud project id (gcs; default CLOUDSDK_CORE_PROJECT or the credentials' project)")
	f.StringVar(&cfg.Location, "location", "", "Cloud Storage location, such as US or us-central1 (gcs; defaults to the Snowflake account's region)")
	f.StringVar(&cfg.Prefix, "prefix", wizard.DefaultPrefix, "object key prefix exports are written under; ends with /")
	f.StringVar(&cfg.OrgID, "org-id", "", "GrowthLoop organisation id (ask your Solutions Architect); the stage URL ends <prefix><org-id>/")
	f.IntVar(&cfg.TTLDays, "ttl-days", wizard.DefaultTTLDays, fmt.Sprintf("days after which exported objects expire (1..%d)", wizard.MaxTTLDays))
	f.StringVar(&cfg.Warehouse, "warehouse", wizard.WarehouseNone, "warehouse that unloads to the bucket: none or snowflake")
	f.StringVar(&cfg.Name, "name", wizard.DefaultName, "short setup name IAM and service-account names are derived from")
	f.StringVar(&cfg.SnowflakeDatabase, "snowflake-database", "", "database holding the stage (snowflake)")
	f.StringVar(&cfg.SnowflakeSchema, "snowflake-schema", wizard.DefaultSchema, "schema holding the stage (snowflake)")
	f.StringVar(&cfg.Integration, "integration", "", "storage integration name (default FLYWHEEL_APP_AWS for s3, FLYWHEEL_APP_GCS for gcs)")
	f.StringVar(&cfg.Stage, "stage", wizard.DefaultStage, "stage name (snowflake)")
	f.StringVar(&cfg.GrowthLoopRole, "growthloop-role", "", "Snowflake role GrowthLoop queries with (snowflake)")
	f.StringVar(&cfg.KeyFile, "key-file", "", "where the service account key is written (gcs; default credentials.json)")
	f.StringVar(&cfg.Bundle, "bundle", wizard.DefaultBundle, "credentials bundle file to upload to GrowthLoop")
	f.StringVar(&cfg.State, "state", wizard.DefaultState, "state file that makes re-runs resume (no secrets in it)")
	f.StringVar(&o.configFile, "config", "", "YAML file whose keys are flag names")
	f.StringVar(&o.conn.AWSProfile, "profile", "", "AWS shared config profile (default: AWS_PROFILE or the default chain)")
	sc := &o.conn.Snowflake
	f.StringVar(&sc.Connection, "snowflake-connection", "", "connection name in ~/.snowflake/connections.toml (default: SNOWFLAKE_DEFAULT_CONNECTION_NAME or default)")
	f.StringVar(&sc.Account, "snowflake-account", "", "Snowflake account identifier (orgname-accountname)")
	f.StringVar(&sc.User, "snowflake-user", "", "Snowflake user (its password only from SNOWFLAKE_PASSWORD)")
	f.StringVar(&sc.Role, "snowflake-role", "", "Snowflake role byob runs as (creating integrations needs ACCOUNTADMIN or CREATE INTEGRATION)")
	f.StringVar(&sc.Warehouse, "snowflake-warehouse", "", "Snowflake warehouse for the session")
	f.StringVar(&sc.Authenticator, "snowflake-authenticator", "", "snowflake (password), externalbrowser (SSO), snowflake_jwt (key pair) or oauth (SNOWFLAKE_TOKEN)")
	f.StringVar(&sc.PrivateKeyFile, "snowflake-private-key-file", "", "unencrypted PKCS#8 key for snowflake_jwt")
	f.StringVar(&sc.Host, "snowflake-host", "", "Snowflake host, for private link (default <account>.snowflakecomputing.com)")
	f.IntVar(&sc.Port, "snowflake-port", 0, "Snowflake port (default 443)")
	f.StringVar(&sc.Protocol, "snowflake-protocol", "", "https (default) or http")
	f.DurationVar(&o.propagation, "propagation-timeout", providers.DefaultPropagationTimeout, "how long to wait for new IAM users, keys and roles to work")
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
	if err := validateConnection(o); err != nil {
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
	o.conn.Snowflake.LookupEnv = streams.LookupEnv
	o.conn.LookupEnv = streams.LookupEnv
	deps, closeConns, err := streams.Open(ctx, &cfg, o.conn)
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
func validateConnection(o *initOptions) error {
	var bad []wizard.InvalidValue
	sc := o.conn.Snowflake
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
	if o.propagation <= 0 {
		bad = append(bad, wizard.InvalidValue{Flag: "--propagation-timeout", Value: o.propagation.String(), Rule: "must be positive"})
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
