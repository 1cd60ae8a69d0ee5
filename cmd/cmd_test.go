package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/growthloop/byob/providers"
)

var update = flag.Bool("update", false, "rewrite golden files")

// run runs byob in a temporary directory with env as its environment and
// a fixed random source.
func run(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	t.Chdir(t.TempDir())
	var out, errOut bytes.Buffer
	streams := &Factory{IO: &IOStreams{
		In: strings.NewReader(""), Out: &out, ErrOut: &errOut,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}, Rand: bytes.NewReader(bytes.Repeat([]byte{0xab}, 64))}
	code = Run(context.Background(), streams, args)
	return out.String(), errOut.String(), code
}

var s3Args = []string{"init", "--provider", "s3", "--bucket", "acme-growthloop-exports", "--region", "us-west-2",
	"--warehouse", "snowflake", "--org-id", "1234", "--snowflake-database", "ANALYTICS", "--growthloop-role", "GROWTHLOOP", "--dry-run"}

var gcsArgs = []string{"init", "--provider", "gcs", "--bucket", "acme-growthloop-exports", "--gcp-project", "acme-data",
	"--location", "US", "--ttl-days", "14", "--dry-run"}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(testdataDir, "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test ./cmd -update rewrites it):\n%s", path, got)
	}
}

var testdataDir, _ = filepath.Abs("testdata")

// replaceArg is a copy of args with old replaced by new.
func replaceArg(args []string, old, new string) []string {
	out := slices.Clone(args)
	if i := slices.Index(out, old); i >= 0 {
		out[i] = new
	}
	return out
}

func TestPlanGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"s3-snowflake", s3Args},
		{"s3-govcloud", replaceArg(s3Args, "us-west-2", "us-gov-west-1")},
		{"gcs", gcsArgs},
		{"gcs-snowflake", append(gcsArgs[:len(gcsArgs):len(gcsArgs)], "--warehouse", "snowflake", "--org-id", "1234", "--snowflake-database", "ANALYTICS", "--growthloop-role", "GROWTHLOOP")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(t, nil, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, tc.name+".txt", out)
			out, errOut, code = run(t, nil, append(tc.args, "--output", "json")...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, tc.name+".json", out)
		})
	}
}

