package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/wizard"
)

// EnvVar is the environment variable that sets a flag: BYOB_ and the flag
// name upper-cased with hyphens as underscores (--ttl-days: BYOB_TTL_DAYS).
func EnvVar(flag string) string {
	return "BYOB_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// bindSetup gives a verb that acts on a setup the flag table's flags and
// --config, bound to cfg and configFile, with the help that is true for
// a command of use u, and makes it run run once the environment and
// --config have filled the flags the command line did not set (given
// then reports the flags the user set).
func bindSetup(c *cobra.Command, f *Factory, u providers.Use, cfg *providers.Config, configFile *string, given *func(string) bool, run func(context.Context) error) {
	c.Args = noArgs
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		sources, err := bindSources(cmd.Flags(), f.IO.env)
		if err != nil {
			return err
		}
		*given = cmd.Flags().Changed
		return nameSources(run(cmd.Context()), sources)
	}
	addFields(c.Flags(), cfg, u)
	completeFields(c, f)
	c.Flags().StringVar(configFile, "config", "", "YAML file whose keys are flag names")
	c.Flags().BoolVar(&cfg.AllowUnknownRegion, providers.AllowUnknownRegionFlag[2:], false, "accept a --region or --location byob does not know (one newer than byob), with a warning")
}

// addFields registers a flag for every input of the table providers.Fields
// (setup and connection fields), bound to cfg, with the help that is true
// for a command of use u. A flag the command has no use for is hidden,
// and still accepted: init's command lines and config files work with it.
func addFields(fs *pflag.FlagSet, cfg *providers.Config, u providers.Use) {
	for _, f := range providers.Fields {
		usage := f.UsageFor(u)
		if req := requiredHelp(f, u); req != "" {
			usage += " (" + req + ")"
		}
		_ = f.Set(cfg, f.Default)
		fs.Var(field{f, cfg}, f.Flag, usage)
		if !uses(u, f) {
			_ = fs.MarkHidden(f.Flag)
		}
	}
}

// field is a flag bound to a field of cfg. A number is read in base 10
// only: pflag's own int reads 010 as octal and 0x10 as hex, and 030 days
// must mean 30 days.
type field struct {
	f   providers.Field
	cfg *providers.Config
}

func (v field) String() string {
	if v.cfg == nil { // pflag's zero value
		return ""
	}
	return v.f.Shown(v.cfg)
}

func (v field) Set(s string) error { return v.f.Set(v.cfg, s) }

func (v field) Type() string {
	if v.f.IsNumber() {
		return "int"
	}
	return "string"
}

// requiredHelp says, for --help, when a command of use u needs the field:
// init and plan when a setup does; render also where the bucket goes (it
// reaches no cloud to learn it); "" for the others, which read the setup
// from the state file.
func requiredHelp(f providers.Field, u providers.Use) string {
	switch u {
	case providers.Creates, providers.Plans:
		return f.RequiredHelp()
	case providers.Renders:
		for _, bp := range providers.BucketProviders() {
			if bp.Location() == f.Flag {
				return "required with --provider " + bp.Name()
			}
		}
		return f.RequiredHelp()
	}
	return ""
}

// uses says whether a command of use u uses the field: plan and render
// reach no cloud, and render writes no key.
func uses(u providers.Use, f providers.Field) bool {
	switch u {
	case providers.Plans:
		return f.Kind != providers.ConnectionField
	case providers.Renders:
		return f.Kind != providers.ConnectionField && !f.HoldsKey
	}
	return true
}

// recorded says whether a field describes the setup itself, which destroy
// and rotate-keys take from the state file alone: a flag of it may only
// repeat what the file records. How to reach the clouds, and where the
// local files are, may differ from run to run.
func recorded(f providers.Field) bool {
	return f.Kind == providers.SetupField && f.State != "" && !f.HoldsKey
}

// setupGiven reports whether the user gave a flag of the setup itself
// (given says which they set).
func setupGiven(given func(string) bool) bool {
	return slices.ContainsFunc(providers.Fields, func(f providers.Field) bool { return recorded(f) && given(f.Flag) })
}

