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
	"github.com/growthloop/byob/providers/gcp"
)

// BundleVersion is the version of the bundle file format.
const BundleVersion = 1

// Bundle is the file the user uploads to GrowthLoop (Settings >
// Organization > Storage). It is the only place a secret is written.
type Bundle struct {
	Version            int    `json:"version"`
	Provider           string `json:"provider"`
	Bucket             string `json:"bucket"`
	Region             string `json:"region,omitempty"`   // s3
	Location           string `json:"location,omitempty"` // gcs
	Prefix             string `json:"prefix"`
	OrgID              string `json:"org_id,omitempty"`
	AWSAccessKeyID     string `json:"aws_access_key_id,omitempty"`
	AWSSecretAccessKey string `json:"aws_secret_access_key,omitempty"`
	GCPProject         string `json:"gcp_project,omitempty"`
	GCPServiceAccount  string `json:"gcp_service_account,omitempty"`
	GCPKeyID           string `json:"gcp_key_id,omitempty"`
	// GCPKeyFile names the service account key file (credentials.json);
	// the key itself is not copied into the bundle.
	GCPKeyFile string           `json:"gcp_key_file,omitempty"`
	Snowflake  *BundleSnowflake `json:"snowflake,omitempty"`
}

// BundleSnowflake describes the Snowflake side for GrowthLoop.
type BundleSnowflake struct {
	Integration string `json:"integration"`
	Stage       string `json:"stage"` // DATABASE.SCHEMA.STAGE
	RoleARN     string `json:"role_arn,omitempty"`
	ExternalID  string `json:"external_id,omitempty"`
	// GCPServiceAccount is Snowflake's service account (gcs).
	GCPServiceAccount string `json:"gcp_service_account,omitempty"`
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

// keyFileHolds reports whether the key file holds the key with this id.
func keyFileHolds(path, keyID string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var k struct {
		PrivateKeyID string `json:"private_key_id"`
		PrivateKey   string `json:"private_key"`
	}
	return json.Unmarshal(b, &k) == nil && k.PrivateKeyID == keyID && k.PrivateKey != ""
}

// checkTargets refuses, before any change, to overwrite a bundle or key
// file that is not this setup's (it may hold the only copy of another key).
func checkTargets(cfg Config, values *providers.Values, force bool) error {
	if force {
		return nil
	}
	if existing, err := ReadBundle(cfg.Bundle); err != nil || existing != nil && !ownBundle(cfg, values, existing) {
		return Usagef("bundle %s already exists and is not this setup's: pass --force to overwrite it, or another --bundle", cfg.Bundle)
	}
	if cfg.Provider == ProviderGCS {
		if _, err := os.Stat(cfg.KeyFile); err == nil && !keyFileHolds(cfg.KeyFile, values.Get(providers.GCPKeyID)) {
			return Usagef("key file %s already exists and is not this setup's: pass --force to overwrite it, or another --key-file", cfg.KeyFile)
		}
	}
	return nil
}

// ownBundle reports whether an existing bundle is this setup's.
func ownBundle(cfg Config, v *providers.Values, b *Bundle) bool {
	if cfg.Provider == ProviderGCS {
		id := v.Get(providers.GCPKeyID)
		return id != "" && b.GCPKeyID == id
	}
	id := v.Get(providers.AccessKeyID)
	return id != "" && b.AWSAccessKeyID == id
}

// newBundle builds the bundle from the setup; secret is the access key's.
func newBundle(cfg Config, v *providers.Values, keyID, secret string) *Bundle {
	b := &Bundle{Version: BundleVersion, Provider: cfg.Provider, Bucket: cfg.Bucket, Prefix: cfg.Prefix, OrgID: cfg.OrgID}
	switch cfg.Provider {
	case ProviderS3:
		b.Region, b.AWSAccessKeyID, b.AWSSecretAccessKey = v.Get(providers.AWSRegion), keyID, secret
	case ProviderGCS:
		b.Location, b.GCPProject, b.GCPKeyFile = v.Get(gcp.GCSLocation), cfg.GCPProject, cfg.KeyFile
		b.GCPServiceAccount = gcp.Params{Project: cfg.GCPProject, Names: gcp.NamesFor(cfg.Name)}.ServiceAccountEmail()
		b.GCPKeyID = v.Get(providers.GCPKeyID)
	}
	if cfg.Snowflake() {
		sp := cfg.snowflakeParams()
		b.Snowflake = &BundleSnowflake{Integration: string(sp.Integration.Name), Stage: sp.Stage.Name.String()}
		switch cfg.Provider {
		case ProviderS3:
			b.Snowflake.RoleARN = aws.RoleARN(v, aws.NamesFor(cfg.Name))
			b.Snowflake.ExternalID = v.Get(providers.ExternalID)
		case ProviderGCS:
			b.Snowflake.GCPServiceAccount = v.Get(providers.SnowflakeGCPAccount)
		}
	}
	return b
}

// writeBundle writes the bundle when a new key was made, or when the
// existing bundle of this key is out of date. It keeps the existing secret
// when no new one was made. A GCS bundle refers to the key file instead of
// holding the key.
func writeBundle(cfg Config, v *providers.Values, secrets *providers.Secrets) (bool, error) {
	existing, _ := ReadBundle(cfg.Bundle)
	var b *Bundle
	switch cfg.Provider {
	case ProviderS3:
		id, secret := secrets.AWS()
		if secret == "" {
			if existing == nil || existing.AWSAccessKeyID != v.Get(providers.AccessKeyID) {
				return false, nil // no key to write (yet)
			}
			id, secret = existing.AWSAccessKeyID, existing.AWSSecretAccessKey
		}
		b = newBundle(cfg, v, id, secret)
	case ProviderGCS:
		if v.Get(providers.GCPKeyID) == "" {
			return false, nil
		}
		b = newBundle(cfg, v, "", "")
	}
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