// TestPlanJSON checks the JSON plan's shape and that every JSON artifact
// is a JSON object.
func TestPlanJSON(t *testing.T) {
	out, _, code := run(t, nil, append(s3Args, "--output", "json")...)
	if code != 0 {
		t.Fatal("exit", code)
	}
	var doc struct {
		Version int
		Steps   []struct {
			ID        string
			Needs     []string
			Artifacts []struct {
				Name, Format string
				Content      json.RawMessage
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var ids []string
	var sql []string
	for _, s := range doc.Steps {
		ids = append(ids, s.ID)
		for _, a := range s.Artifacts {
			switch a.Format {
			case "json":
				var m map[string]any
				if err := json.Unmarshal(a.Content, &m); err != nil {
					t.Errorf("%s: artifact %q is not a JSON object: %v", s.ID, a.Name, err)
				}
			case "sql":
				var q string
				_ = json.Unmarshal(a.Content, &q)
				sql = append(sql, q)
			}
		}
	}
	want := "s3-bucket s3-public-access-block s3-encryption s3-bucket-policy s3-object-ownership s3-lifecycle iam-policy iam-snowflake-policy snowflake-integration iam-role iam-role-policy snowflake-integration-grant snowflake-stage snowflake-stage-grants iam-user iam-user-policy iam-access-key"
	if got := strings.Join(ids, " "); got != want {
		t.Errorf("steps = %s\nwant    %s", got, want)
	}
	all := strings.Join(sql, "\n")
	for _, want := range []string{
		"CREATE STORAGE INTEGRATION IF NOT EXISTS \"FLYWHEEL_APP_AWS\"",
		"STORAGE_AWS_EXTERNAL_ID = '<external-id: generated at apply>'", // made only when the integration is
		"DESC INTEGRATION \"FLYWHEEL_APP_AWS\"",
		"URL = 's3://acme-growthloop-exports/exports/1234/'",
		"STORAGE_ALLOWED_LOCATIONS = ('s3://acme-growthloop-exports/exports/')",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("SQL lacks %s", want)
		}
	}
	if strings.Contains(all, "REPLACE") {
		t.Error("the plan must never CREATE OR REPLACE")
	}
}

func TestExternalIDKeptInState(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	os.WriteFile(state, []byte(`{"version":1,"values":{"snowflake.external_id":"byob-kept"},"steps":{}}`), 0o600)
	out, errOut, code := run(t, nil, append(s3Args, "--state", state)...)
	if code != 0 {
		t.Fatal(errOut)
	}
	if !strings.Contains(out, "STORAGE_AWS_EXTERNAL_ID = 'byob-kept'") {
		t.Error("the external ID in the state file must be reused")
	}
	if b, _ := os.ReadFile(state); !strings.Contains(string(b), "byob-kept") || strings.Contains(string(b), "inputs") {
		t.Errorf("a dry run must not write the state file: %s", b)
	}
}

func TestMissingFlagsNonInteractive(t *testing.T) {
	_, errOut, code := run(t, nil, "init", "--warehouse", "snowflake", "--dry-run")
	if code != ExitUsage {
		t.Fatalf("exit %d, want %d", code, ExitUsage)
	}
	if !strings.Contains(errOut, "missing required flags: --provider, --bucket, --org-id, --snowflake-database, --growthloop-role; "+
		"--org-id, --snowflake-database and --growthloop-role are required with --warehouse snowflake") {
		t.Errorf("stderr = %s", errOut)
	}
}

// TestEveryBrokenRuleAtOnce: a value is told every rule it breaks, a
// suggestion only when it passes, and several problems as a list.
func TestEveryBrokenRuleAtOnce(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		want     []string
		dontWant string
	}{
		{[]string{"--prefix", "*"}, []string{`invalid --prefix "*": must end with "/"; may contain only letters, digits and / ! - _ . ( ), not "*"`}, "for example"},
		{[]string{"--prefix", "/a*b"}, []string{`must not start with "/"`, `must end with "/"`, `not "*"`, `for example "ab/"`}, ""},
		{[]string{"--bucket", "X..", "--ttl-days", "0", "--region", "us-east-1x"}, []string{"3 problems:\n  - ", `invalid --bucket "X.."`, "may contain only lowercase", "two adjacent dots", "\n  - invalid --ttl-days"}, ""},
	} {
		// The later of a repeated flag wins.
		args := append([]string{"init", "--provider", "s3", "--bucket", "acme-exports", "--region", "us-east-1", "--dry-run"}, tc.args...)
		_, errOut, code := run(t, nil, args...)
		for _, w := range tc.want {
			if code != ExitUsage || !strings.Contains(errOut, w) {
				t.Errorf("byob %v: exit %d, stderr %q; want %q", tc.args, code, errOut, w)
			}
		}
		if tc.dontWant != "" && strings.Contains(errOut, tc.dontWant) {
			t.Errorf("byob %v: %q suggests a value that would be refused", tc.args, errOut)
		}
	}
}

func TestEnvironmentAndConfigFile(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "byob.yaml")
	os.WriteFile(cfg, []byte("provider: s3\nbucket: from-file-bucket\nregion: eu-west-1\nttl-days: 30\n"), 0o600)
	env := map[string]string{"BYOB_CONFIG": cfg, "BYOB_BUCKET": "from-env-bucket", "BYOB_DRY_RUN": "true"}
	out, errOut, code := run(t, env, "init", "--output", "json", "--ttl-days", "9")
	if code != 0 {
		t.Fatal(errOut)
	}
	var doc struct {
		Inputs map[string]any
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	in := doc.Inputs
	if in["bucket"] != "from-env-bucket" || in["region"] != "eu-west-1" || in["ttl-days"] != 9.0 || in["provider"] != "s3" {
		t.Errorf("precedence flag > env > file broken: %+v", in)
	}
	os.WriteFile(cfg, []byte("bucket: x\nbukcet: y\n"), 0o600)
	_, errOut, code = run(t, env, "init")
	if code != ExitUsage || !strings.Contains(errOut, "unknown keys bukcet") {
		t.Errorf("exit %d, stderr %s", code, errOut)
	}
	_, errOut, code = run(t, map[string]string{"BYOB_TTL_DAYS": "seven"}, "init")
	if code != ExitUsage || !strings.Contains(errOut, "BYOB_TTL_DAYS") {
		t.Errorf("exit %d, stderr %s", code, errOut)
	}
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"version"}, 0, ""},
		{[]string{"--version"}, 0, ""},
		{[]string{"init", "--nope"}, ExitUsage, "unknown flag: --nope (see 'byob init --help')"},
		{[]string{"init", "extra-arg"}, ExitUsage, `byob init takes no arguments, but was given "extra-arg" (see 'byob init --help')`},
		{[]string{"destroy", "a", "b c"}, ExitUsage, `byob destroy takes no arguments, but was given "a" "b c"`},
		{[]string{"initt"}, ExitUsage, `unknown command "initt" for "byob": did you mean init?`},
		{[]string{"help", "inti", "--output", "json"}, ExitUsage, `unknown command "inti" for "byob": did you mean init?`},
		{[]string{"help", "init", "--output", "json"}, 0, ""},
		{[]string{"version", "extra"}, ExitUsage, `byob version takes no arguments, but was given "extra"`},
		{[]string{"--output", "json"}, ExitUsage, "no command given: --output is a flag of byob bundle, destroy, init, plan, render, rotate-keys and verify; name the command first: byob <command> --output json"},
		{[]string{"--bucket=x", "--dry-run"}, ExitUsage, "no command given: --bucket is a flag of byob init, plan, render and verify; name the command first: byob <command> --bucket=x --dry-run"},
		{[]string{"--nope"}, ExitUsage, "unknown flag: --nope (see 'byob --help')"},
		{[]string{"completion", "tcsh"}, ExitUsage, `unknown command "tcsh" for "byob completion"`},
		{[]string{"init", "--ttl-days", "abc"}, ExitUsage, `invalid --ttl-days "abc": must be a whole number of days`},
		{[]string{"init", "--ttl-days", "0x10"}, ExitUsage, `invalid --ttl-days "0x10": must be a whole number of days`},
		{[]string{"init", "--provider", "s3", "--bucket", "ok-bucket", "--region", "us-east-1", "--prefix", "", "--dry-run"}, ExitUsage, `invalid --prefix "": must not be empty (leave it out for the default "exports/")`},
		{[]string{"init", "--propagation-timeout", "soon"}, ExitUsage, `must be a duration`},
		{[]string{"init", "--output", "yaml"}, ExitUsage, `invalid --output "yaml"`},
		{[]string{"init", "--provider", "s3", "--bucket", "Bad_Bucket", "--region", "us-east-1", "--dry-run"}, ExitUsage, `invalid --bucket "Bad_Bucket"`},
		{[]string{"plan", "--provider", "s3", "--bucket", "ok-bucket", "--region", "us-east-1"}, 0, ""},
	} {
		out, errOut, code := run(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.err) {
			t.Errorf("byob %v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, tc.code, tc.err)
		}
		if tc.args[0] == "--version" && !strings.HasPrefix(out, "byob ") {
			t.Errorf("--version printed %q", out)
		}
		if code == ExitUsage && strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			t.Errorf("byob %v: the error takes more than one line: %q", tc.args, errOut)
		}
	}
}

