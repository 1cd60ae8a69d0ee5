package providers

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/growthloop/byob/internal/securefile"
)

// KeyStore is where the secrets of GrowthLoop's keys live: files of mode
// 0600, never the state file, output, logs or errors. A key step asks it
// which keys' secrets byob holds (a key whose secret byob does not hold can
// never be delivered) and hands it a new key's secret the moment the cloud
// answers, before anything else happens.
type KeyStore interface {
	// Delivered is the id of the key in the bundle (the key GrowthLoop
	// has, or gets with this bundle), "" when none.
	Delivered() string
	// Pending is the id of a key made by a run that has not finished, kept
	// until the bundle holds it; "" when none.
	Pending() string
	// Secret is the secret of a key byob holds; nil when it holds none.
	Secret(id string) []byte
	// Keep writes a new key's secret (atomically, mode 0600) and makes it
	// the pending key.
	Keep(id string, secret []byte) error
	// Settle drops the pending secret once the bundle holds the key the
	// run settled on (a pending key that is not it was deleted).
	Settle() error
	// Files are the files it writes a secret to besides the bundle.
	Files() []string
	// PendingFile is the file the pending key's secret waits in; "" when
	// there is no pending key.
	PendingFile() string
	// Retain keeps a copy of the delivered key id's files (the bundle,
	// a key file) as the previous key's, atomically and mode 0600, while a
	// rotation replaces it: GrowthLoop holds that key until it gets the
	// new bundle. Retaining the key already retained does nothing.
	Retain(id string) error
	// Previous is the id of the retained key, "" when none.
	Previous() string
	// PreviousFiles are the files that hold the retained key.
	PreviousFiles() []string
	// Release drops the retained key's files once the rotation finished.
	Release() error
}

// Holds reports whether ks holds the secret of the key id.
func Holds(ks KeyStore, id string) bool {
	return id != "" && (ks.Delivered() == id || ks.Pending() == id || ks.Previous() == id)
}

// PreviousPath is where a file's content is kept while a rotation
// replaces the key it holds.
func PreviousPath(path string) string { return path + ".previous" }

// retainFile copies path to its PreviousPath (atomically, mode 0600).
func retainFile(path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return securefile.Write(PreviousPath(path), b)
}

// Retain copies each of paths to its PreviousPath.
func Retain(paths ...string) error {
	for _, p := range paths {
		if err := retainFile(p); err != nil {
			return fmt.Errorf("keep the previous key: %w", err)
		}
	}
	return nil
}

// Release removes the PreviousPath of each of paths.
func Release(paths ...string) error {
	for _, p := range paths {
		if err := os.Remove(PreviousPath(p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", PreviousPath(p), err)
		}
	}
	return nil
}
