package cmd

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/wizard"
)

// initOptions are byob init's flag values.
type initOptions struct {
	cfg        wizard.Config
	configFile string
	dryRun     bool
	yes        bool
	output     string
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
			return runInit(streams, o)
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
	f.StringVar(&cfg.GCPProject, "gcp-project", "", "Google Cloud project id (gcs)")
	f.StringVar(&cfg.Location, "location", "", "Cloud Storage location, such as US or us-central1 (gcs)")
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
	f.BoolVar(&o.dryRun, "dry-run", false, "print the plan and change nothing (needs no credentials)")
	f.BoolVar(&o.yes, "yes", false, "apply without asking for confirmation")
	f.StringVar(&o.output, "output", "text", "output format: text or json")
	if plan {
		_ = f.MarkHidden("dry-run")
	}
	return c
}

func runInit(streams *IOStreams, o *initOptions) error {
	if o.output != "text" && o.output != "json" {
		return &wizard.UsageError{Invalid: []wizard.InvalidValue{{Flag: "--output", Value: o.output, Rule: `must be "text" or "json"`}}}
	}
	cfg := o.cfg
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	state, err := wizard.LoadState(cfg.State)
	if err != nil {
		return err
	}
	if err := state.Matches(cfg); err != nil {
		return err
	}
	values := providers.NewValues(state.Values)
	if values.Get(providers.ExternalID) == "" {
		id, err := wizard.NewExternalID(streams.Rand)
		if err != nil {
			return fmt.Errorf("generate external ID: %w", err)
		}
		values.Set(providers.ExternalID, id)
	}
	if !o.dryRun {
		return wizard.Usagef("applying a setup is not available in this build yet: run with --dry-run to print the plan")
	}
	plan := wizard.NewPlan(cfg, values, wizard.Deps{})
	if o.output == "json" {
		enc := json.NewEncoder(streams.Out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(plan.Doc())
	}
	return renderPlan(streams.Out, plan.Doc())
}
