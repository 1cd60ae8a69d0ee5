// Package cmd is byob's command line: cobra commands, one file per verb,
// each with an Options struct of its flag values and injected
// dependencies. It parses flags and renders; the work is done by package
// wizard.
package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/growthloop/byob/internal/prose"
	"github.com/growthloop/byob/internal/safetext"
	"github.com/growthloop/byob/internal/sfcache"
	"github.com/growthloop/byob/providers"
	_ "github.com/growthloop/byob/providers/all" // every cloud and warehouse
	"github.com/growthloop/byob/wizard"
)

// Exit codes.
const (
	ExitOK        = 0
	ExitFailure   = 1
	ExitUsage     = 2
	ExitCancelled = 130
)

// Factory is what every command is built from: the streams, and the
// dependencies tests replace.
type Factory struct {
	IO *IOStreams
	// Open connects a setup's providers (wizard.Open); tests point it at
	// emulators.
	Open func(ctx context.Context, cfg *providers.Config, env providers.Env) (map[string]providers.Conn, func(), error)
	// Rand is the source of external IDs; nil means crypto/rand.
	Rand io.Reader
	// conn is how the clouds are reached: the flags of addConnectFlags.
	conn connectFlags
}

// connectFlags bound how long reaching the clouds may take, and show
// what their SDKs log.
type connectFlags struct {
	timeout, snowflake time.Duration
	verbose            bool
}

// addConnectFlags gives a verb that reaches the clouds the flags of f.conn,
// and completes its --output.
func addConnectFlags(c *cobra.Command, f *Factory) {
	_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	fs := c.Flags()
	fs.DurationVar(&f.conn.timeout, "connect-timeout", providers.DefaultConnectTimeout, "how long AWS and Google Cloud may take to answer byob's first calls")
	fs.DurationVar(&f.conn.snowflake, "snowflake-timeout", providers.DefaultConnectTimeout, "how long logging in to Snowflake may take (at least 2m with externalbrowser)")
	fs.BoolVar(&f.conn.verbose, "verbose", false, "show the cloud SDKs' own log lines on stderr")
}

// env is what the providers may read of the environment.
func (f *Factory) env(dryRun bool) providers.Env {
	e := providers.Env{LookupEnv: f.IO.env, DryRun: dryRun, ConnectTimeout: f.conn.timeout, SnowflakeTimeout: f.conn.snowflake}
	if f.conn.verbose {
		e.Log = f.IO.ErrOut
	}
	return e
}

// Main runs byob with the process's arguments and returns the exit code.
func Main() int {
	// Every package has initialised: undo gosnowflake's start-up cache
	// directory (in main rather than an init, which every start waits for).
	sfcache.RemoveCreated()
	// Ctrl-C, a kill and a closed terminal all stop a run the same way:
	// the running steps finish, the state and lock are left in order.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	return Run(ctx, &Factory{IO: System(), Open: wizard.Open}, os.Args[1:])
}

// Run runs byob with args and returns the exit code; errors are printed to
// the error stream.
func Run(ctx context.Context, f *Factory, args []string) int {
	root := NewRoot(f)
	root.SetArgs(args)
	c, err := root, mistypedCommand(root, args)
	if err == nil {
		c, err = root.ExecuteContextC(ctx)
	}
	if err == nil {
		return ExitOK
	}
	if ctx.Err() != nil && !errors.Is(err, wizard.ErrCancelled) {
		// What failed because the run was stopped (a login, a preflight
		// cut off) was not the user's credentials' fault.
		err = fmt.Errorf("stopped before it finished: %w", wizard.ErrCancelled)
	}
	fmt.Fprintln(f.IO.ErrOut, "Error: "+safetext.String(err.Error()))
	if ae := (*afterError)(nil); errors.As(err, &ae) {
		fmt.Fprint(f.IO.ErrOut, ae.after)
	}
	// A run with --output json ends with one JSON object, whatever
	// happened: its reporter wrote it, or this does.
	if !f.IO.ended && jsonOutput(c, args) {
		doc := map[string]any{"event": "summary", "ok": false, "error": errorDoc(c.CommandPath(), err, "")}
		if c.Name() == "verify" {
			doc["checks"] = []any{} // what verify's documents always hold
		}
		if de := (*wizard.DestroyedError)(nil); errors.As(err, &de) {
			doc["destroyed"] = de.Destroyed
		}
		writeJSON(f.IO, doc)
	}
	return ExitCode(err)
}

