// Package plan is a setup's plan as byob render reads it: the steps in
// order, the artifacts each shows with the typed values they were made
// from, and the marks that stand, in those artifacts, for the values only
// applying learns. Each format turns a mark into its own reference.
package plan

import (
	"slices"
	"strings"

	"github.com/growthloop/byob/providers"
)

// mark brackets a reference: a value only applying learns is set, in the
// plan's values, to mark+expression+mark.
const mark = "@@byob-ref@@"

// Ref is what stands for the value a format refers to by expr.
func Ref(expr string) string { return mark + expr + mark }

// Parts splits s into literal text and references: odd indexes are
// references.
func Parts(s string) []string { return strings.Split(s, mark) }

// HasRef reports whether s holds a reference.
func HasRef(s string) bool { return strings.Contains(s, mark) }

// Model is the plan, step by step, with its artifacts.
type Model struct {
	Config providers.Config
	// Steps are in plan order; Artifacts[id] are the step's.
	Steps     []string
	Artifacts map[string][]providers.Artifact
}

// Has reports whether the plan holds step id.
func (m *Model) Has(id string) bool { return slices.Contains(m.Steps, id) }

// Document is step id's JSON document, as the plan shows it; "" for none.
func (m *Model) Document(id string) string {
	for _, a := range m.Artifacts[id] {
		if a.Format == providers.FormatJSON {
			return a.Content
		}
	}
	return ""
}

// Value is the typed value of step id's first artifact that has one of
// type T.
func Value[T any](m *Model, id string) (T, bool) {
	for _, a := range m.Artifacts[id] {
		if v, ok := a.Value.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// All are the typed values of step id's artifacts of type T.
func All[T any](m *Model, id string) []T {
	var out []T
	for _, a := range m.Artifacts[id] {
		if v, ok := a.Value.(T); ok {
			out = append(out, v)
		}
	}
	return out
}
