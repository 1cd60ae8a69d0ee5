package cmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/gcsbucket/gcptest"
	"github.com/growthloop/byob/providers/s3bucket/awstest"
	"github.com/growthloop/byob/snowflake/snowflaketest"
	"github.com/growthloop/byob/wizard"
)

// cloud is kumo and the Snowflake fake, reached through the real
// connection code (wizard.Open).
type cloud struct {
	aws *awstest.Server
	sf  *snowflaketest.Server
	env map[string]string
	id  string
}

// newCloud starts the emulators. AWS is reached the way users configure
// it: credentials in the environment and AWS_ENDPOINT_URL, read by the
// SDK's default chain (no shared config files, no instance metadata).
func newCloud(t *testing.T) *cloud {
	c := &cloud{aws: awstest.New(), sf: snowflaketest.New(), id: awstest.Unique()}
	t.Cleanup(c.aws.Close)
	t.Cleanup(c.sf.Close)
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": c.aws.URL, "AWS_ACCESS_KEY_ID": awstest.AdminKeyID, "AWS_SECRET_ACCESS_KEY": awstest.AdminSecret,
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_REGION": "", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	c.env = map[string]string{"SNOWFLAKE_PASSWORD": c.sf.Password, "HOME": t.TempDir()}
	return c
}

func (c *cloud) args(extra ...string) []string {
	args := append([]string{"init", "--provider", "s3", "--bucket", "cli-exports-" + c.id, "--name", "cli" + c.id,
		"--warehouse", "snowflake", "--org-id", "77", "--snowflake-database", "ANALYTICS", "--growthloop-role", "GROWTHLOOP", "--yes"},
		c.conn()...)
	return append(args, extra...)
}

// conn are the flags that reach the Snowflake fake.
func (c *cloud) conn() []string {
	return []string{"--snowflake-account", "fake", "--snowflake-user", c.sf.User, "--snowflake-role", "ACCOUNTADMIN",
		"--snowflake-host", c.sf.Host, "--snowflake-port", itoa(c.sf.Port), "--snowflake-protocol", "http"}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func (c *cloud) run(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	t.Chdir(dir)
	var out, errOut bytes.Buffer
	streams := &Factory{IO: &IOStreams{
		In: strings.NewReader(""), Out: &out, ErrOut: &errOut,
		LookupEnv: func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }}, Open: wizard.Open}
	code := Run(context.Background(), streams, args)
	return out.String(), errOut.String(), code
}

