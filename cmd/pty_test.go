//go:build !windows

package cmd

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/creack/pty"
	"github.com/hinshun/vt10x"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/s3bucket/awstest"
	"github.com/growthloop/byob/wizard"
)

// screen runs the built byob in a real 80×24 pseudo-terminal, keeps a
// virtual terminal's screen of it (which also answers the terminal
// queries of the UI libraries) and the raw output.
type screen struct {
	t    *testing.T
	cmd  *exec.Cmd
	ptmx *os.File
	vt   vt10x.Terminal
	mu   sync.Mutex
	raw  bytes.Buffer
	done chan struct{}
	err  error
}

func startScreen(t *testing.T, bin, dir string, env []string, args ...string) *screen {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "TERM=xterm-256color"}, env...)
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		t.Fatal(err)
	}
	s := &screen{t: t, cmd: cmd, ptmx: ptmx, vt: vt10x.New(vt10x.WithWriter(ptmx), vt10x.WithSize(80, 24)), done: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			if n > 0 {
				s.mu.Lock()
				s.raw.Write(buf[:n])
				s.mu.Unlock()
				_, _ = s.vt.Write(buf[:n])
			}
			if err != nil {
				break
			}
		}
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.done
		ptmx.Close()
	})
	return s
}

// waitFor waits until the screen shows text.
func (s *screen) waitFor(text string) {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(s.vt.String(), text) {
			return
		}
		select {
		case <-s.done:
			if strings.Contains(s.vt.String(), text) {
				return
			}
			s.t.Fatalf("byob exited (%v) before showing %q; output:\n%s", s.err, text, s.output())
		case <-time.After(20 * time.Millisecond):
		}
	}
	s.t.Fatalf("the screen never showed %q; it shows:\n%s", text, s.vt.String())
}

// waitForPage is waitFor, then settle: for a form page the test answers.
func (s *screen) waitForPage(text string) {
	s.t.Helper()
	s.waitFor(text)
	s.settle()
}

// settle waits until byob has written nothing for 150 ms (2 s at most):
// a page is drawn, and the terminal's answers to what byob asked at start
// are read, before the test types, as a person reading the page would.
// On a loaded machine a key typed mid-draw was taken by the page before.
func (s *screen) settle() {
	last, quiet := -1, time.Now()
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		s.mu.Lock()
		n := s.raw.Len()
		s.mu.Unlock()
		if n != last {
			last, quiet = n, time.Now()
		} else if time.Since(quiet) >= 150*time.Millisecond {
			return
		}
	}
}

// keys types keystrokes, each after a short pause, as a person would.
func (s *screen) keys(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		time.Sleep(60 * time.Millisecond)
		if _, err := s.ptmx.Write([]byte(k)); err != nil {
			s.t.Fatal(err)
		}
	}
}

// exit waits for byob to end and returns its exit code.
func (s *screen) exit() int {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.t.Fatalf("byob did not exit; screen:\n%s", s.vt.String())
	}
	var ee *exec.ExitError
	if errors.As(s.err, &ee) {
		return ee.ExitCode()
	}
	if s.err != nil {
		s.t.Fatal(s.err)
	}
	return 0
}

// output is everything byob wrote, without escape sequences and carriage
// returns.
func (s *screen) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.ReplaceAll(ansi.Strip(s.raw.String()), "\r", "")
}

const (
	enter = "\r"
	down  = "\x1b[B"
	esc   = "\x1b"
	ctrlU = "\x15"
	ctrlC = "\x03"
	// pgDown is the key PgDn sends.
	pgDown = "\x1b[6~"
)

var externalID = regexp.MustCompile(`byob-[0-9a-f]{40}`)

