package cmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/growthloop/byob/internal/testbin"
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

// TestLinksOnlyWhatItUses: the release build leaves out what byob never
// calls and every start would pay for (docs/design-notes.md): gRPC,
// protobuf and S2A (Google's generated clients), Arrow's compute kernels
// (gosnowflake v1), the S3 Control and Secrets Manager SDK clients.
func TestLinksOnlyWhatItUses(t *testing.T) {
	list := exec.Command("go", "list", "-deps", "-tags", "minicore_disabled", "./byob")
	list.Dir = pkgDir
	list.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := list.Output()
	if err != nil {
		t.Fatal(err)
	}
	deps := strings.Fields(string(out))
	for _, unwanted := range []string{
		"google.golang.org/grpc", "google.golang.org/protobuf/proto", "github.com/google/s2a-go",
		"github.com/apache/arrow-go/v18/arrow/compute",
		"github.com/aws/aws-sdk-go-v2/service/s3control", "github.com/aws/aws-sdk-go-v2/service/secretsmanager",
	} {
		if slices.Contains(deps, unwanted) {
			t.Errorf("byob links %s", unwanted)
		}
	}
}