// jsonOutput reports whether the run asked for --output json: the command
// parsed it (from the command line, BYOB_OUTPUT or --config), or, when
// parsing stopped before it, the command line holds it.
func jsonOutput(c *cobra.Command, args []string) bool {
	if fl := c.Flags().Lookup("output"); fl != nil && fl.Value.String() == "json" {
		return true
	}
	for i, a := range args {
		if a == "--" {
			break
		}
		if a == "--output=json" || a == "--output" && i+1 < len(args) && args[i+1] == "json" {
			return true
		}
	}
	return false
}

// errorKind is how a failure is told to machines: usage (exit 2),
// cancelled (130) or failure (1).
func errorKind(err error) string {
	switch ExitCode(err) {
	case ExitUsage:
		return "usage"
	case ExitCancelled:
		return "cancelled"
	}
	return "failure"
}

// errorDoc is an error as --output json tells it: its kind, the message
// and what to do. resume, when set, is the command that resumes the run.
func errorDoc(path string, err error, resume string) map[string]string {
	return map[string]string{"kind": errorKind(err), "message": safetext.String(err.Error()), "remedy": remedy(path, err, resume)}
}

// remedy says what to do about err, from the command at path ("byob
// init").
func remedy(path string, err error, resume string) string {
	var locked *wizard.LockedError
	var failed *checksFailed
	var destroyed *wizard.DestroyedError
	switch {
	case errors.As(err, &locked):
		return "wait for the other run to finish, then run the same command again"
	case errors.As(err, &destroyed):
		return "to make the setup anew, run: " + destroyed.Init
	case errors.As(err, &failed):
		return "each check that did not pass says what fixes it (remedy); run byob verify again afterwards"
	}
	switch errorKind(err) {
	case "usage":
		return fmt.Sprintf("correct the input the message names; '%s --help' lists every flag", path)
	case "cancelled":
		if resume != "" {
			return "nothing more was changed; to go on, run: " + resume
		}
		return "nothing more was changed; run the same command again to go on"
	}
	if resume != "" {
		return "fix the problem the message names, then run: " + resume
	}
	return "fix the problem the message names, then run the same command again"
}

// writeJSON writes the final JSON object of a run, on one line (the last
// of a stream of events).
func writeJSON(io *IOStreams, v any) {
	enc := json.NewEncoder(io.Out)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	io.ended = true
}

// ExitCode maps an error to byob's exit code. It is the one place that does.
func ExitCode(err error) int {
	var ue *providers.UsageError
	var fe *flagError
	var de *wizard.DestroyedError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, wizard.ErrCancelled), errors.Is(err, context.Canceled):
		return ExitCancelled
	case errors.As(err, &ue), errors.As(err, &fe), errors.As(err, &de):
		return ExitUsage
	}
	return ExitFailure
}

// afterError is err, with what to print after it: what a person can do
// next.
type afterError struct {
	err   error
	after string
}

func (e *afterError) Error() string { return e.err.Error() }
func (e *afterError) Unwrap() error { return e.err }

// flagError is cobra's own usage error (unknown flag, bad argument count),
// told on one line with where to read the command's usage.
type flagError struct {
	err  error
	path string // the command's path: "byob init"
}

func (e *flagError) Error() string {
	return fmt.Sprintf("%s (see '%s --help')", e.err, e.path)
}
func (e *flagError) Unwrap() error { return e.err }

// flagErr is a flag's parse error as byob tells it: a value that is not a
// number or a duration names the rule, as Validate does.
func flagErr(c *cobra.Command, err error) error {
	var iv *pflag.InvalidValueError
	if !errors.As(err, &iv) {
		return &flagError{err, c.CommandPath()}
	}
	return &providers.UsageError{Invalid: []providers.InvalidValue{{Flag: "--" + iv.GetFlag().Name, Value: iv.GetValue(), Rule: flagRule(err)}}}
}

// flagRule is the rule a value pflag could not parse breaks.
func flagRule(err error) string {
	var iv *pflag.InvalidValueError
	if !errors.As(err, &iv) {
		return err.Error()
	}
	switch iv.GetFlag().Value.Type() {
	case "int":
		field, _ := providers.Lookup(iv.GetFlag().Name)
		return field.NumberRule()
	case "duration":
		return "must be a duration such as 90s, 5m or 1h"
	case "bool":
		return "must be true or false"
	}
	return "is not valid"
}

// noArgs refuses arguments as a usage error: a command without commands
// of its own takes none; for one with them (byob, completion), the
// argument is an unknown command, with the commands it may have meant.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if !cmd.HasSubCommands() {
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = strconv.Quote(a)
		}
		return &flagError{fmt.Errorf("%s takes no arguments, but was given %s", cmd.CommandPath(), strings.Join(quoted, " ")), cmd.CommandPath()}
	}
	return unknownCommand(cmd, args[0])
}

