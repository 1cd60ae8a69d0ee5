package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/s3bucket"
)

// TestDestroyAfterInit: after init, destroy with no setup flags (the state
// file knows it) removes what init made, keeps the bucket, says what to do
// in GrowthLoop, and a second destroy changes nothing.
func TestDestroyAfterInit(t *testing.T) {
	c, dir, _ := initialized(t)
	out, errOut, code := c.run(t, dir, "destroy", "--dry-run")
	if code != ExitOK {
		t.Fatalf("dry run exit %d\n%s\n%s", code, out, errOut)
	}
	names := s3bucket.NamesFor("cli" + c.id)
	for _, want := range []string{"Removes, in this order:", "delete IAM user " + names.User, `DROP STORAGE INTEGRATION IF EXISTS "FLYWHEEL_APP_AWS"`,
		"Keeps:", "bucket cli-exports-" + c.id + " and its objects are kept, private and encrypted, exports under exports/ still expiring after 7 days (--delete-bucket deletes it)", "Remove with: byob destroy"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if len(c.aws.Mutations()) == 0 {
		t.Fatal("init made no AWS change")
	}
	mutations := len(c.aws.Mutations())
	if _, _, code := c.run(t, dir, "destroy", "--dry-run", "--output", "json"); code != ExitOK || len(c.aws.Mutations()) != mutations {
		t.Fatalf("a dry run changed something")
	}

	out, errOut, code = c.run(t, dir, "destroy", "--yes")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"✓ delete IAM user " + names.User, "= kept: bucket cli-exports-" + c.id, "Done: 11 removed, 1 kept.",
		"Next: remove the bundle in GrowthLoop (Settings > Organization > Storage)", providers.DefaultBundle + " still holds the setup's key"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if c.sf.Integration("FLYWHEEL_APP_AWS") != nil {
		t.Error("the integration is still there")
	}

	mutations = len(c.aws.Mutations())
	out, _, code = c.run(t, dir, "destroy", "--yes", "--delete-bundle", "--output", "json")
	var summary map[string]any
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &summary); err != nil || code != ExitOK {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if summary["ok"] != true || len(summary["removed"].([]any)) != 0 || len(c.aws.Mutations()) != mutations {
		t.Errorf("second destroy: %v", summary)
	}
	if _, err := os.Stat(filepath.Join(dir, providers.DefaultBundle)); !os.IsNotExist(err) {
		t.Errorf("--delete-bundle left the bundle: %v", err)
	}
}

// TestDestroyWithTheBucket: --delete-bucket --delete-objects removes the
// bucket byob made, objects and all.
func TestDestroyWithTheBucket(t *testing.T) {
	c, dir, b := initialized(t)
	clients := s3bucket.NewClients(c.aws.ConfigIn("us-west-2"))
	putObjects(t, clients, b.Bucket, 1)
	out, errOut, code := c.run(t, dir, "destroy", "--yes", "--delete-bucket")
	if code != ExitUsage || !strings.Contains(errOut, "holds 1 object (versions included)") || !strings.Contains(errOut, "--delete-objects") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	putObjects(t, clients, b.Bucket, 3) // f0 again (unversioned: the same object), f1, f2
	if _, errOut, _ = c.run(t, dir, "destroy", "--yes", "--delete-bucket"); !strings.Contains(errOut, "holds 3 objects (versions included)") {
		t.Fatalf("stderr %s", errOut)
	}
	out, errOut, code = c.run(t, dir, "destroy", "--yes", "--delete-bucket", "--delete-objects")
	if code != ExitOK || !strings.Contains(out, "✓ delete the 3 objects (versions included) in bucket "+b.Bucket+", then the bucket") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestDestroyUsageErrors(t *testing.T) {
	c := newCloud(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"destroy", "--yes"}, "no setup recorded in byob-state.json"},
		{[]string{"destroy", "--delete-objects", "--yes"}, "--delete-objects"},
		{[]string{"destroy"}, "no setup recorded in byob-state.json"}, // before asking for --yes
		{[]string{"destroy", "--output", "json"}, "no setup recorded in byob-state.json"},
		{[]string{"destroy", "extra"}, `byob destroy takes no arguments, but was given "extra"`},
	} {
		_, errOut, code := c.run(t, dir, tc.args...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, want 2 and %q:\n%s", tc.args, code, tc.want, errOut)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("a refused destroy left files: %v", entries)
	}
}

// putObjects writes n objects under the prefix, as GrowthLoop would.
func putObjects(t *testing.T, c *s3bucket.Clients, bucket string, n int) {
	t.Helper()
	for i := range n {
		_, err := c.S3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(fmt.Sprintf("exports/77/f%d.csv", i)), Body: strings.NewReader("x")})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestDestroyResumeCommandIsStable: the command that finishes a stopped
// destroy names every flag it was given, in one order, run after run.
func TestDestroyResumeCommandIsStable(t *testing.T) {
	c := NewCmdDestroy(&Factory{IO: &IOStreams{}}, func(context.Context, *DestroyOptions) error { return nil })
	args := []string{"--state", "../my state.json", "--bundle", "../b.json", "--delete-bundle", "--delete-objects", "--delete-bucket", "--connect-timeout", "1m", "--yes"}
	if err := c.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	o := &DestroyOptions{flags: c.Flags()}
	want := "byob destroy --bundle ../b.json --connect-timeout 1m0s --delete-bucket --delete-bundle --delete-objects --state '../my state.json' --yes"
	for range 50 {
		if got := destroyCommand(o); got != want {
			t.Fatalf("resume command %q, want %q", got, want)
		}
	}
}

// TestDestroyWithNothingLeftAsksNothing: once a setup is gone, destroy
// without --yes and without a terminal says so instead of asking for
// --yes, and locks nothing.
func TestDestroyWithNothingLeftAsksNothing(t *testing.T) {
	c, dir, _ := initialized(t)
	for args, want := range map[string]string{"": "not a terminal", "--output json": "--output json is for machines"} {
		if _, errOut, code := c.run(t, dir, append([]string{"destroy"}, strings.Fields(args)...)...); code != ExitUsage || !strings.Contains(errOut, want) {
			t.Errorf("destroy %s: exit %d, want 2 and %q:\n%s", args, code, want, errOut)
		}
	}
	if out, errOut, code := c.run(t, dir, "destroy", "--yes"); code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	mutations := len(c.aws.Mutations())
	out, errOut, code := c.run(t, dir, "destroy")
	if code != ExitOK || !strings.Contains(out, "Nothing to remove") || strings.Contains(errOut, "--yes") || len(c.aws.Mutations()) != mutations {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, providers.DefaultState+".lock")); !os.IsNotExist(err) {
		t.Errorf("a lock file was left: %v", err)
	}
}

