package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/growthloop/byob/internal/prose"
	"github.com/growthloop/byob/internal/safetext"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/wizard"
)

// Reporter shows what a run does: plain lines for people, JSON lines for
// machines, or a live checklist at a terminal. Every verb reports through
// one, so each outcome has one wording. Text from the clouds reaches the
// terminal only escaped (safe*).
type Reporter interface {
	Preflight(pf wizard.Preflight)
	Event(e wizard.Event)
	// Waiting says why a check waits (a new key propagating).
	Waiting(msg string)
	// Done ends a run that changes the cloud.
	Done(o RunOutcome)
	// Checks shows verify's checks.
	Checks(rep wizard.Report) error
	// Destroyed ends byob destroy.
	Destroyed(o DestroyResult)
	// Rotated ends a phase of byob rotate-keys.
	Rotated(o RotateResult)
}

// DestroyResult is how byob destroy ended.
type DestroyResult struct {
	wizard.DestroyOutcome
	Err   error
	State string
	// Resume is the command that finishes a stopped destroy.
	Resume string
	// Deleted are the files --delete-bundle deleted; Left those that still
	// hold the setup's key.
	Deleted, Left []string
}

// removeBundle is what to do in GrowthLoop once the setup is gone.
const removeBundle = "remove the bundle in GrowthLoop (Settings > Organization > Storage): its key and integration no longer work"

// rerun says what to do before running a stopped command again: nothing
// but run it when it was cancelled (Ctrl-C, a question declined).
func rerun(err error) string {
	if errors.Is(err, wizard.ErrCancelled) {
		return "re-run"
	}
	return "fix the problem and re-run"
}

// destroySummary is the end of a destroy, as lines; resume says whether
// the resume command follows.
func destroySummary(o DestroyResult) (lines []string, resume bool) {
	if o.Err != nil {
		return []string{fmt.Sprintf("Stopped. What was removed is recorded in %s; %s to finish.", o.State, rerun(o.Err))}, true
	}
	switch {
	case len(o.Removed) == 0 && len(o.Forgotten) == 0:
		lines = append(lines, "Nothing to remove; nothing was changed.")
	case len(o.Forgotten) > 0:
		lines = append(lines, fmt.Sprintf("Done: %d removed, %d kept, %d already gone (no longer recorded).", len(o.Removed), len(o.Kept), len(o.Forgotten)))
	default:
		lines = append(lines, fmt.Sprintf("Done: %d removed, %d kept.", len(o.Removed), len(o.Kept)))
	}
	if len(o.Deleted) > 0 {
		lines = append(lines, "Deleted "+prose.And(o.Deleted)+".")
	}
	switch len(o.Left) {
	case 0:
	case 1:
		lines = append(lines, o.Left[0]+" still holds the setup's key: delete it, or re-run with --delete-bundle.")
	default:
		lines = append(lines, prose.And(o.Left)+" still hold the setup's key: delete them, or re-run with --delete-bundle.")
	}
	return append(lines, "Next: "+removeBundle+"."), false
}

// RunOutcome is how a run that changes the cloud ended.
type RunOutcome struct {
	wizard.Outcome
	Err    error
	Bundle string
	State  string
	// Resume is the command that resumes a stopped run.
	Resume string
}

// The wordings of the outcomes.
const (
	nextStep  = "upload the bundle in GrowthLoop: Settings > Organization > Storage"
	inPlace   = "Everything is already in place; nothing was changed."
	resumeCmd = "Resume with:"
)

// summary is the end of a run, as lines; resume says whether the resume
// command follows.
func summary(o RunOutcome) (lines []string, resume bool) {
	if o.BundleWritten {
		lines = append(lines, fmt.Sprintf("Credentials bundle written to %s (mode 0600). Keep it private.", o.Bundle))
	}
	if o.Err != nil && !o.Started {
		return append(lines, "Stopped before any change; "+rerun(o.Err)+" the same command."), false
	}
	if o.Err != nil {
		lines = append(lines, fmt.Sprintf("Stopped. What finished is recorded in %s; %s the same command to resume.", o.State, rerun(o.Err)))
		if o.Pending != "" {
			lines = append(lines, fmt.Sprintf("The new key's secret waits in %s (mode 0600) until a run finishes.", o.Pending))
		}
		return lines, true
	}
	if len(o.Applied) == 0 {
		lines = append(lines, inPlace)
	} else {
		lines = append(lines, fmt.Sprintf("Done: %s applied, %d already in place.", prose.Count(len(o.Applied), "change"), len(o.InPlace)))
	}
	if len(o.Proved) > 0 {
		lines = append(lines, "Proved: "+strings.Join(o.Proved, "; ")+".")
	}
	return append(lines, fmt.Sprintf("Next: %s (%s).", nextStep, o.Bundle), "Check it any time: byob verify"), false
}

// warn writes each warning to the error stream.
func warn(io *IOStreams, warnings []string) {
	for _, w := range warnings {
		fmt.Fprintf(io.ErrOut, "Warning: %s\n", w)
	}
}

