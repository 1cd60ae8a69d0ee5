package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/growthloop/byob/wizard"
)

// renderPlan prints the plan for people: numbered steps, each with the
// exact artifacts it applies.
func renderPlan(w io.Writer, d wizard.Doc) error {
	in := d.Config
	var b strings.Builder
	fmt.Fprintf(&b, "Plan: %s, exports under %s expiring after %d days, warehouse %s.\n", d.Where, in.Prefix, in.TTLDays, d.Warehouse)
	fmt.Fprintf(&b, "%d steps. A dry run changes nothing; values in <angle brackets> are read at apply time.\n", len(d.Steps))
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
	fmt.Fprintf(&b, "\nApply with (re-running is safe):\n  %s\n", commandLine(in, false))
	_, err := io.WriteString(w, b.String())
	return err
}
