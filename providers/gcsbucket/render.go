package gcsbucket

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/zclconf/go-cty/cty"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/render/plan"
	"github.com/growthloop/byob/render/raw"
	"github.com/growthloop/byob/render/terraform"
	"github.com/growthloop/byob/templates"
)

// The Terraform provider the module pins: the release the tests check
// the module against (scripts/tfschema, render/tftest).
const (
	terraformSource  = "hashicorp/google"
	terraformVersion = "6.50.0"
)

// Import IDs of a GCS setup's resources, as hashicorp/google 6.50.0
// documents them in the Import section of each resource's page
// (registry.terraform.io/providers/hashicorp/google/6.50.0/docs/resources/TYPE).

// bucketImportID is storage_bucket's "{{project_id}}/{{bucket}}".
func bucketImportID(project, bucket string) string { return project + "/" + bucket }

// roleImportID is project_iam_custom_role's
// "projects/{{project}}/roles/{{role_id}}".
func roleImportID(project, roleID string) string {
	return "projects/" + project + "/roles/" + roleID
}

// serviceAccountImportID is service_account's
// "projects/{{project_id}}/serviceAccounts/{{email}}".
func serviceAccountImportID(project, accountID string) string {
	return "projects/" + project + "/serviceAccounts/" + accountID + "@" + project + ".iam.gserviceaccount.com"
}

// memberImportID is storage_bucket_iam_member's space-delimited
// "b/{{bucket}} ROLE MEMBER", a custom role by its full name.
func memberImportID(bucket, role, member string) string {
	return "b/" + bucket + " " + role + " " + member
}

// keyNotImported is why the service account key is not imported: "This
// resource does not support import" (service_account_key's page).
const keyNotImported = "google_service_account_key does not support import"

// TerraformRefs implements terraform.Renderer: the module learns nothing
// of its own.
func (Provider) TerraformRefs() map[providers.Key]string { return nil }

// TerraformMention implements terraform.Mentioned.
func (Provider) TerraformMention() terraform.Mention {
	return terraform.Mention{Credentials: "Google (`gcloud auth application-default login`)", Backend: "GCS with CMEK"}
}

