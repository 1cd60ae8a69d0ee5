// Package sfcache undoes a start-up side effect of gosnowflake: on Linux,
// its package initialisation creates ~/.cache/snowflake (or
// $XDG_CACHE_DIR/snowflake) for a credential cache, on every start of any
// program that links it, even `byob --help`.
//
// This package records, before gosnowflake initialises, which of those
// directories hold nothing of anyone else's: absent, or holding only what
// gosnowflake makes (another byob starting beside this one may have made
// it a moment ago, and removed it again); RemoveCreated, called by main
// once every package has initialised, removes those that are now empty.
// The order is guaranteed by the Go spec (since Go 1.21): packages
// initialise in import-path order once their imports are initialised,
// and this package imports only os and path/filepath and sorts before
// github.com/snowflakedb.
package sfcache

import (
	"os"
	"path/filepath"
)

var ours []string

func init() {
	var dirs [][2]string // a directory, and the one entry gosnowflake makes in it
	if home := os.Getenv("HOME"); home != "" {
		dirs = append(dirs, [2]string{filepath.Join(home, ".cache", "snowflake")}, [2]string{filepath.Join(home, ".cache"), "snowflake"})
	}
	if xdg := os.Getenv("XDG_CACHE_DIR"); xdg != "" {
		dirs = append(dirs, [2]string{filepath.Join(xdg, "snowflake")})
	}
	for _, d := range dirs {
		entries, err := os.ReadDir(d[0])
		switch {
		case os.IsNotExist(err):
		case err != nil:
			continue
		case len(entries) > 1, len(entries) == 1 && (entries[0].Name() != d[1] || !empty(filepath.Join(d[0], d[1]))):
			continue // someone else's
		}
		ours = append(ours, d[0])
	}
}

func empty(dir string) bool {
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) == 0
}

// RemoveCreated removes the directories that held nothing of anyone
// else's before gosnowflake initialised, if they are empty now. Deeper
// ones go first.
func RemoveCreated() {
	for _, dir := range ours {
		_ = os.Remove(dir) // fails, harmlessly, when not empty or not there
	}
	ours = nil
}
