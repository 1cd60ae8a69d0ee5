package gcsbucket

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/growthloop/byob/internal/securefile"
	"github.com/growthloop/byob/providers"
)

// keyFileStore holds GrowthLoop's service account key: the key file, which
// the bundle names.
type keyFileStore struct{ path, bundle, account string }

// keyFileOf is what byob reads of a service account key file.
type keyFileOf struct {
	KeyID       string `json:"private_key_id"`
	PrivateKey  string `json:"private_key"`
	ClientEmail string `json:"client_email"`
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// keyIn is the id of the key of byob's service account in the key file
// at path, "" when there is none.
func (k keyFileStore) keyIn(path string) string {
	var f keyFileOf
	b, err := os.ReadFile(path)
	if err == nil && json.Unmarshal(b, &f) == nil && f.KeyID != "" && f.PrivateKey != "" && f.ClientEmail == k.account {
		return f.KeyID
	}
	return ""
}

func (k keyFileStore) Delivered() string { return k.keyIn(k.path) }

func (k keyFileStore) Previous() string { return k.keyIn(providers.PreviousPath(k.path)) }

// Retain keeps the key file and the bundle that names it as
// <file>.previous.
func (k keyFileStore) Retain(id string) error {
	switch {
	case k.Previous() == id:
		return nil
	case k.Delivered() != id:
		return fmt.Errorf("key file %s no longer holds key %s", k.path, id)
	}
	return providers.Retain(k.bundle, k.path)
}

func (k keyFileStore) PreviousFiles() []string {
	return []string{providers.PreviousPath(k.bundle), providers.PreviousPath(k.path)}
}

// Release drops the key file first: a kill in between leaves a bundle
// copy, which holds no key.
func (k keyFileStore) Release() error { return providers.Release(k.path, k.bundle) }

// Pending is never set: a new key is written to the key file at once.
func (k keyFileStore) Pending() string { return "" }

func (k keyFileStore) Secret(id string) []byte {
	for _, path := range []string{k.path, providers.PreviousPath(k.path)} {
		if id != "" && k.keyIn(path) == id {
			b, _ := os.ReadFile(path)
			return b
		}
	}
	return nil
}

func (k keyFileStore) Keep(_ string, keyJSON []byte) error { return securefile.Write(k.path, keyJSON) }

func (k keyFileStore) Settle() error { return nil }

func (k keyFileStore) Files() []string {
	return []string{k.path, providers.PreviousPath(k.path), providers.PreviousPath(k.bundle)}
}

func (k keyFileStore) PendingFile() string { return "" }
