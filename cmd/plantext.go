package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/growthloop/byob/internal/prose"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/wizard"
)

// renderPlan prints the plan for people, as Terraform's plan reads: first
// a summary that fits a screen (each step on a line, who gets which
// permission, where the bundle goes), then each step's exact documents,
// then the command that applies it.
func renderPlan(w io.Writer, plan *wizard.Plan) error {
	summary, details := planText(plan)
	_, err := io.WriteString(w, summary+details)
	return err
}

// Step actions, as the summary marks them.
const (
	actCreate = "+"
	actChange = "~"
	actKeep   = "="
)

// stepAction is what a step will do, as far as is known before the
// cloud is read: what byob made or found before is kept, what a step
// creates is created, anything else changes a setting (each step is
// skipped when the cloud already has it).
func stepAction(v *providers.Values, s wizard.StepDoc) string {
	switch {
	case providers.Owned(v, s.ID) || providers.Adopted(v, s.ID):
		return actKeep
	case strings.HasPrefix(s.Title, "Create "):
		return actCreate
	}
	return actChange
}

// planText is the plan's summary screen, and the details that follow it.
func planText(plan *wizard.Plan) (summary, details string) {
	d := plan.Doc()
	in := d.Config
	var b strings.Builder
	fmt.Fprintf(&b, "Plan: %s, exports under %s expiring after %s, warehouse %s.\n", d.Where, in.Prefix, prose.Count(in.TTLDays, "day"), d.Warehouse)
	for _, warning := range d.Warnings {
		fmt.Fprintf(&b, "Warning: %s\n", warning)
	}
	fmt.Fprintf(&b, "\nSteps (%s create, %s change, %s keep; each skips what is in place):\n", actCreate, actChange, actKeep)
	width := 0
	for _, s := range d.Steps {
		width = max(width, len(s.Provider))
	}
	count := map[string]int{}
	for _, s := range d.Steps {
		act := stepAction(plan.Values, s)
		count[act]++
		fmt.Fprintf(&b, "  %s %-*s  %s\n", act, width, s.Provider, s.Title)
	}
	if len(d.Permissions) > 0 {
		b.WriteString("\nWho gets which permission:\n")
		for _, g := range permissionsByWho(d.Permissions) {
			fmt.Fprintf(&b, "  %s: %s\n", g.who, strings.Join(g.perms, ", "))
		}
	}
	if files := keyFiles(in); len(files) > 0 {
		fmt.Fprintf(&b, "\nThe bundle %s and the key file %s (mode 0600): upload both in GrowthLoop (Settings > Organization > Storage).\n", in.Bundle, strings.Join(files, ", "))
	} else {
		fmt.Fprintf(&b, "\nThe bundle %s (mode 0600) holds GrowthLoop's key: upload it in GrowthLoop (Settings > Organization > Storage).\n", in.Bundle)
	}
	counts := fmt.Sprintf("Plan: %d to create, %d to change, %d to keep.", count[actCreate], count[actChange], count[actKeep])
	fmt.Fprintf(&b, "\n%s Each step's documents follow.\n", counts)
	summary = b.String()

	b.Reset()
	b.WriteString("\nEach step with the documents it sends (values in <angle brackets> are learned while applying):\n")
	for i, s := range d.Steps {
		fmt.Fprintf(&b, "\n%d. %s  [%s]\n", i+1, s.Title, s.ID)
		if len(s.Needs) > 0 {
			fmt.Fprintf(&b, "   after: %s\n", strings.Join(s.Needs, ", "))
		}
		for _, a := range s.Artifacts {
			fmt.Fprintf(&b, "   %s (%s):\n", a.Name, a.Format)
			content := fmt.Sprint(a.Content)
			if raw, ok := a.Content.(json.RawMessage); ok {
				content = string(raw)
			}
			for _, line := range strings.Split(content, "\n") {
				fmt.Fprintf(&b, "     %s\n", line)
			}
		}
	}
	if len(d.Permissions) > 0 {
		fmt.Fprintf(&b, "\nPermissions granted, to whom, and why:\n")
		who := ""
		for _, p := range d.Permissions {
			if p.Who != who {
				who = p.Who
				fmt.Fprintf(&b, "  %s:\n", who)
			}
			fmt.Fprintf(&b, "    %-24s %s\n", p.Permission, p.Why)
		}
	}
	if len(d.Proofs) > 0 {
		fmt.Fprintf(&b, "\nOnce the bundle is written, byob proves the setup works:\n")
		for _, p := range d.Proofs {
			fmt.Fprintf(&b, "  %s\n", p.Title)
		}
	}
	fmt.Fprintf(&b, "\n%s\nApply with (re-running is safe):\n  %s\n", counts, commandLine(in, false))
	return summary, b.String()
}

// permissionGroup is what one identity is granted.
type permissionGroup struct {
	who   string
	perms []string
}

// permissionsByWho groups the plan's permissions by who holds them, in
// the plan's order.
func permissionsByWho(perms []wizard.Permission) []permissionGroup {
	var out []permissionGroup
	for _, p := range perms {
		if len(out) == 0 || out[len(out)-1].who != p.Who {
			out = append(out, permissionGroup{who: p.Who})
		}
		out[len(out)-1].perms = append(out[len(out)-1].perms, p.Permission)
	}
	return out
}

// keyFiles are the files besides the bundle that GrowthLoop's key is
// written to (a service account's key file).
func keyFiles(cfg wizard.Config) []string {
	var out []string
	for _, f := range providers.Fields {
		if f.HoldsKey && f.Flag != "bundle" && cfg.Applies(f) && f.String(&cfg) != "" {
			out = append(out, f.String(&cfg))
		}
	}
	return out
}
