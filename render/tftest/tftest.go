// Package tftest runs the real terraform with the exact providers byob's
// modules pin, for tests and scripts/tfschema: hashicorp/aws from the
// machine's plugin directory (/opt/tf-plugins, or BYOB_TF_PLUGINS), and
// snowflakedb/snowflake built from the Go module proxy at its release
// (the module in providers/snowflake pins it) into a cache directory, once.
// hashicorp/google comes from the plugin directory when it is there; the
// module proxy does not serve it, so without it the GCS modules are not run.
//
// Without terraform or a provider a test skips, saying why; with
// BYOB_REQUIRE_TERRAFORM=1 (set by .ci/run) it fails instead.
package tftest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// A Provider is one the modules pin.
type Provider struct {
	Source  string // registry.terraform.io/hashicorp/aws
	Version string
}

func (p Provider) name() string { return p.Source[strings.LastIndex(p.Source, "/")+1:] }

// platformDir is the provider's directory in a filesystem mirror's
// unpacked layout.
func (p Provider) platformDir(root string) string {
	return filepath.Join(root, p.Source, p.Version, runtime.GOOS+"_"+runtime.GOARCH)
}

var (
	AWS       = Provider{"registry.terraform.io/hashicorp/aws", "5.100.0"}
	Snowflake = Provider{"registry.terraform.io/snowflakedb/snowflake", "1.2.3"}
	Google    = Provider{"registry.terraform.io/hashicorp/google", "6.50.0"}
)

// snowflakePackage is the provider's main package, which the module in
// providers/snowflake requires at the release (a tool dependency, so
// go.sum holds every module it builds from).
const snowflakePackage = "github.com/Snowflake-Labs/terraform-provider-snowflake"

// Terraform is terraform with a CLI configuration that installs the
// providers from filesystem mirrors only.
type Terraform struct {
	Bin    string
	config string
	// Have says which providers are installed.
	Have map[Provider]bool
}

// Setup finds terraform and the providers, building Snowflake's into
// cache (a directory of its own) unless it is there. src is this
// package's directory, where providers/ is.
func Setup(src, cache string) (*Terraform, error) {
	bin, err := exec.LookPath("terraform")
	if err != nil {
		return nil, errors.New("terraform is not on PATH")
	}
	plugins := os.Getenv("BYOB_TF_PLUGINS")
	if plugins == "" {
		plugins = "/opt/tf-plugins"
	}
	tf := &Terraform{Bin: bin, Have: map[Provider]bool{}}
	var mirrors strings.Builder
	mirror := func(root string, p Provider) {
		fmt.Fprintf(&mirrors, "  filesystem_mirror {\n    path    = %q\n    include = [%q]\n  }\n", root, p.Source)
		tf.Have[p] = true
	}
	for _, p := range []Provider{AWS, Google} {
		if found(p, plugins) {
			mirror(plugins, p)
		}
	}
	if err := buildSnowflake(filepath.Join(src, "providers", "snowflake"), cache); err != nil {
		return nil, err
	}
	mirror(cache, Snowflake)
	tf.config = filepath.Join(cache, "terraformrc")
	rc := "provider_installation {\n" + mirrors.String() + "}\n"
	if err := os.WriteFile(tf.config, []byte(rc), 0o644); err != nil {
		return nil, err
	}
	return tf, nil
}

// found says whether root holds p's executable.
func found(p Provider, root string) bool {
	m, _ := filepath.Glob(filepath.Join(p.platformDir(root), "terraform-provider-"+p.name()+"_*"))
	return len(m) > 0
}

// buildSnowflake builds the Snowflake provider into cache's mirror once:
// a cold build takes about 3 minutes of 2 cores, a warm Go build cache
// seconds.
func buildSnowflake(module, cache string) error {
	dir := Snowflake.platformDir(cache)
	exe := filepath.Join(dir, "terraform-provider-snowflake_v"+Snowflake.Version)
	if _, err := os.Stat(exe); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".build-*")
	if err != nil {
		return err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.Command("go", "build", "-trimpath", "-o", tmp.Name(), snowflakePackage)
	cmd.Dir = module
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly -buildvcs=false", "GOWORK=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %v\n%s", snowflakePackage, err, out)
	}
	return os.Rename(tmp.Name(), exe)
}

// Run runs terraform in dir with the mirrors' configuration and none of
// the machine's own Terraform or AWS settings, env added, and returns its
// output.
func (tf *Terraform) Run(dir string, env []string, args ...string) (string, error) {
	cmd := exec.Command(tf.Bin, args...)
	cmd.Dir = dir
	for _, kv := range append(os.Environ(), env...) {
		if !strings.HasPrefix(kv, "TF_") && (!strings.HasPrefix(kv, "AWS_") || slices.Contains(env, kv)) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "TF_CLI_CONFIG_FILE="+tf.config, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_DATA_DIR="+filepath.Join(dir, ".terraform"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("terraform %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// For is Setup for a test: the cache is under the user's cache directory
// (the build outlives the test run), and a missing tool skips the test
// unless BYOB_REQUIRE_TERRAFORM=1. Under -short the test is skipped: it
// may build a provider.
func For(t testing.TB) *Terraform {
	t.Helper()
	if testing.Short() {
		t.Skip("runs terraform and may build a provider")
	}
	tf, err := setupOnce()
	if err != nil {
		if os.Getenv("BYOB_REQUIRE_TERRAFORM") == "1" {
			t.Fatalf("%v (BYOB_REQUIRE_TERRAFORM=1: CI requires it)", err)
		}
		t.Skip(err)
	}
	return tf
}

// setupOnce is Setup in the user's cache, once per test binary: tests
// that run at once share the build and the CLI configuration.
var setupOnce = sync.OnceValues(func() (*Terraform, error) {
	_, file, _, _ := runtime.Caller(0)
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	tf, err := Setup(filepath.Dir(file), filepath.Join(cache, "byob", "terraform-providers"))
	if err == nil && !tf.Have[AWS] {
		err = fmt.Errorf("hashicorp/aws %s is not in the plugin directory (BYOB_TF_PLUGINS, else /opt/tf-plugins)", AWS.Version)
	}
	return tf, err
})
