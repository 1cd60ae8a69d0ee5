package gcp

import (
	"encoding/json"
	"os"

	"github.com/growthloop/byob/internal/securefile"
)

// keyFileStore holds GrowthLoop's service account key: the key file, which
// the bundle names.
type keyFileStore struct{ path, account string }

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

func (k keyFileStore) Delivered() string {
	var f keyFileOf
	b, err := os.ReadFile(k.path)
	if err == nil && json.Unmarshal(b, &f) == nil && f.KeyID != "" && f.PrivateKey != "" && f.ClientEmail == k.account {
		return f.KeyID
	}
	return ""
}

// Pending is never set: a new key is written to the key file at once.
func (k keyFileStore) Pending() string { return "" }

func (k keyFileStore) Secret(id string) []byte {
	if id == "" || k.Delivered() != id {
		return nil
	}
	b, _ := os.ReadFile(k.path)
	return b
}

func (k keyFileStore) Keep(_ string, keyJSON []byte) error { return securefile.Write(k.path, keyJSON) }

func (k keyFileStore) Settle() error { return nil }

func (k keyFileStore) Files() []string { return []string{k.path} }

func (k keyFileStore) PendingFile() string { return "" }