// TestTerminalFormGivesTheFlagsPlan answers every prompt of byob init
// --dry-run with keystrokes in a real terminal, reaches the review screen,
// and gets the plan the equivalent flags print.
func TestTerminalFormGivesTheFlagsPlan(t *testing.T) {
	bin := buildByob(t, "")
	want, _, code := run(t, nil, s3Args...)
	if code != 0 {
		t.Fatal(code)
	}
	dir, home := t.TempDir(), t.TempDir()
	s := startScreen(t, bin, dir, []string{"HOME=" + home}, "init", "--dry-run")
	s.waitForPage("Where should the export bucket live?")
	s.keys(enter)       // Amazon S3
	s.keys(down, enter) // Snowflake
	s.waitForPage("GrowthLoop organisation id")
	s.keys("1234", enter, enter) // org id; the setup name as shown
	s.waitForPage("Bucket region")
	s.waitForPage("The Snowflake account's region")
	n, _ := strconv.Atoi(regionAnswer(t, "us-west-2", 1))
	s.keys(strings.Repeat(down, n-1), enter) // us-west-2
	s.waitForPage("Bucket name")
	s.keys(ctrlU, "acme-growthloop-exports", enter, enter, enter) // prefix and TTL as shown
	s.waitForPage("Snowflake database for the stage")
	s.keys("ANALYTICS", enter, enter, "GROWTHLOOP", enter)
	s.waitForPage("Bundle file to upload to GrowthLoop")
	s.keys(enter, enter)
	s.waitForPage("Review the plan (dry run: nothing will change)")
	s.waitForPage("Plan: S3 bucket acme-growthloop-exports in us-west-2")
	s.keys(down, down, enter)
	if code := s.exit(); code != 0 {
		t.Fatalf("exit %d\n%s", code, s.output())
	}
	out := s.output()
	if !strings.Contains(externalID.ReplaceAllString(out, "ID"), externalID.ReplaceAllString(want, "ID")) {
		t.Errorf("the terminal form's plan differs from the flags' plan:\n%s", out)
	}
	if !strings.Contains(out, "byob init --provider s3 --bucket acme-growthloop-exports --growthloop-role GROWTHLOOP --org-id 1234 --region us-west-2 --snowflake-database ANALYTICS --warehouse snowflake --dry-run") {
		t.Errorf("no equivalent command:\n%s", out)
	}
}

// TestTerminalQuitCancels: Esc or Ctrl-C at any prompt exits 130 and
// writes nothing; with NO_COLOR the forms use no colour.
func TestTerminalQuitCancels(t *testing.T) {
	bin := buildByob(t, "")
	for _, tc := range []struct {
		name, key string
		later     bool
	}{{"esc at the first prompt", esc, false}, {"ctrl-c at a later prompt", ctrlC, true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := startScreen(t, bin, dir, []string{"HOME=" + t.TempDir(), "NO_COLOR=1"}, "init")
			s.waitForPage("Where should the export bucket live?")
			if tc.later {
				s.keys(enter, enter)
				s.waitFor("Setup name")
			}
			s.keys(tc.key)
			if code := s.exit(); code != ExitCancelled {
				t.Errorf("exit %d, want 130\n%s", code, s.output())
			}
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				t.Errorf("cancelling left %s", entries[0].Name())
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if regexp.MustCompile(`\x1b\[[0-9;]*(3[0-9]|9[0-7]|38;)[0-9;]*m`).Match(s.raw.Bytes()) {
				t.Error("NO_COLOR is set, yet the output has colours")
			}
		})
	}
}

