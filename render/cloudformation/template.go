// Package cloudformation writes a CloudFormation template: its
// parameters, resources (goformation's typed resources) and outputs, with
// the intrinsic functions that stand for the values only applying learns.
// The provider whose cloud it is writes the template (Renderer); byob
// render puts it together with the other providers' parts.
package cloudformation

import (
	"encoding/json"
	"strings"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/render/plan"
)

// Renderer is a provider that writes its part of a template.
type Renderer interface {
	// CloudFormationRefs are what the template refers to (Fn::Sub's
	// ${...}) for the values only applying learns, by key, and params
	// those of them it takes from its parameters even when the setup
	// knows them (the known value is then the parameter's default).
	CloudFormationRefs() (refs map[providers.Key]string, params []providers.Key)
	// CloudFormation writes its parameters, resources and outputs into t.
	CloudFormation(t *Template) error
}

// Reader is a provider that reads its part of a stack's outputs back
// (byob bundle --from-cloudformation).
type Reader interface {
	// ReadCloudFormation fills its part of h from the outputs, by key,
	// and names the outputs its part lacks.
	ReadCloudFormation(outputs map[string]string, h *providers.Handed) (missing []string)
}

// Section is a part of the template's README a provider writes.
type Section int

// The README's sections.
const (
	NoteDeploy   Section = iota // how to deploy the template, in order
	NoteOutputs                 // commands that save the stack's outputs (outputs.json)
	NoteHandover                // after the commands that hand the key over
)

// Template is a CloudFormation template whose resources are goformation's
// typed resources. (goformation's own Template would link all of its 250
// services into byob, 19 MB, for its parser.)
type Template struct {
	AWSTemplateFormatVersion string               `json:"AWSTemplateFormatVersion"`
	Description              string               `json:"Description,omitempty"`
	Parameters               map[string]Parameter `json:"Parameters,omitempty"`
	Resources                map[string]any       `json:"Resources"`
	Outputs                  map[string]Output    `json:"Outputs,omitempty"`

	// Plan is what the template describes; Known are the setup's values
	// (the parameters' defaults).
	Plan  *plan.Model       `json:"-"`
	Known *providers.Values `json:"-"`

	notes map[Section]string
}

// Parameter is a template parameter.
type Parameter struct {
	Type           string `json:"Type"`
	Description    string `json:"Description,omitempty"`
	Default        string `json:"Default,omitempty"`
	AllowedPattern string `json:"AllowedPattern,omitempty"`
}

// Output is a stack output.
type Output struct {
	Value       any    `json:"Value"`
	Description string `json:"Description,omitempty"`
}

// New starts an empty template of p; known are the setup's values.
func New(p *plan.Model, known *providers.Values) *Template {
	return &Template{AWSTemplateFormatVersion: "2010-09-09", Parameters: map[string]Parameter{}, Resources: map[string]any{}, Outputs: map[string]Output{},
		Plan: p, Known: known, notes: map[Section]string{}}
}

// Note adds text, whole lines, to a section of the README.
func (t *Template) Note(s Section, text string) { t.notes[s] += text }

// Notes are what the providers wrote in a section of the README.
func (t *Template) Notes(s Section) string { return t.notes[s] }

// intrinsic marks a string field that stands for an intrinsic function:
// goformation's typed fields are strings, so the function travels as
// marked JSON and JSON() puts it in place.
const intrinsic = "\x00cfn-intrinsic:"

func fn(name string, arg any) string {
	b, _ := json.Marshal(map[string]any{name: arg})
	return intrinsic + string(b)
}

// Ref is {"Ref": name}, for a string field.
func Ref(name string) string { return fn("Ref", name) }

// GetAtt is {"Fn::GetAtt": [name, attr]}, for a string field.
func GetAtt(name, attr string) string { return fn("Fn::GetAtt", []string{name, attr}) }

// Sub is {"Fn::Sub": s}, for a string field: s is the template as is.
func Sub(s string) string { return fn("Fn::Sub", s) }

// JSON is the template with each intrinsic in place, indented as
// CloudFormation's own examples are.
func (t *Template) JSON() ([]byte, error) {
	raw, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return json.MarshalIndent(mapStrings(v, func(x string) any {
		if f, ok := strings.CutPrefix(x, intrinsic); ok {
			var obj any
			if json.Unmarshal([]byte(f), &obj) == nil {
				return obj
			}
		}
		return x
	}), "", "  ")
}

// String is s as CloudFormation takes it: a plain string, or Fn::Sub with
// the references as ${...} and literal "${" escaped.
func String(s string) any {
	if !plan.HasRef(s) {
		return s
	}
	var b strings.Builder
	for i, part := range plan.Parts(s) {
		if i%2 == 1 {
			b.WriteString("${" + part + "}")
		} else {
			b.WriteString(strings.ReplaceAll(part, "${", "${!"))
		}
	}
	return Sub(b.String())
}

// Document is a JSON document of the plan with each string holding a
// reference turned into Fn::Sub.
func Document(doc string) any {
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return doc
	}
	return mapStrings(v, String)
}

// mapStrings replaces each string of a decoded JSON value by f's.
func mapStrings(v any, f func(string) any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = mapStrings(e, f)
		}
	case []any:
		for i, e := range x {
			x[i] = mapStrings(e, f)
		}
	case string:
		return f(x)
	}
	return v
}
