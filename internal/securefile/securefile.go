// Package securefile writes files that may hold secrets: atomically (a
// reader sees the old file or the new one, never a part) and with mode
// 0600 whatever the umask.
package securefile

import (
	"os"
	"path/filepath"
	"strings"
)

// tempPrefix starts the names of Write's temporary files for path.
func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// Write writes data to a temporary file in path's directory with mode
// 0600, syncs it, and renames it over path.
func Write(path string, data []byte) error { return WriteMode(path, data, 0o600) }

// WriteMode is Write with another mode, for files that hold no secret.
func WriteMode(path string, data []byte, mode os.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), tempPrefix(path)+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(mode); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// RemoveTemps removes the temporary files a killed process left beside
// paths. Call it only while no other process can be writing them (under
// the setup's lock).
func RemoveTemps(paths ...string) {
	for _, p := range paths {
		if p == "" {
			continue
		}
		dir := filepath.Dir(p)
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), tempPrefix(p)) && e.Type().IsRegular() {
				os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
}
