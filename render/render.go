// Package render writes a setup's plan as code a team reviews and applies
// with its own tools: a Terraform module, a CloudFormation template with
// the SQL beside it, or the raw documents. Every document comes from the
// plan init applies (each step's artifacts and the typed values they were
// made from); only what the plan learns while applying (the account id,
// the warehouse's identity, the external ID) becomes a reference in the
// target language.
//
// render names no cloud: each provider writes its own part of a format
// through the renderer it implements (render/terraform,
// render/cloudformation, render/raw), and render puts the setup's parts
// together.
package render

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/growthloop/byob/internal/prose"
	"github.com/growthloop/byob/internal/securefile"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/render/cloudformation"
	"github.com/growthloop/byob/render/plan"
	"github.com/growthloop/byob/render/raw"
	"github.com/growthloop/byob/render/terraform"
	"github.com/growthloop/byob/wizard"
)

// Formats are the formats Render writes.
var Formats = []string{"terraform", "cloudformation", "json", "sql"}

// A format: who writes it, and how its files are put together.
type format struct {
	// renders reports whether p writes its part of the format.
	renders func(p providers.Provider) bool
	// bucket says the files are the bucket's cloud's: its provider must
	// write them. Otherwise one of the setup's providers must (what says
	// what it writes).
	bucket bool
	what   string
	write  func(cfg providers.Config, known *providers.Values, st *wizard.State) ([]File, error)
}

func implements[T any](p providers.Provider) bool { _, ok := p.(T); return ok }

var formats = map[string]format{
	"terraform":      {renders: implements[terraform.Renderer], bucket: true, write: terraformModule},
	"cloudformation": {renders: implements[cloudformation.Renderer], bucket: true, write: cloudFormation},
	"json":           {renders: implements[raw.Documents], bucket: true, write: rawJSON},
	"sql":            {renders: implements[raw.Statements], what: "SQL", write: rawSQL},
}

// File is one rendered file.
type File struct {
	Path    string // relative to the output directory
	Content string
}

// build makes the model of cfg's plan, the values the state file knows
// set, and each unknown one of refs set to its reference.
func build(cfg providers.Config, known *providers.Values, refs map[providers.Key]string) (*plan.Model, error) {
	v := providers.NewValues(known.Map())
	for k, expr := range refs {
		if v.Get(k) == "" {
			v.Set(k, plan.Ref(expr))
		}
	}
	p, err := wizard.NewPlan(cfg, v, wizard.Deps{})
	if err != nil {
		return nil, err
	}
	m := &plan.Model{Config: cfg, Artifacts: map[string][]providers.Artifact{}}
	for _, s := range p.Steps {
		m.Steps = append(m.Steps, s.ID())
		m.Artifacts[s.ID()] = s.Artifacts(v)
	}
	return m, nil
}

// renderers are the setup's providers that implement T, bucket first.
func renderers[T any](cfg *providers.Config) []T {
	var out []T
	for _, p := range cfg.Active() {
		if r, ok := p.(T); ok {
			out = append(out, r)
		}
	}
	return out
}

// Options are what Render knows beyond the setup's inputs.
type Options struct {
	// Known are the values the state file of an existing setup holds
	// (the account id, the external ID, Snowflake's identity); nil for a
	// new setup.
	Known *providers.Values
	// State is the state file of an existing setup, nil for a new one:
	// the Terraform module imports what it records as made.
	State *wizard.State
}

// Render renders cfg's plan in format. The same inputs give the same
// files: what only applying learns is a reference or a placeholder
// unless Known holds it.
func Render(format string, cfg providers.Config, o Options) ([]File, error) {
	f, ok := formats[format]
	if !ok {
		return nil, providers.Usagef("invalid --format %q: must be %s", format, strings.Join(Formats, ", "))
	}
	known := o.Known
	if known == nil {
		known = providers.NewValues(nil)
	}
	if o.State != nil {
		// Another setup's state would import the wrong objects.
		if err := o.State.Matches(cfg); err != nil {
			return nil, err
		}
	}
	if err := supports(format, f, &cfg); err != nil {
		return nil, err
	}
	return f.write(cfg, known, o.State)
}

// supports checks that the setup's providers write format f, and says
// otherwise which setups do.
func supports(name string, f format, cfg *providers.Config) error {
	bp := cfg.BucketProvider()
	if bp == nil {
		return providers.Usagef("invalid --provider %q: byob render writes the setup of a bucket's cloud", cfg.Provider)
	}
	switch {
	case f.bucket && f.renders(bp), !f.bucket && slices.ContainsFunc(cfg.Active(), f.renders):
		return nil
	case f.bucket:
		var by, others []string
		for _, p := range providers.BucketProviders() {
			if f.renders(p) {
				by = append(by, p.Name())
			}
		}
		for _, n := range Formats {
			if g := formats[n]; g.bucket && g.renders(bp) {
				others = append(others, n)
			}
		}
		return providers.Usagef("--format %s is for --provider %s: use --format %s for %s", name, prose.Or(by), prose.Or(others), cfg.Provider)
	}
	var by []string
	for _, p := range providers.Registered() {
		if f.renders(p) {
			by = append(by, selector(p))
		}
	}
	return providers.Usagef("--format %s needs %s: without a warehouse there is no %s", name, prose.Or(by), f.what)
}

// selector is the flag and value that choose p: "--warehouse snowflake".
func selector(p providers.Provider) string {
	if _, ok := p.(providers.Warehouse); ok {
		return "--warehouse " + p.Name()
	}
	return "--provider " + p.Name()
}

// refsOf merges the references each renderer declares.
func refsOf[T any](rs []T, of func(T) map[providers.Key]string) map[providers.Key]string {
	out := map[providers.Key]string{}
	for _, r := range rs {
		maps.Copy(out, of(r))
	}
	return out
}

// Write writes files under dir with mode 0644, each atomically. A file
// that exists is refused unless force, before anything is written.
func Write(dir string, files []File, force bool) error {
	if !force {
		var there []string
		for _, f := range files {
			if _, err := os.Lstat(filepath.Join(dir, f.Path)); err == nil {
				there = append(there, f.Path)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		if len(there) > 0 {
			return providers.Usagef("%s already holds %s: pass --force to overwrite, or choose another --out", dir, strings.Join(there, ", "))
		}
	}
	for _, f := range files {
		path := filepath.Join(dir, f.Path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := securefile.WriteMode(path, []byte(f.Content), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}
