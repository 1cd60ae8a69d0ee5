package render

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/growthloop/byob/internal/testbin"
	"github.com/growthloop/byob/providers/aws/mototest"
	"github.com/growthloop/byob/render/tftest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Remove()
	os.Exit(code)
}

// TestS3SetupImportsIntoTerraformOnMoto hands a byob setup over to
// Terraform: byob's binary makes an S3 setup on moto (an AWS emulator
// this project did not write), byob render writes the module with
// import blocks from the state file, and the real terraform and
// hashicorp/aws plan against the same moto: every resource imported,
// nothing to add, change or destroy.
func TestS3SetupImportsIntoTerraformOnMoto(t *testing.T) {
	tf := tftest.For(t)
	srv := mototest.Start(t, mototest.Options{})
	bin := testbin.Byob(t, "")
	dir := t.TempDir()
	env := srv.Env(t.TempDir())
	byob := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = dir, env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("byob %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	byob("init", "--provider", "s3", "--bucket", "byob-moto-import", "--region", mototest.Region, "--ttl-days", "30", "--yes")
	byob("render", "--format", "terraform", "--out", "tf")

	module := filepath.Join(dir, "tf")
	// The endpoints are the test's, in an override file of its own; the
	// module stays as rendered. moto serves S3 path-style only.
	override := `provider "aws" {
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  endpoints {
    iam = "` + srv.URL + `"
    s3  = "` + srv.URL + `"
    sts = "` + srv.URL + `"
  }
}
`
	if err := os.WriteFile(filepath.Join(module, "moto_override.tf"), []byte(override), 0o644); err != nil {
		t.Fatal(err)
	}
	imports, err := os.ReadFile(filepath.Join(module, "imports.tf"))
	if err != nil {
		t.Fatalf("no imports.tf: %v", err)
	}
	n := strings.Count(string(imports), "import {")
	if n != 10 {
		t.Errorf("imports.tf imports %d resources, want the setup's 10:\n%s", n, imports)
	}
	if _, err := tf.Run(module, env, "init", "-backend=false", "-input=false", "-no-color"); err != nil {
		t.Fatal(err)
	}
	out, err := tf.Run(module, env, "plan", "-input=false", "-no-color", "-refresh=true")
	if err != nil {
		t.Fatal(err)
	}
	summary := regexp.MustCompile(`Plan: .*`).FindString(out)
	if want := "Plan: 10 to import, 0 to add, 0 to change, 0 to destroy."; summary != want {
		t.Errorf("terraform plan: %q, want %q\n%s", summary, want, out)
	}
}
