// Package bundlefile is the format of the bundle file the user uploads to
// GrowthLoop: each provider of a setup fills its fields.
package bundlefile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Version is the version of the bundle file format.
const Version = 1

// Bundle is the file the user uploads to GrowthLoop (Settings >
// Organization > Storage). Each provider of the setup fills its fields.
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
	GCPKeyFile string     `json:"gcp_key_file,omitempty"`
	Snowflake  *Snowflake `json:"snowflake,omitempty"`
}

// Snowflake describes the Snowflake side for GrowthLoop.
type Snowflake struct {
	Integration string `json:"integration"`
	Stage       string `json:"stage"` // DATABASE.SCHEMA.STAGE
	RoleARN     string `json:"role_arn,omitempty"`
	ExternalID  string `json:"external_id,omitempty"`
	// GCPServiceAccount is Snowflake's service account (gcs).
	GCPServiceAccount string `json:"gcp_service_account,omitempty"`
}

// Read reads a bundle file; (nil, nil) when there is none.
func Read(path string) (*Bundle, error) {
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
