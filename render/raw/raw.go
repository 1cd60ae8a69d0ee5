// Package raw writes a plan's own documents and statements, one file
// each, exactly as init sends them, with each value only applying learns
// shown as a placeholder a reviewer fills in.
package raw

import (
	"strings"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/render/plan"
)

// Refs is a provider whose artifacts hold values only applying learns.
type Refs interface {
	// RawRefs name each such value as a reviewer fills it in:
	// "aws-account-id" shows as <aws-account-id>.
	RawRefs() map[providers.Key]string
}

// Documents is a provider that writes its JSON documents (--format json).
type Documents interface {
	Documents(m *plan.Model) []File
}

// Statements is a provider that writes its SQL (--format sql, and beside
// the other formats' files where they cannot hold it).
type Statements interface {
	Statements(m *plan.Model) []File
}

// File is one file of documents or statements.
type File struct{ Path, Content string }

// Placeholders is s with each reference shown as <name>.
func Placeholders(s string) string {
	var b strings.Builder
	for i, part := range plan.Parts(s) {
		if i%2 == 1 {
			b.WriteString("<" + part + ">")
		} else {
			b.WriteString(part)
		}
	}
	return b.String()
}

// DocumentFiles are the JSON documents of the plan's steps that files
// names, in plan order, one file each.
func DocumentFiles(m *plan.Model, files map[string]string) []File {
	var out []File
	for _, id := range m.Steps {
		if name, ok := files[id]; ok {
			if doc := m.Document(id); doc != "" {
				out = append(out, File{name, Placeholders(doc) + "\n"})
			}
		}
	}
	return out
}
