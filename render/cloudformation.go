package render

import (
	"maps"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/render/cloudformation"
	"github.com/growthloop/byob/wizard"
)

// cloudFormation writes the bucket's cloud as one template, the SQL of
// the setup beside it, and a README with the order to apply them in.
func cloudFormation(cfg providers.Config, known *providers.Values, _ *wizard.State) ([]File, error) {
	rs := renderers[cloudformation.Renderer](&cfg)
	refs := map[providers.Key]string{}
	// What the template takes from its parameters stays a reference: the
	// parameters' defaults are the setup's values.
	forTemplate := providers.NewValues(known.Map())
	for _, r := range rs {
		rr, params := r.CloudFormationRefs()
		maps.Copy(refs, rr)
		for _, k := range params {
			forTemplate.Delete(k)
		}
	}
	m, err := build(cfg, forTemplate, refs)
	if err != nil {
		return nil, err
	}
	t := cloudformation.New(m, known)
	for _, r := range rs {
		if err := r.CloudFormation(t); err != nil {
			return nil, err
		}
	}
	t.Outputs["Prefix"] = cloudformation.Output{Value: cfg.Prefix, Description: "exports are written under it"}
	t.Outputs["SetupName"] = cloudformation.Output{Value: cfg.Name, Description: "byob's name of the setup (--name)"}
	if cfg.OrgID != "" {
		t.Outputs["OrgId"] = cloudformation.Output{Value: cfg.OrgID, Description: "GrowthLoop organisation id"}
	}
	tmpl, err := t.JSON()
	if err != nil {
		return nil, err
	}
	files := []File{{"template.json", string(tmpl) + "\n"}}
	// The SQL names the values a reviewer fills in, as the raw documents do.
	sql, err := rawSQL(cfg, known, nil)
	if err != nil {
		return nil, err
	}
	files = append(files, sql...)
	return append(files, File{"README.md", cloudFormationReadme(cfg, t)}), nil
}