// TestSetupFlagsAgreeWithTheState: destroy and rotate-keys take the setup
// from the state file. init's command line given to them still works
// while it says what the file records; a setup flag that says otherwise
// (from the command line, BYOB_* or --config) is a usage error naming
// the flag, the file and what it records, before anything is reached.
func TestSetupFlagsAgreeWithTheState(t *testing.T) {
	c, dir, _ := initialized(t)
	initFlags := c.args()[1:] // init's setup and connection flags, and --yes
	out, errOut, code := c.run(t, dir, append([]string{"destroy", "--dry-run"}, initFlags...)...)
	if code != ExitOK || !strings.Contains(out, "Removes, in this order:") {
		t.Fatalf("destroy with init's flags: exit %d\n%s\n%s", code, out, errOut)
	}
	os.WriteFile(filepath.Join(dir, "byob.yaml"), []byte("ttl-days: 30\n"), 0o600)
	mutations := len(c.aws.Mutations())
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"destroy", "--yes", "--prefix", "other/"}, nil,
			`invalid --prefix "other/": byob destroy reads the setup from the state file byob-state.json, which records "exports/": leave --prefix out, or pass the --state of the setup you mean`},
		{[]string{"rotate-keys", "--bucket", "another-bucket"}, nil, `invalid --bucket "another-bucket": byob rotate-keys reads the setup from the state file byob-state.json, which records "cli-exports-`},
		{[]string{"rotate-keys", "--policy-name", "MyPolicy"}, nil, `invalid --policy-name "MyPolicy": byob rotate-keys reads the setup from the state file byob-state.json, which records none`},
		{[]string{"destroy", "--dry-run"}, map[string]string{"BYOB_INTEGRATION": "OTHER"}, `invalid --integration (from BYOB_INTEGRATION) "OTHER"`},
		{[]string{"destroy", "--dry-run", "--config", "byob.yaml"}, nil, `invalid --ttl-days (from byob.yaml) "30"`},
	} {
		env := c.env
		c.env = maps.Clone(env)
		maps.Copy(c.env, tc.env)
		_, errOut, code := c.run(t, dir, tc.args...)
		c.env = env
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v %v: exit %d, want 2 and %q:\n%s", tc.args, tc.env, code, tc.want, errOut)
		}
	}
	if len(c.aws.Mutations()) != mutations {
		t.Error("a refused command changed something")
	}
	if _, err := os.Stat(filepath.Join(dir, providers.DefaultState+".lock")); err == nil {
		t.Error("a refused command left the lock file")
	}
}
