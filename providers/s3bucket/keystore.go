package s3bucket

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/growthloop/byob/internal/securefile"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/bundlefile"
)

// PendingPath is where a new access key's secret waits, beside the bundle,
// until a finished run moves it into the bundle.
func PendingPath(bundle string) string { return bundle + ".pending" }

// pendingKey is the pending file's content.
type pendingKey struct {
	AccessKeyID     string `json:"aws_access_key_id"`
	SecretAccessKey string `json:"aws_secret_access_key"`
}

// keyStore holds GrowthLoop's access keys: the bundle's (delivered) and
// the pending file's (made by a run that has not finished).
type keyStore struct{ bundle string }

func (k keyStore) pending() (pendingKey, error) {
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

func (k keyStore) Delivered() string {
	if b, err := bundlefile.Read(k.bundle); err == nil && b != nil && b.AWSSecretAccessKey != "" {
		return b.AWSAccessKeyID
	}
	return ""
}

func (k keyStore) Pending() string {
	p, _ := k.pending()
	return p.AccessKeyID
}

func (k keyStore) Secret(id string) []byte {
	if p, _ := k.pending(); id != "" && p.AccessKeyID == id {
		return []byte(p.SecretAccessKey)
	}
	for _, path := range []string{k.bundle, providers.PreviousPath(k.bundle)} {
		if b, err := bundlefile.Read(path); err == nil && b != nil && id != "" && b.AWSAccessKeyID == id {
			return []byte(b.AWSSecretAccessKey)
		}
	}
	return nil
}

// Retain keeps the bundle, which holds key id's secret, as
// <bundle>.previous.
func (k keyStore) Retain(id string) error {
	switch {
	case k.Previous() == id:
		return nil
	case k.Delivered() != id:
		return fmt.Errorf("bundle %s no longer holds access key %s", k.bundle, id)
	}
	return providers.Retain(k.bundle)
}

func (k keyStore) Previous() string {
	if b, err := bundlefile.Read(providers.PreviousPath(k.bundle)); err == nil && b != nil && b.AWSSecretAccessKey != "" {
		return b.AWSAccessKeyID
	}
	return ""
}

func (k keyStore) PreviousFiles() []string { return []string{providers.PreviousPath(k.bundle)} }

func (k keyStore) Release() error { return providers.Release(k.bundle) }

func (k keyStore) Keep(id string, secret []byte) error {
	b, err := json.MarshalIndent(pendingKey{AccessKeyID: id, SecretAccessKey: string(secret)}, "", "  ")
	if err != nil {
		return err
	}
	return securefile.Write(PendingPath(k.bundle), append(b, '\n'))
}

func (k keyStore) Settle() error {
	if err := os.Remove(PendingPath(k.bundle)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", PendingPath(k.bundle), err)
	}
	return nil
}

func (k keyStore) Files() []string {
	return []string{PendingPath(k.bundle), providers.PreviousPath(k.bundle)}
}

func (k keyStore) PendingFile() string {
	if k.Pending() == "" {
		return ""
	}
	return PendingPath(k.bundle)
}
