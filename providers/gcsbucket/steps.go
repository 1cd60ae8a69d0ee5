// Package gcsbucket implements byob's steps on Google Cloud: the Cloud Storage
// bucket, the custom roles, GrowthLoop's service account and key, and the
// bucket-level bindings.
package gcsbucket

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
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

// NamesOf are the setup's Google Cloud names: the ones given
// (--service-account, --writer-role, --snowflake-role-gcp), else derived
// from --name.
func NamesOf(c *providers.Config) Names {
	n := NamesFor(c.Name)
	n.ServiceAccount = cmp.Or(SettingsOf(c).ServiceAccount, n.ServiceAccount)
	n.WriterRole = cmp.Or(SettingsOf(c).WriterRole, n.WriterRole)
	n.SnowflakeRole = cmp.Or(SettingsOf(c).SnowflakeRole, n.SnowflakeRole)
	return n
}

// Validate checks each derived name against Google Cloud's rules.
func (n Names) Validate() error {
	if err := ValidateServiceAccountID(n.ServiceAccount); err != nil {
		return fmt.Errorf("service account id %q %v", n.ServiceAccount, err)
	}
	for _, r := range []string{n.WriterRole, n.SnowflakeRole} {
		if err := ValidateCustomRoleID(r); err != nil {
			return fmt.Errorf("custom role id %q %v", r, err)
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
	// Warehouse adds the role and binding for the warehouse's service
	// account.
	Warehouse bool
	// Keys holds GrowthLoop's key: the key file. A new key's JSON is
	// written to it (atomically, mode 0600) as soon as Google answers.
	Keys        providers.KeyStore
	Propagation runenv.Propagation
	// Destroy is what byob destroy removes besides byob's own objects.
	Destroy providers.DestroyOptions
	// Prune removes GrowthLoop's project-level grants (init --prune);
	// Adopt keeps the key GrowthLoop holds (init --adopt).
	Prune, Adopt bool
}

// ServiceAccountEmail is the email of GrowthLoop's service account.
func (p Params) ServiceAccountEmail() string {
	return p.Names.ServiceAccount + "@" + p.Project + ".iam.gserviceaccount.com"
}

func (p Params) roleName(id string) string { return "projects/" + p.Project + "/roles/" + id }

// accountName is the resource name of GrowthLoop's service account.
func (p Params) accountName() string {
	return "projects/" + p.Project + "/serviceAccounts/" + p.ServiceAccountEmail()
}

// Project is the Google Cloud project a setup was made in: a later run
// in another project is refused.
var Project = providers.Key{Name: "gcp.project"}

// GCSLocation is the bucket location when --location was left to default
// to the Snowflake account's region.
var GCSLocation = providers.Key{Name: "gcp.location", Placeholder: "<location: the Snowflake account's region>"}

func (p Params) location(v *providers.Values) string {
	if p.Location != "" {
		return p.Location
	}
	return v.Ref(GCSLocation)
}

// Steps returns the Google Cloud steps. With p.Warehouse the warehouse's
// binding waits for warehouseStep, which names its service account
// (Snowflake's DESC INTEGRATION).
func Steps(p Params, c *Clients, warehouseStep string) []providers.Step {
	b := func(id, title, verify string, needs ...string) providers.Basic {
		return providers.Basic{StepID: id, StepTitle: title, StepVerify: verify, StepNeeds: needs}
	}
	writer := "serviceAccount:" + p.ServiceAccountEmail()
	steps := []providers.Step{
		&bucketStep{Basic: b(StepBucket, "Create GCS bucket "+p.Bucket, "Bucket exists with uniform access, public access prevention and the lifecycle rule").Reading(GCSLocation), p: p, c: c},
		&roleStep{Basic: b(StepWriterRole, "Create custom role "+p.Names.WriterRole+" with GrowthLoop's four documented permissions", "GrowthLoop's custom role has exactly its permissions"), p: p, c: c,
			want: templates.NewGCPRole(p.Names.WriterRole, "byob GrowthLoop exports", "Read and write GrowthLoop exports in gs://"+p.Bucket, templates.GCSWriterPermissions)},
		&serviceAccountStep{Basic: b(StepServiceAccount, "Create service account "+p.ServiceAccountEmail(), "GrowthLoop's service account exists"), p: p, c: c},
		&bindingStep{Basic: b(StepWriterBinding, "Grant the role to the service account on the bucket only", "Service account holds the role on the bucket", StepBucket, StepWriterRole, StepServiceAccount), p: p, c: c,
			role: p.roleName(p.Names.WriterRole), member: func(*providers.Values) string { return writer }},
		// The key comes last: when an organization policy forbids keys,
		// everything else is already in place for a re-run.
		&keyStep{Basic: b(StepKey, "Create a JSON key for the service account", "", StepWriterBinding).Writing(KeyID), p: p, c: c},
	}
	if p.Prune {
		steps = append(steps, &projectGrantStep{Basic: b(StepProjectGrants, "Take "+p.ServiceAccountEmail()+" off the project's IAM policy (--prune)",
			"The service account holds no project-level role", StepServiceAccount), p: p, c: c})
	}
	if p.Warehouse {
		steps = append(steps,
			&roleStep{Basic: b(StepSnowflakeRole, "Create custom role "+p.Names.SnowflakeRole+" for Snowflake's unloads", "Snowflake's custom role has exactly its permissions"), p: p, c: c,
				want: templates.NewGCPRole(p.Names.SnowflakeRole, "byob Snowflake unloads", "Snowflake storage integration access to gs://"+p.Bucket, templates.GCSSnowflakePermissions)},
			&bindingStep{Basic: b(StepSnowflakeBinding, "Grant that role to Snowflake's service account on the bucket only", "Snowflake's service account holds its role on the bucket", StepBucket, StepSnowflakeRole, warehouseStep).
				Reading(providers.WarehouseServiceAccount), p: p, c: c,
				role: p.roleName(p.Names.SnowflakeRole), member: func(v *providers.Values) string { return "serviceAccount:" + v.Ref(providers.WarehouseServiceAccount) }},
		)
	}
	return steps
}
