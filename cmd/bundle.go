package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/growthloop/byob/internal/securefile"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/render"
	"github.com/growthloop/byob/wizard"
)

// BundleOptions are byob bundle's flag values and dependencies.
type BundleOptions struct {
	*Factory
	FromTerraform, FromCloudFormation string
	Bundle, KeyFile, Profile          string
	Force                             bool
	Propagation                       time.Duration
	Output                            string
}

// NewCmdBundle builds `byob bundle`.
func NewCmdBundle(f *Factory, runF func(context.Context, *BundleOptions) error) *cobra.Command {
	o := &BundleOptions{Factory: f}
	c := &cobra.Command{
		Use:   "bundle",
		Short: "Write GrowthLoop's bundle from the outputs of the Terraform or CloudFormation byob render wrote",
		Long: `bundle turns the outputs of a setup applied from byob render's code into the
bundle GrowthLoop takes, the same file init writes (mode 0600). It first
proves the key can write, read and list under the prefix; a key that
does not work writes nothing.

--from-terraform takes terraform output -json (a file, or - for standard
input). --from-cloudformation takes aws cloudformation describe-stacks'
answer or its Outputs list, and reads the key from the stack's Secrets
Manager secret with your AWS credentials.`,
		Example: `  terraform output -json | byob bundle --from-terraform -
  aws cloudformation describe-stacks --stack-name growthloop-byob --query 'Stacks[0].Outputs' > outputs.json
  byob bundle --from-cloudformation outputs.json`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			sources, err := bindSources(c.Flags(), f.IO.env)
			if err != nil {
				return err
			}
			if runF != nil {
				return nameSources(runF(c.Context(), o), sources)
			}
			return nameSources(runBundle(c.Context(), o), sources)
		},
	}
	fs := c.Flags()
	fs.StringVar(&o.FromTerraform, "from-terraform", "", "terraform output -json of byob render's module (- for standard input)")
	fs.StringVar(&o.FromCloudFormation, "from-cloudformation", "", "the stack's outputs (aws cloudformation describe-stacks)")
	fs.StringVar(&o.Bundle, "bundle", providers.DefaultBundle, "credentials bundle file to write")
	fs.StringVar(&o.KeyFile, "key-file", "credentials.json", "where a GCS service account key is written (mode 0600)")
	fs.StringVar(&o.Profile, "profile", "", "AWS shared config profile that reads the stack's secret")
	fs.BoolVar(&o.Force, "force", false, "overwrite a bundle of another setup")
	fs.DurationVar(&o.Propagation, "propagation-timeout", runenv.DefaultPropagationTimeout, "how long to wait for a new key to work")
	fs.StringVar(&o.Output, "output", "text", "output format: text or json")
	_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func runBundle(ctx context.Context, o *BundleOptions) error {
	if (o.FromTerraform == "") == (o.FromCloudFormation == "") {
		return providers.Usagef("pass one of --from-terraform and --from-cloudformation")
	}
	bad := checkOutput(o.Output)
	for _, f := range []struct {
		flag, path string
		check      func(flag, path string) *providers.InvalidValue
	}{{"--from-terraform", o.FromTerraform, fileToRead}, {"--from-cloudformation", o.FromCloudFormation, fileToRead}, {"--bundle", o.Bundle, fileToWrite}, {"--key-file", o.KeyFile, fileToWrite}} {
		if f.path == "" || f.path == "-" {
			continue
		}
		if iv := f.check(f.flag, f.path); iv != nil {
			bad = append(bad, *iv)
		}
	}
	if o.Propagation <= 0 {
		bad = append(bad, providers.InvalidValue{Flag: "--propagation-timeout", Value: o.Propagation.String(), Rule: "must be positive"})
	}
	if len(bad) > 0 {
		return &providers.UsageError{Invalid: bad}
	}
	read := func(path string) ([]byte, error) {
		if path == "-" {
			return io.ReadAll(o.IO.In)
		}
		return os.ReadFile(path)
	}
	var h *providers.Handed
	switch {
	case o.FromTerraform != "":
		data, err := read(o.FromTerraform)
		if err != nil {
			return err
		}
		if h, err = render.FromTerraform(data); err != nil {
			return providers.Usagef("--from-terraform %s: %v", o.FromTerraform, err)
		}
	default:
		data, err := read(o.FromCloudFormation)
		if err != nil {
			return err
		}
		if h, err = render.FromCloudFormation(data); err != nil {
			return providers.Usagef("--from-cloudformation %s: %v", o.FromCloudFormation, err)
		}
	}
	b := h.Bundle
	cfg := providers.Config{Provider: b.Provider, Bucket: b.Bucket, Prefix: b.Prefix, OrgID: b.OrgID,
		Name: h.Name, Warehouse: providers.WarehouseNone, Bundle: o.Bundle, TTLDays: providers.DefaultTTLDays}
	if f, ok := providers.Lookup("profile"); ok {
		_ = f.Set(&cfg, o.Profile) // the provider's flag of the same name
	}
	if br, ok := cfg.BucketProvider().(providers.BundleReader); ok {
		keyFile := ""
		if h.KeyFile != nil {
			keyFile = o.KeyFile
		}
		br.FromBundle(&cfg, &b, keyFile)
	}
	env := o.env(false)
	providers.Defaults(&cfg, env)
	if err := cfg.Validate(); err != nil {
		return err
	}
	if h.KeyFile != nil {
		// The key file is the GCS probe's credentials, and what GrowthLoop
		// takes beside the bundle.
		if err := securefile.Write(o.KeyFile, h.KeyFile); err != nil {
			return fmt.Errorf("write key file %s: %w", o.KeyFile, err)
		}
		b.GCPKeyFile = o.KeyFile
	}
	conns, closeConns, err := o.Open(ctx, &cfg, env)
	if err != nil {
		return err
	}
	defer closeConns()
	// A stack's key secret, read with the connection that proves the key.
	if err := h.FetchKey(ctx, conns[cfg.BucketProvider().Name()]); err != nil {
		return err
	}
	b.AWSSecretAccessKey = h.Bundle.AWSSecretAccessKey
	if err := wizard.Handover(ctx, cfg, wizard.Deps{Conns: conns, Propagation: runenv.Propagation{Timeout: o.Propagation}}, &b, o.Force); err != nil {
		return err
	}
	if o.Output == "json" {
		doc := map[string]any{"event": "summary", "ok": true, "bundle": o.Bundle, "next": nextStep}
		if h.KeyFile != nil {
			doc["key_file"] = o.KeyFile
		}
		writeJSON(o.IO, doc)
		return nil
	}
	fmt.Fprintf(o.IO.Out, "The key works. Credentials bundle written to %s (mode 0600). Keep it private.\n", o.Bundle)
	if h.KeyFile != nil {
		fmt.Fprintf(o.IO.Out, "Service account key written to %s (mode 0600).\n", o.KeyFile)
	}
	fmt.Fprintf(o.IO.Out, "Next: %s (%s). Check it any time: byob verify\n", nextStep, o.Bundle)
	return nil
}
