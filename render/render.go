// Package render writes a setup's plan as code a team reviews and applies
// with its own tools: a Terraform module, a CloudFormation template with
// the Snowflake SQL beside it, or the raw documents. Every document comes
// from the plan init applies (each step's artifacts and the typed values
// they were made from); only what the plan learns while applying (the
// account id, Snowflake's identity, the external ID) becomes a reference
// in the target language.
package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/growthloop/byob/internal/securefile"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/wizard"
)

// Formats are the formats Render writes.
var Formats = []string{"terraform", "cloudformation", "json", "sql"}

// File is one rendered file.
type File struct {
	Path    string // relative to the output directory
	Content string
}

// A ref stands, in a document, for a value only applying learns: it is
// written as mark+expression+mark into the plan's values, and each
// format turns it into its own reference.
const mark = "@@byob-ref@@"

func ref(expr string) string { return mark + expr + mark }

// refs splits s into literal text and references: odd indexes are
// references.
func refs(s string) []string { return strings.Split(s, mark) }

// hasRef reports whether s holds a reference.
func hasRef(s string) bool { return strings.Contains(s, mark) }

// Model is the plan, step by step, with its artifacts.
type Model struct {
	Config providers.Config
	// Steps are in plan order; Artifacts[id] are the step's.
	Steps     []string
	Artifacts map[string][]providers.Artifact
}

// has reports whether the plan holds a step.
func (m *Model) has(id string) bool { return slices.Contains(m.Steps, id) }

// value is the typed value of step id's first artifact that has one.
func value[T any](m *Model, id string) (T, bool) {
	for _, a := range m.Artifacts[id] {
		if v, ok := a.Value.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// values are the typed values of step id's artifacts of type T.
func values[T any](m *Model, id string) []T {
	var out []T
	for _, a := range m.Artifacts[id] {
		if v, ok := a.Value.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// build makes the model of cfg's plan, the values the state file knows
// set, and each unknown one of unknown set to its reference.
func build(cfg providers.Config, known *providers.Values, unknown map[providers.Key]string) (*Model, error) {
	v := providers.NewValues(known.Map())
	for k, expr := range unknown {
		if v.Get(k) == "" {
			v.Set(k, ref(expr))
		}
	}
	plan, err := wizard.NewPlan(cfg, v, wizard.Deps{})
	if err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, Artifacts: map[string][]providers.Artifact{}}
	for _, s := range plan.Steps {
		m.Steps = append(m.Steps, s.ID())
		m.Artifacts[s.ID()] = s.Artifacts(v)
	}
	return m, nil
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
	switch format {
	case "terraform":
		return terraform(cfg, known, o.State)
	case "cloudformation":
		return cloudFormation(cfg, known)
	case "json":
		return rawJSON(cfg, known)
	case "sql":
		return rawSQL(cfg, known)
	}
	return nil, providers.Usagef("invalid --format %q: must be %s", format, strings.Join(Formats, ", "))
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
