// Package terraform writes a Terraform module: its files' blocks, the
// providers it pins, import blocks for what a setup already has, and the
// expressions that stand for the values only applying learns. Each
// provider writes its own part (Renderer); byob render puts them together.
package terraform

import (
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/render/plan"
)

// Renderer is a provider that writes its part of a module.
type Renderer interface {
	// TerraformRefs are the expressions the module reads the values only
	// applying learns from (its own resources' attributes), by key.
	TerraformRefs() map[providers.Key]string
	// Terraform writes its providers, variables, resources, outputs and
	// imports into m.
	Terraform(m *Module) error
}

// Reader is a provider that reads its part of the module's outputs back
// (byob bundle --from-terraform).
type Reader interface {
	// ReadTerraform fills its part of h from the outputs' string values,
	// by name, and names the outputs its part lacks.
	ReadTerraform(outputs map[string]string, h *providers.Handed) (missing []string, err error)
}

// Mention is what every module's README says of a provider, whether or
// not the setup has it.
type Mention struct {
	// Credentials says where its Terraform provider finds them: "AWS
	// (`AWS_PROFILE`, SSO)".
	Credentials string
	// Backend is a state backend on its cloud that encrypts ("S3 with
	// SSE-KMS"); "" for none.
	Backend string
}

// Mentioned is a provider every module's README mentions.
type Mentioned interface {
	TerraformMention() Mention
}

// Requirement is a Terraform provider the module pins: its source and
// exact version.
type Requirement struct{ Source, Version string }

// Section is a part of the module's README a provider adds to.
type Section int

// The README's sections.
const (
	NoteProviders Section = iota // after the pinned providers
	NoteApply                    // after how to apply
	NoteImport                   // after what imports.tf takes over
)

// File is one file of the module.
type File struct{ Path, Content string }

// Module is a module being written.
type Module struct {
	// Plan is what the module describes; the values only applying learns
	// are the module's own references in its documents.
	Plan *plan.Model
	// Values are the setup's, as the state file records them: import IDs
	// are made of them.
	Values *providers.Values

	refs                                   map[providers.Key]string
	made                                   map[string]bool
	variables, main, outputs, importBlocks *hclwrite.File
	required                               map[string]Requirement
	unimported, adoptedImports, left       []string
	notes                                  map[Section]string
}

// New starts a module of p, whose references stand for refs' keys. made
// are the steps an existing setup has (their resources are imported);
// values are its values.
func New(p *plan.Model, refs map[providers.Key]string, values *providers.Values, made map[string]bool) *Module {
	return &Module{Plan: p, Values: values, refs: refs, made: made,
		variables: hclwrite.NewEmptyFile(), main: hclwrite.NewEmptyFile(), outputs: hclwrite.NewEmptyFile(), importBlocks: hclwrite.NewEmptyFile(),
		required: map[string]Requirement{}, notes: map[Section]string{}}
}

// block appends a block to f, a blank line before it unless it is the
// first.
func block(f *hclwrite.File, typ string, labels ...string) *hclwrite.Body {
	if len(f.Body().Blocks()) > 0 {
		f.Body().AppendNewline()
	}
	return f.Body().AppendNewBlock(typ, labels).Body()
}

// Provider pins a Terraform provider (source "hashicorp/aws", an exact
// version) and appends its provider block to main.tf.
func (m *Module) Provider(name, source, version string) *hclwrite.Body {
	m.required[name] = Requirement{source, version}
	return block(m.main, "provider", name)
}

// Variable appends a string variable with a default to variables.tf.
func (m *Module) Variable(name, description, value string) {
	v := block(m.variables, "variable", name)
	v.SetAttributeRaw("type", Expr("string"))
	v.SetAttributeValue("description", cty.StringVal(description))
	v.SetAttributeValue("default", cty.StringVal(value))
}

// Data appends a data block to main.tf.
func (m *Module) Data(typ, name string) *hclwrite.Body { return block(m.main, "data", typ, name) }

// Resource appends a resource block to main.tf.
func (m *Module) Resource(typ, name string) *hclwrite.Body {
	return block(m.main, "resource", typ, name)
}

// Output appends an output to outputs.tf.
func (m *Module) Output(name, description, expr string, sensitive bool) {
	b := m.outputs.Body().AppendNewBlock("output", []string{name}).Body()
	b.SetAttributeValue("description", cty.StringVal(description))
	b.SetAttributeRaw("value", Expr(expr))
	if sensitive {
		b.SetAttributeValue("sensitive", cty.True)
	}
	m.outputs.Body().AppendNewline()
}

// Made reports whether the setup has step: the state file records it
// done (byob made it, or adopted what was there).
func (m *Module) Made(step string) bool { return m.made[step] }

// Adopted reports whether the setup's state file records step's object
// as there before byob (adopted), which byob never deletes.
func (m *Module) Adopted(step string) bool { return providers.Adopted(m.Values, step) }

// Import writes an import block for the resource at addr when the setup
// has step: id is the import ID its provider documents. An adopted
// object's address is named in the README: Terraform would destroy it.
func (m *Module) Import(step, addr, id string) { m.importAs(step, addr, id, m.Adopted(step)) }

// ImportPart is Import for a part of an object byob made (a setting of
// byob's own bucket): that the cloud set it first does not make it
// someone else's.
func (m *Module) ImportPart(step, addr, id string) { m.importAs(step, addr, id, false) }

func (m *Module) importAs(step, addr, id string, adopted bool) {
	if !m.made[step] {
		return
	}
	if adopted {
		m.adoptedImports = append(m.adoptedImports, addr)
	}
	b := m.importBlocks.Body().AppendNewBlock("import", nil).Body()
	b.SetAttributeTraversal("to", Traversal(addr))
	b.SetAttributeValue("id", cty.StringVal(id))
	m.importBlocks.Body().AppendNewline()
}

