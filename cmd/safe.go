package cmd

import (
	"github.com/growthloop/byob/internal/safetext"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/wizard"
)

// Text from AWS, Google Cloud and Snowflake (error messages, ARNs, drift
// details) reaches the terminal only through these: its control
// characters are escaped, so a server cannot rewrite the user's screen.

func safeEvent(e wizard.Event) wizard.Event {
	e.Title, e.Detail = safetext.String(e.Title), safetext.String(e.Detail)
	return e
}

func safePreflight(pf wizard.Preflight) wizard.Preflight {
	pf.Region = safetext.String(pf.Region)
	ids := make([]providers.Identity, len(pf.Identities))
	for i, id := range pf.Identities {
		fields := map[string]string{}
		for k, v := range id.Fields {
			fields[k] = safetext.String(v)
		}
		id.Summary, id.Fields = safetext.String(id.Summary), fields
		ids[i] = id
	}
	pf.Identities = ids
	warnings := make([]string, len(pf.Warnings))
	for i, w := range pf.Warnings {
		warnings[i] = safetext.String(w)
	}
	pf.Warnings = warnings
	return pf
}

func safeReport(rep wizard.Report) wizard.Report {
	checks := make([]wizard.CheckReport, len(rep.Checks))
	for i, c := range rep.Checks {
		c.Title, c.Detail, c.Remedy = safetext.String(c.Title), safetext.String(c.Detail), safetext.String(c.Remedy)
		checks[i] = c
	}
	rep.Checks = checks
	return rep
}