// TestTTLDaysIsDecimal: a number of days is read in base 10 wherever it
// comes from; pflag's own int would read 030 as octal 24.
func TestTTLDaysIsDecimal(t *testing.T) {
	plan := []string{"plan", "--provider", "s3", "--bucket", "ok-bucket", "--region", "us-east-1"}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{append(plan, "--ttl-days", "030"), nil, "expiring after 30 days"},
		{plan, map[string]string{"BYOB_TTL_DAYS": "010"}, "expiring after 10 days"},
	} {
		out, errOut, code := run(t, tc.env, tc.args...)
		if code != 0 || !strings.Contains(out, tc.want) {
			t.Errorf("byob %v %v: exit %d, %s%s; want %q", tc.args, tc.env, code, out, errOut, tc.want)
		}
	}
}

// TestRegionTypoIsRefused: a region of the right shape the SDK does not
// know is a usage error that names the region meant; with
// --allow-unknown-region it plans, with the warning.
func TestRegionTypoIsRefused(t *testing.T) {
	out, errOut, code := run(t, nil, "init", "--provider", "s3", "--bucket", "acme-exports", "--region", "eu-centrl-1", "--dry-run")
	if code != ExitUsage || out != "" || !strings.Contains(errOut, `invalid --region "eu-centrl-1": is not a region byob's AWS SDK knows: did you mean eu-central-1?`) {
		t.Errorf("exit %d\n%s", code, errOut)
	}
	out, errOut, code = run(t, nil, "init", "--provider", "s3", "--bucket", "acme-exports", "--region", "eu-centrl-1", "--allow-unknown-region", "--dry-run")
	if code != 0 || !strings.Contains(out, "Plan:") || !strings.Contains(errOut, "Warning: --region eu-centrl-1 is not a region byob's AWS SDK knows: did you mean eu-central-1?") {
		t.Errorf("exit %d\n%s", code, errOut)
	}
}