// completeFields completes the values of the flags that have a known set:
// the clouds and warehouses, the regions and locations, the AWS profiles
// of ~/.aws/config, the connections of connections.toml, gcloud's
// project. Nothing is reached over the network.
func completeFields(c *cobra.Command, f *Factory) {
	env := f.env(true)
	for _, field := range providers.Fields {
		complete := func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			var out []string
			switch field.Flag {
			case "provider":
				for _, p := range providers.BucketProviders() {
					out = append(out, p.Name())
				}
			case "warehouse":
				out = append(out, providers.WarehouseNone)
				for _, w := range providers.Warehouses() {
					out = append(out, w.Name())
				}
			default:
				asker, ok := providers.Owner(field).(providers.Asker)
				if !ok {
					return nil, cobra.ShellCompDirectiveDefault
				}
				cfg := &providers.Config{}
				choices, _ := asker.Choices(field.Flag, cfg, env)
				for _, ch := range choices {
					if ch.Value != "" {
						out = append(out, ch.Value)
					}
				}
				if s := asker.Suggest(field.Flag, cfg, env); s != "" && !slices.Contains(out, s) {
					out = append(out, s)
				}
				if len(out) == 0 {
					return nil, cobra.ShellCompDirectiveDefault
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		}
		_ = c.RegisterFlagCompletionFunc(field.Flag, complete)
	}
}

// bindSources gives every flag the user did not set on the command line its
// value from the environment, else from the --config file. Command line
// beats environment beats config file beats default. It returns where
// each value it set came from ("BYOB_TTL_DAYS", "byob.yaml"), by flag.
func bindSources(flags *pflag.FlagSet, lookupEnv func(string) (string, bool)) (map[string]string, error) {
	file := map[string]any{}
	sources := map[string]string{}
	path, _ := flags.GetString("config")
	if flags.Lookup("config") != nil && !flags.Changed("config") { // a verb without --config reads no file
		if env, ok := lookupEnv(EnvVar("config")); ok && env != "" {
			path, sources["--config"] = env, EnvVar("config")
		}
	}
	if path != "" {
		var err error
		if file, err = readConfigFile(path, flags); err != nil {
			return nil, nameSources(err, sources)
		}
	}
	var errs []wizard.InvalidValue
	flags.VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "config" || f.Name == "help" {
			return
		}
		source, value, ok := "", "", false
		if v, set := lookupEnv(EnvVar(f.Name)); set && v != "" { // an empty variable is unset
			source, value, ok = EnvVar(f.Name), v, true
		} else if v, set := file[f.Name]; set {
			source, value, ok = path, fmt.Sprint(v), true
		}
		if !ok {
			return
		}
		sources["--"+f.Name] = source
		if err := flags.Set(f.Name, value); err != nil {
			errs = append(errs, wizard.InvalidValue{Flag: "--" + f.Name + " (from " + source + ")", Value: value, Rule: flagRule(err)})
		}
	})
	// A value given empty is refused, not replaced by the default: the
	// user asked for something else.
	flags.VisitAll(func(f *pflag.Flag) {
		if field, ok := providers.Lookup(f.Name); ok && f.Changed && field.Default != "" && f.Value.String() == "" {
			flag := "--" + f.Name
			if src, ok := sources[flag]; ok {
				flag += " (from " + src + ")"
			}
			errs = append(errs, wizard.InvalidValue{Flag: flag, Rule: fmt.Sprintf("must not be empty (leave it out for the default %q)", field.Default)})
		}
	})
	if len(errs) > 0 {
		return nil, &wizard.UsageError{Invalid: errs}
	}
	return sources, nil
}

// nameSources tells, in err's invalid values, where a value that the
// command line did not give came from: "--ttl-days (from BYOB_TTL_DAYS)".
func nameSources(err error, sources map[string]string) error {
	var ue *providers.UsageError
	if !errors.As(err, &ue) {
		return err
	}
	for i, iv := range ue.Invalid {
		if src, ok := sources[iv.Flag]; ok {
			ue.Invalid[i].Flag += " (from " + src + ")"
		}
	}
	return err
}

// readConfigFile reads a YAML file whose keys are flag names.
func readConfigFile(path string, flags *pflag.FlagSet) (map[string]any, error) {
	if iv := fileToRead("--config", path); iv != nil {
		return nil, &providers.UsageError{Invalid: []providers.InvalidValue{*iv}}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read --config %s: %w", path, err)
	}
	m := map[string]any{}
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, providers.Usagef("--config %s is not valid YAML: %v", path, err)
	}
	var unknown []string
	for k := range m {
		if f := flags.Lookup(k); f == nil || k == "config" || k == "help" {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, providers.Usagef("--config %s: unknown keys %s (keys are flag names, such as bucket or ttl-days)", path, strings.Join(unknown, ", "))
	}
	return m, nil
}

// fillFromInputs gives every flag the user did not set (given says which
// they did) its value from inputs (a state file's): a setup, and how to
// reach its clouds, are named once, at init.
func fillFromInputs(given func(string) bool, cfg *providers.Config, inputs providers.Config) {
	for _, f := range providers.Fields {
		if f.Flag != "state" && !given(f.Flag) && f.String(&inputs) != "" {
			_ = f.Set(cfg, f.String(&inputs))
		}
	}
}

// commandLine is the byob init command that makes the same setup without
// questions: its setup flags (those of always whatever their value), then
// how it reaches the clouds.
func commandLine(cfg providers.Config, dryRun bool, always ...string) string {
	if dryRun {
		return initCommandLine(cfg, always...) + " --dry-run"
	}
	return initCommandLine(cfg, always...) + " --yes"
}

// initCommandLine is the byob init command of cfg: its setup flags (those
// of always whatever their value), then how it reaches the clouds (never
// a secret: none is a flag).
func initCommandLine(cfg providers.Config, always ...string) string {
	parts := []string{wizard.InitCommand(cfg, always...)}
	for _, f := range providers.Fields {
		if v := f.String(&cfg); f.Kind == providers.ConnectionField && cfg.Applies(f) && v != "" {
			parts = append(parts, "--"+f.Flag+" "+wizard.ShellQuote(v))
		}
	}
	return strings.Join(parts, " ")
}

// checkRunFlags checks the flags every verb that reaches the clouds has:
// --output, --propagation-timeout and f's connection flags.
func checkRunFlags(f *Factory, output string, propagation time.Duration) []providers.InvalidValue {
	var bad []providers.InvalidValue
	for flag, d := range map[string]time.Duration{"--connect-timeout": f.conn.timeout, "--snowflake-timeout": f.conn.snowflake} {
		if d <= 0 {
			bad = append(bad, providers.InvalidValue{Flag: flag, Value: d.String(), Rule: "must be positive"})
		}
	}
	slices.SortFunc(bad, func(a, b providers.InvalidValue) int { return strings.Compare(a.Flag, b.Flag) })
	bad = append(bad, checkOutput(output)...)
	if propagation <= 0 {
		bad = append(bad, providers.InvalidValue{Flag: "--propagation-timeout", Value: propagation.String(), Rule: "must be positive"})
	}
	return bad
}

// checkOutput checks --output.
func checkOutput(output string) []providers.InvalidValue {
	if !slices.Contains([]string{"text", "json"}, output) {
		return []providers.InvalidValue{{Flag: "--output", Value: output, Rule: `must be "text" or "json"`}}
	}
	return nil
}