// applyEnv is the environment that takes the built byob to kumo and the
// Snowflake fake of c.
func applyEnv(t *testing.T, c *cloud) []string {
	return []string{"HOME=" + t.TempDir(), "AWS_ENDPOINT_URL=" + c.aws.URL, "AWS_ACCESS_KEY_ID=" + awstest.AdminKeyID,
		"AWS_SECRET_ACCESS_KEY=" + awstest.AdminSecret, "AWS_EC2_METADATA_DISABLED=true", "SNOWFLAKE_PASSWORD=" + c.sf.Password,
		"AWS_CONFIG_FILE=" + filepath.Join(t.TempDir(), "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(t.TempDir(), "none")}
}

// atReview starts byob init in dir with c's flags but without --yes, as a
// person at a terminal would, and waits for the review screen.
func atReview(t *testing.T, c *cloud, dir string) *screen {
	args := slices.DeleteFunc(c.args(), func(a string) bool { return a == "--yes" })
	s := startScreen(t, buildByob(t, ""), dir, applyEnv(t, c), args...)
	s.waitFor("Review the plan: nothing has changed yet")
	return s
}

// TestTerminalApplyShowsLiveStepsAndSummary: review, apply with the live
// checklist, and the summary box.
func TestTerminalApplyShowsLiveStepsAndSummary(t *testing.T) {
	c := newCloud(t)
	dir := t.TempDir()
	s := atReview(t, c, dir)
	s.keys("y")
	s.waitFor("Next: upload the bundle in GrowthLoop")
	if code := s.exit(); code != 0 {
		t.Fatalf("exit %d\n%s", code, s.output())
	}
	out := s.output()
	for _, want := range []string{"✓ Create S3 bucket cli-exports-", "✓ Create the user's access key", "Done: 16 changes applied, 1 already in place.",
		"Credentials bundle written to growthloop-byob-bundle.json (mode 0600)", "╭"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if b, err := wizard.ReadBundle(filepath.Join(dir, providers.DefaultBundle)); err != nil || b == nil || strings.Contains(out, b.AWSSecretAccessKey) {
		t.Errorf("bundle %v %v, or its secret was shown", b, err)
	}
}

// TestTerminalCtrlCStopsAfterTheRunningStep: Ctrl-C during apply lets the
// running steps finish, leaves a consistent state file, prints the command
// that resumes, and exits 130; that command then finishes the setup.
func TestTerminalCtrlCStopsAfterTheRunningStep(t *testing.T) {
	c := newCloud(t)
	dir := t.TempDir()
	s := atReview(t, c, dir)
	c.aws.SetLatency(300 * time.Millisecond)
	s.keys("y")
	s.waitFor("✓ Create") // a first step is done; many are still to come
	s.keys(ctrlC)
	if code := s.exit(); code != ExitCancelled {
		t.Fatalf("exit %d, want 130\n%s", code, s.output())
	}
	out := s.output()
	if !strings.Contains(out, "Resume with:") || !strings.Contains(out, "byob init --provider s3 --bucket cli-exports-"+c.id) {
		t.Errorf("no resume command:\n%s", out)
	}
	state, err := wizard.LoadState(filepath.Join(dir, providers.DefaultState))
	if err != nil || state.Inputs == nil {
		t.Fatalf("state %+v: %v", state, err)
	}
	if len(state.Steps) == 0 || len(state.Steps) >= 15 {
		t.Errorf("want some steps recorded, not all: %v", state.Steps)
	}
	for id, st := range state.Steps {
		if st.Status != "done" {
			t.Errorf("step %s: %+v", id, st)
		}
	}
	c.aws.SetLatency(0)
	if _, errOut, code := c.run(t, dir, c.args()...); code != 0 {
		t.Fatalf("resume exit %d: %s", code, errOut)
	}
}

// TestTerminalDriftIsAskedDuringApply: drift found while the checklist
// runs is asked about in the terminal, then the run goes on.
func TestTerminalDriftIsAskedDuringApply(t *testing.T) {
	c := newCloud(t)
	dir := t.TempDir()
	if _, errOut, code := c.run(t, dir, c.args()...); code != 0 {
		t.Fatalf("init exit %d: %s", code, errOut)
	}
	const stage = "ANALYTICS.FLYWHEEL_SYSTEM.FLYWHEEL_EXTERNAL_STAGE"
	st := c.sf.Stage(stage)
	want := st.URL
	st.URL = "s3://elsewhere/"
	c.sf.SetStage(stage, *st)
	s := atReview(t, c, dir)
	s.keys("y")
	s.waitFor("change it as")
	s.keys("y")
	s.waitFor("Done: 1 change applied, 16 already in place.")
	if code := s.exit(); code != 0 {
		t.Fatalf("exit %d\n%s", code, s.output())
	}
	if got := c.sf.Stage(stage).URL; got != want {
		t.Errorf("the drift was not reconciled: stage URL %s", got)
	}
}

// TestTerminalDestroyAsksForTheBucketName: at a terminal destroy shows
// what it removes and waits for the bucket's name: Esc cancels with
// nothing removed, a wrong name is refused, the right one destroys.
func TestTerminalDestroyAsksForTheBucketName(t *testing.T) {
	c := newCloud(t)
	dir := t.TempDir()
	if _, errOut, code := c.run(t, dir, c.args()...); code != 0 {
		t.Fatalf("init exit %d: %s", code, errOut)
	}
	bucket := "cli-exports-" + c.id
	bin := buildByob(t, "")
	s := startScreen(t, bin, dir, applyEnv(t, c), "destroy")
	s.waitForPage("Type the bucket name")
	s.keys(esc)
	if code := s.exit(); code != ExitCancelled || c.sf.Integration("FLYWHEEL_APP_AWS") == nil {
		t.Fatalf("Esc: exit %d, integration %v\n%s", code, c.sf.Integration("FLYWHEEL_APP_AWS"), s.output())
	}
	s = startScreen(t, bin, dir, applyEnv(t, c), "destroy")
	s.waitForPage("Type the bucket name")
	if out := s.output(); !strings.Contains(out, "Removes, in this order:") || !strings.Contains(out, "delete IAM user cli"+c.id+"-byob-exporter") {
		t.Errorf("the plan was not shown before the question:\n%s", out)
	}
	s.keys("wrong-bucket", enter)
	s.waitForPage("type " + bucket + " exactly to confirm")
	s.keys(ctrlU, bucket, enter)
	s.waitFor("Next: remove the bundle in GrowthLoop")
	if code := s.exit(); code != 0 {
		t.Fatalf("exit %d\n%s", code, s.output())
	}
	if c.sf.Integration("FLYWHEEL_APP_AWS") != nil {
		t.Error("the integration is still there")
	}
}

// ptyRun runs the built byob in a pseudo-terminal that never answers a
// query, as some terminals and CI consoles do, and returns what it wrote
// and how long it took.
func ptyRun(t testing.TB, bin string, env []string, args ...string) ([]byte, time.Duration) {
	t.Helper()
	cmd := quietCommand(t, bin, env, args...)
	start := time.Now()
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	var out bytes.Buffer
	read := make(chan struct{})
	go func() { _, _ = out.ReadFrom(ptmx); close(read) }()
	werr := make(chan error, 1)
	go func() { werr <- cmd.Wait() }()
	select {
	case <-werr:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("byob %v still ran after 10s; it wrote %q", args, out.Bytes())
	}
	took := time.Since(start)
	ptmx.Close()
	<-read
	return out.Bytes(), took
}

// terminalQueries are the queries a UI library may send, each of which a
// terminal answers on byob's standard input.
var terminalQueries = []string{"\x1b]10;?", "\x1b]11;?", "\x1b[6n", "\x1b[c", "\x1b[>c", "\x1b[?u", "$p", "\x1b[>0q"}

// TestNoTerminalQueryOutsideAForm: in a terminal that never answers,
// commands that draw no form ask it nothing and never wait for it, with
// NO_COLOR, TERM=dumb or stdin not a terminal too. "Never wait" is
// measured against the same command with no terminal at all (the best
// of five runs each), so a busy machine slows both alike; --help's own
// time in a pty is BenchmarkStart's help_pty_ms, with its budget.
func TestNoTerminalQueryOutsideAForm(t *testing.T) {
	bin := buildByob(t, "")
	for _, tc := range []struct {
		env  []string
		args []string
	}{
		{nil, []string{"--help"}},
		{[]string{"NO_COLOR=1"}, []string{"--help"}},
		{nil, []string{"version"}},
		{nil, []string{"init", "--help"}},
		{[]string{"TERM=dumb"}, []string{"plan", "--provider", "s3", "--bucket", "acme-exports", "--region", "us-east-1"}},
		{nil, []string{"init", "--provider", "s3", "--bucket", "acme-exports", "--region", "us-east-1", "--dry-run"}},
		{nil, []string{"verify", "--output", "json"}},
	} {
		inPty, piped := time.Hour, time.Hour
		for range 5 {
			out, took := ptyRun(t, bin, tc.env, tc.args...)
			inPty = min(inPty, took)
			for _, q := range terminalQueries {
				if bytes.Contains(out, []byte(q)) {
					t.Errorf("byob %v %v asked the terminal %q:\n%q", tc.env, tc.args, q, out)
				}
			}
			piped = min(piped, pipeRun(t, bin, tc.env, tc.args...))
		}
		if tc.args[0] == "--help" && inPty > piped+100*time.Millisecond {
			t.Errorf("byob %v --help took %s in a terminal that does not answer, %s with no terminal: it waited on the terminal", tc.env, inPty, piped)
		}
	}
}

// quietCommand is the built byob in a directory and home of its own, in
// an xterm, with env added.
func quietCommand(t testing.TB, bin string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "TERM=xterm-256color", "HOME=" + t.TempDir()}, env...)
	return cmd
}

// pipeRun runs the built byob as ptyRun does, with no terminal at all,
// and returns how long it took.
func pipeRun(t *testing.T, bin string, env []string, args ...string) time.Duration {
	t.Helper()
	cmd := quietCommand(t, bin, env, args...)
	start := time.Now()
	_ = cmd.Run() // verify with no setup exits 2; only the time matters here
	return time.Since(start)
}

// TestTerminalFormKeepsTheAnswersOnACredentialsError: the form reaches the
// clouds as soon as it knows how (the profile), before the bucket is
// asked; when that fails, the answers given are printed as a command
// line, with the dry run that needs no credentials.
func TestTerminalFormKeepsTheAnswersOnACredentialsError(t *testing.T) {
	bin := buildByob(t, "")
	none := filepath.Join(t.TempDir(), "none")
	env := []string{"HOME=" + t.TempDir(), "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_CONFIG_FILE=" + none,
		"AWS_SHARED_CREDENTIALS_FILE=" + none, "AWS_EC2_METADATA_DISABLED=true"}
	dir := t.TempDir()
	s := startScreen(t, bin, dir, env, "init", "--accessible")
	s.waitForPage("Where should the export bucket live?")
	s.keys("1", enter) // Amazon S3
	s.waitForPage("Does a warehouse unload into the bucket?")
	s.keys("1", enter) // GrowthLoop only
	s.waitForPage("GrowthLoop organisation id")
	s.keys("1234", enter, enter) // org id; the setup name kept
	s.waitForPage("Which AWS profile?")
	s.keys(enter)                                   // the default credentials
	s.waitForPage("Another region (type its name)") // the end of the region list
	s.keys(regionAnswer(t, "us-west-2", 0), enter)
	if code := s.exit(); code != ExitFailure {
		t.Fatalf("exit %d\n%s", code, s.output())
	}
	out := s.output()
	for _, want := range []string{"no AWS credentials found", "Your answers as a command line (it asks only what is missing):\n  byob init --provider s3 --org-id 1234 --region us-west-2 --warehouse none\n",
		"The plan needs no credentials:\n  byob init --provider s3 --org-id 1234 --region us-west-2 --warehouse none --dry-run\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Bucket name") {
		t.Errorf("the bucket was asked before the clouds were reached:\n%s", out)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("left %s", entries[0].Name())
	}
}

// TestTerminalAccessibleReadsAsPlainText: with --accessible, the form and
// the run read as plain text: no doubled punctuation, no filtering where
// a numbered list cannot filter, no spinner glyph.
func TestTerminalAccessibleReadsAsPlainText(t *testing.T) {
	bin := buildByob(t, "")
	check := func(out string) {
		t.Helper()
		for _, bad := range []string{"?.", "/ filters"} {
			if strings.Contains(out, bad) {
				t.Errorf("read out as %q:\n%s", bad, out)
			}
		}
		if strings.ContainsAny(out, brailleDots) {
			t.Errorf("a spinner glyph for a screen reader:\n%s", out)
		}
	}
	s := startScreen(t, bin, t.TempDir(), []string{"HOME=" + t.TempDir()}, "init", "--accessible", "--dry-run")
	s.waitForPage("Where should the export bucket live?")
	s.keys("1", enter, "2", enter) // S3, Snowflake
	s.waitForPage("GrowthLoop organisation id")
	s.keys("1234", enter, enter)
	s.waitForPage("Another region (type its name)")
	s.keys(regionAnswer(t, "us-west-2", 1), enter)
	s.waitForPage("Bucket name")
	s.keys("acme-growthloop-exports", enter, enter, enter, "ANALYTICS", enter, enter, "GROWTHLOOP", enter, enter, enter)
	if code := s.exit(); code != 0 {
		t.Fatalf("exit %d\n%s", code, s.output())
	}
	check(s.output())

	c := newCloud(t)
	args := slices.DeleteFunc(c.args(), func(a string) bool { return a == "--yes" })
	s = startScreen(t, bin, t.TempDir(), applyEnv(t, c), append(args, "--accessible")...)
	s.waitForPage("Apply this plan?")
	s.keys("y", enter)
	if code := s.exit(); code != 0 {
		t.Fatalf("exit %d\n%s", code, s.output())
	}
	out := s.output()
	check(out)
	if !strings.Contains(out, "Connecting to AWS and Snowflake account fake as byob…") || !strings.Contains(out, "✓ Create the user's access key") {
		t.Errorf("the run is not told line by line:\n%s", out)
	}
}

// TestTerminalReviewLeadsWithTheSummary: the review screen opens on what
// will be made, a line a step, who gets which permission and where the
// bundle goes, with no document on it; d shows the documents.
func TestTerminalReviewLeadsWithTheSummary(t *testing.T) {
	c := newCloud(t)
	s := atReview(t, c, t.TempDir())
	s.waitFor("Steps (+ create")
	first := s.vt.String()
	for _, want := range []string{"+ Amazon S3  Create S3 bucket cli-exports-" + c.id, "+ Snowflake  Create storage integration FLYWHEEL_APP_AWS"} {
		if !strings.Contains(first, want) {
			t.Errorf("the first screen lacks %q:\n%s", want, first)
		}
	}
	s.keys(pgDown) // the rest of the summary, still no document
	s.waitFor("Who gets which permission:")
	second := s.vt.String()
	for _, want := range []string{"+ Amazon S3  Create the user's access key", "The bundle growthloop-byob-bundle.json (mode 0600)", "Plan: 8 to create, 9 to change, 0 to keep."} {
		if !strings.Contains(second, want) {
			t.Errorf("the second screen lacks %q:\n%s", want, second)
		}
	}
	if screens := first + second; strings.Contains(screens, "{") || strings.Contains(screens, "CREATE ") {
		t.Errorf("the summary shows a document:\n%s", screens)
	}
	s.keys("d")
	s.waitFor("1. Create S3 bucket cli-exports-" + c.id + "  [s3-bucket]")
	s.keys("n")
	if code := s.exit(); code != ExitCancelled {
		t.Fatalf("exit %d\n%s", code, s.output())
	}
}

// TestFormAsksTheTerminalNothingWithNoColor: with NO_COLOR the form is
// drawn, and the terminal is asked nothing (no mode or keyboard query).
func TestFormAsksTheTerminalNothingWithNoColor(t *testing.T) {
	bin := buildByob(t, "")
	s := startScreen(t, bin, t.TempDir(), []string{"HOME=" + t.TempDir(), "NO_COLOR=1"}, "init")
	s.waitFor("Where should the export bucket live?")
	s.keys(ctrlC)
	if code := s.exit(); code != 130 {
		t.Errorf("exit %d, want 130", code)
	}
	s.mu.Lock()
	raw := s.raw.String()
	s.mu.Unlock()
	for _, q := range terminalQueries {
		if strings.Contains(raw, q) {
			t.Errorf("the form asked the terminal %q with NO_COLOR:\n%q", q, raw)
		}
	}
}
