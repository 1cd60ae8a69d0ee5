package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/growthloop/byob/internal/safetext"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/wizard"
	"github.com/growthloop/byob/wizard/form"
)

// DestroyOptions are byob destroy's flag values and dependencies.
type DestroyOptions struct {
	*Factory
	Config        providers.Config
	ConfigFile    string
	DryRun        bool
	Yes           bool
	DeleteBucket  bool
	DeleteObjects bool
	DeleteBundle  bool
	Output        string
	Propagation   time.Duration
	Accessible    bool
	// Given reports the flags the user set: the others come from the state
	// file.
	Given func(flag string) bool
	// flags are the command's, for the command that resumes it.
	flags *pflag.FlagSet
}

// NewCmdDestroy builds `byob destroy`. runF, when set, runs instead of
// runDestroy.
func NewCmdDestroy(f *Factory, runF func(context.Context, *DestroyOptions) error) *cobra.Command {
	o := &DestroyOptions{Factory: f}
	c := &cobra.Command{
		Use:   "destroy",
		Short: "Remove what byob init made, and nothing else",
		Long: `destroy undoes a setup from its state file, in the reverse order of the
plan: the access key, policy attachments, user, role and policies, the
Snowflake stage, grants and integration, the service account, its key,
bindings and custom roles. Only what the state file records as byob's is
removed; what byob found in place (an existing bucket or integration, a
grant the role already had) is left and named.

The bucket stays unless --delete-bucket is given, and one that holds
objects also needs --delete-objects. At a terminal destroy shows what it
will remove and asks you to type the bucket name; elsewhere it needs
--yes. A second run changes nothing; a run that stopped finishes on the
next.

` + fromStateFile + `

Exit codes: 0 done, 1 a removal failed (re-run to finish), 2 usage error,
130 cancelled.`,
		Example: `  byob destroy --dry-run
  byob destroy
  byob destroy --delete-bucket --delete-objects --delete-bundle --yes`,
	}
	bindSetup(c, f, providers.Reads, &o.Config, &o.ConfigFile, &o.Given, func(ctx context.Context) error {
		if runF != nil {
			return runF(ctx, o)
		}
		return runDestroy(ctx, o)
	})
	hideRecorded(c)
	fs := c.Flags()
	o.flags = fs
	fs.BoolVar(&o.DryRun, "dry-run", false, "print what would be removed and kept, and change nothing (reads only the state file)")
	fs.BoolVar(&o.Yes, "yes", false, "remove without asking")
	fs.BoolVar(&o.DeleteBucket, "delete-bucket", false, "also delete the bucket byob created (never one it adopted)")
	fs.BoolVar(&o.DeleteObjects, "delete-objects", false, "with --delete-bucket: delete the bucket's objects, every version, first")
	fs.BoolVar(&o.DeleteBundle, "delete-bundle", false, "also delete the local bundle and key files once their key is gone")
	fs.DurationVar(&o.Propagation, "propagation-timeout", runenv.DefaultPropagationTimeout, "how long to wait while a bucket's IAM policy keeps changing")
	fs.StringVar(&o.Output, "output", "text", "output format: text or json")
	addConnectFlags(c, f)
	fs.BoolVar(&o.Accessible, "accessible", false, "ask line by line, for screen readers (also TERM=dumb)")
	return c
}

// stateSetup is cfg over what the state file at cfg.State records, if
// anything: the flags the user gave (given says which) win.
func stateSetup(cfg providers.Config, given func(string) bool) (providers.Config, *wizard.State, error) {
	if iv := fileToWrite("--state", cfg.State); iv != nil {
		return cfg, nil, &providers.UsageError{Invalid: []providers.InvalidValue{*iv}}
	}
	state, err := wizard.LoadState(cfg.State)
	if err != nil {
		return cfg, nil, err
	}
	if state.Inputs != nil {
		fillFromInputs(given, &cfg, state.Inputs.Config(cfg.State))
		// Where the setup is was accepted when init made it.
		if bp := cfg.BucketProvider(); bp != nil && !given(bp.Location()) {
			cfg.AllowUnknownRegion = true
		}
	}
	return cfg, state, nil
}

