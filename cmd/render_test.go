package cmd

import (
	"os"
	"strings"
	"testing"
)

// TestRenderTakesTheProvidersFlags: --aws-account-id is the AWS
// provider's render flag, bound like any other (help, BYOB_*, its rule)
// and written into the documents instead of the placeholder.
func TestRenderTakesTheProvidersFlags(t *testing.T) {
	args := []string{"render", "--format", "sql", "--out", "out", "--provider", "s3", "--bucket", "acme-growthloop-exports", "--region", "us-west-2",
		"--warehouse", "snowflake", "--org-id", "1234", "--snowflake-database", "ANALYTICS", "--growthloop-role", "GROWTHLOOP"}

	out, _, code := run(t, nil, "render", "--help")
	if code != 0 || !strings.Contains(out, "--aws-account-id string") || !strings.Contains(out, "your AWS account id, to write into the SQL and documents instead of a placeholder") {
		t.Errorf("render --help: exit %d\n%s", code, out)
	}

	for _, bad := range []string{"12345", "11112222333x"} {
		_, errOut, code := run(t, nil, append(args, "--aws-account-id", bad)...)
		if want := `invalid --aws-account-id "` + bad + `": must be 12 digits`; code != ExitUsage || !strings.Contains(errOut, want) {
			t.Errorf("--aws-account-id %s: exit %d, stderr %q; want %q", bad, code, errOut, want)
		}
	}

	for _, tc := range []struct {
		args []string
		env  map[string]string
	}{
		{append(args, "--aws-account-id", "111122223333"), nil},
		{args, map[string]string{"BYOB_AWS_ACCOUNT_ID": "111122223333"}},
	} {
		if _, errOut, code := run(t, tc.env, tc.args...); code != 0 {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
		sql, err := os.ReadFile("out/snowflake.sql")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(sql), "arn:aws:iam::111122223333:role/growthloop-byob-snowflake") || strings.Contains(string(sql), "<aws-account-id>") {
			t.Errorf("the account id is not in the SQL:\n%s", sql)
		}
	}
	if _, _, code := run(t, nil, args...); code != 0 {
		t.Fatal("without the flag")
	} else if sql, _ := os.ReadFile("out/snowflake.sql"); !strings.Contains(string(sql), "arn:aws:iam::<aws-account-id>:role/") {
		t.Errorf("without --aws-account-id the SQL has no placeholder:\n%s", sql)
	}
}

// TestRenderSaysWhatItNeeds: render works from init's flags without a
// state file; what it still needs is named, and where the setup comes
// from is said only to someone who gave neither flags nor a state file.
func TestRenderSaysWhatItNeeds(t *testing.T) {
	s3 := []string{"render", "--provider", "s3", "--bucket", "acme-growthloop-exports"}
	for _, tc := range []struct {
		args      []string
		want      string
		noneOf    string
		wantFiles bool
	}{
		{append(s3, "--region", "us-east-1"), "Error: missing required flags: --out\n", "no setup recorded", false},
		{append(s3, "--warehouse", "snowflake", "--org-id", "1", "--snowflake-database", "DB", "--growthloop-role", "GL", "--out", "tf"),
			"missing required flags: --region; --region is required with byob render (it reaches no cloud to learn it)", "no setup recorded", false},
		{[]string{"render", "--out", "tf", "--ttl-days", "3"}, "missing required flags: --provider, --bucket", "no setup recorded", false},
		{[]string{"render"}, "no setup recorded in byob-state.json: byob render reads the setup from the state file byob init wrote (--state), or from init's flags\n  - missing required flags: --provider, --bucket, --out", "", false},
		{[]string{"render", "--out", "tf", "--state", "prod.json", "--provider", "s3"}, "no setup recorded in prod.json", "", false},
		{append(s3, "--region", "us-east-1", "--out", "tf"), "", "Error", true},
	} {
		out, errOut, code := run(t, nil, tc.args...)
		if tc.want != "" && (code != ExitUsage || !strings.Contains(errOut, tc.want)) {
			t.Errorf("%v: exit %d, want 2 and %q:\n%s", tc.args, code, tc.want, errOut)
		}
		if tc.noneOf != "" && strings.Contains(errOut, tc.noneOf) {
			t.Errorf("%v says %q:\n%s", tc.args, tc.noneOf, errOut)
		}
		if _, err := os.Stat("tf/main.tf"); tc.wantFiles && (code != 0 || err != nil) {
			t.Errorf("%v: exit %d, %v\n%s%s", tc.args, code, err, out, errOut)
		}
	}
}