// TestHelpReadsAsEachVerb: init's help says when a flag is required and
// shows the defaults; verify's describes an existing setup; plan lists
// no flag that only applying uses.
func TestHelpReadsAsEachVerb(t *testing.T) {
	initHelp, _, _ := run(t, nil, "init", "--help")
	for flag, want := range map[string]string{
		"--org-id":                  "(required with --warehouse snowflake)",
		"--region":                  "(required with --provider s3 and --warehouse none)",
		"--gcp-project":             "(required with --provider gcs)",
		"--provider":                "(required)",
		"--snowflake-authenticator": "default: the connection's, else snowflake",
		"--ttl-days":                "(default 7)",
	} {
		if l := flagLine(initHelp, flag); !strings.Contains(l, want) {
			t.Errorf("init --help, %s: %q lacks %q", flag, l, want)
		}
	}
	verifyHelp, _, _ := run(t, nil, "verify", "--help")
	if l := flagLine(verifyHelp, "--bucket"); strings.Contains(l, "created") || strings.Contains(verifyHelp, "required") {
		t.Errorf("verify --help speaks as init: %q", l)
	}
	planHelp, _, _ := run(t, nil, "plan", "--help")
	for _, flag := range []string{"--yes", "--force", "--dry-run", "--connect-timeout", "--propagation-timeout"} {
		if flagLine(planHelp, flag) != "" {
			t.Errorf("plan --help lists %s", flag)
		}
	}
}

// flagLine is the line of --help that lists flag; "" when none does.
func flagLine(help, flag string) string {
	for _, l := range strings.Split(help, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), flag+" ") && strings.HasPrefix(l, "      --") {
			return l
		}
	}
	return ""
}