func TestInitAppliesAndReRunsAsNoOp(t *testing.T) {
	c := newCloud(t)
	dir := t.TempDir()
	out, errOut, code := c.run(t, dir, c.args()...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	bundle, err := wizard.ReadBundle(filepath.Join(dir, providers.DefaultBundle))
	if err != nil || bundle == nil || bundle.AWSSecretAccessKey == "" {
		t.Fatalf("bundle: %v %v", bundle, err)
	}
	for _, want := range []string{"AWS: " + awstest.AdminARN, "Snowflake: account", "✓ Create S3 bucket", "Credentials bundle written to " + providers.DefaultBundle,
		"Next: upload the bundle in GrowthLoop: Settings > Organization > Storage"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	state, _ := os.ReadFile(filepath.Join(dir, providers.DefaultState))
	for name, text := range map[string]string{"stdout": out, "stderr": errOut, "state file": string(state)} {
		if strings.Contains(text, bundle.AWSSecretAccessKey) || strings.Contains(text, c.sf.Password) {
			t.Errorf("%s holds a secret", name)
		}
	}

	out, errOut, code = c.run(t, dir, c.args("--output", "json")...)
	if code != 0 {
		t.Fatalf("re-run exit %d: %s", code, errOut)
	}
	var last map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	lines := 0
	for sc.Scan() {
		lines++
		if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
			t.Fatalf("line %d is not JSON: %s", lines, sc.Text())
		}
		if last["event"] == "applied" {
			t.Errorf("re-run applied a change: %v", last)
		}
	}
	if last["event"] != "summary" || last["ok"] != true || len(last["applied"].([]any)) != 0 || last["bundle"] != providers.DefaultBundle {
		t.Errorf("summary = %v", last)
	}
	if strings.Contains(out, bundle.AWSSecretAccessKey) {
		t.Error("JSON output holds the secret")
	}
}

func TestInitFailureExitsOneAndResumes(t *testing.T) {
	c := newCloud(t)
	dir := t.TempDir()
	c.sf.FailMutation(2)
	out, errOut, code := c.run(t, dir, c.args()...)
	if code != ExitFailure || !strings.Contains(out, "re-run the same command to resume") || !strings.Contains(errOut, "Error: ") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	_, errOut, code = c.run(t, dir, c.args()...)
	if code != 0 {
		t.Fatalf("resume exit %d: %s", code, errOut)
	}
}

func TestInitBadCredentialsAreNotEchoed(t *testing.T) {
	c := newCloud(t)
	c.env["SNOWFLAKE_PASSWORD"] = "not-the-password-42"
	_, errOut, code := c.run(t, t.TempDir(), c.args()...)
	if code != ExitFailure || strings.Contains(errOut, "not-the-password-42") || !strings.Contains(errOut, "connect to Snowflake") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// TestInitGCS runs byob init for GCS through the real connection code:
// Application Default Credentials from GOOGLE_APPLICATION_CREDENTIALS (a
// key file whose token endpoint is the fake), gcloud's endpoint overrides,
// and --gcp-project defaulting to the credentials' project.
func TestInitGCS(t *testing.T) {
	fake := gcptest.New()
	defer fake.Close()
	dir := t.TempDir()
	adc, err := fake.CredentialsFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	env := fake.Env()
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", adc)
	t.Setenv("STORAGE_EMULATOR_HOST", env["STORAGE_EMULATOR_HOST"])
	t.Chdir(dir)
	var out, errOut bytes.Buffer
	streams := &Factory{IO: &IOStreams{
		In: strings.NewReader(""), Out: &out, ErrOut: &errOut,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}, Open: wizard.Open}
	args := []string{"init", "--provider", "gcs", "--bucket", "cli-gcs-exports", "--location", "EU", "--yes"}
	if code := Run(context.Background(), streams, args); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"Google Cloud: project " + gcptest.Project + ", bucket location EU", "✓ Create a JSON key", "Next: upload the bundle"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String()+errOut.String(), "PRIVATE KEY") {
		t.Error("the key reached the output")
	}
	if fi, err := os.Stat(filepath.Join(dir, "credentials.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials.json: %v %v", fi, err)
	}
	if b, _ := wizard.ReadBundle(filepath.Join(dir, providers.DefaultBundle)); b == nil || b.GCPProject != gcptest.Project {
		t.Errorf("--gcp-project must default to the credentials' project: %+v", b)
	}
	out.Reset()
	if code := Run(context.Background(), streams, args); code != 0 || !strings.Contains(out.String(), "Everything is already in place") {
		t.Errorf("re-run exit %d:\n%s", code, out.String())
	}
	out.Reset()
	if code := Run(context.Background(), streams, []string{"verify"}); code != 0 || !strings.Contains(out.String(), "PASS gcs-key-works") {
		t.Errorf("verify exit %d:\n%s\n%s", code, out.String(), errOut.String())
	}
	out.Reset()
	errOut.Reset()
	if code := Run(context.Background(), streams, []string{"verify", "--gcp-project", "other-project"}); code != ExitUsage ||
		!strings.Contains(errOut.String(), "Google Cloud project "+gcptest.Project+", but this run uses project other-project") {
		t.Errorf("verify in another project: exit %d:\n%s\n%s", code, out.String(), errOut.String())
	}

	// The same setup from Terraform's outputs: byob bundle writes the key
	// file and the bundle once the key proved it works.
	made, _ := wizard.ReadBundle(filepath.Join(dir, providers.DefaultBundle))
	key, _ := os.ReadFile(filepath.Join(dir, "credentials.json"))
	tf := map[string]map[string]any{}
	for k, v := range map[string]string{"provider": "gcs", "bucket": made.Bucket, "location": made.Location, "prefix": made.Prefix, "gcp_project": made.GCPProject,
		"gcp_service_account": made.GCPServiceAccount, "setup_name": providers.DefaultName, "gcp_private_key": base64.StdEncoding.EncodeToString(key)} {
		tf[k] = map[string]any{"value": v}
	}
	tfJSON, _ := json.Marshal(tf)
	streams.IO.In = bytes.NewReader(tfJSON)
	out.Reset()
	errOut.Reset()
	if code := Run(context.Background(), streams, []string{"bundle", "--from-terraform", "-", "--bundle", "tf-bundle.json", "--key-file", "tf-key.json"}); code != 0 ||
		strings.Contains(out.String()+errOut.String(), "PRIVATE KEY") {
		t.Fatalf("bundle: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	got, _ := wizard.ReadBundle(filepath.Join(dir, "tf-bundle.json"))
	if fi, err := os.Stat(filepath.Join(dir, "tf-key.json")); err != nil || fi.Mode().Perm() != 0o600 || got == nil || got.GCPKeyFile != "tf-key.json" || got.GCPKeyID != made.GCPKeyID {
		t.Errorf("bundle %+v, key file %v %v", got, fi, err)
	}
}

// TestSecondRunIsRefusedWhileOneHoldsTheLock: a run that finds the setup
// locked exits 1 at once, naming the lock file and its holder, and makes
// no cloud call.
func TestSecondRunIsRefusedWhileOneHoldsTheLock(t *testing.T) {
	c := newCloud(t)
	dir := t.TempDir()
	lock, err := wizard.LockState(filepath.Join(dir, providers.DefaultState), "byob init")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	_, errOut, code := c.run(t, dir, c.args()...)
	if code != ExitFailure || !strings.Contains(errOut, providers.DefaultState+".lock is locked by byob init, pid ") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := len(c.aws.Calls()); n != 0 || len(c.sf.Statements()) != 0 {
		t.Errorf("a refused run made %d AWS calls and %d Snowflake statements", n, len(c.sf.Statements()))
	}
}

// TestBadStateFileIsRefusedBeforeAnyCloudCall: a state file byob cannot
// trust is a usage error (exit 2) naming it, with no cloud call.
func TestBadStateFileIsRefusedBeforeAnyCloudCall(t *testing.T) {
	c := newCloud(t)
	for _, content := range []string{`null`, `{"values": {}}`, `{"version": 7}`, `{"version": 1, "values": {"snowflake.external_id": 5}}`,
		`{"version": 1, "inputs": {"provider": "gcs", "bucket": "someone-elses", "name": "other"}}`} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, providers.DefaultState), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, errOut, code := c.run(t, dir, c.args()...)
		if code != ExitUsage || !strings.Contains(errOut, "state file "+providers.DefaultState) {
			t.Errorf("%s: exit %d: %s", content, code, errOut)
		}
	}
	if n := len(c.aws.Calls()); n != 0 || len(c.sf.Statements()) != 0 {
		t.Errorf("refused runs made %d AWS calls and %d Snowflake statements", n, len(c.sf.Statements()))
	}
}

// TestServerTextIsPrintedSafely: an error message from Snowflake holding
// terminal escape sequences reaches the terminal with them escaped, and
// JSON output stays JSON without raw control characters.
func TestServerTextIsPrintedSafely(t *testing.T) {
	const hostile = "boom\x1b]0;pwned\x07\x1b[2J\rfake success\x08\u009b31m\x9b"
	for _, output := range []string{"text", "json"} {
		c := newCloud(t)
		c.sf.FailMutationWith(1, hostile)
		out, errOut, code := c.run(t, t.TempDir(), c.args("--output", output)...)
		if code != ExitFailure {
			t.Fatalf("%s: exit %d\n%s\n%s", output, code, out, errOut)
		}
		all := out + errOut
		for _, bad := range []string{"\x1b", "\x07", "\r", "\x08", "\u009b", "\x9b"} {
			if strings.Contains(all, bad) {
				t.Errorf("%s output holds %q:\n%q", output, bad, all)
			}
		}
		// (The raw byte 0x9b does not survive the JSON of Snowflake's wire
		// protocol: it arrives as U+FFFD.)
		if !strings.Contains(errOut, `boom\x1b]0;pwned\x07\x1b[2J\x0dfake success\x08\u009b31m`) {
			t.Errorf("%s: the message must still be shown, escaped:\n%s", output, errOut)
		}
		if output == "json" {
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if !json.Valid([]byte(line)) {
					t.Errorf("not JSON: %s", line)
				}
			}
		}
	}
	// verify shows Snowflake's own error for LIST @stage, escaped.
	c := newCloud(t)
	dir := t.TempDir()
	if _, errOut, code := c.run(t, dir, c.args()...); code != 0 {
		t.Fatalf("init: %s", errOut)
	}
	c.sf.Unreachable(hostile)
	for _, output := range []string{"text", "json"} {
		out, errOut, code := c.run(t, dir, append([]string{"verify", "--output", output}, c.conn()...)...)
		if code != ExitFailure || !strings.Contains(out, `x1b]0;pwned`) || strings.ContainsAny(out+errOut, "\x1b\x07\r\x08\u009b") {
			t.Errorf("verify %s: exit %d\n%q\n%q", output, code, out, errOut)
		}
	}
}

