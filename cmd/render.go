package cmd

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/growthloop/byob/internal/prose"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/render"
)

// RenderOptions are byob render's flag values and dependencies.
type RenderOptions struct {
	*Factory
	Config     providers.Config
	ConfigFile string
	Format     string
	Out        string
	Force      bool
	Output     string
	Given      func(flag string) bool
	// Learned are the providers' own flags (providers.RenderFlagger) and
	// their values: what only applying learns, given.
	Learned []Learned
}

// Learned is a provider's flag of render and its value.
type Learned struct {
	providers.RenderFlag
	Value string
}

// NewCmdRender builds `byob render`.
func NewCmdRender(f *Factory, runF func(context.Context, *RenderOptions) error) *cobra.Command {
	o := &RenderOptions{Factory: f}
	c := &cobra.Command{
		Use:   "render",
		Short: "Write the setup as Terraform, CloudFormation or raw documents to review and apply yourself",
		Long: `render writes the plan init would apply as code your change process can
review: a Terraform module (terraform), a CloudFormation template with the
Snowflake SQL beside it (cloudformation), or the documents and SQL one file
each (json, sql). Every document is the one init applies. It needs no
cloud credentials and changes nothing.

It reads the setup from the state file byob init wrote (--state), when
there is one: the account id, external ID and Snowflake's identity are
then the setup's own, and the Terraform module imports what init made
(imports.tf). Otherwise it takes init's flags, and needs those marked
required.
Each format's README says how to apply it and hand the key to GrowthLoop
(byob bundle).`,
		Example: `  byob render --format terraform --out infra/growthloop --provider s3 \
    --bucket acme-growthloop-exports --region us-east-1 --warehouse snowflake \
    --org-id 1234 --snowflake-database ANALYTICS --growthloop-role GROWTHLOOP
  byob render --format cloudformation --out cfn/   # from byob-state.json`,
	}
	bindSetup(c, f, providers.Renders, &o.Config, &o.ConfigFile, &o.Given, func(ctx context.Context) error {
		if runF != nil {
			return runF(ctx, o)
		}
		return runRender(o)
	})
	fs := c.Flags()
	fs.StringVar(&o.Format, "format", "terraform", "terraform, cloudformation, json or sql")
	fs.StringVar(&o.Out, "out", "", "directory to write into (required)")
	fs.BoolVar(&o.Force, "force", false, "overwrite files already in --out")
	for _, p := range providers.Registered() {
		if rf, ok := p.(providers.RenderFlagger); ok {
			for _, f := range rf.RenderFlags() {
				o.Learned = append(o.Learned, Learned{RenderFlag: f})
			}
		}
	}
	for i, l := range o.Learned {
		fs.StringVar(&o.Learned[i].Value, l.Flag, "", l.Usage)
	}
	fs.StringVar(&o.Output, "output", "text", "output format: text or json")
	_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(render.Formats, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func runRender(o *RenderOptions) error {
	bad := checkOutput(o.Output)
	if !slices.Contains(render.Formats, o.Format) {
		bad = append(bad, providers.InvalidValue{Flag: "--format", Value: o.Format, Rule: "must be " + strings.Join(render.Formats, ", ")})
	}
	for _, l := range o.Learned {
		if l.Value != "" && l.Check != nil {
			if err := l.Check(l.Value); err != nil {
				bad = append(bad, providers.InvalidValue{Flag: "--" + l.Flag, Value: l.Value, Rule: err.Error()})
			}
		}
	}
	cfg, state, err := stateSetup(o.Config, o.Given)
	if err != nil {
		return err
	}
	providers.Defaults(&cfg, o.env(true))
	ue := &providers.UsageError{Invalid: bad}
	if err := cfg.ValidateNew(); err != nil {
		ue = err.(*providers.UsageError)
		ue.Invalid = append(bad, ue.Invalid...)
	}
	// Without preflight nothing tells the bucket's place: it must be given.
	if bp := cfg.BucketProvider(); bp != nil {
		if f, _ := providers.Lookup(bp.Location()); f.String(&cfg) == "" && !slices.Contains(ue.Missing, "--"+f.Flag) {
			ue.Missing = append(ue.Missing, "--"+f.Flag)
			if ue.Because == nil {
				ue.Because = map[string]string{}
			}
			ue.Because["--"+f.Flag] = "byob render (it reaches no cloud to learn it)"
		}
	}
	// Where the setup comes from is worth saying only to someone who gave
	// neither a state file nor a setup flag: the others read what is missing.
	if len(ue.Missing) > 0 && state.Inputs == nil && (o.Given("state") || !setupGiven(o.Given)) {
		ue.Msg = fmt.Sprintf("no setup recorded in %s: byob render reads the setup from the state file byob init wrote (--state), or from init's flags", cfg.State)
	}
	if o.Out == "" {
		ue.Missing = append(ue.Missing, "--out")
	} else if iv := dirToWrite("--out", o.Out); iv != nil {
		ue.Invalid = append(ue.Invalid, *iv)
	}
	if len(ue.Missing) > 0 || len(ue.Invalid) > 0 || ue.Msg != "" {
		return ue
	}
	warn(o.IO, cfg.Warnings())
	known := providers.NewValues(state.Values)
	for _, l := range o.Learned {
		if l.Value != "" {
			known.Set(l.Key, l.Value)
		}
	}
	files, err := render.Render(o.Format, cfg, render.Options{Known: known, State: state})
	if err != nil {
		return err
	}
	if err := render.Write(o.Out, files, o.Force); err != nil {
		return err
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Path
	}
	if o.Output == "json" {
		writeJSON(o.IO, map[string]any{"event": "summary", "ok": true, "format": o.Format, "out": o.Out, "files": names})
		return nil
	}
	fmt.Fprintf(o.IO.Out, "Wrote %s to %s: %s.\n", prose.Count(len(files), "file"), o.Out, strings.Join(names, ", "))
	if slices.Contains(names, "README.md") {
		fmt.Fprintf(o.IO.Out, "Next: %s says how to apply it and hand the key to GrowthLoop.\n", filepath.Join(o.Out, "README.md"))
	}
	return nil
}
