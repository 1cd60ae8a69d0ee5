package s3bucket

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/growthloop/byob/providers"
)

// TestRegionsAreTheSDKs: regions_gen.go is what scripts/awsregions makes
// from the SDK go.mod requires (run `go generate ./providers/s3bucket`).
func TestRegionsAreTheSDKs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the generator")
	}
	out := filepath.Join(t.TempDir(), "regions_gen.go")
	cmd := exec.Command("go", "run", "../../scripts/awsregions", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	want, _ := os.ReadFile(out)
	got, _ := os.ReadFile("regions_gen.go")
	if string(got) != string(want) {
		t.Error("regions_gen.go is stale: run go generate ./providers/s3bucket")
	}
}

// TestUnknownRegionsAreWarned: a region the SDK does not know, let
// through by --allow-unknown-region, is warned about with what it may
// have meant.
func TestUnknownRegionsAreWarned(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1":     "",
		"us-gov-west-1": "",
		"cn-north-1":    "",
		"us-est-1":      "--region us-est-1 is not a region byob's AWS SDK knows: did you mean us-east-1 or us-west-1?",
		"eu-centrl-1":   "did you mean eu-central-1?",
		"xx-mars-9":     "--region xx-mars-9 is not a region byob's AWS SDK knows; going ahead, as --allow-unknown-region asks",
	} {
		got := Provider{}.Warnings(new(providers.Config{AllowUnknownRegion: true}.With(Settings{Region: region})))
		switch {
		case want == "" && len(got) > 0:
			t.Errorf("%s: warned %v", region, got)
		case want != "" && (len(got) != 1 || !strings.Contains(got[0], want)):
			t.Errorf("%s: %v, want %q", region, got, want)
		}
	}
	if !slices.ContainsFunc(Regions(), func(r Region) bool { return r.Name == "us-gov-east-1" }) ||
		slices.ContainsFunc(Regions(), func(r Region) bool { return r.Name == "aws-global" || r.Name == "us-iso-east-1" }) {
		t.Error("the list must hold GovCloud and China, not global pseudo-regions or isolated ones")
	}
}