// TestInitRemovesTempFilesOfAKilledRun: the temporary files a killed run
// left beside the state file and the bundle are gone after the next run.
func TestInitRemovesTempFilesOfAKilledRun(t *testing.T) {
	c := newCloud(t)
	dir := t.TempDir()
	left := []string{"." + providers.DefaultState + ".tmp-123", "." + providers.DefaultBundle + ".tmp-9", "." + providers.DefaultBundle + ".pending.tmp-1"}
	for _, name := range left {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("{"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, errOut, code := c.run(t, dir, c.args()...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, name := range left {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("%s is still there", name)
		}
	}
}

// TestUnreachableCloudsFailFastAndSaySo: a refused connection stops the
// run at once, a silent host at the connect timeout, and missing AWS
// credentials are named with where byob looked; none of it claims a
// state file that was never written.
func TestUnreachableCloudsFailFastAndSaySo(t *testing.T) {
	refused := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	}()
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	silentPort := strconv.Itoa(silent.Addr().(*net.TCPAddr).Port)
	notSTS := httptest.NewServer(http.NotFoundHandler()) // a web server at AWS_ENDPOINT_URL
	defer notSTS.Close()

	for _, tc := range []struct {
		name  string
		setup func(c *cloud)
		extra []string
		want  []string
		not   string
	}{
		{"snowflake refused", nil, []string{"--snowflake-port", refused, "--snowflake-timeout", "10m"},
			[]string{"connect to Snowflake account fake", "cannot reach Snowflake: nothing accepts connections at 127.0.0.1:" + refused, "HTTPS_PROXY"}, "no answer within"},
		{"snowflake silent", nil, []string{"--snowflake-port", silentPort, "--snowflake-timeout", "300ms"},
			[]string{"no answer within 300ms (--snowflake-timeout)"}, ""},
		{"aws refused", func(c *cloud) { t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:"+refused) }, []string{"--warehouse", "none", "--region", "us-east-1", "--connect-timeout", "10m"},
			[]string{"sts:GetCallerIdentity: cannot reach AWS STS: nothing accepts connections at 127.0.0.1:" + refused, "HTTPS_PROXY"}, "credentials"},
		{"aws silent", func(c *cloud) { t.Setenv("AWS_ENDPOINT_URL", "http://"+silent.Addr().String()) }, []string{"--warehouse", "none", "--region", "us-east-1", "--connect-timeout", "300ms"},
			[]string{"no answer from AWS STS at http://" + silent.Addr().String()}, "are AWS credentials configured"},
		{"aws not STS", func(c *cloud) { t.Setenv("AWS_ENDPOINT_URL", notSTS.URL) }, []string{"--warehouse", "none", "--region", "us-east-1"},
			[]string{notSTS.URL + " answered 404: it is not AWS STS"}, "are AWS credentials configured"},
		{"no aws credentials", func(c *cloud) {
			t.Setenv("AWS_ACCESS_KEY_ID", "")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		}, []string{"--warehouse", "none", "--region", "us-east-1"},
			[]string{"no AWS credentials found", "AWS_ACCESS_KEY_ID", "SSO included", "aws configure", "--verbose shows"}, "failed to refresh cached credentials"},
		{"no aws credentials, files of the environment", func(c *cloud) {
			t.Setenv("AWS_ACCESS_KEY_ID", "")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "")
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "creds"))
			t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "conf"))
		}, []string{"--warehouse", "none", "--region", "us-east-1"},
			[]string{"no AWS credentials found", "creds and ", "conf, SSO included"}, "~/.aws/credentials"},
		{"no aws credentials, verbose", func(c *cloud) {
			t.Setenv("AWS_ACCESS_KEY_ID", "")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		}, []string{"--warehouse", "none", "--region", "us-east-1", "--verbose"},
			[]string{"no AWS credentials found", "get credentials: "}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCloud(t)
			if tc.setup != nil {
				tc.setup(c)
			}
			dir := t.TempDir()
			args := c.args()
			if slices.Contains(tc.extra, "none") {
				args = withoutWarehouse(args)
			}
			out, errOut, code := c.run(t, dir, append(args, tc.extra...)...)
			if code != ExitFailure {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q: %s", w, errOut)
				}
			}
			if tc.not != "" && strings.Contains(errOut, tc.not) {
				t.Errorf("stderr says %q: it waited instead of stopping: %s", tc.not, errOut)
			}
			if strings.Contains(out+errOut, "recorded in") {
				t.Errorf("names a state file no run wrote: %s%s", out, errOut)
			}
			if _, err := os.Stat(filepath.Join(dir, providers.DefaultState)); err == nil {
				t.Error("a state file was written though nothing began")
			}
		})
	}
}

