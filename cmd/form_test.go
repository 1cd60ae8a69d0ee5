package cmd

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/wizard"
)

// interactive runs byob at a (pretend) terminal in accessible mode, the
// answers piped in line by line.
func interactive(t *testing.T, env map[string]string, answers []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	t.Chdir(t.TempDir())
	var out, errOut bytes.Buffer
	streams := &Factory{IO: &IOStreams{
		In: strings.NewReader(strings.Join(answers, "\n") + "\n"), Out: &out, ErrOut: &errOut, StdinTTY: true, StdoutTTY: true,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}, Rand: bytes.NewReader(bytes.Repeat([]byte{0xab}, 64))}
	code = Run(context.Background(), streams, args)
	return out.String(), errOut.String(), code
}

// TestFormGivesTheFlagsPlan: byob init at a terminal, answered line by
// line, prints exactly the plan of the equivalent flags, and that command.
func TestFormGivesTheFlagsPlan(t *testing.T) {
	want, _, code := run(t, nil, s3Args...)
	if code != 0 {
		t.Fatal(code)
	}
	answers := []string{
		"1", "2", // S3, Snowflake
		"1234", "", // org id, setup name kept
		regionAnswer(t, "us-west-2", 1),   // after the Snowflake account's region
		"acme-growthloop-exports", "", "", // bucket, prefix and TTL kept
		"ANALYTICS", "", "GROWTHLOOP", // database, schema kept, role
		"", "", // bundle and state kept
	}
	for _, mode := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"--accessible", map[string]string{"HOME": t.TempDir()}, []string{"init", "--dry-run", "--accessible"}},
		{"BYOB_ACCESSIBLE", map[string]string{"HOME": t.TempDir(), "BYOB_ACCESSIBLE": "1"}, []string{"init", "--dry-run"}},
		{"TERM=dumb", map[string]string{"HOME": t.TempDir(), "TERM": "dumb"}, []string{"plan"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			out, errOut, code := interactive(t, mode.env, answers, mode.args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			if !strings.Contains(out, want) {
				t.Errorf("the form's plan differs from the flags' plan:\n%s", out)
			}
			// After the plan, where it does not scroll away.
			cmdLine := "\nThe same setup without questions:\n  byob init --provider s3 --bucket acme-growthloop-exports --growthloop-role GROWTHLOOP --org-id 1234 --region us-west-2 --snowflake-database ANALYTICS --warehouse snowflake --dry-run\n"
			if !strings.HasSuffix(out, want+cmdLine) {
				t.Errorf("output does not end with the plan, then the equivalent command %q:\n%s", cmdLine, out)
			}
			if strings.Contains(out, "\x1b[") {
				t.Error("accessible output holds escape sequences")
			}
		})
	}
}

// regionAnswer is the number that picks region from the form's list,
// after skip choices offered before the SDK's regions.
func regionAnswer(t *testing.T, region string, skip int) string {
	t.Helper()
	i := slices.IndexFunc(s3bucket.Regions(), func(r s3bucket.Region) bool { return r.Name == region })
	if i < 0 {
		t.Fatalf("the SDK knows no %s", region)
	}
	return strconv.Itoa(skip + i + 1)
}

func TestFormAsksOnlyWhatFlagsLeaveOut(t *testing.T) {
	// Everything but the bucket and the region given: the form asks the
	// optional values too, never a given one.
	// The warehouse comes from the environment: it is not asked either.
	out, errOut, code := interactive(t, map[string]string{"HOME": t.TempDir(), "BYOB_WAREHOUSE": "none"},
		[]string{"", regionAnswer(t, "us-west-2", 0), "my-exports", "", "", "", "", "", ""},
		"init", "--dry-run", "--accessible", "--provider", "s3", "--org-id", "77")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, asked := range []string{"Where should the export bucket live?", "Does a warehouse unload", "GrowthLoop organisation id"} {
		if strings.Contains(out, asked) {
			t.Errorf("asked %q though given", asked)
		}
	}
	if !strings.Contains(out, "Plan: S3 bucket my-exports in us-west-2") {
		t.Errorf("plan:\n%s", out)
	}
}

