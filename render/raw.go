package render

import (
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/render/plan"
	"github.com/growthloop/byob/render/raw"
	"github.com/growthloop/byob/wizard"
)

// rawModel is the plan with each value only applying learns, and that the
// setup does not know, shown by the name a reviewer fills in.
func rawModel(cfg providers.Config, known *providers.Values) (*plan.Model, error) {
	return build(cfg, known, refsOf(renderers[raw.Refs](&cfg), raw.Refs.RawRefs))
}

// rawJSON writes the plan's JSON documents, one file each, exactly as
// init sends them, then its SQL.
func rawJSON(cfg providers.Config, known *providers.Values, _ *wizard.State) ([]File, error) {
	m, err := rawModel(cfg, known)
	if err != nil {
		return nil, err
	}
	var files []File
	for _, r := range renderers[raw.Documents](&cfg) {
		files = appendRaw(files, r.Documents(m))
	}
	return append(files, sqlFiles(m)...), nil
}

// rawSQL writes only the SQL.
func rawSQL(cfg providers.Config, known *providers.Values, _ *wizard.State) ([]File, error) {
	m, err := rawModel(cfg, known)
	if err != nil {
		return nil, err
	}
	return sqlFiles(m), nil
}

// sqlFiles are the SQL of m's setup.
func sqlFiles(m *plan.Model) []File {
	var files []File
	for _, r := range renderers[raw.Statements](&m.Config) {
		files = appendRaw(files, r.Statements(m))
	}
	return files
}

func appendRaw(files []File, more []raw.File) []File {
	for _, f := range more {
		files = append(files, File(f))
	}
	return files
}
