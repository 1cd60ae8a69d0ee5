package render

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/growthloop/byob/providers"
	awsp "github.com/growthloop/byob/providers/aws"
	"github.com/growthloop/byob/providers/gcp"
	sfp "github.com/growthloop/byob/providers/snowflake"
	"github.com/growthloop/byob/wizard"
)

// The providers the module pins, by name: source and exact version, the
// releases the tests validate the modules with (scripts/tfschema).
var tfProviders = map[string][2]string{
	"aws":       {"hashicorp/aws", "5.100.0"},
	"google":    {"hashicorp/google", "6.50.0"},
	"snowflake": {"snowflakedb/snowflake", "1.2.3"},
}

// What a Terraform module refers to for the values applying learns. The
// external ID is the one Snowflake gives the integration: provider 1.x
// cannot set it (see snowflake()).
var tfRefs = map[providers.Key]string{
	providers.AWSAccountID:            "data.aws_caller_identity.current.account_id",
	providers.ExternalID:              "snowflake_storage_integration.this.storage_aws_external_id",
	providers.WarehouseUserARN:        "snowflake_storage_integration.this.storage_aws_iam_user_arn",
	providers.WarehouseServiceAccount: "snowflake_storage_integration.this.storage_gcp_service_account",
}

// tfModule is a module being written: its files' bodies.
type tfModule struct {
	m                                        *Model
	versions, variables, main, outs, imports *hclwrite.File
	uses                                     map[string]bool
	// have are the steps of an existing setup (the state file's, done):
	// their resources get import blocks. Values are the setup's.
	have   map[string]bool
	values *providers.Values
	state  *wizard.State
	// unimported are the resources of existing steps that cannot be
	// imported, and why, for the README.
	unimported []string
}

// terraform writes the plan as a Terraform module: versions.tf,
// variables.tf, main.tf, outputs.tf, a README, and for an existing setup
// imports.tf.
func terraform(cfg providers.Config, known *providers.Values, st *wizard.State) ([]File, error) {
	// The module's own resources stand for what applying learns, even
	// where the state file knows it: the state's values only go into the
	// import IDs.
	m, err := build(cfg, providers.NewValues(nil), tfRefs)
	if err != nil {
		return nil, err
	}
	t := &tfModule{m: m, versions: hclwrite.NewEmptyFile(), variables: hclwrite.NewEmptyFile(), main: hclwrite.NewEmptyFile(),
		outs: hclwrite.NewEmptyFile(), imports: hclwrite.NewEmptyFile(), uses: map[string]bool{}, have: map[string]bool{}, values: known, state: st}
	if st != nil && st.Destroyed == nil {
		for id, s := range st.Steps {
			t.have[id] = s.Status == wizard.StepDone
		}
	}
	switch cfg.Provider {
	case awsp.Name:
		t.aws()
	case gcp.Name:
		t.gcs()
	}
	if m.has(sfp.StepIntegration) {
		t.snowflake()
	}
	t.output("provider", "the bucket's cloud", fmt.Sprintf("%q", cfg.Provider), false)
	t.output("prefix", "exports are written under it", fmt.Sprintf("%q", cfg.Prefix), false)
	t.output("setup_name", "byob's name of the setup (--name)", fmt.Sprintf("%q", cfg.Name), false)
	if cfg.OrgID != "" {
		t.output("org_id", "GrowthLoop organisation id", fmt.Sprintf("%q", cfg.OrgID), false)
	}
	t.versionsFile()
	files := []File{
		{"versions.tf", string(hclwrite.Format(t.versions.Bytes()))},
		{"variables.tf", string(hclwrite.Format(t.variables.Bytes()))},
		{"main.tf", string(hclwrite.Format(t.main.Bytes()))},
		{"outputs.tf", string(hclwrite.Format(t.outs.Bytes()))},
	}
	if len(t.imports.Body().Blocks()) > 0 {
		files = append(files, File{"imports.tf", string(hclwrite.Format(t.imports.Bytes()))})
	}
	return append(files, File{"README.md", terraformReadme(cfg, t)}), nil
}

func (t *tfModule) versionsFile() {
	tf := t.versions.Body().AppendNewBlock("terraform", nil).Body()
	// import blocks need 1.5.
	tf.SetAttributeValue("required_version", cty.StringVal(">= 1.5"))
	req := tf.AppendNewBlock("required_providers", nil).Body()
	for _, n := range slices.Sorted(maps.Keys(t.uses)) {
		p := tfProviders[n]
		req.SetAttributeValue(n, cty.ObjectVal(map[string]cty.Value{"source": cty.StringVal(p[0]), "version": cty.StringVal(p[1])}))
	}
}