// TestHelpIsTrueForEachVerb: each verb's flags say what they mean to it,
// and it lists only the flags it uses. render writes files and reaches no
// cloud; plan reaches no cloud; verify reads a setup from the state file
// or from init's flags; destroy and rotate-keys read it from the state
// file alone.
func TestHelpIsTrueForEachVerb(t *testing.T) {
	// What only init's flags may say: it makes the setup, reaches the
	// clouds and writes the files.
	initOnly := []string{"created, or adopted", "defaults to the Snowflake account's region", "makes re-runs resume", "is written"}
	var setup []string // the flags of the setup itself
	for _, f := range providers.Fields {
		if recorded(f) {
			setup = append(setup, "--"+f.Flag)
		}
	}
	for _, tc := range []struct {
		verb           string
		hidden, listed []string
		says           map[string]string
	}{
		{"plan", []string{"--profile", "--snowflake-connection", "--snowflake-user", "--yes", "--connect-timeout"}, []string{"--bucket", "--state"},
			map[string]string{"--state": "the plan starts from what they made", "--key-file": "where byob init writes the service account key", "--gcp-project": "default CLOUDSDK_CORE_PROJECT or gcloud's project)"}},
		{"render", []string{"--profile", "--snowflake-user", "--bundle", "--key-file"}, []string{"--bucket", "--state", "--out"},
			map[string]string{"--region": "(required with --provider s3)", "--location": "(required with --provider gcs)", "--state": "when it exists, render starts from it", "--bucket": "bucket name (required)",
				"--gcp-project": "default CLOUDSDK_CORE_PROJECT or gcloud's project)"}},
		{"verify", nil, append([]string{"--profile", "--bundle", "--access-key-id"}, setup...),
			map[string]string{"--state": "the setup is read from it", "--bucket": "bucket name", "--snowflake-role": "Snowflake role byob runs as"}},
		{"destroy", append([]string{"--allow-unknown-region"}, setup...), []string{"--state", "--bundle", "--key-file", "--profile", "--snowflake-connection", "--delete-bucket", "--yes", "--output", "--config"},
			map[string]string{"--state": "the setup is read from it", "--bundle": "credentials bundle file byob init wrote"}},
		{"rotate-keys", append([]string{"--allow-unknown-region"}, setup...), []string{"--state", "--bundle", "--key-file", "--profile", "--finish", "--output"},
			map[string]string{"--key-file": "service account key file byob init wrote"}},
	} {
		help, _, code := run(t, nil, tc.verb, "--help")
		_, flags, ok := strings.Cut(help, "Flags:")
		if code != 0 || !ok {
			t.Fatalf("%s --help: exit %d\n%s", tc.verb, code, help)
		}
		if tc.verb != "plan" {
			for _, phrase := range initOnly {
				if strings.Contains(flags, phrase) {
					t.Errorf("%s --help says %q, which is true of init only:\n%s", tc.verb, phrase, flags)
				}
			}
		}
		for _, flag := range tc.hidden {
			if l := flagLine(help, flag); l != "" {
				t.Errorf("%s --help lists %s, which it does not use: %q", tc.verb, flag, l)
			}
		}
		for _, flag := range tc.listed {
			if flagLine(help, flag) == "" {
				t.Errorf("%s --help does not list %s", tc.verb, flag)
			}
		}
		for flag, want := range tc.says {
			if l := flagLine(help, flag); !strings.Contains(l, want) {
				t.Errorf("%s --help, %s: %q lacks %q", tc.verb, flag, l, want)
			}
		}
	}
}

// TestFlagValuesComplete: shell completion offers the values a flag can
// take, read from local files only.
func TestFlagValuesComplete(t *testing.T) {
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, ".aws"), 0o700)
	os.WriteFile(filepath.Join(home, ".aws", "config"), []byte("[default]\nregion = us-east-1\n[profile prod]\nregion = us-west-2\n"), 0o600)
	os.MkdirAll(filepath.Join(home, ".snowflake"), 0o700)
	os.WriteFile(filepath.Join(home, ".snowflake", "connections.toml"), []byte("[analytics]\naccount = \"acme\"\n"), 0o600)
	os.MkdirAll(filepath.Join(home, ".config", "gcloud", "configurations"), 0o700)
	os.WriteFile(filepath.Join(home, ".config", "gcloud", "configurations", "config_default"), []byte("[core]\nproject = acme-data\n"), 0o600)
	env := map[string]string{"HOME": home}
	for flag, want := range map[string][]string{
		"--provider":             {"s3", "gcs"},
		"--warehouse":            {"none", "snowflake"},
		"--output":               {"text", "json"},
		"--region":               {"us-east-1", "eu-central-1", "us-gov-west-1"},
		"--location":             {"US", "us-central1"},
		"--profile":              {"default", "prod"},
		"--snowflake-connection": {"analytics"},
		"--gcp-project":          {"acme-data"},
	} {
		out, _, code := run(t, env, "__complete", "init", flag, "")
		got := strings.Split(out, "\n")
		for _, w := range want {
			if code != 0 || !slices.Contains(got, w) {
				t.Errorf("%s completes %q, want %s among them", flag, out, w)
			}
		}
	}
}