func TestFormEndOfInputExits130(t *testing.T) {
	out, errOut, code := interactive(t, map[string]string{"HOME": t.TempDir()}, []string{"1"}, "init", "--accessible")
	if code != ExitCancelled || !strings.Contains(errOut, "cancelled") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestAccessibleApply answers the form and the confirmation line by line
// and applies, with progress as plain lines.
func TestAccessibleApply(t *testing.T) {
	c := newCloud(t)
	dir := t.TempDir()
	bucket := "cli-exports-" + c.id
	var args []string
	for i := 0; i < len(c.args()); i++ {
		switch a := c.args()[i]; a {
		case "--yes":
		case "--bucket":
			i++ // asked instead
		default:
			args = append(args, a)
		}
	}
	var out, errOut bytes.Buffer
	t.Chdir(dir)
	streams := &Factory{IO: &IOStreams{
		In:  strings.NewReader(strings.Join([]string{"", "1", bucket, "", "", "", "", "", "y"}, "\n") + "\n"),
		Out: &out, ErrOut: &errOut, StdinTTY: true, StdoutTTY: true,
		LookupEnv: func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }}, Open: wizard.Open}
	code := Run(context.Background(), streams, append(args, "--accessible"))
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"AWS profile", "Bucket region", "Apply this plan?", "✓ Create S3 bucket " + bucket, "Next: upload the bundle"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// The form connected once, and said so once.
	if n := strings.Count(out.String(), "Connecting to "); n != 1 {
		t.Errorf("said it connects %d times:\n%s", n, out.String())
	}
}

func TestFormGivesTheFlagsPlanForGCS(t *testing.T) {
	want, _, code := run(t, nil, gcsArgs...)
	if code != 0 {
		t.Fatal(code)
	}
	answers := []string{
		"2", "1", // GCS, no warehouse
		"", "", // no org id, setup name kept
		"acme-data", "1", // project, location US
		"acme-growthloop-exports", "", "14",
		"", "", "", // bundle, state, key file kept
	}
	out, errOut, code := interactive(t, map[string]string{"HOME": t.TempDir()}, answers, "init", "--dry-run", "--accessible")
	if code != 0 || !strings.Contains(out, want) {
		t.Errorf("exit %d, plan differs from the flags':\n%s\n%s", code, out, errOut)
	}
}

func TestJSONOutputNeverAsks(t *testing.T) {
	// At a terminal, --output json neither runs the form nor asks to apply.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"init", "--output", "json", "--provider", "s3"}, "missing required flags: --bucket, --region"},
		{[]string{"init", "--output", "json", "--provider", "s3", "--bucket", "acme-exports", "--region", "us-east-1"}, "--output json is for machines"},
	} {
		out, errOut, code := interactive(t, map[string]string{"HOME": t.TempDir()}, []string{"1", "1", "y"}, tc.args...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, want 2 and %q\n%s\n%s", tc.args, code, tc.want, out, errOut)
		}
		// Only the JSON object of the error reaches stdout: no question.
		if doc, n := lastJSON(t, out); n != 1 || !strings.Contains(doc["error"].(map[string]any)["message"].(string), tc.want) {
			t.Errorf("%v: stdout %q", tc.args, out)
		}
	}
}

// TestFormAnswersKeepNoWarehouse: the form's command lines spell out the
// warehouse even when the answer is none, so that they give every answer
// again: after a failure (here Google's credentials file is missing,
// found before anything is reached) and after the plan.
func TestFormAnswersKeepNoWarehouse(t *testing.T) {
	t.Chdir(t.TempDir())
	missing := filepath.Join(t.TempDir(), "adc.json")
	var out, errOut bytes.Buffer
	env := map[string]string{"HOME": t.TempDir(), "GOOGLE_APPLICATION_CREDENTIALS": missing}
	streams := &Factory{IO: &IOStreams{
		In: strings.NewReader(strings.Join([]string{"2", "1", "", "", "acme-data", "1"}, "\n") + "\n"), Out: &out, ErrOut: &errOut, StdinTTY: true, StdoutTTY: true,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}, Open: wizard.Open}
	code := Run(context.Background(), streams, []string{"init", "--accessible"})
	for _, want := range []string{
		`Error: invalid GOOGLE_APPLICATION_CREDENTIALS "` + missing + `": the environment variable names a file that does not exist`,
		"Your answers as a command line (it asks only what is missing):\n  byob init --provider gcs --gcp-project acme-data --location US --warehouse none\n",
		"The plan needs no credentials:\n  byob init --provider gcs --gcp-project acme-data --location US --warehouse none --dry-run\n",
	} {
		if code != ExitUsage || !strings.Contains(errOut.String(), want) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", code, want, errOut.String())
		}
	}

	stdout, errs, code := interactive(t, map[string]string{"HOME": t.TempDir()}, []string{"2", "1", "", "", "acme-data", "1", "acme-growthloop-exports", "", "", "", "", ""}, "init", "--dry-run", "--accessible")
	if want := "The same setup without questions:\n  byob init --provider gcs --bucket acme-growthloop-exports --gcp-project acme-data --location US --warehouse none --dry-run\n"; code != 0 || !strings.HasSuffix(stdout, want) {
		t.Errorf("exit %d, output does not end with %q:\n%s%s", code, want, stdout, errs)
	}
}
