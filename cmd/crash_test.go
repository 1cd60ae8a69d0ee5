//go:build !windows

package cmd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/growthloop/byob/internal/testsupport/fault"
	"github.com/growthloop/byob/internal/testsupport/inventory"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/gcsbucket/gcptest"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/s3bucket/awstest"
	"github.com/growthloop/byob/providers/snowflakestage"
	"github.com/growthloop/byob/snowflake/snowflaketest"
	"github.com/growthloop/byob/wizard"
)

// crashSetup is one setup made by the built binary against the fakes.
type crashSetup struct {
	id   string
	dir  string
	sf   *snowflaketest.Server
	gcp  *gcptest.Server // nil on S3
	args []string
	env  []string
}

// runByob runs the built binary; with killAt > 0 it is killed (SIGKILL)
// right after the killAt-th change it asked for was answered. It returns
// the exit code (-1 when killed) and the output.
func runByob(t testing.TB, bin string, s *crashSetup, faults *fault.Injector, killAt int) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, s.args...)
	cmd.Dir, cmd.Env = s.dir, s.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// The fakes' handlers kill the process: they see it only through this
	// pointer, set once it started.
	var proc atomic.Pointer[os.Process]
	if killAt > 0 {
		faults.KillAfter(killAt, func() {
			for proc.Load() == nil {
				time.Sleep(time.Millisecond)
			}
			_ = proc.Load().Kill()
		})
		defer faults.Release()
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	proc.Store(cmd.Process)
	_ = cmd.Wait()
	return cmd.ProcessState.ExitCode(), out.String()
}

func baseEnv(t testing.TB) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + t.TempDir(), "SNOWFLAKE_PASSWORD=secret-pw"}
}

func snowflakeArgs(sf *snowflaketest.Server) []string {
	return []string{"--warehouse", "snowflake", "--org-id", "77", "--snowflake-database", "ANALYTICS", "--growthloop-role", "GROWTHLOOP",
		"--snowflake-account", "fake", "--snowflake-user", sf.User, "--snowflake-role", "ACCOUNTADMIN",
		"--snowflake-host", sf.Host, "--snowflake-port", strconv.Itoa(sf.Port), "--snowflake-protocol", "http"}
}

// TestCrashMatrixS3Snowflake kills byob right after each change of a clean
// S3 + Snowflake run in turn, then runs it again: every time, the setup
// ends exactly as a clean run's, with one key, the bundle's.
func TestCrashMatrixS3Snowflake(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a kill at every request")
	}
	bin := buildByob(t, "")
	faults := fault.New(0, 0)
	aws := awstest.New()
	defer aws.Close()
	aws.SetFaults(faults)
	setup := func() *crashSetup {
		s := s3Setup(t, aws)
		s.sf.SetFaults(faults)
		return s
	}
	crashMatrix(t, bin, faults, setup, func(s *crashSetup) string { return s3Inventory(t, aws, s) })
}

// s3Setup is an S3 + Snowflake setup of its own names, reaching kumo
// through aws and a Snowflake fake of its own.
func s3Setup(t testing.TB, aws *awstest.Server) *crashSetup {
	s := &crashSetup{id: awstest.Unique(), dir: t.TempDir(), sf: snowflaketest.New()}
	t.Cleanup(s.sf.Close)
	s.args = append([]string{"init", "--provider", "s3", "--bucket", "crash-exports-" + s.id, "--name", "crash" + s.id, "--yes"}, snowflakeArgs(s.sf)...)
	none := filepath.Join(t.TempDir(), "none")
	s.env = append(baseEnv(t), "AWS_ENDPOINT_URL="+aws.URL, "AWS_ACCESS_KEY_ID="+awstest.AdminKeyID, "AWS_SECRET_ACCESS_KEY="+awstest.AdminSecret,
		"AWS_CONFIG_FILE="+none, "AWS_SHARED_CREDENTIALS_FILE="+none, "AWS_EC2_METADATA_DISABLED=true")
	return s
}

func s3Inventory(t *testing.T, aws *awstest.Server, s *crashSetup) string {
	t.Helper()
	cfg := wizard.Config{Provider: s3bucket.Name, Bucket: "crash-exports-" + s.id, Name: "crash" + s.id, Warehouse: snowflakestage.Name, OrgID: "77", TTLDays: 7}.With(s3bucket.Settings{Region: "us-west-2"}).With(snowflakestage.Settings{Database: "ANALYTICS", GrowthLoopRole: "GROWTHLOOP"})
	cfg.ApplyDefaults()
	cfg.Bundle, cfg.State = filepath.Join(s.dir, cfg.Bundle), filepath.Join(s.dir, cfg.State)
	got, err := inventory.S3(context.Background(), s3bucket.NewClients(aws.Config()), s.sf, cfg)
	if err != nil {
		t.Fatalf("inventory: %v", err)
	}
	return got
}