// TestMissingSourcesSayWhereToLook: a missing project names gcloud's
// ways to set one, and gcloud's configured project is used; a named
// Snowflake connection without connections.toml names the file once.
func TestMissingSourcesSayWhereToLook(t *testing.T) {
	home := t.TempDir()
	args := []string{"init", "--provider", "gcs", "--bucket", "acme-exports", "--location", "US", "--dry-run"}
	_, errOut, code := run(t, map[string]string{"HOME": home}, args...)
	if code != ExitUsage || !strings.Contains(errOut, "--gcp-project can also come from CLOUDSDK_CORE_PROJECT or `gcloud config set project PROJECT_ID`") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	gcloud := filepath.Join(home, ".config", "gcloud")
	os.MkdirAll(filepath.Join(gcloud, "configurations"), 0o700)
	os.WriteFile(filepath.Join(gcloud, "active_config"), []byte("work\n"), 0o600)
	os.WriteFile(filepath.Join(gcloud, "configurations", "config_work"), []byte("[core]\naccount = me@acme.com\nproject = acme-work\n"), 0o600)
	out, errOut, code := run(t, map[string]string{"HOME": home}, args...)
	if code != 0 || !strings.Contains(out, "(project acme-work)") {
		t.Errorf("gcloud's active configuration is not used: exit %d\n%s%s", code, out, errOut)
	}

	c := newCloud(t)
	c.env["HOME"] = home
	_, errOut, code = c.run(t, t.TempDir(), append(withoutConn(c.args()), "--snowflake-connection", "prod")...)
	file := filepath.Join(home, ".snowflake", "connections.toml")
	if code == 0 || strings.Count(errOut, file) != 1 || !strings.Contains(errOut, "create it with a [prod] section") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// withoutConn drops the flags of cloud.conn.
func withoutConn(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if strings.HasPrefix(args[i], "--snowflake-") && args[i] != "--snowflake-database" {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// TestDocsWritesManualAndMarkdown: byob docs writes a manual page and a
// markdown page per command, from the help itself.
func TestDocsWritesManualAndMarkdown(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := run(t, nil, "docs", "--dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	man, err := os.ReadFile(filepath.Join(dir, "man", "byob-init.1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`.TH "BYOB-INIT" "1"`, `byob-init - Create the bucket`, `\fB--snowflake-timeout\fP=30s`, "BYOB_TTL_DAYS", `\fBbyob(1)\fP`} {
		if !strings.Contains(string(man), want) {
			t.Errorf("byob-init.1 lacks %q", want)
		}
	}
	for _, page := range []string{"byob.md", "byob_init.md", "byob_verify.md", "byob_destroy.md", "byob_rotate-keys.md"} {
		if _, err := os.Stat(filepath.Join(dir, "markdown", page)); err != nil {
			t.Errorf("no %s: %v (%s)", page, err, out)
		}
	}
}

// TestGivenNamesAreCheckedAndUsed: the names of a setup made by hand are
// checked with the cloud's rules under their own flag, and replace the
// derived names throughout the plan.
func TestGivenNamesAreCheckedAndUsed(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--provider", "s3", "--region", "us-east-1", "--policy-name", "bad name!"}, `invalid --policy-name "bad name!": may contain only letters, digits and + = , . @ _ -`},
		{[]string{"--provider", "s3", "--region", "us-east-1", "--user-name", strings.Repeat("u", 65)}, `invalid --user-name`},
		{[]string{"--provider", "gcs", "--gcp-project", "acme-data", "--location", "US", "--service-account", "sa"}, `invalid --service-account "sa": must be 6-30 characters long`},
		{[]string{"--provider", "gcs", "--gcp-project", "acme-data", "--location", "US", "--writer-role", "bad-role"}, `invalid --writer-role "bad-role"`},
	} {
		_, errOut, code := run(t, nil, append([]string{"init", "--bucket", "acme-exports", "--dry-run"}, tc.args...)...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want %q", tc.args, code, errOut, tc.want)
		}
	}
	out, errOut, code := run(t, nil, "init", "--provider", "s3", "--bucket", "acme-exports", "--region", "us-east-1", "--warehouse", "snowflake", "--org-id", "1",
		"--snowflake-database", "DB", "--growthloop-role", "GL", "--policy-name", "GrowthLoopPolicy", "--role-name", "sf-role", "--user-name", "gl-user", "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Create IAM policy GrowthLoopPolicy", "Create IAM role sf-role", "Create IAM user gl-user", ":role/sf-role'", ":policy/GrowthLoopPolicy to user gl-user"} {
		if !strings.Contains(out, want) {
			t.Errorf("the plan lacks %q", want)
		}
	}
	for _, derived := range []string{"growthloop-byob-access", "growthloop-byob-exporter", "growthloop-byob-snowflake'"} {
		if strings.Contains(out, derived) {
			t.Errorf("the plan still names %s", derived)
		}
	}
}
