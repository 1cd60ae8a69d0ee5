//go:build !windows

package cmd

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/growthloop/byob/providers/s3bucket/awstest"
)

// benchLatency is the round trip added before every request to AWS,
// Google Cloud and Snowflake: what users feel is the number of round
// trips one after another.
const benchLatency = 50 * time.Millisecond

// scenario is one command as users run it, measured as a whole process.
type scenario struct {
	name string
	// chain is the dependent chain of round trips the work needs (its
	// floor is chain × L plus the process's start-up).
	chain int
	// setup makes the fakes and the state the command starts from (not
	// timed); run is the command.
	setup func(tb testing.TB, aws *awstest.Server, bin string) *crashSetup
	args  []string
	// budget is how many requests the command sends today: a change may
	// lower it, never raise it (TestRequestBudget).
	budget int
}

// benchScenarios are the commands of the README's performance table. The
// chains, each the longest run of requests that must wait for one another:
//   - init S3+Snowflake, 6: Snowflake login (beside the AWS preflight) →
//     CREATE INTEGRATION → DESC INTEGRATION → CreateRole → AttachRolePolicy,
//     and the access key's wait is beside it.
//   - a no-op re-run, 3: login → DESC INTEGRATION → GetRole.
//   - verify, 3: the same chain; the probes run beside it.
//   - S3 without a warehouse, 4: GetCallerIdentity → CreateUser →
//     CreateAccessKey → GetCallerIdentity with the new key.
//   - GCS, 6: testIamPermissions → service account create → key create,
//     binding read → binding write, beside bucket create and update.
func benchScenarios() []scenario {
	s3sf := func(tb testing.TB, aws *awstest.Server, bin string) *crashSetup { return s3Setup(tb, aws) }
	initialized := func(tb testing.TB, aws *awstest.Server, bin string) *crashSetup {
		s := s3Setup(tb, aws)
		if code, out := runByob(tb, bin, s, nil, 0); code != 0 {
			tb.Fatalf("init: exit %d\n%s", code, out)
		}
		return s
	}
	return []scenario{
		{"init-s3-snowflake", 6, s3sf, nil, 45},
		{"rerun-s3-snowflake", 3, initialized, nil, 27},
		{"verify-s3-snowflake", 3, initialized, []string{"verify"}, 39},
		{"init-s3", 4, func(tb testing.TB, aws *awstest.Server, bin string) *crashSetup {
			s := s3Setup(tb, aws)
			s.args = []string{"init", "--provider", "s3", "--bucket", "crash-exports-" + s.id, "--name", "crash" + s.id, "--region", "us-west-2", "--yes"}
			return s
		}, nil, 23},
		{"init-gcs", 6, func(tb testing.TB, aws *awstest.Server, bin string) *crashSetup {
			s := gcsSetup(tb, nil)
			s.args = []string{"init", "--provider", "gcs", "--bucket", "crash-gcs-" + s.id, "--name", "crash" + s.id, "--location", "US", "--yes"}
			return s
		}, nil, 12},
	}
}

// requests counts the requests the fakes of s (and AWS) answered, but for
// Snowflake's logouts: sent as the process exits, without waiting, some
// leave and some do not.
func requests(aws *awstest.Server, s *crashSetup) int {
	n := len(aws.Calls())
	for _, r := range s.sf.Requests() {
		if r.Path != "/session" {
			n++
		}
	}
	if s.gcp != nil {
		n += len(s.gcp.Requests())
	}
	return n
}