// TestCrashMatrixGCSSnowflake is the same on Google Cloud.
func TestCrashMatrixGCSSnowflake(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a kill at every request")
	}
	bin := buildByob(t, "")
	faults := fault.New(0, 0)
	setup := func() *crashSetup { return gcsSetup(t, faults) }
	inv := func(s *crashSetup) string {
		cfg := wizard.Config{Provider: gcsbucket.Name, Bucket: "crash-gcs-" + s.id, Name: "crash" + s.id, Warehouse: snowflakestage.Name, OrgID: "77", TTLDays: 7}.With(gcsbucket.Settings{Project: gcptest.Project, Location: "us-central1"}).With(snowflakestage.Settings{Database: "ANALYTICS", GrowthLoopRole: "GROWTHLOOP"})
		cfg.ApplyDefaults()
		cfg.Bundle, cfg.State = filepath.Join(s.dir, cfg.Bundle), filepath.Join(s.dir, cfg.State)
		providers.UpdateSection(&cfg, func(g *gcsbucket.Settings) { g.KeyFile = filepath.Join(s.dir, g.KeyFile) })
		got, err := inventory.GCS(s.gcp, s.sf, cfg)
		if err != nil {
			t.Fatalf("inventory: %v", err)
		}
		return got
	}
	crashMatrix(t, bin, faults, setup, inv)
}

// gcsSetup is a GCS + Snowflake setup in fakes of its own, reporting to
// faults.
func gcsSetup(t testing.TB, faults *fault.Injector) *crashSetup {
	s := &crashSetup{id: awstest.Unique(), dir: t.TempDir(), sf: snowflaketest.New(), gcp: gcptest.New()}
	t.Cleanup(s.sf.Close)
	t.Cleanup(s.gcp.Close)
	s.sf.SetRegion("GCP_US_CENTRAL1")
	s.sf.SetFaults(faults)
	s.gcp.SetFaults(faults)
	s.args = append([]string{"init", "--provider", "gcs", "--bucket", "crash-gcs-" + s.id, "--name", "crash" + s.id, "--yes"}, snowflakeArgs(s.sf)...)
	adc, err := s.gcp.CredentialsFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s.env = append(baseEnv(t), "GOOGLE_APPLICATION_CREDENTIALS="+adc)
	for k, v := range s.gcp.Env() {
		s.env = append(s.env, k+"="+v)
	}
	return s
}

func crashMatrix(t *testing.T, bin string, faults *fault.Injector, setup func() *crashSetup, inv func(*crashSetup) string) {
	clean := setup()
	before := faults.Mutations()
	if code, out := runByob(t, bin, clean, faults, 0); code != 0 {
		t.Fatalf("clean run: exit %d\n%s", code, out)
	}
	changes := faults.Mutations() - before
	want := inv(clean)
	if changes < 10 {
		t.Fatalf("a clean run made only %d changes", changes)
	}
	for k := 1; k <= changes; k++ {
		s := setup()
		code, out := runByob(t, bin, s, faults, k)
		if code == 0 {
			t.Logf("k=%d: the run finished before the kill:\n%s", k, out)
		}
		if code, out := runByob(t, bin, s, faults, 0); code != 0 {
			t.Fatalf("k=%d: re-run exit %d\n%s", k, code, out)
		}
		if got := inv(s); got != want {
			t.Errorf("k=%d: after a kill and a re-run the setup differs from a clean run's:\n%s\nwant\n%s", k, got, want)
		}
	}
}

// TestCrashMatrixDestroy kills byob destroy --delete-bucket --delete-objects
// of an S3 + Snowflake setup right after each change in turn, then runs it
// again: every time, nothing byob made remains, and the grant the role had
// before byob is kept.
func TestCrashMatrixDestroy(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a kill at every request")
	}
	bin := buildByob(t, "")
	faults := fault.New(0, 0)
	aws := awstest.New()
	defer aws.Close()
	aws.SetFaults(faults)
	clients := s3bucket.NewClients(aws.ConfigIn("us-west-2"))
	setup := func() *crashSetup {
		s := s3Setup(t, aws)
		s.sf.SetFaults(faults)
		return s
	}
	seed := func(s *crashSetup) { putObjects(t, clients, "crash-exports-"+s.id, 3) }
	remains := func(s *crashSetup) []string {
		cfg := wizard.Config{Provider: s3bucket.Name, Bucket: "crash-exports-" + s.id, Name: "crash" + s.id, Warehouse: snowflakestage.Name}.With(s3bucket.Settings{Region: "us-west-2"}).With(snowflakestage.Settings{Database: "ANALYTICS", GrowthLoopRole: "GROWTHLOOP"})
		cfg.ApplyDefaults()
		return inventory.Remains(context.Background(), clients, nil, s.sf, cfg)
	}
	destroyMatrix(t, bin, faults, setup, seed, remains)
}