// withoutWarehouse drops the Snowflake flags of cloud.args.
func withoutWarehouse(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--warehouse" || a == "--org-id" || a == "--growthloop-role" || strings.HasPrefix(a, "--snowflake-"):
			i++
		default:
			out = append(out, a)
		}
	}
	return out
}

// TestRenderThenBundle: render writes a module and refuses to overwrite
// it; byob bundle turns Terraform's or CloudFormation's outputs into the
// bundle init writes, once the key proved it works, and writes nothing
// for a key that does not.
func TestRenderThenBundle(t *testing.T) {
	c := newCloud(t)
	c.aws.ConfineKeysTo(providers.DefaultPrefix) // IAM's part: the key's policy
	dir := t.TempDir()
	args := withoutWarehouse(c.args("--warehouse", "none", "--region", "us-east-1"))
	out, errOut, code := c.run(t, dir, append(args, "--warehouse", "none", "--region", "us-east-1")...)
	if code != 0 {
		t.Fatalf("init: exit %d\n%s%s", code, out, errOut)
	}
	bundlePath := filepath.Join(dir, providers.DefaultBundle)
	made, err := wizard.ReadBundle(bundlePath)
	if err != nil || made == nil {
		t.Fatal(err)
	}
	os.Remove(bundlePath)

	// render: files, then a refusal to overwrite them.
	renderArgs := []string{"render", "--format", "terraform", "--out", "tf", "--provider", "s3", "--bucket", made.Bucket, "--region", "us-east-1", "--state", "none.json"}
	if out, errOut, code := c.run(t, dir, renderArgs...); code != 0 || !strings.Contains(out, "Wrote 5 files to tf") {
		t.Fatalf("render: exit %d\n%s%s", code, out, errOut)
	}
	if fi, err := os.Stat(filepath.Join(dir, "tf", "main.tf")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("main.tf: %v %v", fi, err)
	}
	if _, errOut, code := c.run(t, dir, renderArgs...); code != ExitUsage || !strings.Contains(errOut, "--force") {
		t.Errorf("a second render: exit %d %s", code, errOut)
	}
	// From the state file init wrote, without flags.
	if out, errOut, code := c.run(t, dir, "render", "--format", "json", "--out", "docs"); code != 0 || !strings.Contains(out, "iam-policy.json") {
		t.Errorf("render from the state file: exit %d\n%s%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "docs", "create-bucket.json")); !strings.Contains(string(b), made.Bucket) {
		t.Errorf("create-bucket.json: %s", b)
	}

	// Terraform's outputs, as terraform output -json prints them.
	tfOut := func(secret string) string {
		o := map[string]map[string]any{}
		for k, v := range map[string]string{"provider": "s3", "bucket": made.Bucket, "region": made.Region, "prefix": made.Prefix, "setup_name": "cli" + c.id,
			"aws_access_key_id": made.AWSAccessKeyID, "aws_secret_access_key": secret} {
			o[k] = map[string]any{"sensitive": k == "aws_secret_access_key", "type": "string", "value": v}
		}
		b, _ := json.Marshal(o)
		path := filepath.Join(t.TempDir(), "outputs.json")
		os.WriteFile(path, b, 0o600)
		return path
	}
	if out, errOut, code := c.run(t, dir, "bundle", "--from-terraform", tfOut("not-the-secret"), "--propagation-timeout", "200ms"); code != ExitFailure || !strings.Contains(errOut, "the key does not work") {
		t.Errorf("a wrong secret: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(bundlePath); err == nil {
		t.Fatal("a bundle was written for a key that does not work")
	}
	out, errOut, code = c.run(t, dir, "bundle", "--from-terraform", tfOut(made.AWSSecretAccessKey))
	if code != 0 || !strings.Contains(out, "The key works") || strings.Contains(out+errOut, made.AWSSecretAccessKey) {
		t.Fatalf("bundle: exit %d\n%s%s", code, out, errOut)
	}
	got, _ := wizard.ReadBundle(bundlePath)
	if fi, _ := os.Stat(bundlePath); fi.Mode().Perm() != 0o600 || got.AWSAccessKeyID != made.AWSAccessKeyID || got.AWSSecretAccessKey != made.AWSSecretAccessKey || got.Bucket != made.Bucket {
		t.Errorf("bundle %+v", got)
	}

	// CloudFormation keeps the key in Secrets Manager.
	os.Remove(bundlePath)
	ctx := context.Background()
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	secret, err := secretsmanager.NewFromConfig(awsCfg).CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("cli" + c.id + "-byob-growthloop-key"),
		SecretString: aws.String(`{"aws_access_key_id":"` + made.AWSAccessKeyID + `","aws_secret_access_key":"` + made.AWSSecretAccessKey + `"}`)})
	if err != nil {
		t.Fatal(err)
	}
	stack, _ := json.Marshal(map[string]any{"Stacks": []any{map[string]any{"Outputs": []map[string]string{
		{"OutputKey": "Bucket", "OutputValue": made.Bucket}, {"OutputKey": "Region", "OutputValue": made.Region}, {"OutputKey": "Prefix", "OutputValue": made.Prefix},
		{"OutputKey": "AccessKeyId", "OutputValue": made.AWSAccessKeyID}, {"OutputKey": "KeySecretArn", "OutputValue": aws.ToString(secret.ARN)},
		{"OutputKey": "SetupName", "OutputValue": "cli" + c.id}}}}})
	stackFile := filepath.Join(t.TempDir(), "stack.json")
	os.WriteFile(stackFile, stack, 0o600)
	out, errOut, code = c.run(t, dir, "bundle", "--from-cloudformation", stackFile)
	if code != 0 || strings.Contains(out+errOut, made.AWSSecretAccessKey) {
		t.Fatalf("bundle from CloudFormation: exit %d\n%s%s", code, out, errOut)
	}
	if got, _ := wizard.ReadBundle(bundlePath); got == nil || got.AWSSecretAccessKey != made.AWSSecretAccessKey {
		t.Errorf("bundle %+v", got)
	}
	// verify works on it from flags and the bundle alone.
	verifyArgs := append([]string{"verify", "--state", "none.json"}, slices.DeleteFunc(args[1:], func(a string) bool { return a == "--yes" })...)
	if out, errOut, code := c.run(t, dir, verifyArgs...); code != 0 {
		t.Errorf("verify: exit %d\n%s%s", code, out, errOut)
	}
}

