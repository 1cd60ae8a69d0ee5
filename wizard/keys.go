package wizard

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// PendingPath is where a new access key's secret waits, beside the bundle,
// until a finished run moves it into the bundle.
func PendingPath(bundle string) string { return bundle + ".pending" }

// pendingKey is the pending file's content.
type pendingKey struct {
	AccessKeyID     string `json:"aws_access_key_id"`
	SecretAccessKey string `json:"aws_secret_access_key"`
}

// awsKeyStore holds GrowthLoop's access keys: the bundle's (delivered) and
// the pending file's (made by a run that has not finished).
type awsKeyStore struct{ bundle string }

func (k awsKeyStore) pending() (pendingKey, error) {
	var p pendingKey
	b, err := os.ReadFile(PendingPath(k.bundle))
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	if json.Unmarshal(b, &p) != nil || p.AccessKeyID == "" || p.SecretAccessKey == "" {
		// Not json.Unmarshal's message: it can quote the file's content.
		return pendingKey{}, fmt.Errorf("%s is not a byob pending key file", PendingPath(k.bundle))
	}
	return p, nil
}

func (k awsKeyStore) Delivered() string {
	if b, err := ReadBundle(k.bundle); err == nil && b != nil && b.AWSSecretAccessKey != "" {
		return b.AWSAccessKeyID
	}
	return ""
}

func (k awsKeyStore) Pending() string {
	p, _ := k.pending()
	return p.AccessKeyID
}

func (k awsKeyStore) Secret(id string) []byte {
	if p, _ := k.pending(); id != "" && p.AccessKeyID == id {
		return []byte(p.SecretAccessKey)
	}
	if b, err := ReadBundle(k.bundle); err == nil && b != nil && id != "" && b.AWSAccessKeyID == id {
		return []byte(b.AWSSecretAccessKey)
	}
	return nil
}

func (k awsKeyStore) Keep(id string, secret []byte) error {
	b, err := json.MarshalIndent(pendingKey{AccessKeyID: id, SecretAccessKey: string(secret)}, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(PendingPath(k.bundle), append(b, '\n'))
}

// keyFileStore holds GrowthLoop's service account key: the key file.
type keyFileStore struct{ path, account string }

// keyFile is what byob reads of a service account key file.
type keyFile struct {
	KeyID       string `json:"private_key_id"`
	PrivateKey  string `json:"private_key"`
	ClientEmail string `json:"client_email"`
}

func readKeyFile(path string) (keyFile, bool) {
	var k keyFile
	b, err := os.ReadFile(path)
	return k, err == nil && json.Unmarshal(b, &k) == nil && k.KeyID != "" && k.PrivateKey != ""
}

func (k keyFileStore) Delivered() string {
	if f, ok := readKeyFile(k.path); ok && f.ClientEmail == k.account {
		return f.KeyID
	}
	return ""
}

func (k keyFileStore) Pending() string { return "" }

func (k keyFileStore) Secret(id string) []byte {
	if id == "" || k.Delivered() != id {
		return nil
	}
	b, _ := os.ReadFile(k.path)
	return b
}

func (k keyFileStore) Keep(_ string, keyJSON []byte) error { return WriteFileAtomic(k.path, keyJSON) }
