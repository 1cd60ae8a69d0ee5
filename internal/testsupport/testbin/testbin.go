// Package testbin builds the byob binary for tests that run it as a whole
// process. Only tests import it.
package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// ReleaseTags are .goreleaser.yaml's build tags.
const ReleaseTags = "minicore_disabled,disable_grpc_modules"

var built struct {
	sync.Mutex
	dir, bin string
}

// Byob builds the real binary with the release's tags and CGO_ENABLED=0;
// without ldflags it is built once per test binary (Remove removes it). It
// leaves out the release's -trimpath: that would compile every package
// again instead of reusing what go test already compiled. Under -short
// the test is skipped.
func Byob(t testing.TB, ldflags string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if ldflags != "" {
		return build(t, t.TempDir(), ldflags)
	}
	built.Lock()
	defer built.Unlock()
	if built.bin == "" {
		dir, err := os.MkdirTemp("", "byob-test-bin")
		if err != nil {
			t.Fatal(err)
		}
		built.dir, built.bin = dir, build(t, dir, "")
	}
	return built.bin
}

// Remove removes the binary Byob built once; TestMain calls it after the
// tests.
func Remove() {
	built.Lock()
	defer built.Unlock()
	if built.dir != "" {
		os.RemoveAll(built.dir)
		built.dir, built.bin = "", ""
	}
}

func build(t testing.TB, dir, ldflags string) string {
	t.Helper()
	bin := filepath.Join(dir, "byob")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	args := []string{"build", "-tags", ReleaseTags, "-o", bin}
	if ldflags != "" {
		args = append(args, "-ldflags", ldflags)
	}
	cmd := exec.Command("go", append(args, "github.com/growthloop/byob/cmd/byob")...)
	cmd.Dir = moduleRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // as the release builds
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// moduleRoot is the directory of go.mod, found from this file's path: a
// test may have changed its working directory.
func moduleRoot(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testbin: no source path")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}
