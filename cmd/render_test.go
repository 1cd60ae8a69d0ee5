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
