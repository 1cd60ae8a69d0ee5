package render

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/bundlefile"
	"github.com/growthloop/byob/render/cloudformation"
	"github.com/growthloop/byob/render/terraform"
)

// FromTerraform reads `terraform output -json` of the module byob render
// wrote: the outputs every module has, then the bucket provider's (named
// by the provider output) and each warehouse's part.
func FromTerraform(data []byte) (*providers.Handed, error) {
	var outs map[string]struct {
		Value any `json:"value"`
	}
	if err := json.Unmarshal(data, &outs); err != nil {
		return nil, fmt.Errorf("not the output of terraform output -json: %w", err)
	}
	values := map[string]string{}
	for name, o := range outs {
		if s, ok := o.Value.(string); ok {
			values[name] = s
		}
	}
	h := &providers.Handed{Name: values["setup_name"], Bundle: bundlefile.Bundle{Version: bundlefile.Version, Provider: values["provider"],
		Bucket: values["bucket"], Prefix: values["prefix"], OrgID: values["org_id"]}}
	var readers []providers.Provider
	if bp := (&providers.Config{Provider: h.Bundle.Provider}).BucketProvider(); bp != nil {
		readers = append(readers, bp)
	}
	for _, w := range providers.Warehouses() {
		readers = append(readers, w)
	}
	var missing []string
	for _, p := range readers {
		if r, ok := p.(terraform.Reader); ok {
			m, err := r.ReadTerraform(values, h)
			if err != nil {
				return nil, err
			}
			missing = append(missing, m...)
		}
	}
	return h, check(h, "the terraform output", missing)
}

// FromCloudFormation reads the stack's outputs, as `aws cloudformation
// describe-stacks` prints them (the whole answer, or its Outputs list).
// The template has no provider output: the providers that write
// templates read their parts, and the bucket's names its cloud.
func FromCloudFormation(data []byte) (*providers.Handed, error) {
	type output struct{ OutputKey, OutputValue string }
	var list []output
	if err := json.Unmarshal(data, &list); err != nil {
		var doc struct{ Stacks []struct{ Outputs []output } }
		if err := json.Unmarshal(data, &doc); err != nil || len(doc.Stacks) != 1 {
			return nil, fmt.Errorf("not the outputs of aws cloudformation describe-stacks (one stack, or its Outputs list)")
		}
		list = doc.Stacks[0].Outputs
	}
	outs := map[string]string{}
	for _, o := range list {
		outs[o.OutputKey] = o.OutputValue
	}
	h := &providers.Handed{Name: outs["SetupName"], Bundle: bundlefile.Bundle{Version: bundlefile.Version,
		Bucket: outs["Bucket"], Prefix: outs["Prefix"], OrgID: outs["OrgId"]}}
	var missing []string
	for _, p := range providers.Registered() {
		if r, ok := p.(cloudformation.Reader); ok {
			missing = append(missing, r.ReadCloudFormation(outs, h)...)
		}
	}
	return h, check(h, "the stack's outputs list", missing)
}

// check says what the outputs lack, naming them: the outputs every setup
// has, then what the providers found missing.
func check(h *providers.Handed, what string, missing []string) error {
	var lack []string
	b := h.Bundle
	for _, f := range []struct{ name, v string }{{"provider", b.Provider}, {"bucket", b.Bucket}, {"prefix", b.Prefix}} {
		if f.v == "" {
			lack = append(lack, f.name)
		}
	}
	if lack = append(lack, missing...); len(lack) > 0 {
		return fmt.Errorf("%s has no %s: is it from the code byob render wrote?", what, strings.Join(lack, ", "))
	}
	if h.Name == "" {
		h.Name = providers.DefaultName
	}
	return nil
}