// TestRequestBudget runs each command of the performance table once and
// fails if it sends more requests than its budget: the count goes down,
// not up (every request is a round trip users wait for, or pay for).
func TestRequestBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a whole init per scenario")
	}
	bin := buildByob(t, "")
	aws := awstest.New()
	defer aws.Close()
	aws.ConfineKeysTo("exports/")
	for _, sc := range benchScenarios() {
		s := sc.setup(t, aws, bin)
		if sc.args != nil {
			s.args = sc.args
		}
		before := requests(aws, s)
		if code, out := runByob(t, bin, s, nil, 0); code != 0 {
			t.Fatalf("%s: exit %d\n%s", sc.name, code, out)
		}
		if n := requests(aws, s) - before; n > sc.budget {
			t.Errorf("%s sent %d requests, over its budget of %d", sc.name, n, sc.budget)
		} else {
			t.Logf("%s: %d requests (budget %d)", sc.name, n, sc.budget)
		}
	}
}

// BenchmarkStart measures what every start costs with the release build
// (goreleaser's flags): --help's wall time (and in a pseudo-terminal that
// never answers a query) and peak RSS, a dry run's peak RSS, and the
// binary's size.
func BenchmarkStart(b *testing.B) {
	bin := buildByob(b, "-s -w")
	fi, err := os.Stat(bin)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	dry := []string{"init", "--dry-run", "--provider", "s3", "--bucket", "acme-exports", "--region", "us-east-1", "--warehouse", "snowflake",
		"--org-id", "1234", "--snowflake-database", "ANALYTICS", "--growthloop-role", "GROWTHLOOP", "--state", filepath.Join(dir, "state.json")}
	measure := func(args ...string) (time.Duration, float64) {
		// Peak RSS through GNU time: a child the test process starts
		// itself inherits the test process's peak at exec (vfork).
		cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%M", "-o", filepath.Join(dir, "rss"), bin}, args...)...)
		cmd.Env = []string{"HOME=" + dir}
		t0 := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
		took := time.Since(t0)
		out, err := os.ReadFile(filepath.Join(dir, "rss"))
		if err != nil {
			b.Fatal(err)
		}
		kb, _ := strconv.Atoi(strings.TrimSpace(string(out)))
		return took, float64(kb) / 1024
	}
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		b.Skip("needs GNU time for the peak RSS")
	}
	var help, helpPty []time.Duration
	var helpRSS, dryRSS float64
	runtime.GC() // the test process stays out of the way of what it measures
	b.ResetTimer()
	for range b.N {
		d, rss := measure("--help")
		help = append(help, d)
		helpRSS = max(helpRSS, rss)
		_, rss = measure(dry...)
		dryRSS = max(dryRSS, rss)
		_, d = ptyRun(b, bin, nil, "--help")
		helpPty = append(helpPty, d)
	}
	slices.Sort(help)
	slices.Sort(helpPty)
	b.ReportMetric(float64(help[len(help)/2].Microseconds())/1000, "help_ms")
	b.ReportMetric(float64(helpPty[len(helpPty)/2].Microseconds())/1000, "help_pty_ms")
	b.ReportMetric(initTime(b, bin), "init_ms")
	b.ReportMetric(helpRSS, "help_rss_MiB")
	b.ReportMetric(dryRSS, "dryrun_rss_MiB")
	b.ReportMetric(float64(fi.Size())/1e6, "binary_MB")
}

