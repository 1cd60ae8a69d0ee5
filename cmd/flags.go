package cmd

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/spf13/pflag"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/wizard"
)

// EnvVar is the environment variable that sets a flag: BYOB_ and the flag
// name upper-cased with hyphens as underscores (--ttl-days: BYOB_TTL_DAYS).
func EnvVar(flag string) string {
	return "BYOB_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// bindSources gives every flag the user did not set on the command line its
// value from the environment, else from the --config file. Command line
// beats environment beats config file beats default.
func bindSources(flags *pflag.FlagSet, lookupEnv func(string) (string, bool)) error {
	file := map[string]any{}
	path, _ := flags.GetString("config")
	if !flags.Changed("config") {
		if env, ok := lookupEnv(EnvVar("config")); ok {
			path = env
		}
	}
	if path != "" {
		var err error
		if file, err = readConfigFile(path, flags); err != nil {
			return err
		}
	}
	var errs []wizard.InvalidValue
	flags.VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "config" || f.Name == "help" {
			return
		}
		source, value, ok := "", "", false
		if v, set := lookupEnv(EnvVar(f.Name)); set {
			source, value, ok = "environment variable "+EnvVar(f.Name), v, true
		} else if v, set := file[f.Name]; set {
			source, value, ok = "config file key "+f.Name, fmt.Sprint(v), true
		}
		if !ok {
			return
		}
		if err := flags.Set(f.Name, value); err != nil {
			errs = append(errs, wizard.InvalidValue{Flag: "--" + f.Name + " (from " + source + ")", Value: value, Rule: err.Error()})
		}
	})
	if len(errs) > 0 {
		return &wizard.UsageError{Invalid: errs}
	}
	return nil
}

// readConfigFile reads a YAML file whose keys are flag names.
func readConfigFile(path string, flags *pflag.FlagSet) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, wizard.Usagef("--config %s: %v", path, err)
	}
	m := map[string]any{}
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, wizard.Usagef("--config %s is not valid YAML: %v", path, err)
	}
	var unknown []string
	for k := range m {
		if f := flags.Lookup(k); f == nil || k == "config" || k == "help" {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, wizard.Usagef("--config %s: unknown keys %s (keys are flag names, such as bucket or ttl-days)", path, strings.Join(unknown, ", "))
	}
	return m, nil
}

// addSetupFlags registers the flags that describe a setup (init's and
// verify's), bound to cfg.
func addSetupFlags(f *pflag.FlagSet, cfg *wizard.Config) {
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
}

// addConnectionFlags registers how byob reaches the clouds.
func addConnectionFlags(f *pflag.FlagSet, conn *wizard.Connections, propagation *time.Duration) {
	f.StringVar(&conn.AWSProfile, "profile", "", "AWS shared config profile (default: AWS_PROFILE or the default chain)")
	sc := &conn.Snowflake
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
	f.DurationVar(propagation, "propagation-timeout", providers.DefaultPropagationTimeout, "how long to wait for new IAM users, keys and roles to work")
}

// fillFromInputs gives every setup flag the user did not set its value
// from inputs (a state file's), so a setup is named once, at init.
func fillFromInputs(flags *pflag.FlagSet, inputs wizard.Config) {
	var scratch wizard.Config
	from := pflag.NewFlagSet("inputs", pflag.ContinueOnError)
	addSetupFlags(from, &scratch)
	scratch = inputs // the flags of from now read inputs
	from.VisitAll(func(sf *pflag.Flag) {
		if f := flags.Lookup(sf.Name); f != nil && !f.Changed && sf.Name != "state" {
			_ = f.Value.Set(sf.Value.String())
		}
	})
}
