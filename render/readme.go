package render

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/growthloop/byob/internal/prose"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/render/cloudformation"
	"github.com/growthloop/byob/render/terraform"
	"github.com/growthloop/byob/wizard"
)

// terraformReadme says how to apply the module, take over an existing
// setup, and hand the key to GrowthLoop.
func terraformReadme(cfg providers.Config, mod *terraform.Module, st *wizard.State) string {
	// What the README says of each of the setup's providers: nothing of
	// a cloud or warehouse the module does not use.
	var credentials, backends, objects []string
	for _, p := range cfg.Active() {
		if r, ok := p.(terraform.Mentioned); ok {
			m := r.TerraformMention()
			credentials = appendSome(credentials, m.Credentials)
			backends = appendSome(backends, m.Backend)
		}
		if _, ok := p.(providers.Warehouse); ok && implements[terraform.Renderer](p) {
			objects = append(objects, p.Title())
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# GrowthLoop export storage: bucket %s\n\n", cfg.Bucket)
	b.WriteString("Written by `byob render --format terraform` from the same plan `byob init` applies:\n")
	what := "every policy, bucket setting, lifecycle rule, tag and description"
	if len(objects) > 0 {
		what = "every policy, bucket setting, lifecycle rule, tag, description and " + prose.Or(objects) + " object"
	}
	if len(mod.Left()) > 0 {
		what += " is the one init would make, apart from what byob adopted (below)"
	} else {
		what += " is the one init would make"
	}
	fmt.Fprintf(&b, "%s.\n\n", what)
	b.WriteString("## Providers\n\n")
	required := mod.Required()
	for _, n := range slices.Sorted(maps.Keys(required)) {
		fmt.Fprintf(&b, "- `%s` %s\n", required[n].Source, required[n].Version)
	}
	b.WriteString("\nPinned exactly: these are the releases byob's tests validate the module with (`terraform validate`).\n")
	b.WriteString(mod.Notes(terraform.NoteProviders))
	b.WriteString("\n## Apply\n\n```sh\nterraform init\nterraform plan -out byob.tfplan   # review it\nterraform apply byob.tfplan\n```\n\n")
	fmt.Fprintf(&b, "Credentials come from the providers' usual places: %s.\n\n", strings.Join(credentials, ", "))
	b.WriteString(mod.Notes(terraform.NoteApply))
	leftReadme(&b, mod)
	importReadme(&b, mod, st)
	if mod.Imports() > 0 {
		// An imported key has no secret (above): one the module makes has.
		b.WriteString("## A new key is in the Terraform state\n\n")
		b.WriteString("A key the module makes, such as the replacement above, has its secret in the Terraform state\n")
		b.WriteString("(the outputs are `sensitive`, the state is not).\n")
	} else {
		b.WriteString("## The key is in the Terraform state\n\n")
		b.WriteString("The module creates GrowthLoop's key, so the Terraform state holds its secret (the outputs are `sensitive`, the state is not).\n")
	}
	fmt.Fprintf(&b, "Keep the state in an encrypted backend with restricted access (%s), never in git.\n\n", strings.Join(append(backends, "Terraform Cloud"), ", "))
	b.WriteString("## Hand the key to GrowthLoop\n\n```sh\nterraform output -json | byob bundle --from-terraform -\n")
	b.WriteString(verifyCommand(cfg) + "\n```\n\n")
	b.WriteString("`byob bundle` proves the key works before it writes the bundle (mode 0600); upload it in GrowthLoop under\n")
	b.WriteString("Settings > Organization > Storage. `byob verify` then checks the whole setup, read-only.\n")
	return b.String()
}

func appendSome(list []string, s string) []string {
	if s == "" {
		return list
	}
	return append(list, s)
}

// leftReadme lists what the module leaves to be managed outside
// Terraform: what byob adopted and does not own.
func leftReadme(b *strings.Builder, mod *terraform.Module) {
	left := mod.Left()
	if len(left) == 0 {
		return
	}
	b.WriteString("## What Terraform does not manage\n\n")
	b.WriteString("byob's state file records that these were there before byob (it adopted them). byob never deletes them, and this\n")
	b.WriteString("module has no resource for them, so neither `terraform apply` nor `terraform destroy` changes them:\n\n")
	for _, l := range left {
		b.WriteString("- " + l + "\n")
	}
	b.WriteString("\n")
}

// importReadme says what imports.tf takes over from a setup byob made,
// and what it cannot.
func importReadme(b *strings.Builder, mod *terraform.Module, st *wizard.State) {
	if st == nil || (st.Destroyed == nil && mod.Imports() == 0) {
		return
	}
	b.WriteString("## Taking over the setup byob made\n\n")
	if d := st.Destroyed; d != nil {
		fmt.Fprintf(b, "The state file records a `byob destroy` that finished (%s): there is nothing to import,\n", d.At.UTC().Format(time.RFC3339))
		b.WriteString("and `terraform apply` makes the setup anew.\n\n")
		return
	}
	n := mod.Imports()
	fmt.Fprintf(b, "`imports.tf` imports the %s byob's state file records as made (Terraform 1.5 `import` blocks, each with the\n", prose.Count(n, "object"))
	b.WriteString("import ID its provider documents). The module describes them exactly as `byob init` made them, so against the same\n")
	fmt.Fprintf(b, "accounts `terraform plan` shows `%d to import, 0 to add, 0 to change, 0 to destroy`", n)
	if unimported := mod.Unimported(); len(unimported) > 0 {
		b.WriteString(", apart from what cannot be imported, which it adds:\n\n")
		for _, u := range unimported {
			b.WriteString("- " + u + "\n")
		}
		b.WriteString("\nTerraform creates those anew. A new key is a second one: hand it to GrowthLoop as below, then delete byob's\n")
		b.WriteString("(the key id in `growthloop-byob-bundle.json`) with the cloud's console or CLI.\n\n")
	} else {
		b.WriteString(".\n\n")
	}
	adoptedImportsReadme(b, mod.AdoptedImports())
	b.WriteString(mod.Notes(terraform.NoteImport))
	b.WriteString("After `terraform apply`, Terraform owns the setup: change it there, and stop using `byob init`, `rotate-keys` and\n")
	b.WriteString("`destroy` on it (keep `byob verify`).\n\n")
}

// adoptedImportsReadme names the imported objects byob adopted: once
// imported, terraform destroy deletes them, which byob destroy never does.
func adoptedImportsReadme(b *strings.Builder, addrs []string) {
	if len(addrs) == 0 {
		return
	}
	b.WriteString("byob's state file records that these imported objects were there before byob (it adopted them, and `byob destroy`\n")
	b.WriteString("leaves them):\n\n")
	for _, a := range addrs {
		b.WriteString("- `" + a + "`\n")
	}
	b.WriteString("\nOnce imported, Terraform manages them, and `terraform destroy` would delete them. To keep one, run\n")
	b.WriteString("`terraform state rm ADDRESS` before you destroy.\n\n")
}

// cloudFormationReadme says how to deploy the template, in the order its
// provider gives, and hand the key to GrowthLoop.
func cloudFormationReadme(cfg providers.Config, t *cloudformation.Template) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# GrowthLoop export storage: bucket %s\n\n", cfg.Bucket)
	b.WriteString("Written by `byob render --format cloudformation` from the same plan `byob init` applies.\n")
	b.WriteString(t.Notes(cloudformation.NoteDeploy))
	b.WriteString("## Hand the key to GrowthLoop\n\n```sh\n")
	b.WriteString(t.Notes(cloudformation.NoteOutputs))
	b.WriteString("byob bundle --from-cloudformation outputs.json\n")
	b.WriteString(verifyCommand(cfg) + "\n```\n\n")
	b.WriteString(t.Notes(cloudformation.NoteHandover))
	return b.String()
}

// verifyCommand is byob verify with the flags that describe the setup:
// init's, as the verify of a setup without a state file takes them.
func verifyCommand(cfg providers.Config) string {
	return "byob verify " + strings.TrimPrefix(wizard.InitCommand(cfg), "byob init ")
}
