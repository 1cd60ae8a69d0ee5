package cmd

import (
	"errors"
	"fmt"
	"strings"
	"testing"

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
		{first(destroySummary(DestroyResult{Left: []string{"a.json", "a.json.pending", "a.json.previous"}})),
			"a.json, a.json.pending and a.json.previous still hold the setup's key: delete them, or re-run with --delete-bundle."},
	} {
		if !strings.Contains(strings.Join(tc.lines, "\n"), tc.want) {
			t.Errorf("%q lacks %q", tc.lines, tc.want)
		}
	}
}

func first(lines []string, _ bool) []string { return lines }