// textReporter writes plain lines.
type textReporter struct {
	io *IOStreams
	// accessible: progress is told line by line, never drawn.
	accessible bool
	mu         sync.Mutex
	// bar is the progress bar drawn in place, while one is; tenth is the
	// last tenth a plain progress line showed.
	bar   *progressBar
	tenth int
}

func (r *textReporter) Preflight(pf wizard.Preflight) {
	pf = safePreflight(pf)
	for _, id := range pf.Identities {
		fmt.Fprintln(r.io.Out, id.Summary)
	}
	warn(r.io, pf.Warnings)
}

func (r *textReporter) Event(e wizard.Event) {
	e = safeEvent(e)
	if e.Kind == wizard.EventProgress {
		r.progress(e)
		return
	}
	r.endProgress()
	took := e.Elapsed.Round(100 * time.Millisecond)
	switch e.Kind {
	case wizard.EventApplied:
		if e.Detail == "" {
			fmt.Fprintf(r.io.Out, "✓ %s (%s)\n", e.Title, took)
		} else {
			// Why it changed, or what it left alone (a key byob did not make).
			fmt.Fprintf(r.io.Out, "✓ %s (%s): %s\n", e.Title, took, e.Detail)
		}
	case wizard.EventInPlace:
		line := "= " + e.Title + ": already in place"
		if e.Detail != "" {
			line += " (" + e.Detail + ")"
		}
		fmt.Fprintln(r.io.Out, line)
	case wizard.EventDrift:
		fmt.Fprintf(r.io.Out, "! %s: %s\n", e.Title, indent(e.Detail))
	case wizard.EventWait:
		fmt.Fprintf(r.io.Out, "… %s: %s\n", e.Title, e.Detail)
	case wizard.EventFailed:
		fmt.Fprintf(r.io.Out, "✗ %s\n", e.Title)
	case wizard.EventProved:
		fmt.Fprintf(r.io.Out, "✓ %s: %s (%s)\n", e.Title, e.Detail, took)
	case wizard.EventRemoved:
		fmt.Fprintf(r.io.Out, "✓ %s (%s)\n", e.Detail, took)
	case wizard.EventKept:
		fmt.Fprintf(r.io.Out, "= kept: %s\n", e.Detail)
	}
}

// progress shows how far a long removal has come: a bar drawn in place at
// a terminal, a line per tenth elsewhere and for a screen reader.
func (r *textReporter) progress(e wizard.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Total <= 0 {
		return
	}
	if r.io.IsStdoutTTY() && !r.io.Accessible(r.accessible) {
		if r.bar == nil {
			r.bar = startProgressBar(r.io)
		}
		r.bar.show(e)
		return
	}
	tenth := 10 * e.Done / e.Total
	if e.Done == 0 || tenth != r.tenth {
		r.tenth = tenth
		fmt.Fprintf(r.io.Out, "… %s: %d of %d %s\n", e.Title, e.Done, e.Total, e.Detail)
	}
}

// endProgress takes a progress bar off the screen before other lines.
func (r *textReporter) endProgress() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		r.bar.end()
		r.bar = nil
	}
}

func (r *textReporter) Rotated(o RotateResult) {
	lines, resume := rotateSummary(o)
	r.end(lines, resume, o.Resume)
}

func (r *textReporter) Destroyed(o DestroyResult) {
	r.endProgress()
	lines, resume := destroySummary(o)
	r.end(lines, resume, o.Resume)
}

// end prints the summary lines of a run, then the command that resumes it.
func (r *textReporter) end(lines []string, resume bool, command string) {
	fmt.Fprintln(r.io.Out)
	for _, l := range lines {
		fmt.Fprintln(r.io.Out, l)
	}
	if resume {
		fmt.Fprintf(r.io.Out, "%s\n  %s\n", resumeCmd, command)
	}
}

func (r *textReporter) Waiting(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.io.ErrOut, "… %s\n", safetext.String(msg))
}

func (r *textReporter) Done(o RunOutcome) {
	lines, resume := summary(o)
	r.end(lines, resume, o.Resume)
}

func (r *textReporter) Checks(rep wizard.Report) error {
	rep = safeReport(rep)
	if r.io.IsStdoutTTY() {
		return renderChecksTable(r.io.Out, rep)
	}
	return renderChecksPlain(r.io.Out, rep)
}

// jsonReporter writes one JSON object per line (and verify's report as one
// document).
type jsonReporter struct {
	io  *IOStreams
	enc *json.Encoder
	mu  sync.Mutex
	// path is the command's ("byob init"), for what an error's remedy
	// says.
	path string
}

func newJSONReporter(io *IOStreams, path string) *jsonReporter {
	enc := json.NewEncoder(io.Out)
	enc.SetEscapeHTML(false)
	return &jsonReporter{io: io, enc: enc, path: path}
}

// end writes the run's summary, with what went wrong when err is set.
func (r *jsonReporter) end(s map[string]any, err error, resume string) {
	s["event"], s["ok"] = "summary", err == nil
	if err != nil {
		s["error"] = errorDoc(r.path, err, resume)
	}
	writeJSON(r.io, s)
}

