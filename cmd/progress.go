package cmd

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/growthloop/byob/wizard"
)

const nextStep = "upload the bundle in GrowthLoop: Settings > Organization > Storage"

// progress renders a run: plain lines for people, JSON lines for machines.
type progress struct {
	streams *IOStreams
	json    *json.Encoder
}

func newProgress(streams *IOStreams, output string) *progress {
	p := &progress{streams: streams}
	if output == "json" {
		p.json = json.NewEncoder(streams.Out)
		p.json.SetEscapeHTML(false)
	}
	return p
}

func (p *progress) preflight(pf wizard.Preflight) {
	if p.json != nil {
		_ = p.json.Encode(map[string]any{
			"event": "preflight", "aws_caller": pf.Caller.ARN, "snowflake_role": pf.Snowflake.Role,
			"snowflake_region": pf.Snowflake.Region, "region": pf.Region, "warnings": pf.Warnings,
		})
		return
	}
	if pf.Caller.ARN != "" {
		fmt.Fprintf(p.streams.Out, "AWS: %s (account %s), bucket region %s\n", pf.Caller.ARN, pf.Caller.AccountID, pf.Region)
	}
	if pf.Caller.ARN == "" && pf.Region != "" {
		fmt.Fprintf(p.streams.Out, "Google Cloud: bucket location %s\n", pf.Region)
	}
	if pf.Snowflake.Role != "" {
		fmt.Fprintf(p.streams.Out, "Snowflake: account %s in %s, role %s\n", pf.Snowflake.Account, pf.Snowflake.Region, pf.Snowflake.Role)
	}
	for _, w := range pf.Warnings {
		fmt.Fprintf(p.streams.Err, "Warning: %s\n", w)
	}
}

// event is called by the runner, one event at a time.
func (p *progress) event(e wizard.Event) {
	if p.json != nil {
		_ = p.json.Encode(struct {
			wizard.Event
			ElapsedMS int64 `json:"elapsed_ms"`
		}{e, e.Elapsed.Milliseconds()})
		return
	}
	took := e.Elapsed.Round(100 * time.Millisecond)
	switch e.Kind {
	case wizard.EventApplied:
		fmt.Fprintf(p.streams.Out, "✓ %s (%s)\n", e.Title, took)
	case wizard.EventInPlace:
		line := "= " + e.Title + ": already in place"
		if e.Detail != "" {
			line += " (" + e.Detail + ")"
		}
		fmt.Fprintln(p.streams.Out, line)
	case wizard.EventDrift:
		fmt.Fprintf(p.streams.Out, "! %s: %s\n", e.Title, indent(e.Detail))
	case wizard.EventWait:
		fmt.Fprintf(p.streams.Out, "… %s: %s\n", e.Title, e.Detail)
	case wizard.EventFailed:
		fmt.Fprintf(p.streams.Out, "✗ %s\n", e.Title)
	}
}

func (p *progress) summary(cfg wizard.Config, out wizard.Outcome, err error, resume string) {
	if p.json != nil {
		s := map[string]any{"event": "summary", "ok": err == nil, "applied": nonNil(out.Applied), "in_place": nonNil(out.InPlace),
			"bundle_written": out.BundleWritten, "state": cfg.State}
		if out.Pending != "" {
			s["pending"] = out.Pending
		}
		if out.BundleWritten || err == nil {
			s["bundle"] = cfg.Bundle
			s["next"] = nextStep
		}
		_ = p.json.Encode(s)
		return
	}
	w := p.streams.Out
	if out.BundleWritten {
		fmt.Fprintf(w, "\nCredentials bundle written to %s (mode 0600). Keep it private.\n", cfg.Bundle)
	}
	if err != nil {
		fmt.Fprintf(w, "\nStopped. What finished is recorded in %s; fix the problem below and re-run the same command to resume:\n  %s\n", cfg.State, resume)
		if out.Pending != "" {
			fmt.Fprintf(w, "The new key's secret waits in %s (mode 0600) until a run finishes.\n", out.Pending)
		}
		return
	}
	if len(out.Applied) == 0 {
		fmt.Fprintln(w, "\nEverything is already in place; nothing was changed.")
	} else {
		fmt.Fprintf(w, "\nDone: %s applied, %d already in place.\n", plural(len(out.Applied), "change"), len(out.InPlace))
	}
	fmt.Fprintf(w, "Next: %s (%s).\n", nextStep, cfg.Bundle)
}

// plural is "1 change", "2 changes".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// nonNil makes an empty list a JSON [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// indent continues a multi-line detail under its first line.
func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n    ") }
