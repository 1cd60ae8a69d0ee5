// Package docs holds the design documents; its test keeps the package map
// of architecture.md true.
package docs

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/growthloop/byob/internal/testsupport/testbin"
)

// TestArchitectureMapsEveryPackage: the package map of architecture.md
// names every package `go list ./...` returns, and only those.
func TestArchitectureMapsEveryPackage(t *testing.T) {
	list := exec.Command("go", "list", "./...")
	list.Dir = ".." // the module's root
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	doc, err := os.ReadFile("architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	for _, p := range strings.Fields(string(out)) {
		if p = strings.TrimPrefix(strings.TrimPrefix(p, "github.com/growthloop/byob"), "/"); p != "" {
			pkgs = append(pkgs, p)
		}
	}
	text := string(doc)
	block := text[strings.Index(text, "## Packages"):]
	block = block[strings.Index(block, "```")+3:]
	block = block[:strings.Index(block, "```")]
	// The map's rows: a path at the start of a line.
	row := regexp.MustCompile(`(?m)^([a-z][a-z0-9/]*)/\s`)
	var mapped []string
	for _, m := range row.FindAllStringSubmatch(block, -1) {
		mapped = append(mapped, m[1])
	}
	for _, p := range pkgs {
		if !slices.Contains(mapped, p) {
			t.Errorf("package %s is not in architecture.md's package map", p)
		}
	}
	for _, m := range mapped {
		if !slices.Contains(pkgs, m) {
			t.Errorf("architecture.md maps %s/, which is no package", m)
		}
	}
}

// TestReleaseLinksNoTestSupport: what the map calls test support, the
// release binary never links.
func TestReleaseLinksNoTestSupport(t *testing.T) {
	doc, err := os.ReadFile("architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	support := regexp.MustCompile(`(?m)^([a-z][a-z0-9/]*)/\s+test support`).FindAllStringSubmatch(string(doc), -1)
	if len(support) < 5 {
		t.Fatalf("the map names %d test-support packages; want the fakes, tftest and internal's", len(support))
	}
	list := exec.Command("go", "list", "-deps", "-tags", testbin.ReleaseTags, "./cmd/byob")
	list.Dir = ".."
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	linked := strings.Fields(string(out))
	for _, m := range support {
		if p := "github.com/growthloop/byob/" + m[1]; slices.Contains(linked, p) {
			t.Errorf("the release binary links %s, which is test support", m[1])
		}
	}
}

// TestNoImportNeedsAnAlias: every package of byob is imported by its own
// name; one that clashes with another (the SDK's aws, the client library
// snowflake) forces readers to learn an alias per file.
func TestNoImportNeedsAnAlias(t *testing.T) {
	files, err := exec.Command("git", "-C", "..", "ls-files", "*.go").Output()
	if err != nil {
		t.Skipf("git ls-files: %v", err)
	}
	aliased := regexp.MustCompile(`(?m)^\s*(?:import\s+)?([A-Za-z]\w*) "github.com/growthloop/byob/[^"]*"`)
	for _, f := range strings.Fields(string(files)) {
		src, err := os.ReadFile("../" + f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range aliased.FindAllStringSubmatch(string(src), -1) {
			if m[1] == "import" { // import "…": no alias
				continue
			}
			t.Errorf("%s imports %s", f, strings.TrimSpace(m[0]))
		}
	}
}