// unknownCommand is name, given where a command of cmd was expected, as a
// usage error with the commands it may have meant.
func unknownCommand(cmd *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q for %q", name, cmd.CommandPath())
	if s := cmd.SuggestionsFor(name); len(s) > 0 {
		msg += ": did you mean " + strings.Join(s, " or ") + "?"
	}
	return &flagError{errors.New(msg), cmd.CommandPath()}
}

// mistypedCommand is the unknown command args start with, whatever flags
// follow it (they are the command's, not byob's own), nil when args name
// a command or none.
func mistypedCommand(root *cobra.Command, args []string) error {
	if len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd) {
		return nil // the shell asks cobra to complete a command line
	}
	c, rest, err := root.Find(args)
	if err == nil && c.Name() == "help" && c.Parent() == root {
		// byob help inti --output json: the topic is told, not the flag.
		if topic, rest, err := root.Find(rest); err == nil && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			return unknownCommand(topic, rest[0])
		}
		return nil
	}
	if err != nil || c != root {
		return nil
	}
	for _, a := range rest {
		if a == "--" {
			return nil
		}
		if !strings.HasPrefix(a, "-") {
			return unknownCommand(root, a)
		}
		if err := commandsFlag(root, a, args); err != nil {
			return err
		}
	}
	return nil
}

// commandsFlag is arg, a flag given to byob itself, as a usage error when
// it is a flag of byob's commands (byob --output json): a command is
// needed. nil for byob's own flags, and for flags no command has (cobra
// names those).
func commandsFlag(root *cobra.Command, arg string, args []string) error {
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	if name == "" || root.Flags().Lookup(name) != nil || len(name) == 1 && root.Flags().ShorthandLookup(name) != nil {
		return nil
	}
	var with []string
	for _, c := range root.Commands() {
		if f := c.Flags().Lookup(name); c.IsAvailableCommand() && f != nil && !f.Hidden {
			with = append(with, c.Name())
		}
	}
	if len(with) == 0 {
		return nil
	}
	return &flagError{fmt.Errorf("no command given: --%s is a flag of byob %s; name the command first: byob <command> %s", name, prose.And(with), strings.Join(args, " ")), root.CommandPath()}
}

// newHelpCmd is cobra's help command, except that an unknown topic is a
// usage error with the commands it may have meant.
func newHelpCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			var names []string
			cmd, _, _ := c.Root().Find(args)
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					names = append(names, sub.Name())
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			if err != nil {
				return err
			}
			if len(rest) > 0 {
				return unknownCommand(cmd, rest[0])
			}
			return cmd.Help()
		},
	}
	// Help is text; --output, which every other command takes, is
	// accepted and changes nothing (an error is still JSON with it).
	c.Flags().String("output", "text", "")
	_ = c.Flags().MarkHidden("output")
	return c
}

// NewRoot builds the command tree.
func NewRoot(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "byob",
		Short: "Set up bring-your-own-bucket export storage for GrowthLoop",
		Long: `byob creates the private bucket GrowthLoop exports to (S3 or GCS), the IAM
policies, roles and keys it needs, and optionally the Snowflake storage
integration and stage, in one idempotent run that shows its plan first.

Start with a dry run, which needs no cloud credentials:

  byob init --provider s3 --bucket acme-growthloop-exports --region us-east-1 --dry-run`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// "did you mean" for a command within two edits.
		SuggestionsMinimumDistance: 2,
		// Runnable, so that an unknown command is a usage error (exit 2).
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	// --version reads the build information only when asked.
	root.Version = "byob"
	cobra.AddTemplateFunc("versionLine", versionLine)
	root.SetVersionTemplate("{{versionLine}}\n")
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetFlagErrorFunc(flagErr)
	root.SetHelpCommand(newHelpCmd())
	root.AddCommand(NewCmdInit(f, nil), NewCmdPlan(f, nil), NewCmdVerify(f, nil), NewCmdDestroy(f, nil), NewCmdRotateKeys(f, nil), NewCmdRender(f, nil), NewCmdBundle(f, nil), newVersionCmd(f.IO), newDocsCmd(f))
	root.InitDefaultHelpCmd() // now, so that an unknown command is told from it
	// cobra's completion command shows its help for an unknown shell;
	// byob calls that a usage error, as any unknown command.
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Args = noArgs
			c.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
		}
	}
	return root
}
