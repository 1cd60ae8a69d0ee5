package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/growthloop/byob/internal/safetext"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/gcp"
	"github.com/growthloop/byob/wizard"
)

// verifyOptions are byob verify's flag values.
type verifyOptions struct {
	cfg         wizard.Config
	conn        wizard.Connections
	configFile  string
	output      string
	timeout     time.Duration
	propagation time.Duration
}

// DefaultVerifyTimeout bounds a whole verify run.
const DefaultVerifyTimeout = 5 * time.Minute

func newVerifyCmd(streams *IOStreams) *cobra.Command {
	o := &verifyOptions{}
	c := &cobra.Command{
		Use:   "verify",
		Short: "Check, live, that a setup is in place and works",
		Long: `verify checks everything GrowthLoop depends on, without changing anything:
the bucket's settings, the IAM policy, role and trust, the Snowflake
integration, grants and stage, and that the bundle's key can write, read and
list under the prefix (and, on S3, nothing outside it).

The setup is read from the state file byob init wrote (--state) and the
bundle; flags override what the state file says, or describe a setup that
has no state file. Each failure comes with the command that fixes it.

Exit codes: 0 every check passed (warnings allowed), 1 a check failed or
could not run, 2 usage error.`,
		Example: `  byob verify
  byob verify --state prod/byob-state.json --bundle prod/growthloop-byob-bundle.json
  byob verify --output json --timeout 2m   # for CI`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindSources(cmd.Flags(), streams.LookupEnv); err != nil {
				return err
			}
			return runVerify(cmd, streams, o)
		},
	}
	f := c.Flags()
	addSetupFlags(f, &o.cfg)
	f.StringVar(&o.configFile, "config", "", "YAML file whose keys are flag names")
	addConnectionFlags(f, &o.conn, &o.propagation)
	f.DurationVar(&o.timeout, "timeout", DefaultVerifyTimeout, "bound on the whole run; checks still running then are reported as not run")
	f.StringVar(&o.output, "output", "text", "output format: text or json")
	return c
}

func runVerify(cmd *cobra.Command, streams *IOStreams, o *verifyOptions) error {
	ctx := cmd.Context()
	var bad []wizard.InvalidValue
	if o.output != "text" && o.output != "json" {
		bad = append(bad, wizard.InvalidValue{Flag: "--output", Value: o.output, Rule: `must be "text" or "json"`})
	}
	if o.timeout <= 0 {
		bad = append(bad, wizard.InvalidValue{Flag: "--timeout", Value: o.timeout.String(), Rule: "must be positive"})
	}
	if len(bad) > 0 {
		return &wizard.UsageError{Invalid: bad}
	}
	state, err := wizard.LoadState(o.cfg.State)
	if err != nil {
		return err
	}
	if state.Inputs != nil {
		fillFromInputs(cmd.Flags(), *state.Inputs)
	}
	cfg := o.cfg
	cfg.ApplyDefaults()
	if cfg.Provider == wizard.ProviderGCS && cfg.GCPProject == "" {
		cfg.GCPProject = gcp.DefaultProject(ctx, streams.LookupEnv, true)
	}
	if err := cfg.Validate(); err != nil {
		if ue, ok := err.(*wizard.UsageError); ok && state.Inputs == nil {
			ue.Msg = fmt.Sprintf("no setup recorded in %s: pass --state of a setup made by byob init, or describe the setup with init's flags", cfg.State)
		}
		return err
	}
	if err := validateConnection(o.conn, o.propagation); err != nil {
		return err
	}
	bundle, err := wizard.ReadBundle(cfg.Bundle)
	if err != nil {
		return err
	}
	values, err := wizard.VerifyValues(cfg, state, bundle)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	deps, closeConns, err := streams.connect(ctx, &cfg, o.conn)
	if err != nil {
		return err
	}
	defer closeConns()
	var mu sync.Mutex
	rep, err := wizard.Verify(ctx, cfg, deps, values, bundle, wizard.VerifyOptions{
		Propagation: providers.Propagation{Timeout: o.propagation},
		OnWait: func(_, msg string) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(streams.Err, "… %s\n", safetext.String(msg))
		},
	})
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return fmt.Errorf("verify stopped by --timeout %s: %w", o.timeout, err)
		}
		return err
	}
	rep = safeReport(rep)
	switch {
	case o.output == "json":
		enc := json.NewEncoder(streams.Out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		err = enc.Encode(rep)
	case streams.Interactive:
		err = renderChecksTable(streams.Out, rep)
	default:
		err = renderChecksPlain(streams.Out, rep)
	}
	if err != nil {
		return err
	}
	if !rep.OK {
		return &checksFailed{summary(rep)}
	}
	return nil
}

// checksFailed is a verify run in which a check failed or could not run:
// exit code 1.
type checksFailed struct{ summary string }

func (e *checksFailed) Error() string { return "verify: " + e.summary }

var statusMark = map[providers.CheckStatus]string{
	providers.Pass: "✓", providers.Fail: "✗", providers.Warn: "!", providers.Unknown: "?",
}

// renderChecksTable prints one row per check for a terminal, each failure
// or warning followed by its fix.
func renderChecksTable(w io.Writer, rep wizard.Report) error {
	width := len("CHECK")
	for _, c := range rep.Checks {
		width = max(width, len(c.Title))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "   %-*s  %s\n", width, "CHECK", "DETAIL")
	for _, c := range rep.Checks {
		fmt.Fprintf(&b, "%s  %-*s  %s\n", statusMark[c.Status], width, c.Title, c.Detail)
		if c.Remedy != "" && c.Status != providers.Pass {
			fmt.Fprintf(&b, "   fix: %s\n", c.Remedy)
		}
	}
	fmt.Fprintf(&b, "\n%s\n", summary(rep))
	_, err := io.WriteString(w, b.String())
	return err
}

// renderChecksPlain prints one line per check, for logs and pipes.
func renderChecksPlain(w io.Writer, rep wizard.Report) error {
	var b strings.Builder
	for _, c := range rep.Checks {
		fmt.Fprintf(&b, "%s %s: %s: %s\n", strings.ToUpper(string(c.Status)), c.ID, c.Title, c.Detail)
		if c.Remedy != "" && c.Status != providers.Pass {
			fmt.Fprintf(&b, "  fix: %s\n", c.Remedy)
		}
	}
	b.WriteString(summary(rep) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func summary(rep wizard.Report) string {
	n := map[providers.CheckStatus]int{}
	for _, c := range rep.Checks {
		n[c.Status]++
	}
	return fmt.Sprintf("%d passed, %d failed, %d warnings, %d could not run", n[providers.Pass], n[providers.Fail], n[providers.Warn], n[providers.Unknown])
}
