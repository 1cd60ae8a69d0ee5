package cmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/growthloop/byob/internal/testsupport/testbin"
)

// pkgDir is this package's directory: the test binary starts in it.
var pkgDir, _ = os.Getwd()

// buildByob builds the real binary (testbin.Byob).
func buildByob(t testing.TB, ldflags string) string {
	t.Helper()
	return testbin.Byob(t, ldflags)
}

// TestStartHasNoSideEffects: starting byob writes nothing into the temp
// directory or the home directory (gosnowflake's cgo library extraction
// and its ~/.cache/snowflake are both avoided).
func TestStartHasNoSideEffects(t *testing.T) {
	bin := buildByob(t, "")
	tmp, home := t.TempDir(), t.TempDir()
	for _, args := range [][]string{
		{"--help"}, {"version"}, {"init", "--help"}, {"completion", "bash"},
		{"plan", "--provider", "s3", "--bucket", "acme-exports", "--region", "us-east-1", "--state", filepath.Join(tmp, "none.json")},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "HOME="+home, "XDG_CACHE_DIR=")
		cmd.Dir = t.TempDir()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("byob %v: %v\n%s", args, err, out)
		}
		for _, dir := range []string{tmp, home, cmd.Dir} {
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				t.Fatalf("byob %v left %s in %s", args, entries[0].Name(), dir)
			}
		}
	}
}

func TestVersionFromLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a release build")
	}
	bin := buildByob(t, "-X github.com/growthloop/byob/cmd.version=v1.2.3 -X github.com/growthloop/byob/cmd.commit=abc123 -X github.com/growthloop/byob/cmd.date=2026-11-24")
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != "byob v1.2.3 (commit abc123, built 2026-11-24)" {
		t.Errorf("version = %q", got)
	}
}

// removeBuilt runs the tests, then removes the binary they shared.
type removeBuilt struct{ m *testing.M }

func (r removeBuilt) Run() int {
	defer testbin.Remove()
	return r.m.Run()
}

// TestLinksOnlyWhatItUses: the release build links the design card's
// libraries, and leaves out what they would link that byob never calls:
// gRPC's xDS and DirectPath with their Envoy protos and the RLS balancer
// (disable_grpc_modules, the storage library's own tag), and Arrow's
// compute kernels (gosnowflake v1).
func TestLinksOnlyWhatItUses(t *testing.T) {
	list := exec.Command("go", "list", "-deps", "-tags", testbin.ReleaseTags, "./byob")
	list.Dir = pkgDir
	list.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := list.Output()
	if err != nil {
		t.Fatal(err)
	}
	deps := strings.Fields(string(out))
	for _, wanted := range []string{
		"cloud.google.com/go/storage", "google.golang.org/api/iam/v1", "google.golang.org/api/cloudresourcemanager/v1",
		"github.com/aws/aws-sdk-go-v2/service/s3control", "github.com/aws/aws-sdk-go-v2/service/secretsmanager",
	} {
		if !slices.Contains(deps, wanted) {
			t.Errorf("byob does not link %s", wanted)
		}
	}
	for _, unwanted := range []string{
		"google.golang.org/grpc/xds", "google.golang.org/grpc/xds/googledirectpath", "google.golang.org/grpc/balancer/rls",
		"github.com/envoyproxy/go-control-plane/envoy/config/core/v3",
		"github.com/apache/arrow-go/v18/arrow/compute",
	} {
		if slices.Contains(deps, unwanted) {
			t.Errorf("byob links %s", unwanted)
		}
	}
}

// TestStartsAtOnceLeaveNoCache: byobs started together each undo
// gosnowflake's cache directory, whichever made it first.
func TestStartsAtOnceLeaveNoCache(t *testing.T) {
	bin := buildByob(t, "")
	for trial := range 5 {
		home := t.TempDir()
		var wg sync.WaitGroup
		for range 12 {
			wg.Go(func() {
				cmd := exec.Command(bin, "version")
				cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CACHE_DIR=")
				_ = cmd.Run()
			})
		}
		wg.Wait()
		if entries, _ := os.ReadDir(home); len(entries) > 0 {
			t.Fatalf("trial %d left %s in HOME", trial, entries[0].Name())
		}
	}
}
