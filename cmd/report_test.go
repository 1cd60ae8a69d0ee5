package cmd

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/growthloop/byob/wizard"
)

// TestStoppedSaysWhatToDo: a run stopped by a failure says to fix it and
// re-run; one stopped as asked (Ctrl-C, a question declined) only to
// re-run, since nothing went wrong. Lists of files read as a sentence.
func TestStoppedSaysWhatToDo(t *testing.T) {
	failed, cancelled := errors.New("denied"), fmt.Errorf("apply: %w", wizard.ErrCancelled)
	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{first(summary(RunOutcome{Err: failed})), "Stopped before any change; fix the problem and re-run the same command."},
		{first(summary(RunOutcome{Err: cancelled})), "Stopped before any change; re-run the same command."},
		{first(summary(RunOutcome{Err: cancelled, State: "s.json", Outcome: wizard.Outcome{Started: true}})), "Stopped. What finished is recorded in s.json; re-run the same command to resume."},
		{first(destroySummary(DestroyResult{Err: failed, State: "s.json"})), "Stopped. What was removed is recorded in s.json; fix the problem and re-run to finish."},
		{first(rotateSummary(RotateResult{Err: cancelled, State: "s.json"})), "Stopped. What finished is recorded in s.json; re-run to resume."},
		{first(destroySummary(DestroyResult{DestroyOutcome: wizard.DestroyOutcome{Forgotten: []string{"s3-bucket"}}})), "Done: 0 removed, 0 kept, 1 already gone (no longer recorded)."},
		{first(destroySummary(DestroyResult{Left: []string{"a.json", "a.json.pending", "a.json.previous"}})),
			"a.json, a.json.pending and a.json.previous still hold the setup's key: delete them, or re-run with --delete-bundle."},
	} {
		if !strings.Contains(strings.Join(tc.lines, "\n"), tc.want) {
			t.Errorf("%q lacks %q", tc.lines, tc.want)
		}
	}
}

func first(lines []string, _ bool) []string { return lines }

// TestSummaryBoxFitsTheTerminal: the box around the end of a run wraps
// its lines to the terminal's width instead of spilling over; with no
// width known it is as wide as its lines.
func TestSummaryBoxFitsTheTerminal(t *testing.T) {
	lines, _ := summary(RunOutcome{Bundle: "growthloop-byob-bundle.json", Outcome: wizard.Outcome{BundleWritten: true, Started: true}})
	var narrow, wide strings.Builder
	summaryBox(&narrow, 60, lines...)
	for _, l := range strings.Split(strings.TrimRight(narrow.String(), "\n"), "\n") {
		if w := lipgloss.Width(l); w > 60 {
			t.Errorf("a line of %d columns in 60: %q", w, l)
		}
	}
	if !strings.Contains(strings.Join(strings.Fields(strings.ReplaceAll(narrow.String(), "│", "")), " "), "Settings > Organization > Storage") {
		t.Errorf("the wrapped box lost words:\n%s", narrow.String())
	}
	summaryBox(&wide, 0, lines...)
	if w := lipgloss.Width(strings.Split(wide.String(), "\n")[0]); w <= 60 {
		t.Errorf("with no width known the box is %d columns, narrower than its lines", w)
	}
}