// TestCrashMatrixDestroyGCS is the same on Google Cloud, with a versioned
// bucket.
func TestCrashMatrixDestroyGCS(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a kill at every request")
	}
	bin := buildByob(t, "")
	faults := fault.New(0, 0)
	seed := func(s *crashSetup) {
		b := s.gcp.Bucket("crash-gcs-" + s.id)
		b.Versioning = []byte(`{"enabled":true}`)
		s.gcp.SetBucket(*b)
		for i := range 5 {
			s.gcp.PutObject(b.Name, fmt.Sprintf("exports/77/f%d", i%3), []byte("x"))
		}
	}
	remains := func(s *crashSetup) []string {
		cfg := wizard.Config{Provider: gcsbucket.Name, Bucket: "crash-gcs-" + s.id, Name: "crash" + s.id, Warehouse: snowflakestage.Name}.With(gcsbucket.Settings{Project: gcptest.Project}).With(snowflakestage.Settings{Database: "ANALYTICS", GrowthLoopRole: "GROWTHLOOP"})
		cfg.ApplyDefaults()
		return inventory.Remains(context.Background(), nil, s.gcp, s.sf, cfg)
	}
	destroyMatrix(t, bin, faults, func() *crashSetup { return gcsSetup(t, faults) }, seed, remains)
}

// destroyMatrix makes a setup with byob init, seeds it (objects), then
// kills byob destroy after each of its changes in turn and runs it again.
func destroyMatrix(t *testing.T, bin string, faults *fault.Injector, setup func() *crashSetup, seed func(*crashSetup), remains func(*crashSetup) []string) {
	made := func() *crashSetup {
		s := setup()
		s.sf.Grant("GROWTHLOOP", "USAGE", "DATABASE", "ANALYTICS")
		if code, out := runByob(t, bin, s, faults, 0); code != 0 {
			t.Fatalf("init: exit %d\n%s", code, out)
		}
		seed(s)
		s.args = []string{"destroy", "--yes", "--delete-bucket", "--delete-objects"}
		return s
	}
	clean := made()
	before := faults.Mutations()
	if code, out := runByob(t, bin, clean, faults, 0); code != 0 {
		t.Fatalf("clean destroy: exit %d\n%s", code, out)
	}
	changes := faults.Mutations() - before
	want := []string{"grant USAGE|DATABASE|ANALYTICS"}
	if got := remains(clean); !slices.Equal(got, want) || changes < 10 {
		t.Fatalf("a clean destroy (%d changes) left %v", changes, got)
	}
	for k := 1; k <= changes; k++ {
		s := made()
		if code, out := runByob(t, bin, s, faults, k); code == 0 {
			t.Logf("k=%d: the run finished before the kill:\n%s", k, out)
		}
		if code, out := runByob(t, bin, s, faults, 0); code != 0 {
			t.Fatalf("k=%d: re-run exit %d\n%s", k, code, out)
		}
		if got := remains(s); !slices.Equal(got, want) {
			t.Errorf("k=%d: after a kill and a re-run, destroy left %v", k, got)
		}
	}
}

// TestCrashMatrixRotate kills each phase of byob rotate-keys right after
// each of its changes in turn, then runs it again, on S3 and GCS: there are
// never more than two keys, the old key lives until --finish, and each
// phase ends as a clean one (two keys, the bundle's new one and the
// previous bundle's old one; then one key, the bundle's).
func TestCrashMatrixRotate(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a kill at every request")
	}
	bin := buildByob(t, "")
	t.Run("s3", func(t *testing.T) {
		faults := fault.New(0, 0)
		emulator := awstest.New()
		defer emulator.Close()
		emulator.SetFaults(faults)
		clients := s3bucket.NewClients(emulator.Config())
		setup := func() *crashSetup {
			s := s3Setup(t, emulator)
			s.sf.SetFaults(faults)
			return s
		}
		keys := func(s *crashSetup) []string {
			out, err := clients.IAM.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(s3bucket.NamesFor("crash" + s.id).User)})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, k := range out.AccessKeyMetadata {
				ids = append(ids, aws.ToString(k.AccessKeyId))
			}
			return ids
		}
		rotateMatrix(t, bin, faults, setup, keys, func(b *wizard.Bundle) string { return b.AWSAccessKeyID })
	})
	t.Run("gcs", func(t *testing.T) {
		faults := fault.New(0, 0)
		keys := func(s *crashSetup) []string {
			return s.gcp.Keys(gcsbucket.Params{Project: gcptest.Project, Names: gcsbucket.NamesFor("crash" + s.id)}.ServiceAccountEmail())
		}
		rotateMatrix(t, bin, faults, func() *crashSetup { return gcsSetup(t, faults) }, keys, func(b *wizard.Bundle) string { return b.GCPKeyID })
	})
}