func (r *jsonReporter) Preflight(pf wizard.Preflight) {
	pf = safePreflight(pf)
	ev := map[string]any{"event": "preflight", "region": pf.Region, "warnings": nonNil(pf.Warnings)}
	for _, id := range pf.Identities {
		for k, v := range id.Fields {
			ev[k] = v
		}
	}
	_ = r.enc.Encode(ev)
}

func (r *jsonReporter) Event(e wizard.Event) {
	_ = r.enc.Encode(struct {
		wizard.Event
		ElapsedMS int64 `json:"elapsed_ms"`
	}{safeEvent(e), e.Elapsed.Milliseconds()})
}

func (r *jsonReporter) Waiting(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.io.ErrOut, "… %s\n", safetext.String(msg))
}

func (r *jsonReporter) Done(o RunOutcome) {
	s := map[string]any{"applied": nonNil(o.Applied), "in_place": nonNil(o.InPlace),
		"proved": nonNil(o.Proved), "bundle_written": o.BundleWritten}
	if o.Started {
		s["state"] = o.State // a run that stopped before any change wrote none
	}
	if o.Pending != "" {
		s["pending"] = o.Pending
	}
	if o.BundleWritten || o.Err == nil {
		s["bundle"] = o.Bundle
		s["next"] = nextStep
	}
	resume := ""
	if o.Started {
		resume = o.Resume
	}
	r.end(s, o.Err, resume)
}

func (r *jsonReporter) Rotated(o RotateResult) {
	s := map[string]any{"phase": "start", "old_key": o.Old, "new_key": o.New, "state": o.State}
	if o.Finish {
		s["phase"], s["already_finished"] = "finish", o.Finished
		if !o.Finished {
			s["old_key_kept"] = o.Kept
		}
	} else if o.Err == nil {
		s["bundle"], s["previous"], s["next"] = o.Bundle, o.Previous, uploadThenFinish
	}
	if o.Pending != "" {
		s["pending"] = o.Pending
	}
	r.end(s, o.Err, o.Resume)
}

func (r *jsonReporter) Destroyed(o DestroyResult) {
	kept := []map[string]string{}
	for _, k := range o.Kept {
		kept = append(kept, map[string]string{"step": k.Step.ID(), "reason": safetext.String(k.Keep)})
	}
	s := map[string]any{"removed": nonNil(o.Removed), "forgotten": nonNil(o.Forgotten), "kept": kept,
		"deleted": nonNil(o.Deleted), "left": nonNil(o.Left), "state": o.State}
	if o.Err == nil {
		s["next"] = removeBundle
	}
	r.end(s, o.Err, o.Resume)
}

// Checks writes verify's report as one document; one with a check that
// did not pass carries the error verify exits with.
func (r *jsonReporter) Checks(rep wizard.Report) error {
	doc := struct {
		wizard.Report
		Error map[string]string `json:"error,omitempty"`
	}{Report: safeReport(rep)}
	if !rep.OK {
		doc.Error = errorDoc(r.path, &checksFailed{checksSummary(rep)}, "")
	}
	enc := json.NewEncoder(r.io.Out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	r.io.ended = true
	return enc.Encode(doc)
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

var statusMark = map[providers.CheckStatus]string{
	providers.Pass: "✓", providers.Fail: "✗", providers.Warn: "!", providers.Unknown: "?",
}

// renderChecksTable prints one row per check for a terminal, each failure
// or warning followed by its fix.
func renderChecksTable(w io.Writer, rep wizard.Report) error {
	width := len("CHECK")
	for _, c := range rep.Checks {
		width = max(width, len(c.Title))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "   %-*s  %s\n", width, "CHECK", "DETAIL")
	for _, c := range rep.Checks {
		fmt.Fprintf(&b, "%s  %-*s  %s\n", statusMark[c.Status], width, c.Title, c.Detail)
		if c.Remedy != "" && c.Status != providers.Pass {
			fmt.Fprintf(&b, "   fix: %s\n", c.Remedy)
		}
	}
	fmt.Fprintf(&b, "\n%s\n", checksSummary(rep))
	_, err := io.WriteString(w, b.String())
	return err
}

// renderChecksPlain prints one line per check, for logs and pipes.
func renderChecksPlain(w io.Writer, rep wizard.Report) error {
	var b strings.Builder
	for _, c := range rep.Checks {
		fmt.Fprintf(&b, "%s %s: %s: %s\n", strings.ToUpper(string(c.Status)), c.ID, c.Title, c.Detail)
		if c.Remedy != "" && c.Status != providers.Pass {
			fmt.Fprintf(&b, "  fix: %s\n", c.Remedy)
		}
	}
	b.WriteString(checksSummary(rep) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func checksSummary(rep wizard.Report) string {
	n := map[providers.CheckStatus]int{}
	for _, c := range rep.Checks {
		n[c.Status]++
	}
	return fmt.Sprintf("%d passed, %d failed, %s, %d could not run", n[providers.Pass], n[providers.Fail], prose.Count(n[providers.Warn], "warning"), n[providers.Unknown])
}