// BenchmarkProcess runs each command of the performance table as the
// built binary, from exec to exit, with benchLatency before every request,
// and reports its wall time (the median run), its requests, its floor
// (the dependent chain × L, plus start-up) and wall/floor.
func BenchmarkProcess(b *testing.B) {
	bin := buildByob(b, "")
	if w := os.Getenv("BYOB_BENCH_BIN"); w != "" {
		bin = w
	}
	aws := awstest.New()
	defer aws.Close()
	aws.ConfineKeysTo("exports/") // as the key's policy makes AWS do
	start := startup(b, bin)
	for _, sc := range benchScenarios() {
		b.Run(sc.name, func(b *testing.B) {
			var walls []time.Duration
			var reqs int
			for range b.N {
				b.StopTimer()
				aws.SetLatency(0)
				s := sc.setup(b, aws, bin)
				if sc.args != nil {
					s.args = sc.args
				}
				aws.SetLatency(benchLatency)
				s.sf.SetLatency(benchLatency)
				if s.gcp != nil {
					s.gcp.SetLatency(benchLatency)
				}
				before := requests(aws, s)
				b.StartTimer()
				t0 := time.Now()
				code, out := runByob(b, bin, s, nil, 0)
				walls = append(walls, time.Since(t0))
				b.StopTimer()
				if code != 0 {
					b.Fatalf("exit %d\n%s", code, out)
				}
				reqs += requests(aws, s) - before
				timeline(b, aws, s, t0)
				aws.SetLatency(0)
			}
			floor := time.Duration(sc.chain)*benchLatency + start
			// The median run: a rare stall of the machine (one GCS init in
			// forty took 570 ms instead of 330) moves a mean by tens of ms.
			slices.Sort(walls)
			perRun := walls[len(walls)/2]
			b.ReportMetric(float64(perRun.Milliseconds()), "wall_ms")
			b.ReportMetric(float64(reqs)/float64(b.N), "requests")
			b.ReportMetric(float64(floor.Milliseconds()), "floor_ms")
			b.ReportMetric(float64(perRun)/float64(floor), "wall/floor")
		})
	}
}

// startup is how long the process takes to start and exit doing nothing
// (byob version): the part of every command that no round trip explains.
func startup(b *testing.B, bin string) time.Duration {
	var runs []time.Duration
	for range 11 {
		t0 := time.Now()
		if err := exec.Command(bin, "version").Run(); err != nil {
			b.Fatal(err)
		}
		runs = append(runs, time.Since(t0))
	}
	slices.Sort(runs)
	return runs[len(runs)/2]
}

// timeline prints, with BYOB_BENCH_TIMELINE set, the requests of a run
// from its start, to find the chain that makes it slow.
func timeline(b *testing.B, aws *awstest.Server, s *crashSetup, since time.Time) {
	if os.Getenv("BYOB_BENCH_TIMELINE") == "" {
		return
	}
	type line struct {
		at   time.Duration
		what string
	}
	var lines []line
	for _, c := range aws.Calls() {
		if c.At.After(since) {
			lines = append(lines, line{c.At.Sub(since), "aws " + c.Action + " " + c.Form.Get("RoleName") + c.Form.Get("UserName")})
		}
	}
	for _, r := range s.sf.Requests() {
		if r.At.After(since) {
			what := r.SQL
			if what == "" {
				what = r.Path
			}
			lines = append(lines, line{r.At.Sub(since), "snowflake " + what})
		}
	}
	if s.gcp != nil {
		for _, r := range s.gcp.Sent() {
			if r.At.After(since) {
				lines = append(lines, line{r.At.Sub(since), "gcp " + r.Method + " " + r.Path})
			}
		}
	}
	slices.SortFunc(lines, func(a, b line) int { return int(a.at - b.at) })
	for _, l := range lines {
		fmt.Fprintf(os.Stderr, "%6dms %s\n", l.at.Milliseconds(), strings.Join(strings.Fields(l.what), " "))
	}
}

// initTime is the median time the packages' initialisation takes when
// byob starts, as GODEBUG=inittrace=1 reports it.
func initTime(b *testing.B, bin string) float64 {
	var runs []float64
	for range 21 {
		cmd := exec.Command(bin, "--help")
		cmd.Env = []string{"GODEBUG=inittrace=1", "HOME=" + b.TempDir()}
		var trace strings.Builder
		cmd.Stderr = &trace
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
		total := 0.0
		for _, l := range strings.Split(trace.String(), "\n") {
			// init pkg @0.1 ms, 0.05 ms clock, 100 bytes, 2 allocs
			if f := strings.Fields(l); len(f) > 5 && f[0] == "init" {
				ms, _ := strconv.ParseFloat(f[4], 64)
				total += ms
			}
		}
		runs = append(runs, total)
	}
	slices.Sort(runs)
	return runs[len(runs)/2]
}