// Terraform implements terraform.Renderer: the bucket, the custom roles,
// GrowthLoop's service account and key, the bucket's bindings.
func (Provider) Terraform(t *terraform.Module) error {
	m, c := t.Plan, &t.Plan.Config
	t.Variable("project", "Google Cloud project of the bucket", SettingsOf(c).Project)
	t.Provider("google", terraformSource, terraformVersion).SetAttributeTraversal("project", terraform.Traversal("var.project"))

	// A bucket byob adopted is the customer's: the module reads it, and
	// has no resource for it or its settings.
	bucketRef := "google_storage_bucket.exports"
	want, ok := plan.Value[templates.GCSBucket](m, StepBucket)
	switch {
	case ok && t.Adopted(StepBucket):
		bucketRef = "data.google_storage_bucket.exports"
		t.Data("google_storage_bucket", "exports").SetAttributeValue("name", cty.StringVal(want.Name))
		t.Leave("bucket `" + want.Name + "`, which the module only reads (`" + bucketRef + "`) and its bindings name:\n" +
			"  Terraform never creates, changes or destroys it, nor its labels, as `byob destroy` never deletes it.")
		t.Leave(fmt.Sprintf("the settings byob wants on that bucket, left as they are: uniform bucket-level access, public access\n"+
			"  prevention enforced, and lifecycle rules that delete objects under %s at %d days and their noncurrent versions %d days\n"+
			"  after, beside any rules of yours. byob turned them on or found them. A `google_storage_bucket` resource owns the whole\n"+
			"  bucket (every lifecycle rule, label and setting), so it would drop your own, and `terraform destroy` would delete the\n"+
			"  bucket. Keep them where you manage the bucket; `byob verify` checks them.", c.Prefix, c.TTLDays, c.TTLDays))
		t.Leave("the rest of the bucket's IAM policy: the module's grants are `google_storage_bucket_iam_member` resources, each adding\n" +
			"  one member to one role (never `_iam_policy` or `_iam_binding`, which replace the policy or a role's members), so your own\n" +
			"  bindings stay as they are.")
	case ok:
		t.Import(StepBucket, "google_storage_bucket.exports", bucketImportID(SettingsOf(c).Project, want.Name))
		b := t.Resource("google_storage_bucket", "exports")
		b.SetAttributeValue("name", cty.StringVal(want.Name))
		b.SetAttributeRaw("location", terraform.String(want.Location))
		b.SetAttributeValue("uniform_bucket_level_access", cty.BoolVal(want.IAMConfiguration.UniformBucketLevelAccess.Enabled))
		b.SetAttributeValue("public_access_prevention", cty.StringVal(want.IAMConfiguration.PublicAccessPrevention))
		for _, r := range want.Lifecycle.Rule {
			rule := b.AppendNewBlock("lifecycle_rule", nil).Body()
			cond := rule.AppendNewBlock("condition", nil).Body()
			if r.Condition.Age > 0 {
				cond.SetAttributeValue("age", cty.NumberIntVal(int64(r.Condition.Age)))
			}
			if r.Condition.DaysSinceNoncurrentTime > 0 {
				cond.SetAttributeValue("days_since_noncurrent_time", cty.NumberIntVal(int64(r.Condition.DaysSinceNoncurrentTime)))
			}
			cond.SetAttributeValue("matches_prefix", terraform.Strings(r.Condition.MatchesPrefix))
			rule.AppendNewBlock("action", nil).Body().SetAttributeValue("type", cty.StringVal(r.Action.Type))
		}
	}
	role := func(name, step string) {
		r, ok := plan.Value[templates.GCPRole](m, step)
		if !ok {
			return
		}
		t.Import(step, "google_project_iam_custom_role."+name, roleImportID(SettingsOf(c).Project, r.RoleID))
		b := t.Resource("google_project_iam_custom_role", name)
		b.SetAttributeTraversal("project", terraform.Traversal("var.project"))
		b.SetAttributeValue("role_id", cty.StringVal(r.RoleID))
		b.SetAttributeValue("title", cty.StringVal(r.Role.Title))
		b.SetAttributeValue("description", cty.StringVal(r.Role.Description))
		b.SetAttributeValue("permissions", terraform.Strings(r.Role.IncludedPermissions))
		b.SetAttributeValue("stage", cty.StringVal(r.Role.Stage))
	}
	role("writer", StepWriterRole)
	if sa, ok := plan.Value[templates.GCPServiceAccount](m, StepServiceAccount); ok {
		t.Import(StepServiceAccount, "google_service_account.growthloop", serviceAccountImportID(SettingsOf(c).Project, sa.AccountID))
		b := t.Resource("google_service_account", "growthloop")
		b.SetAttributeTraversal("project", terraform.Traversal("var.project"))
		b.SetAttributeValue("account_id", cty.StringVal(sa.AccountID))
		b.SetAttributeValue("display_name", cty.StringVal(sa.ServiceAccount.DisplayName))
		b.SetAttributeValue("description", cty.StringVal(sa.ServiceAccount.Description))
	}
	binding := func(name, step, roleName string) {
		bd, ok := plan.Value[templates.GCSBinding](m, step)
		if !ok {
			return
		}
		for i, member := range bd.Members {
			label := name + suffix(i)
			addr := "google_storage_bucket_iam_member." + label
			if known, ok := t.Known(member); ok {
				t.Import(step, addr, memberImportID(c.Bucket, bd.Role, known))
			} else {
				t.CannotImport(step, addr, "the state file records no Snowflake service account")
			}
			b := t.Resource("google_storage_bucket_iam_member", label)
			b.SetAttributeTraversal("bucket", terraform.Traversal(bucketRef+".name"))
			b.SetAttributeTraversal("role", terraform.Traversal("google_project_iam_custom_role."+roleName+".name"))
			b.SetAttributeRaw("member", terraform.String(member))
			if roleName == "writer" {
				// The member names the account by its email: create it first.
				terraform.DependsOn(b, "google_service_account.growthloop")
			}
		}
	}
	binding("writer", StepWriterBinding, "writer")
	if m.Has(StepSnowflakeRole) {
		role("snowflake", StepSnowflakeRole)
		binding("snowflake", StepSnowflakeBinding, "snowflake")
	}
	t.CannotImport(StepKey, "google_service_account_key.growthloop", keyNotImported)
	key := t.Resource("google_service_account_key", "growthloop")
	key.SetAttributeTraversal("service_account_id", terraform.Traversal("google_service_account.growthloop.name"))

	t.Output("bucket", "the export bucket", bucketRef+".name", false)
	t.Output("location", "the bucket's location", bucketRef+".location", false)
	t.Output("gcp_project", "the bucket's project", "var.project", false)
	t.Output("gcp_service_account", "GrowthLoop's service account", "google_service_account.growthloop.email", false)
	t.Output("gcp_private_key", "GrowthLoop's key file, base64: in the Terraform state too", "google_service_account_key.growthloop.private_key", true)
	return nil
}

// suffix tells a binding's members apart: "", "_2", "_3".
func suffix(i int) string {
	if i == 0 {
		return ""
	}
	return fmt.Sprintf("_%d", i+1)
}

// ReadTerraform implements terraform.Reader: the key file is the
// gcp_private_key output, base64.
func (Provider) ReadTerraform(outs map[string]string, h *providers.Handed) ([]string, error) {
	b := &h.Bundle
	b.Location, b.GCPProject, b.GCPServiceAccount = outs["location"], outs["gcp_project"], outs["gcp_service_account"]
	var missing []string
	if b.Location == "" || b.GCPProject == "" {
		missing = append(missing, "location and gcp_project")
	}
	k := outs["gcp_private_key"]
	if k == "" {
		return append(missing, "gcp_private_key"), nil
	}
	key, err := base64.StdEncoding.DecodeString(k)
	if err != nil {
		return nil, errors.New("output gcp_private_key is not base64")
	}
	h.KeyFile = key
	var kf struct {
		PrivateKeyID string `json:"private_key_id"`
	}
	if json.Unmarshal(key, &kf) == nil {
		b.GCPKeyID = kf.PrivateKeyID
	}
	return missing, nil
}

// documentFiles name the steps' documents, one file each.
var documentFiles = map[string]string{
	StepBucket: "bucket.json", StepWriterRole: "writer-role.json", StepSnowflakeRole: "snowflake-role.json",
	StepServiceAccount: "service-account.json", StepWriterBinding: "writer-binding.json", StepSnowflakeBinding: "snowflake-binding.json",
}

// Documents implements raw.Documents.
func (Provider) Documents(m *plan.Model) []raw.File { return raw.DocumentFiles(m, documentFiles) }
