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
		if _, err := os.Stat(cfg.KeyFile); err == nil && cfg.keyStore().Delivered() == "" {
			return Usagef("key file %s already exists and is not a key of this setup's service account: pass --force to overwrite it, or another --key-file", cfg.KeyFile)
		}
	}
	return nil
}

// ownBundle reports whether an existing bundle is this setup's: the same
// bucket, and the key the state file knows (any key, when the state file
// was lost: the key step then checks it exists on byob's user).
func ownBundle(cfg Config, v *providers.Values, b *Bundle) bool {
	if b.Provider != cfg.Provider || b.Bucket != cfg.Bucket {
		return false
	}
	if cfg.Provider == ProviderGCS {
		id := v.Get(providers.GCPKeyID)
		return id == "" || b.GCPKeyID == id
	}
	id := v.Get(providers.AccessKeyID)
	return id == "" || b.AWSAccessKeyID == id
}

// keyStore is where this setup's key secrets live.
func (c *Config) keyStore() providers.KeyStore {
	if c.Provider == ProviderGCS {
		return keyFileStore{path: c.KeyFile, account: c.gcpParams(Deps{}).ServiceAccountEmail()}
	}
	return awsKeyStore{bundle: c.Bundle}
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

// deliver writes the bundle of a finished run: with the key the run
// settled on, its secret taken from the pending file (which it then
// removes) or the bundle. It writes nothing when the bundle already says
// the same. A GCS bundle refers to the key file instead of holding the key.
func deliver(cfg Config, v *providers.Values) (bool, error) {
	var b *Bundle
	switch cfg.Provider {
	case ProviderS3:
		id := v.Get(providers.AccessKeyID)
		secret := cfg.keyStore().Secret(id)
		if secret == nil {
			return false, nil
		}
		b = newBundle(cfg, v, id, string(secret))
	case ProviderGCS:
		if v.Get(providers.GCPKeyID) == "" {
			return false, nil
		}
		b = newBundle(cfg, v, "", "")
	}
	written := false
	if existing, _ := ReadBundle(cfg.Bundle); existing == nil || !reflect.DeepEqual(existing, b) {
		data, err := json.MarshalIndent(b, "", "  ")
		if err != nil {
			return false, err
		}
		if err := WriteFileAtomic(cfg.Bundle, append(data, '\n')); err != nil {
			return false, fmt.Errorf("write bundle %s: %w", cfg.Bundle, err)
		}
		written = true
	}
	// The bundle now holds the key the run settled on; a pending key that
	// is not it was deleted as unusable.
	if err := os.Remove(PendingPath(cfg.Bundle)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return written, fmt.Errorf("remove %s: %w", PendingPath(cfg.Bundle), err)
	}
	return written, nil
}