// recordedSetup is the setup the state file at cfg.State records, with
// the flags the user gave over it (given says which): destroy and
// rotate-keys act only on what byob init recorded.
func recordedSetup(cfg providers.Config, given func(string) bool, env providers.Env, verb string) (providers.Config, *wizard.State, error) {
	cfg, state, err := stateSetup(cfg, given)
	if err != nil {
		return cfg, nil, err
	}
	if state.Inputs == nil {
		return cfg, nil, providers.Usagef("no setup recorded in %s: byob %s acts only on what byob init recorded there; pass the --state that byob init wrote", cfg.State, verb)
	}
	rec := state.Inputs.Config(cfg.State)
	rec.ApplyDefaults() // what the file leaves out is the default
	var bad []providers.InvalidValue
	for _, f := range providers.Fields {
		if recorded(f) && given(f.Flag) && f.String(&cfg) != f.String(&rec) {
			was := "none"
			if v := f.String(&rec); v != "" {
				was = strconv.Quote(v)
			}
			bad = append(bad, providers.InvalidValue{Flag: "--" + f.Flag, Value: f.String(&cfg),
				Rule: fmt.Sprintf("byob %s reads the setup from the state file %s, which records %s: leave --%s out, or pass the --state of the setup you mean", verb, cfg.State, was, f.Flag)})
		}
	}
	if len(bad) > 0 {
		return cfg, nil, &providers.UsageError{Invalid: bad}
	}
	providers.Defaults(&cfg, env)
	if err := cfg.Validate(); err != nil {
		return cfg, nil, err
	}
	if err := checkFiles(&cfg); err != nil {
		return cfg, nil, err
	}
	return cfg, state, nil
}

// fromStateFile is what destroy and rotate-keys take from the state file.
const fromStateFile = `The setup is read from the state file (--state); init's setup flags are
not needed, and one that says otherwise than the file is refused. How to
reach the clouds (--profile, --snowflake-*) and where the bundle and key
file are come from the file too; their flags override it.`

// hideRecorded hides the flags of the recorded fields from c's help. They
// are still accepted, so that init's command line and config file work
// while they agree with the state file.
func hideRecorded(c *cobra.Command) {
	for _, f := range providers.Fields {
		if recorded(f) {
			_ = c.Flags().MarkHidden(f.Flag)
		}
	}
	// Where the setup is was accepted when init made it.
	_ = c.Flags().MarkHidden(providers.AllowUnknownRegionFlag[2:])
}

func runDestroy(ctx context.Context, o *DestroyOptions) error {
	io := o.IO
	bad := checkRunFlags(o.Factory, o.Output, o.Propagation)
	if o.DeleteObjects && !o.DeleteBucket {
		bad = append(bad, providers.InvalidValue{Flag: "--delete-objects", Value: "true", Rule: "deletes the objects with the bucket: add --delete-bucket"})
	}
	if len(bad) > 0 {
		return &providers.UsageError{Invalid: bad}
	}
	// What the state file records comes first: without a setup there is
	// nothing to ask about.
	env := o.env(o.DryRun)
	cfg, state, err := recordedSetup(o.Config, o.Given, env, "destroy")
	if err != nil {
		return err
	}
	remove := providers.DestroyOptions{DeleteBucket: o.DeleteBucket, DeleteObjects: o.DeleteObjects}
	d, err := wizard.PlanDestroy(ctx, cfg, wizard.Deps{Destroy: remove}, providers.NewValues(state.Values))
	if err != nil {
		return err
	}
	if o.DryRun {
		return printDestroyPlan(io.Out, o.Output, d, true)
	}
	if !d.Removes() && !o.DeleteBundle {
		// Nothing byob made is left: nothing to ask, nothing to lock.
		if o.Output == "json" {
			newJSONReporter(io, "byob destroy").Destroyed(DestroyResult{State: cfg.State, Left: existing(bundleFiles(cfg))})
			return nil
		}
		return printDestroyPlan(io.Out, "text", d, false)
	}
	if !o.Yes && o.Output == "json" {
		return providers.Usagef("--output json is for machines, which cannot answer a question: pass --yes to destroy, or --dry-run to see what would go")
	}
	if !o.Yes && !io.CanPrompt() {
		return providers.Usagef("not a terminal, so byob cannot ask before removing anything: pass --yes to destroy, or --dry-run to see what would go")
	}
	lock, err := wizard.LockState(cfg.State, "byob destroy")
	if err != nil {
		return err
	}
	defer lock.Unlock()
	// Read again under the lock: a run that held it may have changed it.
	if cfg, state, err = recordedSetup(o.Config, o.Given, env, "destroy"); err != nil {
		return err
	}
	values := providers.NewValues(state.Values)
	wizard.RemoveTemps(cfg)
	conns, closeConns, err := o.Open(ctx, &cfg, env)
	if err != nil {
		return err
	}
	defer closeConns()
	connected := connecting(o.IO, o.Output, o.Accessible, &cfg, conns)
	defer connected()
	var r Reporter = &textReporter{io: io, accessible: o.Accessible}
	if o.Output == "json" {
		r = newJSONReporter(io, "byob destroy")
	}
	opts := wizard.DestroyOptions{Remove: remove, Propagation: runenv.Propagation{Timeout: o.Propagation}, OnEvent: r.Event}
	if !o.Yes {
		opts.Confirm = func(d *wizard.DestroyPlan) error {
			if err := printDestroyPlan(io.Out, "text", d, false); err != nil {
				return err
			}
			if !d.Removes() {
				return nil
			}
			return form.TypeToConfirm(ctx, "Type the bucket name to remove all of the above", cfg.Bucket, formOptions(io, o.Accessible))
		}
	}
	opts.OnPreflight = func(pf wizard.Preflight) { connected(); r.Preflight(pf) }
	out, err := wizard.Destroy(ctx, cfg, wizard.Deps{Conns: conns}, state, values, opts)
	if ctx.Err() != nil && err != nil {
		err = fmt.Errorf("stopped after the running removals: %w", wizard.ErrCancelled)
	}
	if !out.Started && o.Output != "json" {
		return err
	}
	res := DestroyResult{DestroyOutcome: out, Err: err, State: cfg.State, Resume: destroyCommand(o)}
	if err == nil && o.DeleteBundle {
		res.Deleted, err = deleteBundle(cfg)
		res.Err = err
	} else {
		res.Left = existing(bundleFiles(cfg))
	}
	r.Destroyed(res)
	return err
}

