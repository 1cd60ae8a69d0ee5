package render

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestCloudFormationPassesCfnLint runs cfn-lint (AWS's CloudFormation
// linter) on every template, informational checks included (I3011: the
// secret's DeletionPolicy and UpdateReplacePolicy are set on purpose).
// Without cfn-lint the test skips; with BYOB_REQUIRE_CFN_LINT=1 (set by
// .ci/run) it fails.
func TestCloudFormationPassesCfnLint(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: cfn-lint")
	}
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		if os.Getenv("BYOB_REQUIRE_CFN_LINT") == "1" {
			t.Fatal("cfn-lint is not on PATH (BYOB_REQUIRE_CFN_LINT=1: CI requires it; pip install cfn-lint)")
		}
		t.Skip("cfn-lint is not on PATH: pip install cfn-lint")
	}
	// One cfn-lint for every template: it takes seconds to start.
	dir := t.TempDir()
	var paths []string
	for _, name := range []string{"s3", "s3-snowflake"} {
		cfg := config(t, name)
		for i, o := range []Options{{}, madeSetup(t, cfg), adoptedSetup(t, cfg)} {
			files, err := Render("cloudformation", cfg, o)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, fmt.Sprintf("%s-%d.json", name, i))
			if err := os.WriteFile(path, []byte(fileOf(files, "template.json")), 0o644); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, path)
		}
	}
	out, err := exec.Command(bin, append([]string{"--include-checks", "I", "--format", "parseable", "--"}, paths...)...).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("cfn-lint: %v\n%s", err, out)
	}
}
