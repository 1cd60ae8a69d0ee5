// Package sfcache undoes a start-up side effect of gosnowflake: on Linux,
// its package initialisation creates ~/.cache/snowflake (or
// $XDG_CACHE_DIR/snowflake) for a credential cache, on every start of any
// program that links it, even `byob --help`.
//
// This package records, before gosnowflake initialises, which of those
// directories do not exist; RemoveCreated, called by main once every
// package has initialised, removes the ones that now exist and are empty.
// The order is guaranteed by the Go spec (since Go 1.21): packages
// initialise in import-path order once their imports are initialised,
// and this package imports only os and path/filepath and sorts before
// github.com/snowflakedb.
package sfcache

import (
	"os"
	"path/filepath"
)

var absent []string

func init() {
	var candidates []string
	if home := os.Getenv("HOME"); home != "" {
		candidates = append(candidates, filepath.Join(home, ".cache", "snowflake"), filepath.Join(home, ".cache"))
	}
	if xdg := os.Getenv("XDG_CACHE_DIR"); xdg != "" {
		candidates = append(candidates, filepath.Join(xdg, "snowflake"))
	}
	for _, dir := range candidates {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			absent = append(absent, dir)
		}
	}
}

// RemoveCreated removes the directories that did not exist before
// gosnowflake initialised, if they are empty. Deeper ones go first.
func RemoveCreated() {
	for _, dir := range absent {
		_ = os.Remove(dir) // fails, harmlessly, when not empty or not there
	}
	absent = nil
}
