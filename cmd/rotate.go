package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/wizard"
)

// RotateOptions are byob rotate-keys' flag values and dependencies.
type RotateOptions struct {
	*Factory
	Config      providers.Config
	ConfigFile  string
	Finish      bool
	KeepOld     bool
	Output      string
	Propagation time.Duration
	// Given reports the flags the user set: the others come from the state
	// file.
	Given func(flag string) bool
}

// NewCmdRotateKeys builds `byob rotate-keys`. runF, when set, runs instead
// of runRotate.
func NewCmdRotateKeys(f *Factory, runF func(context.Context, *RotateOptions) error) *cobra.Command {
	o := &RotateOptions{Factory: f}
	c := &cobra.Command{
		Use:   "rotate-keys",
		Short: "Replace GrowthLoop's key, in two phases, without a moment GrowthLoop's key stops working",
		Long: `rotate-keys replaces GrowthLoop's access key (AWS) or service account key
(GCP), as Security Hub IAM.3 and CIS 1.14 ask every 90 days, in two
phases, because GrowthLoop keeps using the current key until it gets the
new bundle:

  byob rotate-keys            makes a new key, proves it works, writes the new
                              bundle and keeps the old one as <bundle>.previous;
                              the old key stays active
  (upload the new bundle in GrowthLoop: Settings > Organization > Storage)
  byob rotate-keys --finish   proves the bundle's key works, deactivates the
                              old key, then deletes it (--keep-old keeps it
                              deactivated until the next rotation)

Either phase resumes where a stopped run left it. byob verify warns while
a rotation is half done.

` + fromStateFile + `

Exit codes: 0 done, 1 failure (re-run to resume), 2 usage error.`,
		Example: `  byob rotate-keys
  byob rotate-keys --finish`,
	}
	bindSetup(c, f, providers.Reads, &o.Config, &o.ConfigFile, &o.Given, func(ctx context.Context) error {
		if runF != nil {
			return runF(ctx, o)
		}
		return runRotate(ctx, o)
	})
	hideRecorded(c)
	fs := c.Flags()
	fs.BoolVar(&o.Finish, "finish", false, "the second phase: retire the old key once GrowthLoop has the new bundle")
	fs.BoolVar(&o.KeepOld, "keep-old", false, "with --finish: deactivate the old key but keep it (the next rotation deletes it)")
	fs.DurationVar(&o.Propagation, "propagation-timeout", runenv.DefaultPropagationTimeout, "how long to wait for the new key to work")
	fs.StringVar(&o.Output, "output", "text", "output format: text or json")
	addConnectFlags(c, f)
	return c
}

func runRotate(ctx context.Context, o *RotateOptions) error {
	bad := checkRunFlags(o.Factory, o.Output, o.Propagation)
	if o.KeepOld && !o.Finish {
		bad = append(bad, providers.InvalidValue{Flag: "--keep-old", Value: "true", Rule: "keeps the old key when the rotation finishes: add --finish"})
	}
	if len(bad) > 0 {
		return &providers.UsageError{Invalid: bad}
	}
	// Without a recorded setup there is nothing to rotate, nor to lock.
	env := o.env(false)
	if _, _, err := recordedSetup(o.Config, o.Given, env, "rotate-keys"); err != nil {
		return err
	}
	lock, err := wizard.LockState(o.Config.State, "byob rotate-keys")
	if err != nil {
		return err
	}
	defer lock.Unlock()
	cfg, state, err := recordedSetup(o.Config, o.Given, env, "rotate-keys")
	if err != nil {
		return err
	}
	if err := state.NotDestroyed("rotate-keys", wizard.InitCommand(cfg)); err != nil {
		return err
	}
	wizard.RemoveTemps(cfg)
	values := providers.NewValues(state.Values)
	var r Reporter = &textReporter{io: o.IO}
	if o.Output == "json" {
		r = newJSONReporter(o.IO, "byob rotate-keys")
	}
	if o.Finish {
		if done, ok := wizard.FinishedRotation(cfg, values); ok {
			r.Rotated(RotateResult{RotateOutcome: done, Finish: true, State: cfg.State})
			return nil
		}
	}
	conns, closeConns, err := o.Open(ctx, &cfg, env)
	if err != nil {
		return err
	}
	defer closeConns()
	connected := connecting(o.IO, o.Output, false, &cfg, conns)
	defer connected()
	opts := wizard.RotateOptions{KeepOld: o.KeepOld, Propagation: runenv.Propagation{Timeout: o.Propagation}, OnPreflight: func(pf wizard.Preflight) { connected(); r.Preflight(pf) }, OnEvent: r.Event}
	phase, resume := wizard.Rotate, "byob rotate-keys"
	if o.Finish {
		phase, resume = wizard.FinishRotation, "byob rotate-keys --finish"
		if o.KeepOld {
			resume += " --keep-old"
		}
	}
	if o.Given("state") {
		resume += " --state " + wizard.ShellQuote(cfg.State)
	}
	// A phase is a few calls that must not be cut off half-way: Ctrl-C
	// waits for it.
	out, err := phase(context.WithoutCancel(ctx), cfg, wizard.Deps{Conns: conns}, state, values, opts)
	if !out.Started && o.Output != "json" {
		return err
	}
	r.Rotated(RotateResult{RotateOutcome: out, Finish: o.Finish, Err: err, Bundle: cfg.Bundle, State: cfg.State, Resume: resume})
	return err
}

// RotateResult is how a phase of byob rotate-keys ended.
type RotateResult struct {
	wizard.RotateOutcome
	Finish bool
	Err    error
	Bundle string
	State  string
	Resume string
}

// uploadThenFinish is what to do between the two phases.
const uploadThenFinish = "upload the new bundle in GrowthLoop (Settings > Organization > Storage), then run `byob rotate-keys --finish`"

// rotateSummary is the end of a phase, as lines; resume says whether the
// resume command follows.
func rotateSummary(o RotateResult) (lines []string, resume bool) {
	switch {
	case o.Err != nil:
		lines = append(lines, fmt.Sprintf("Stopped. What finished is recorded in %s; %s to resume.", o.State, rerun(o.Err)))
		if o.Pending != "" {
			lines = append(lines, fmt.Sprintf("The new key's secret waits in %s (mode 0600) until a run finishes.", o.Pending))
		}
		return lines, true
	case o.Finished:
		return []string{fmt.Sprintf("Nothing to do: the rotation finished in an earlier run. GrowthLoop's key is %s; the old key %s is retired.", o.New, o.Old)}, false
	case o.Finish && o.Kept:
		return []string{fmt.Sprintf("Done: GrowthLoop's key is %s; the old key %s is deactivated and kept (the next rotation deletes it).", o.New, o.Old)}, false
	case o.Finish:
		return []string{fmt.Sprintf("Done: GrowthLoop's key is %s; the old key %s is deleted.", o.New, o.Old)}, false
	}
	return []string{
		fmt.Sprintf("New key %s written to %s (mode 0600); the old bundle is kept as %s.", o.New, o.Bundle, o.Previous[0]),
		fmt.Sprintf("The old key %s stays active until the rotation finishes.", o.Old),
		"Next: " + uploadThenFinish + ".",
	}, false
}
