package cmd

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// lastJSON is the last JSON value of out, and how many there were.
func lastJSON(t *testing.T, out string) (map[string]any, int) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	var last map[string]any
	n := 0
	for {
		var v map[string]any
		err := dec.Decode(&v)
		if err == io.EOF {
			return last, n
		}
		if err != nil {
			t.Fatalf("stdout is not JSON objects: %v\n%s", err, out)
		}
		last, n = v, n+1
	}
}

// errorOf is the error of a final JSON object: its kind and remedy.
func errorOf(t *testing.T, doc map[string]any) (kind, remedy string) {
	t.Helper()
	e, ok := doc["error"].(map[string]any)
	if !ok || doc["ok"] != false {
		t.Fatalf("no error in %v", doc)
	}
	kind, _ = e["kind"].(string)
	remedy, _ = e["remedy"].(string)
	if e["message"] == "" || remedy == "" {
		t.Errorf("an error without a message or remedy: %v", e)
	}
	return kind, remedy
}

// TestVerifyJSONWhenItCannotRun: verify --output json prints its document
// even when it cannot run (a login fails, exit 1), so that a CI job's
// `jq '.checks[]'` still reads it.
func TestVerifyJSONWhenItCannotRun(t *testing.T) {
	c, dir, _ := initialized(t)
	c.env["SNOWFLAKE_PASSWORD"] = "not-the-password"
	out, errOut, code := c.run(t, dir, "verify", "--output", "json")
	if code != ExitFailure {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	doc, n := lastJSON(t, out)
	if kind, _ := errorOf(t, doc); kind != "failure" || n != 1 {
		t.Errorf("kind %q, %d objects: %s", kind, n, out)
	}
	if checks, ok := doc["checks"].([]any); !ok || len(checks) != 0 {
		t.Errorf("checks %v", doc["checks"])
	}
}

// TestVerifyJSONWithAFailedCheck: the report itself carries the error.
func TestVerifyJSONWithAFailedCheck(t *testing.T) {
	c, dir, _ := initialized(t)
	const stage = "ANALYTICS.FLYWHEEL_SYSTEM.FLYWHEEL_EXTERNAL_STAGE"
	st := c.sf.Stage(stage)
	st.URL = "s3://elsewhere/"
	c.sf.SetStage(stage, *st)
	out, errOut, code := c.run(t, dir, "verify", "--output", "json")
	if code != ExitFailure {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	doc, n := lastJSON(t, out)
	if kind, _ := errorOf(t, doc); kind != "failure" || n != 1 || len(doc["checks"].([]any)) == 0 {
		t.Errorf("kind %q, %d objects: %s", kind, n, out)
	}
}

// TestInitJSONStoppedRunSaysHowToResume: a run that stopped half way ends
// its events with a summary whose error names the command that resumes.
func TestInitJSONStoppedRunSaysHowToResume(t *testing.T) {
	c := newCloud(t)
	dir := t.TempDir()
	c.sf.FailMutation(2)
	out, errOut, code := c.run(t, dir, c.args("--output", "json")...)
	if code != ExitFailure {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	doc, n := lastJSON(t, out)
	kind, remedy := errorOf(t, doc)
	if kind != "failure" || doc["event"] != "summary" || n < 2 || !strings.Contains(remedy, "byob init --provider s3 --bucket cli-exports-"+c.id) {
		t.Errorf("kind %q remedy %q, %d objects:\n%s", kind, remedy, n, out)
	}
}