// importing writes an import block for the resource at addr when the
// setup has step: id is the import ID its provider documents.
func (t *tfModule) importing(step, addr, id string) {
	if !t.have[step] {
		return
	}
	b := t.imports.Body().AppendNewBlock("import", nil).Body()
	b.SetAttributeTraversal("to", traversal(addr))
	b.SetAttributeValue("id", cty.StringVal(id))
	t.imports.Body().AppendNewline()
}

// cannotImport records that the setup's resource at addr cannot be
// imported, and why.
func (t *tfModule) cannotImport(step, addr, why string) {
	if t.have[step] {
		t.unimported = append(t.unimported, "`"+addr+"`: "+why)
	}
}

// resource appends a resource block to main.tf.
func (t *tfModule) resource(typ, name string) *hclwrite.Body {
	t.uses[strings.SplitN(typ, "_", 2)[0]] = true
	t.main.Body().AppendNewline()
	return t.main.Body().AppendNewBlock("resource", []string{typ, name}).Body()
}

// output appends an output.
func (t *tfModule) output(name, description, expr string, sensitive bool) {
	b := t.outs.Body().AppendNewBlock("output", []string{name}).Body()
	b.SetAttributeValue("description", cty.StringVal(description))
	b.SetAttributeRaw("value", tfExpr(expr))
	if sensitive {
		b.SetAttributeValue("sensitive", cty.True)
	}
	t.outs.Body().AppendNewline()
}

// tfExpr is an expression as tokens ("aws_iam_user.growthloop.name").
func tfExpr(expr string) hclwrite.Tokens {
	return hclwrite.Tokens{{Type: hclsyntax.TokenIdent, Bytes: []byte(expr)}}
}

// tfEscape escapes literal text for a quoted string or heredoc template.
func tfEscape(s string, quoted bool) string {
	if quoted {
		s = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
	}
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(s)
}

// tfTemplate is s as a template: its literal text escaped, its references
// interpolated.
func tfTemplate(s string, quoted bool) string {
	var b strings.Builder
	for i, part := range refs(s) {
		if i%2 == 1 {
			b.WriteString("${" + part + "}")
		} else {
			b.WriteString(tfEscape(part, quoted))
		}
	}
	return b.String()
}

// tfString is s as a quoted string, references interpolated.
func tfString(s string) hclwrite.Tokens {
	if !hasRef(s) {
		return hclwrite.TokensForValue(cty.StringVal(s))
	}
	return hclwrite.Tokens{
		{Type: hclsyntax.TokenOQuote, Bytes: []byte(`"`)},
		{Type: hclsyntax.TokenQuotedLit, Bytes: []byte(tfTemplate(s, true))},
		{Type: hclsyntax.TokenCQuote, Bytes: []byte(`"`)},
	}
}

// tfDocument is a JSON document, exactly as the plan has it, as a heredoc.
func tfDocument(doc string) hclwrite.Tokens {
	return hclwrite.Tokens{
		{Type: hclsyntax.TokenOHeredoc, Bytes: []byte("<<-EOT\n")},
		{Type: hclsyntax.TokenStringLit, Bytes: []byte(tfTemplate(doc, false) + "\n")},
		{Type: hclsyntax.TokenCHeredoc, Bytes: []byte("EOT")},
	}
}

// tfStrings is a list of strings.
func tfStrings(ss []string) cty.Value {
	vals := make([]cty.Value, len(ss))
	for i, s := range ss {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}

// document is step id's JSON document, as the plan shows it.
func (m *Model) document(id string) string {
	for _, a := range m.Artifacts[id] {
		if a.Format == providers.FormatJSON {
			return a.Content
		}
	}
	return ""
}

// known is s with each reference the module makes replaced by the
// setup's value (Snowflake's service account in a binding's member);
// false when the state file lacks one.
func (t *tfModule) known(s string) (string, bool) {
	for k, expr := range tfRefs {
		if strings.Contains(s, ref(expr)) {
			if t.values.Get(k) == "" {
				return "", false
			}
			s = strings.ReplaceAll(s, ref(expr), t.values.Get(k))
		}
	}
	return s, true
}

// unquote is a quoted identifier's name ("FLYWHEEL_APP_AWS"), as the
// provider takes an account object's name.
func unquote(ident string) string {
	if len(ident) > 1 && ident[0] == '"' && ident[len(ident)-1] == '"' {
		return strings.ReplaceAll(ident[1:len(ident)-1], `""`, `"`)
	}
	return ident
}

// traversal is a reference such as aws_s3_bucket.exports.id.
func traversal(expr string) hcl.Traversal {
	parts := strings.Split(expr, ".")
	t := hcl.Traversal{hcl.TraverseRoot{Name: parts[0]}}
	for _, p := range parts[1:] {
		t = append(t, hcl.TraverseAttr{Name: p})
	}
	return t
}
