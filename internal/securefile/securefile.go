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
func WriteMode(path string, data []byte, mode os.FileMode) error {
	f, err := Stage(path, data, mode)
	if err != nil {
		return err
	}
	return f.Commit()
}

// Staged is a file's next content, on disk beside it but not yet in its
// place.
type Staged struct{ tmp, path string }

// Stage writes data to a temporary file in path's directory with mode and
// syncs it; Commit puts it in place. Writers that stage at once and commit
// in order never wait for each other's disk writes.
func Stage(path string, data []byte, mode os.FileMode) (_ *Staged, err error) {
	f, err := os.CreateTemp(filepath.Dir(path), tempPrefix(path)+"*")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(mode); err != nil {
		return nil, err
	}
	if _, err = f.Write(data); err != nil {
		return nil, err
	}
	if err = f.Sync(); err != nil {
		return nil, err
	}
	if err = f.Close(); err != nil {
		return nil, err
	}
	return &Staged{tmp: f.Name(), path: path}, nil
}

// Commit renames the staged file over its path.
func (s *Staged) Commit() error {
	if err := os.Rename(s.tmp, s.path); err != nil {
		os.Remove(s.tmp)
		return err
	}
	return nil
}

// Discard removes the staged file.
func (s *Staged) Discard() { os.Remove(s.tmp) }

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
