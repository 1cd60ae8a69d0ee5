// Package gcp implements byob's steps on Google Cloud: the Cloud Storage
// bucket, the custom roles, GrowthLoop's service account and key, and the
// bucket-level bindings.
package gcp

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/templates"
)

// Step IDs of the Google Cloud steps.
const (
	StepBucket           = "gcs-bucket"
	StepWriterRole       = "gcp-writer-role"
	StepServiceAccount   = "gcp-service-account"
	StepWriterBinding    = "gcs-writer-binding"
	StepKey              = "gcp-key"
	StepSnowflakeRole    = "gcp-snowflake-role"
	StepSnowflakeBinding = "gcs-snowflake-binding"
)

// Names are the identifiers derived from the setup name.
type Names struct {
	ServiceAccount string // account id, the part before @
	WriterRole     string // custom role id for GrowthLoop
	SnowflakeRole  string // custom role id for Snowflake's service account
}

// NamesFor derives Google Cloud names from the setup name (--name).
// Custom role ids take no hyphens, so they become underscores.
func NamesFor(name string) Names {
	id := strings.ReplaceAll(name, "-", "_")
	return Names{
		ServiceAccount: name + "-byob",
		WriterRole:     id + "_byob_writer",
		SnowflakeRole:  id + "_byob_snowflake",
	}
}

// Validate checks each derived name against Google Cloud's rules.
func (n Names) Validate() error {
	if err := ValidateServiceAccountID(n.ServiceAccount); err != nil {
		return fmt.Errorf("derived service account id %q %v", n.ServiceAccount, err)
	}
	for _, r := range []string{n.WriterRole, n.SnowflakeRole} {
		if err := ValidateCustomRoleID(r); err != nil {
			return fmt.Errorf("derived custom role id %q %v", r, err)
		}
	}
	return nil
}

// Params are the inputs of the Google Cloud steps.
type Params struct {
	Project  string
	Bucket   string
	Location string // may be "" until preflight reads Snowflake's region
	Prefix   string
	TTLDays  int
	Names    Names
	KeyFile  string
	// Snowflake adds the role and binding for Snowflake's service account.
	Snowflake bool
}

// ServiceAccountEmail is the email of GrowthLoop's service account.
func (p Params) ServiceAccountEmail() string {
	return p.Names.ServiceAccount + "@" + p.Project + ".iam.gserviceaccount.com"
}

func (p Params) roleName(id string) string { return "projects/" + p.Project + "/roles/" + id }

// GCSLocation is the bucket location when --location was left to default
// to the Snowflake account's region.
var GCSLocation = providers.Key{Name: "gcp.location", Placeholder: "<location: the Snowflake account's region>"}

// ErrApplyUnsupported is returned by the Google Cloud steps until they
// can change a real project; byob refuses such a run before any call.
var ErrApplyUnsupported = errors.New("creating a GCS setup is not supported by this version of byob; run with --dry-run to see the plan")

// planStep describes a Google Cloud change; it cannot apply it yet.
type planStep struct {
	providers.Basic
	artifacts func(v *providers.Values) []providers.Artifact
}

func (s *planStep) Artifacts(v *providers.Values) []providers.Artifact { return s.artifacts(v) }

func (s *planStep) Check(context.Context, *providers.Values) (providers.Observation, error) {
	return providers.Observation{}, ErrApplyUnsupported
}

func (s *planStep) Apply(context.Context, *providers.Values) error { return ErrApplyUnsupported }

func (s *planStep) Destroy(context.Context, *providers.Values) error { return ErrApplyUnsupported }

// Steps returns the Google Cloud steps in plan order. With p.Snowflake the
// Snowflake binding waits for integrationStep, whose DESC INTEGRATION names
// Snowflake's service account.
func Steps(p Params, integrationStep string) []providers.Step {
	step := func(id, title string, art func(v *providers.Values) []providers.Artifact, needs ...string) providers.Step {
		return &planStep{providers.Basic{StepID: id, StepTitle: title, StepNeeds: needs}, art}
	}
	location := func(v *providers.Values) string {
		if p.Location != "" {
			return p.Location
		}
		return v.Ref(GCSLocation)
	}
	steps := []providers.Step{
		step(StepBucket, "Create GCS bucket "+p.Bucket, func(v *providers.Values) []providers.Artifact {
			return []providers.Artifact{providers.JSONArtifact("bucket (adopted and reconciled when you already administer it)",
				templates.NewGCSBucket(p.Bucket, location(v), p.Prefix, p.TTLDays))}
		}),
		step(StepWriterRole, "Create custom role "+p.Names.WriterRole+" with the seed's four permissions", func(*providers.Values) []providers.Artifact {
			return []providers.Artifact{providers.JSONArtifact("projects.roles.create in "+p.Project,
				templates.NewGCPRole(p.Names.WriterRole, "byob GrowthLoop exports", "Read and write GrowthLoop exports in gs://"+p.Bucket, templates.GCSWriterPermissions))}
		}),
		step(StepServiceAccount, "Create service account "+p.ServiceAccountEmail(), func(*providers.Values) []providers.Artifact {
			return []providers.Artifact{providers.JSONArtifact("projects.serviceAccounts.create in "+p.Project,
				templates.NewGCPServiceAccount(p.Names.ServiceAccount, "GrowthLoop exports (byob)", "Writes GrowthLoop exports to gs://"+p.Bucket))}
		}),
		step(StepWriterBinding, "Grant the role to the service account on the bucket only", func(*providers.Values) []providers.Artifact {
			return []providers.Artifact{providers.JSONArtifact("binding added to the bucket's IAM policy (read-modify-write with its etag)",
				templates.GCSBinding{Bucket: p.Bucket, Role: p.roleName(p.Names.WriterRole), Members: []string{"serviceAccount:" + p.ServiceAccountEmail()}})}
		}, StepBucket, StepWriterRole, StepServiceAccount),
		step(StepKey, "Create a JSON key for the service account", func(*providers.Values) []providers.Artifact {
			return []providers.Artifact{providers.JSONArtifact("projects.serviceAccounts.keys.create; the key is written only to "+p.KeyFile+" (mode 0600)",
				templates.GCPKeyRequest{ServiceAccount: p.ServiceAccountEmail(), PrivateKeyType: "TYPE_GOOGLE_CREDENTIALS_FILE", KeyAlgorithm: "KEY_ALG_RSA_2048", WrittenTo: p.KeyFile})}
		}, StepServiceAccount),
	}
	if p.Snowflake {
		steps = append(steps,
			step(StepSnowflakeRole, "Create custom role "+p.Names.SnowflakeRole+" for Snowflake's unloads", func(*providers.Values) []providers.Artifact {
				return []providers.Artifact{providers.JSONArtifact("projects.roles.create in "+p.Project,
					templates.NewGCPRole(p.Names.SnowflakeRole, "byob Snowflake unloads", "Snowflake storage integration access to gs://"+p.Bucket, templates.GCSSnowflakePermissions))}
			}),
			step(StepSnowflakeBinding, "Grant that role to Snowflake's service account on the bucket only", func(v *providers.Values) []providers.Artifact {
				return []providers.Artifact{providers.JSONArtifact("binding added to the bucket's IAM policy",
					templates.GCSBinding{Bucket: p.Bucket, Role: p.roleName(p.Names.SnowflakeRole), Members: []string{"serviceAccount:" + v.Ref(providers.SnowflakeGCPAccount)}})}
			}, StepBucket, StepSnowflakeRole, integrationStep),
		)
	}
	return steps
}
