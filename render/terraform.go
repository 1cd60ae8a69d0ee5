package render

import (
	"fmt"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/render/terraform"
	"github.com/growthloop/byob/wizard"
)

// terraformModule writes the plan as a Terraform module: versions.tf,
// variables.tf, main.tf, outputs.tf, a README, and for an existing setup
// imports.tf. Each of the setup's providers writes its part.
func terraformModule(cfg providers.Config, known *providers.Values, st *wizard.State) ([]File, error) {
	rs := renderers[terraform.Renderer](&cfg)
	refs := refsOf(rs, terraform.Renderer.TerraformRefs)
	// The module's own resources stand for what applying learns, even
	// where the state file knows it: the state's values only go into the
	// import IDs.
	m, err := build(cfg, providers.NewValues(nil), refs)
	if err != nil {
		return nil, err
	}
	made := map[string]bool{}
	if st != nil && st.Destroyed == nil {
		for id, s := range st.Steps {
			made[id] = s.Status == wizard.StepDone
		}
	}
	mod := terraform.New(m, refs, known, made)
	for _, r := range rs {
		if err := r.Terraform(mod); err != nil {
			return nil, err
		}
	}
	mod.Output("provider", "the bucket's cloud", fmt.Sprintf("%q", cfg.Provider), false)
	mod.Output("prefix", "exports are written under it", fmt.Sprintf("%q", cfg.Prefix), false)
	mod.Output("setup_name", "byob's name of the setup (--name)", fmt.Sprintf("%q", cfg.Name), false)
	if cfg.OrgID != "" {
		mod.Output("org_id", "GrowthLoop organisation id", fmt.Sprintf("%q", cfg.OrgID), false)
	}
	var files []File
	for _, f := range mod.Files() {
		files = append(files, File(f))
	}
	return append(files, File{"README.md", terraformReadme(cfg, mod, st)}), nil
}
