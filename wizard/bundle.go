package wizard

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/aws"
)

// BundleVersion is the version of the bundle file format.
const BundleVersion = 1

// Bundle is the file the user uploads to GrowthLoop (Settings >
// Organization > Storage). It is the only place a secret is written.
type Bundle struct {
	Version            int              `json:"version"`
	Provider           string           `json:"provider"`
	Bucket             string           `json:"bucket"`
	Region             string           `json:"region,omitempty"`
	Prefix             string           `json:"prefix"`
	OrgID              string           `json:"org_id,omitempty"`
	AWSAccessKeyID     string           `json:"aws_access_key_id,omitempty"`
	AWSSecretAccessKey string           `json:"aws_secret_access_key,omitempty"`
	Snowflake          *BundleSnowflake `json:"snowflake,omitempty"`
}

// BundleSnowflake describes the Snowflake side for GrowthLoop.
type BundleSnowflake struct {
	Integration string `json:"integration"`
	Stage       string `json:"stage"` // DATABASE.SCHEMA.STAGE
	RoleARN     string `json:"role_arn,omitempty"`
	ExternalID  string `json:"external_id,omitempty"`
}

// ReadBundle reads a bundle file; (nil, nil) when there is none.
func ReadBundle(path string) (*Bundle, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	var bundle Bundle
	if err := json.Unmarshal(b, &bundle); err != nil {
		// Not json.Unmarshal's message: it can quote the file's content.
		return nil, fmt.Errorf("bundle %s is not a byob bundle", path)
	}
	return &bundle, nil
}

// holdsKey reports whether the bundle at path holds the secret of the
// access key id.
func holdsKey(path, accessKeyID string) bool {
	b, err := ReadBundle(path)
	return err == nil && b != nil && b.AWSAccessKeyID == accessKeyID && b.AWSSecretAccessKey != ""
}

// checkBundleTarget refuses, before any change, to overwrite a bundle that
// is not this setup's (it may hold the only copy of another key).
func checkBundleTarget(cfg Config, values *providers.Values, force bool) error {
	existing, err := ReadBundle(cfg.Bundle)
	if existing == nil && err == nil || force {
		return nil
	}
	id := values.Get(providers.AccessKeyID)
	if err == nil && id != "" && existing.AWSAccessKeyID == id {
		return nil
	}
	return Usagef("bundle %s already exists and is not this setup's: pass --force to overwrite it, or another --bundle", cfg.Bundle)
}

// newBundle builds the bundle from the setup; secret is the access key's.
func newBundle(cfg Config, v *providers.Values, keyID, secret string) *Bundle {
	b := &Bundle{
		Version: BundleVersion, Provider: cfg.Provider, Bucket: cfg.Bucket,
		Region: v.Get(providers.AWSRegion), Prefix: cfg.Prefix, OrgID: cfg.OrgID,
		AWSAccessKeyID: keyID, AWSSecretAccessKey: secret,
	}
	if cfg.Snowflake() {
		sp := cfg.snowflakeParams()
		b.Snowflake = &BundleSnowflake{Integration: string(sp.Integration.Name), Stage: sp.Stage.Name.String()}
		if cfg.Provider == ProviderS3 {
			b.Snowflake.RoleARN = aws.RoleARN(v, aws.NamesFor(cfg.Name))
			b.Snowflake.ExternalID = v.Get(providers.ExternalID)
		}
	}
	return b
}

// writeBundle writes the bundle when a new key was made, or when the
// existing bundle of this key is out of date. It keeps the existing secret
// when no new one was made.
func writeBundle(cfg Config, v *providers.Values, secrets *providers.Secrets) (bool, error) {
	id, secret := secrets.AWS()
	existing, _ := ReadBundle(cfg.Bundle)
	if secret == "" {
		if existing == nil || existing.AWSAccessKeyID != v.Get(providers.AccessKeyID) {
			return false, nil // no key to write (yet)
		}
		id, secret = existing.AWSAccessKeyID, existing.AWSSecretAccessKey
	}
	b := newBundle(cfg, v, id, secret)
	if existing != nil && reflect.DeepEqual(existing, b) {
		return false, nil
	}
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return false, err
	}
	if err := WriteFileAtomic(cfg.Bundle, append(data, '\n')); err != nil {
		return false, fmt.Errorf("write bundle %s: %w", cfg.Bundle, err)
	}
	return true, nil
}
