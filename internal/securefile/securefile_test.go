package securefile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRemoveTempsLeavesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "byob-state.json")
	for _, name := range []string{".byob-state.json.tmp-123", ".bundle.json.tmp-9", "byob-state.json", ".other.tmp-1", "keep.txt"} {
		os.WriteFile(filepath.Join(dir, name), nil, 0o600)
	}
	RemoveTemps(state, filepath.Join(dir, "bundle.json"), "")
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if got := strings.Join(left, " "); got != ".other.tmp-1 byob-state.json keep.txt" {
		t.Errorf("left %s", got)
	}
}
