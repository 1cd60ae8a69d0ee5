package cmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/growthloop/byob/providers"
)

// A file flag's value is checked before any work, so that a path that
// cannot be one is a usage error naming the flag, not an error of the
// operating system half way through.

// fileToWrite checks the value of a flag naming a file byob reads if it is
// there and writes (--state, --bundle, --key-file): not a directory, in a
// directory that exists.
func fileToWrite(flag, path string) *providers.InvalidValue {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return &providers.InvalidValue{Flag: flag, Value: path, Rule: "is a directory; name a file (in it, for example " + filepath.Join(path, filepath.Base(defaultOf(flag))) + ")"}
	}
	return dirExists(flag, path, filepath.Dir(path))
}

// fileToRead checks the value of a flag naming a file byob reads
// (--config, --from-terraform, --snowflake-private-key-file): a file that
// exists and can be read.
func fileToRead(flag, path string) *providers.InvalidValue {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &providers.InvalidValue{Flag: flag, Value: path, Rule: "no such file"}
	case err != nil:
		return &providers.InvalidValue{Flag: flag, Value: path, Rule: "cannot be read: " + providers.SystemSaid(err)}
	case fi.IsDir():
		return &providers.InvalidValue{Flag: flag, Value: path, Rule: "is a directory, not a file"}
	}
	f, err := os.Open(path)
	if err != nil {
		return &providers.InvalidValue{Flag: flag, Value: path, Rule: "cannot be read: " + providers.SystemSaid(err)}
	}
	f.Close()
	return nil
}

// dirToWrite checks the value of a flag naming a directory byob writes
// files into, creating it if need be (render's --out): not a file, nor
// under one.
func dirToWrite(flag, path string) *providers.InvalidValue {
	for p := path; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		switch {
		case err == nil && !fi.IsDir() && p == path:
			return &providers.InvalidValue{Flag: flag, Value: path, Rule: "is a file; name a directory to write into"}
		case err == nil && !fi.IsDir():
			return &providers.InvalidValue{Flag: flag, Value: path, Rule: fmt.Sprintf("is under %s, which is a file; name a directory to write into", p)}
		case err == nil:
			// The nearest directory that exists must take new entries:
			// one made and removed at once says so (permissions, a file
			// system such as /proc).
			probe, err := os.MkdirTemp(p, ".byob-")
			if err != nil {
				return &providers.InvalidValue{Flag: flag, Value: path, Rule: fmt.Sprintf("cannot be written: %s takes no new files (%s)", p, providers.SystemSaid(err))}
			}
			_ = os.Remove(probe)
			return nil
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) && !errors.Is(err, fs.ErrPermission):
			return &providers.InvalidValue{Flag: flag, Value: path, Rule: "cannot be used: " + providers.SystemSaid(err)}
		}
		if filepath.Dir(p) == p {
			return nil
		}
	}
}

// dirExists checks that dir, where flag's file goes, is a directory.
func dirExists(flag, path, dir string) *providers.InvalidValue {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &providers.InvalidValue{Flag: flag, Value: path, Rule: fmt.Sprintf("is in %s, which does not exist; create it first or name a file in an existing directory", dir)}
	case err != nil:
		return &providers.InvalidValue{Flag: flag, Value: path, Rule: fmt.Sprintf("is in %s, which cannot be used: %s", dir, providers.SystemSaid(err))}
	case !fi.IsDir():
		return &providers.InvalidValue{Flag: flag, Value: path, Rule: fmt.Sprintf("is in %s, which is a file, not a directory", dir)}
	}
	return nil
}

// defaultOf is the default of a flag of the table ("--state":
// byob-state.json).
func defaultOf(flag string) string {
	f, _ := providers.Lookup(flag[2:])
	if f.Default != "" {
		return f.Default
	}
	return "credentials.json"
}

// setupFiles checks the files of a setup's flags: the state file, the
// bundle, the key file and a Snowflake private key.
func setupFiles(cfg *providers.Config) []providers.InvalidValue {
	var bad []providers.InvalidValue
	add := func(iv *providers.InvalidValue) {
		if iv != nil {
			bad = append(bad, *iv)
		}
	}
	add(fileToWrite("--state", cfg.State))
	for _, f := range providers.Fields {
		switch path := f.String(cfg); {
		case path == "" || !cfg.Applies(f):
		case f.HoldsKey:
			add(fileToWrite("--"+f.Flag, path))
		case f.ReadsFile:
			add(fileToRead("--"+f.Flag, path))
		}
	}
	return bad
}

// checkFiles is setupFiles as an error, nil when every file is fine.
func checkFiles(cfg *providers.Config) error {
	if bad := setupFiles(cfg); len(bad) > 0 {
		return &providers.UsageError{Invalid: bad}
	}
	return nil
}
