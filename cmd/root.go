// Package cmd is byob's command line: cobra commands, one file per verb.
// It parses flags and renders; the work is done by package wizard.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/growthloop/byob/internal/safetext"
	"github.com/growthloop/byob/wizard"
)

// Exit codes.
const (
	ExitOK        = 0
	ExitFailure   = 1
	ExitUsage     = 2
	ExitCancelled = 130
)

// IOStreams are the command's standard streams and whether a person is at
// them. Prompting is allowed only when both stdin and stdout are terminals.
type IOStreams struct {
	In       io.Reader
	Out, Err io.Writer
	// Interactive is true when stdin and stdout are terminals.
	Interactive bool
	// LookupEnv reads the environment (os.LookupEnv).
	LookupEnv func(string) (string, bool)
	// Rand is the source of external IDs; nil means crypto/rand.
	Rand io.Reader
	// Open connects to the clouds (wizard.Open); tests point it at
	// emulators.
	Open func(ctx context.Context, cfg *wizard.Config, conn wizard.Connections) (wizard.Deps, func(), error)
}

// System returns the process's streams.
func System() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		Interactive: term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd())),
		LookupEnv:   os.LookupEnv,
		Open:        wizard.Open,
	}
}

// connect opens the connections cfg needs, reading the environment
// through s.
func (s *IOStreams) connect(ctx context.Context, cfg *wizard.Config, conn wizard.Connections) (wizard.Deps, func(), error) {
	conn.Snowflake.LookupEnv = s.LookupEnv
	conn.LookupEnv = s.LookupEnv
	return s.Open(ctx, cfg, conn)
}

// Main runs byob with the process's arguments and returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return Run(ctx, System(), os.Args[1:])
}

// Run runs byob with args and returns the exit code; errors are printed to
// streams.Err.
func Run(ctx context.Context, streams *IOStreams, args []string) int {
	root := NewRoot(streams)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(streams.Err, "Error: "+safetext.String(err.Error()))
	return ExitCode(err)
}

// ExitCode maps an error to byob's exit code. It is the one place that does.
func ExitCode(err error) int {
	var ue *wizard.UsageError
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

// NewRoot builds the command tree.
func NewRoot(streams *IOStreams) *cobra.Command {
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
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &flagError{err} })
	root.AddCommand(newInitCmd(streams, false), newInitCmd(streams, true), newVerifyCmd(streams), newVersionCmd(streams))
	return root
}