// CannotImport records, for the README, that the setup's resource at addr
// cannot be imported, and why.
func (m *Module) CannotImport(step, addr, why string) {
	if m.made[step] {
		m.unimported = append(m.unimported, "`"+addr+"`: "+why)
	}
}

// Leave records, for the README, what the module leaves to be managed
// outside Terraform and why: markdown, one list item.
func (m *Module) Leave(text string) { m.left = append(m.left, text) }

// Note adds text, whole lines, to a section of the README.
func (m *Module) Note(s Section, text string) { m.notes[s] += text }

// Known is s with each of the module's references replaced by the setup's
// value (Snowflake's service account in a binding's member); false when
// the setup's values lack one.
func (m *Module) Known(s string) (string, bool) {
	for k, expr := range m.refs {
		if strings.Contains(s, plan.Ref(expr)) {
			if m.Values.Get(k) == "" {
				return "", false
			}
			s = strings.ReplaceAll(s, plan.Ref(expr), m.Values.Get(k))
		}
	}
	return s, true
}

// Required are the pinned providers, by name.
func (m *Module) Required() map[string]Requirement { return maps.Clone(m.required) }

// Imports is the number of import blocks.
func (m *Module) Imports() int { return len(m.importBlocks.Body().Blocks()) }

// Unimported are the setup's resources that cannot be imported, each with
// why.
func (m *Module) Unimported() []string { return slices.Clone(m.unimported) }

// AdoptedImports are the addresses of imported objects the setup adopted.
func (m *Module) AdoptedImports() []string { return slices.Clone(m.adoptedImports) }

// Left is what the module leaves to be managed outside Terraform.
func (m *Module) Left() []string { return slices.Clone(m.left) }

// Notes are what the providers added to a section of the README.
func (m *Module) Notes(s Section) string { return m.notes[s] }

// Files are the module's .tf files: versions.tf, variables.tf, main.tf,
// outputs.tf and, when it imports anything, imports.tf.
func (m *Module) Files() []File {
	versions := hclwrite.NewEmptyFile()
	tf := versions.Body().AppendNewBlock("terraform", nil).Body()
	// import blocks need 1.5.
	tf.SetAttributeValue("required_version", cty.StringVal(">= 1.5"))
	req := tf.AppendNewBlock("required_providers", nil).Body()
	for _, n := range slices.Sorted(maps.Keys(m.required)) {
		p := m.required[n]
		req.SetAttributeValue(n, cty.ObjectVal(map[string]cty.Value{"source": cty.StringVal(p.Source), "version": cty.StringVal(p.Version)}))
	}
	files := []File{
		{"versions.tf", format(versions)},
		{"variables.tf", format(m.variables)},
		{"main.tf", format(m.main)},
		{"outputs.tf", format(m.outputs)},
	}
	if m.Imports() > 0 {
		files = append(files, File{"imports.tf", format(m.importBlocks)})
	}
	return files
}

func format(f *hclwrite.File) string { return string(hclwrite.Format(f.Bytes())) }

// Expr is an expression as tokens ("aws_iam_user.growthloop.name").
func Expr(expr string) hclwrite.Tokens {
	return hclwrite.Tokens{{Type: hclsyntax.TokenIdent, Bytes: []byte(expr)}}
}

// DependsOn sets b's depends_on to the resources at addrs.
func DependsOn(b *hclwrite.Body, addrs ...string) {
	list := make([]hclwrite.Tokens, len(addrs))
	for i, a := range addrs {
		list[i] = Expr(a)
	}
	b.SetAttributeRaw("depends_on", hclwrite.TokensForTuple(list))
}

// Traversal is a reference such as aws_s3_bucket.exports.id.
func Traversal(expr string) hcl.Traversal {
	parts := strings.Split(expr, ".")
	t := hcl.Traversal{hcl.TraverseRoot{Name: parts[0]}}
	for _, p := range parts[1:] {
		t = append(t, hcl.TraverseAttr{Name: p})
	}
	return t
}

// escape escapes literal text for a quoted string or heredoc template.
func escape(s string, quoted bool) string {
	if quoted {
		s = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
	}
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(s)
}

// template is s as a template: its literal text escaped, its references
// interpolated.
func template(s string, quoted bool) string {
	var b strings.Builder
	for i, part := range plan.Parts(s) {
		if i%2 == 1 {
			b.WriteString("${" + part + "}")
		} else {
			b.WriteString(escape(part, quoted))
		}
	}
	return b.String()
}

// String is s as a quoted string, references interpolated.
func String(s string) hclwrite.Tokens {
	if !plan.HasRef(s) {
		return hclwrite.TokensForValue(cty.StringVal(s))
	}
	return hclwrite.Tokens{
		{Type: hclsyntax.TokenOQuote, Bytes: []byte(`"`)},
		{Type: hclsyntax.TokenQuotedLit, Bytes: []byte(template(s, true))},
		{Type: hclsyntax.TokenCQuote, Bytes: []byte(`"`)},
	}
}

// Document is a JSON document, exactly as the plan has it, as a heredoc.
func Document(doc string) hclwrite.Tokens {
	return hclwrite.Tokens{
		{Type: hclsyntax.TokenOHeredoc, Bytes: []byte("<<-EOT\n")},
		{Type: hclsyntax.TokenStringLit, Bytes: []byte(template(doc, false) + "\n")},
		{Type: hclsyntax.TokenCHeredoc, Bytes: []byte("EOT")},
	}
}

// Strings is a list of strings.
func Strings(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vals := make([]cty.Value, len(ss))
	for i, s := range ss {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}
