package cmd

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/snowflake/snowflaketest"
	"github.com/growthloop/byob/wizard"
)

// TestRotateKeysTwoPhases: after init, rotate-keys (no setup flags: the
// state file knows them) makes the new bundle and says what to do next;
// verify warns, naming the command that finishes; --finish retires the old
// key and verify passes again.
func TestRotateKeysTwoPhases(t *testing.T) {
	c, dir, before := initialized(t)
	out, errOut, code := c.run(t, dir, "rotate-keys")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	after, err := wizard.ReadBundle(filepath.Join(dir, providers.DefaultBundle))
	if err != nil || after == nil || after.AWSAccessKeyID == before.AWSAccessKeyID {
		t.Fatalf("bundle %+v %v", after, err)
	}
	for _, want := range []string{"✓ Create a new key for GrowthLoop, keeping the current key " + before.AWSAccessKeyID + " active", "✓ Prove the new key " + after.AWSAccessKeyID,
		"the old bundle is kept as " + providers.PreviousPath(providers.DefaultBundle), "The old key " + before.AWSAccessKeyID + " stays active",
		"Next: upload the new bundle in GrowthLoop (Settings > Organization > Storage), then run `byob rotate-keys --finish`."} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+errOut, after.AWSSecretAccessKey) || strings.Contains(out+errOut, before.AWSSecretAccessKey) {
		t.Error("a secret was printed")
	}
	out, _, code = c.run(t, dir, "verify")
	if code != ExitOK || !strings.Contains(out, "WARN key-rotation") || !strings.Contains(out, "then run byob rotate-keys --finish") {
		t.Errorf("verify during the rotation: exit %d\n%s", code, out)
	}
	out, errOut, code = c.run(t, dir, "rotate-keys", "--finish")
	if code != ExitOK || !strings.Contains(out, "Done: GrowthLoop's key is "+after.AWSAccessKeyID+"; the old key "+before.AWSAccessKeyID+" is deleted.") {
		t.Fatalf("finish: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, providers.PreviousPath(providers.DefaultBundle))); !os.IsNotExist(err) {
		t.Errorf("the previous bundle is still there: %v", err)
	}
	out, _, code = c.run(t, dir, "verify")
	if code != ExitOK || strings.Contains(out, "key-rotation") {
		t.Errorf("verify after the rotation: exit %d\n%s", code, out)
	}
	// A --finish run again (as after one stopped right after its last
	// change) says the rotation is over, and changes nothing.
	calls, sfRequests := len(c.aws.Calls()), len(c.sf.Requests())
	out, errOut, code = c.run(t, dir, "rotate-keys", "--finish")
	if code != ExitOK || !strings.Contains(out, "Nothing to do: the rotation finished in an earlier run. GrowthLoop's key is "+after.AWSAccessKeyID+"; the old key "+before.AWSAccessKeyID+" is retired.") {
		t.Errorf("a second --finish: exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, code = c.run(t, dir, "rotate-keys", "--finish", "--output", "json")
	if code != ExitOK || !strings.Contains(out, `"already_finished":true`) || !strings.Contains(out, `"new_key":"`+after.AWSAccessKeyID+`"`) {
		t.Errorf("a second --finish in JSON: exit %d\n%s", code, out)
	}
	// (The earlier runs' sessions may still be logging out.)
	logins := slices.DeleteFunc(c.sf.Requests()[sfRequests:], func(r snowflaketest.Request) bool { return r.Path == "/session" })
	if len(c.aws.Calls()) != calls || len(logins) != 0 {
		t.Errorf("a finished rotation's --finish connected: AWS %v, Snowflake %v", c.aws.Calls()[calls:], logins)
	}
}

// TestRotateKeysFinishWithoutARotation: --finish on a setup that never
// started one is a usage error.
func TestRotateKeysFinishWithoutARotation(t *testing.T) {
	c, dir, _ := initialized(t)
	calls := len(c.aws.Calls())
	_, errOut, code := c.run(t, dir, "rotate-keys", "--finish")
	if code != ExitUsage || !strings.Contains(errOut, "no key rotation under way in byob-state.json: start one with byob rotate-keys") {
		t.Errorf("--finish without a rotation: exit %d\n%s", code, errOut)
	}
	if len(c.aws.Calls()) != calls {
		t.Errorf("a usage error reached AWS: %v", c.aws.Calls()[calls:])
	}
}

func TestRotateKeysUsageErrors(t *testing.T) {
	c := newCloud(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rotate-keys"}, "no setup recorded in byob-state.json"},
		{[]string{"rotate-keys", "--keep-old"}, "--keep-old"},
		{[]string{"rotate-keys", "--output", "yaml"}, "--output"},
	} {
		_, errOut, code := c.run(t, dir, tc.args...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, want 2 and %q:\n%s", tc.args, code, tc.want, errOut)
		}
	}
}