// TestVerifyHandMadeKeyAndMistakesInJSON: verify on a setup without a
// state file or bundle, told GrowthLoop's key by --access-key-id, lists
// in --output json the guide's policy mistake and the key it can only
// check the state of.
func TestVerifyHandMadeKeyAndMistakesInJSON(t *testing.T) {
	c := newCloud(t)
	c.aws.ConfineKeysTo(providers.DefaultPrefix)
	dir := t.TempDir()
	args := withoutWarehouse(c.args("--warehouse", "none", "--region", "us-east-1"))
	args = append(args, "--warehouse", "none", "--region", "us-east-1")
	if out, errOut, code := c.run(t, dir, args...); code != 0 {
		t.Fatalf("init: exit %d\n%s%s", code, out, errOut)
	}
	made, _ := wizard.ReadBundle(filepath.Join(dir, providers.DefaultBundle))
	os.Remove(filepath.Join(dir, providers.DefaultBundle))
	// The guide's policy, as a customer pastes it, becomes the default.
	ctx := context.Background()
	guide := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:GetObject"],"Resource":"arn:aws:s3:::` + made.Bucket +
		`/exports/*"},{"Effect":"Allow","Action":["s3:ListBucket","s3:GetBucketLocation"],"Resource":"arn:aws:s3:::` + made.Bucket + `","Condition":{"StringLike":{"s3:prefix":["exports/*"]}}}]}`
	_, err := iam.NewFromConfig(c.aws.Config()).CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{
		PolicyArn: aws.String("arn:aws:iam::" + awstest.AccountID + ":policy/cli" + c.id + "-byob-access"), PolicyDocument: aws.String(guide), SetAsDefault: true})
	if err != nil {
		t.Fatal(err)
	}
	verifyArgs := append([]string{"verify", "--state", "none.json", "--output", "json", "--access-key-id", made.AWSAccessKeyID},
		slices.DeleteFunc(args[1:], func(a string) bool { return a == "--yes" })...)
	out, errOut, code := c.run(t, dir, verifyArgs...)
	if code != ExitFailure {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
	}
	var rep struct {
		Checks []struct{ ID, Status, Detail string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	found := map[string]string{}
	for _, ch := range rep.Checks {
		found[ch.ID] = ch.Status + ": " + ch.Detail
	}
	if s := found["iam-policy"]; !strings.HasPrefix(s, "fail") || !strings.Contains(s, "s3:GetBucketLocation is under an s3:prefix condition and can never be allowed") {
		t.Errorf("iam-policy: %q", s)
	}
	if s := found["s3-key-works"]; !strings.HasPrefix(s, "warn") || !strings.Contains(s, "access key "+made.AWSAccessKeyID+" is active; its secret is GrowthLoop's alone") {
		t.Errorf("s3-key-works: %q", s)
	}
}

// TestUnreachableGoogleFailsFast: Google's preflight stops at once on a
// refused connection, as AWS's and Snowflake's do, instead of retrying it.
func TestUnreachableGoogleFailsFast(t *testing.T) {
	fake := gcptest.New()
	defer fake.Close()
	adc, err := fake.CredentialsFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", adc)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String() + "/"
	l.Close()
	env := fake.Env()
	env["CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER"] = refused
	t.Chdir(t.TempDir())
	var out, errOut bytes.Buffer
	streams := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}, Open: wizard.Open}
	start := time.Now()
	code := Run(context.Background(), streams, []string{"init", "--provider", "gcs", "--bucket", "cli-gcs-refused", "--location", "EU", "--gcp-project", gcptest.Project,
		"--connect-timeout", "10m", "--yes"})
	if code != ExitFailure || !strings.Contains(errOut.String(), "connection refused") || strings.Contains(errOut.String(), "no answer from") {
		t.Errorf("exit %d: %s", code, errOut.String())
	}
	// Google's retry waits 250 ms and more between attempts: none was made.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s: the refused connection was retried", d)
	}
}

// TestGoogleCredentialsFileMustExist: GOOGLE_APPLICATION_CREDENTIALS
// naming a file that does not exist is a usage error naming the variable
// and the path, found before any cloud is reached (Snowflake, which is
// connected first, included), on every verb that connects, in JSON too.
func TestGoogleCredentialsFileMustExist(t *testing.T) {
	c := newCloud(t)
	missing := filepath.Join(t.TempDir(), "nowhere", "adc.json")
	c.env["GOOGLE_APPLICATION_CREDENTIALS"] = missing
	want := `invalid GOOGLE_APPLICATION_CREDENTIALS "` + missing + `": the environment variable names a file that does not exist`
	dir := t.TempDir()
	args := append([]string{"init", "--provider", "gcs", "--bucket", "cli-gcs-" + c.id, "--gcp-project", "acme-data", "--location", "US",
		"--warehouse", "snowflake", "--org-id", "77", "--snowflake-database", "ANALYTICS", "--growthloop-role", "GROWTHLOOP", "--yes"}, c.conn()...)
	out, errOut, code := c.run(t, dir, args...)
	if code != ExitUsage || !strings.Contains(errOut, want) {
		t.Errorf("init: exit %d, want 2 and %q:\n%s%s", code, want, out, errOut)
	}
	out, _, code = c.run(t, dir, append(args, "--output", "json")...)
	if doc, _ := lastJSON(t, out); code != ExitUsage || doc["error"].(map[string]any)["kind"] != "usage" || !strings.Contains(doc["error"].(map[string]any)["message"].(string), want) {
		t.Errorf("init --output json: exit %d\n%s", code, out)
	}
	_, errOut, code = c.run(t, dir, "verify", "--provider", "gcs", "--bucket", "cli-gcs-"+c.id, "--gcp-project", "acme-data", "--location", "US")
	if code != ExitUsage || !strings.Contains(errOut, want) {
		t.Errorf("verify: exit %d, want 2 and %q:\n%s", code, want, errOut)
	}
	if n := len(c.sf.Requests()); n > 0 {
		t.Errorf("Snowflake was reached %d times", n)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("left %s", entries[0].Name())
	}
}
