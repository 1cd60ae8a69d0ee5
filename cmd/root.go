// Package cmd is byob's command line: cobra commands, one file per verb,
// each with an Options struct of its flag values and injected
// dependencies. It parses flags and renders; the work is done by package
// wizard.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/spf13/cobra"

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
}

// env is what the providers may read of the environment.
func (f *Factory) env(dryRun bool) providers.Env {
	return providers.Env{LookupEnv: f.IO.env, DryRun: dryRun}
}

// Main runs byob with the process's arguments and returns the exit code.
func Main() int {
	// Every package has initialised: undo gosnowflake's start-up cache
	// directory (in main rather than an init, which every start waits for).
	sfcache.RemoveCreated()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return Run(ctx, &Factory{IO: System(), Open: wizard.Open}, os.Args[1:])
}

// Run runs byob with args and returns the exit code; errors are printed to
// the error stream.
func Run(ctx context.Context, f *Factory, args []string) int {
	root := NewRoot(f)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(f.IO.ErrOut, "Error: "+safetext.String(err.Error()))
	return ExitCode(err)
}

// ExitCode maps an error to byob's exit code. It is the one place that does.
func ExitCode(err error) int {
	var ue *providers.UsageError
	var fe *flagError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, wizard.ErrCancelled), errors.Is(err, context.Canceled):
		return ExitCancelled
	case errors.As(err, &ue), errors.As(err, &fe):
		return ExitUsage
	}
	return ExitFailure
}

// flagError is cobra's own usage error (unknown flag, bad argument count).
type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() + "\nRun 'byob --help' for usage." }
func (e *flagError) Unwrap() error { return e.err }

// noArgs refuses arguments (an unknown command) as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if err := cobra.NoArgs(cmd, args); err != nil {
		return &flagError{err}
	}
	return nil
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
		// Runnable, so that an unknown command is a usage error (exit 2).
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &flagError{err} })
	root.AddCommand(NewCmdInit(f, nil), NewCmdPlan(f, nil), NewCmdVerify(f, nil), NewCmdDestroy(f, nil), NewCmdRotateKeys(f, nil), newVersionCmd(f.IO))
	return root
}