// bundleFiles are the files that hold the setup's key: the bundle, and the
// key store's (a GCP key file, a pending or previous secret).
func bundleFiles(cfg providers.Config) []string {
	return append([]string{cfg.Bundle}, cfg.BucketProvider().Keys(&cfg).Files()...)
}

func existing(paths []string) []string {
	var out []string
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// deleteBundle removes the files that hold the setup's key.
func deleteBundle(cfg providers.Config) ([]string, error) {
	var deleted []string
	for _, p := range existing(bundleFiles(cfg)) {
		if err := os.Remove(p); err != nil {
			return deleted, fmt.Errorf("delete %s: %w", p, err)
		}
		deleted = append(deleted, p)
	}
	return deleted, nil
}

// destroyCommand is the command that finishes a stopped destroy: every
// flag the run was given, in name order, and --yes.
func destroyCommand(o *DestroyOptions) string {
	parts := []string{"byob destroy"}
	if o.flags != nil {
		o.flags.Visit(func(f *pflag.Flag) {
			switch {
			case f.Name == "yes" || f.Name == "dry-run":
			case f.Value.Type() == "bool" && f.Value.String() == "true":
				parts = append(parts, "--"+f.Name)
			case f.Value.Type() != "bool":
				parts = append(parts, "--"+f.Name+" "+wizard.ShellQuote(f.Value.String()))
			}
		})
	}
	return strings.Join(append(parts, "--yes"), " ")
}

// destroyDoc is the destroy plan as --output json prints it.
type destroyDoc struct {
	Version  int          `json:"version"`
	Provider string       `json:"provider"`
	Bucket   string       `json:"bucket"`
	State    string       `json:"state"`
	Remove   []removalDoc `json:"remove"`
	Keep     []removalDoc `json:"keep"`
}

type removalDoc struct {
	Step   string `json:"step"`
	Action string `json:"action,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// printDestroyPlan shows what destroy removes, in order, and what it
// keeps.
func printDestroyPlan(w io.Writer, output string, d *wizard.DestroyPlan, dryRun bool) error {
	if output == "json" {
		doc := destroyDoc{Version: 1, Provider: d.Config.Provider, Bucket: d.Config.Bucket, State: d.Config.State, Remove: []removalDoc{}, Keep: []removalDoc{}}
		for _, r := range d.Removals {
			if r.Remove != "" {
				doc.Remove = append(doc.Remove, removalDoc{Step: r.Step.ID(), Action: r.Remove})
			} else {
				doc.Keep = append(doc.Keep, removalDoc{Step: r.Step.ID(), Reason: r.Keep})
			}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(doc)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Destroy: the %s setup %q of bucket %s, as %s records it.\n", d.Config.BucketProvider().Title(), d.Config.Name, d.Config.Bucket, d.Config.State)
	n := 0
	for _, r := range d.Removals {
		if r.Remove != "" {
			if n == 0 {
				b.WriteString("\nRemoves, in this order:\n")
			}
			n++
			fmt.Fprintf(&b, "  %d. %s  [%s]\n", n, safetext.String(r.Remove), r.Step.ID())
		}
	}
	if n == 0 {
		b.WriteString("\nNothing to remove: the state file records nothing byob made that is still there.\n")
	}
	first := true
	for _, r := range d.Removals {
		if r.Remove == "" {
			if first {
				b.WriteString("\nKeeps:\n")
				first = false
			}
			fmt.Fprintf(&b, "  - %s  [%s]\n", safetext.String(r.Keep), r.Step.ID())
		}
	}
	if dryRun && n > 0 {
		b.WriteString("\nRemove with: byob destroy (same flags, without --dry-run).\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