func rotateMatrix(t *testing.T, bin string, faults *fault.Injector, setup func() *crashSetup, keys func(*crashSetup) []string, keyOf func(*wizard.Bundle) string) {
	bundleKey := func(s *crashSetup, file string) string {
		b, err := wizard.ReadBundle(filepath.Join(s.dir, file))
		if err != nil || b == nil {
			return ""
		}
		return keyOf(b)
	}
	run := func(s *crashSetup, killAt int, args ...string) {
		s.args = args
		if code, out := runByob(t, bin, s, faults, killAt); killAt == 0 && code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, out)
		}
	}
	made := func() (*crashSetup, string) {
		s := setup()
		run(s, 0, s.args...)
		return s, bundleKey(s, providers.DefaultBundle)
	}
	// started checks a finished first phase: the old key and the new one,
	// in the previous bundle and the bundle.
	started := func(k int, s *crashSetup, old string) {
		t.Helper()
		cur, prev := bundleKey(s, providers.DefaultBundle), bundleKey(s, providers.PreviousPath(providers.DefaultBundle))
		if got := slices.Sorted(slices.Values(keys(s))); prev != old || cur == old || !slices.Equal(got, slices.Sorted(slices.Values([]string{old, cur}))) {
			t.Errorf("k=%d: after phase 1 the keys are %v; bundle %s, previous %s, old %s", k, got, cur, prev, old)
		}
	}
	clean, old := made()
	before := faults.Mutations()
	run(clean, 0, "rotate-keys")
	first := faults.Mutations() - before
	started(0, clean, old)
	before = faults.Mutations()
	run(clean, 0, "rotate-keys", "--finish")
	second := faults.Mutations() - before
	if first < 2 || second < 2 {
		t.Fatalf("the phases made %d and %d changes", first, second)
	}
	for k := 1; k <= first; k++ {
		s, old := made()
		run(s, k, "rotate-keys")
		if got := keys(s); len(got) > 2 || !slices.Contains(got, old) {
			t.Errorf("k=%d: killed in phase 1, the keys are %v (old %s)", k, got, old)
		}
		run(s, 0, "rotate-keys")
		started(k, s, old)
	}
	for k := 1; k <= second; k++ {
		s, old := made()
		run(s, 0, "rotate-keys")
		cur := bundleKey(s, providers.DefaultBundle)
		run(s, k, "rotate-keys", "--finish")
		if got := keys(s); len(got) > 2 || !slices.Contains(got, cur) {
			t.Errorf("k=%d: killed in phase 2, the keys are %v (new %s)", k, got, cur)
		}
		run(s, 0, "rotate-keys", "--finish")
		if got := keys(s); !slices.Equal(got, []string{cur}) || bundleKey(s, providers.PreviousPath(providers.DefaultBundle)) != "" {
			t.Errorf("k=%d: after phase 2 the keys are %v, want %s alone (not %s) and no previous bundle", k, got, cur, old)
		}
	}
}

// TestConcurrentRunsOneIsRefused starts two byob processes on the same
// state file: the second exits 1 at once, naming the lock and its holder;
// the first ends in a clean setup, with one key and one external ID.
func TestConcurrentRunsOneIsRefused(t *testing.T) {
	bin := buildByob(t, "")
	aws := awstest.New()
	defer aws.Close()
	s := s3Setup(t, aws)
	s.sf.SetLatency(50 * time.Millisecond) // the first run holds the lock a while

	first := exec.Command(bin, s.args...)
	first.Dir, first.Env = s.dir, s.env
	var firstOut bytes.Buffer
	first.Stdout, first.Stderr = &firstOut, &firstOut
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(s.dir, wizard.LockPath(providers.DefaultState))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if b, _ := os.ReadFile(lock); bytes.Contains(b, []byte(`"pid"`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first run never took the lock")
		}
	}
	second := exec.Command(bin, s.args...)
	second.Dir, second.Env = s.dir, s.env
	out, _ := second.CombinedOutput()
	if code := second.ProcessState.ExitCode(); code != ExitFailure || !bytes.Contains(out, []byte(wizard.LockPath(providers.DefaultState)+" is locked by byob init, pid "+strconv.Itoa(first.Process.Pid))) {
		t.Errorf("second run: exit %d\n%s", code, out)
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("first run: %v\n%s", err, firstOut.String())
	}
	// (TestSecondRunIsRefusedWhileOneHoldsTheLock shows a refused run makes
	// no cloud call; here the first run's calls go on meanwhile.)
	if got := s3Inventory(t, aws, s); !strings.Contains(got, "invariant: one key, the bundle's = true") || !strings.Contains(got, "invariant: one external ID in integration, trust, state and bundle = true") {
		t.Errorf("after two concurrent runs:\n%s", got)
	}
}
