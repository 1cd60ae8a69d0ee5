package render

import (
	"fmt"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/growthloop/byob/providers/gcp"
	"github.com/growthloop/byob/templates"
)

// Import IDs of a GCS setup's resources, as hashicorp/google 6.50.0
// documents them in the Import section of each resource's page
// (registry.terraform.io/providers/hashicorp/google/6.50.0/docs/resources/TYPE).

// gcsBucketImportID is storage_bucket's "{{project_id}}/{{bucket}}".
func gcsBucketImportID(project, bucket string) string { return project + "/" + bucket }

// gcpRoleImportID is project_iam_custom_role's
// "projects/{{project}}/roles/{{role_id}}".
func gcpRoleImportID(project, roleID string) string {
	return "projects/" + project + "/roles/" + roleID
}

// gcpServiceAccountImportID is service_account's
// "projects/{{project_id}}/serviceAccounts/{{email}}".
func gcpServiceAccountImportID(project, accountID string) string {
	return "projects/" + project + "/serviceAccounts/" + accountID + "@" + project + ".iam.gserviceaccount.com"
}

// gcsMemberImportID is storage_bucket_iam_member's space-delimited
// "b/{{bucket}} ROLE MEMBER", a custom role by its full name.
func gcsMemberImportID(bucket, role, member string) string {
	return "b/" + bucket + " " + role + " " + member
}

// gcsKeyNotImported is why the service account key is not imported:
// "This resource does not support import" (service_account_key's page).
const gcsKeyNotImported = "google_service_account_key does not support import"

func (t *tfModule) gcs() {
	m, c := t.m, t.m.Config
	v := t.variables.Body().AppendNewBlock("variable", []string{"project"}).Body()
	v.SetAttributeRaw("type", tfExpr("string"))
	v.SetAttributeValue("description", cty.StringVal("Google Cloud project of the bucket"))
	v.SetAttributeValue("default", cty.StringVal(c.GCPProject))
	t.uses["google"] = true
	t.main.Body().AppendNewBlock("provider", []string{"google"}).Body().SetAttributeTraversal("project", traversal("var.project"))

	if want, ok := value[templates.GCSBucket](m, gcp.StepBucket); ok {
		t.importing(gcp.StepBucket, "google_storage_bucket.exports", gcsBucketImportID(c.GCPProject, want.Name))
		b := t.resource("google_storage_bucket", "exports")
		b.SetAttributeValue("name", cty.StringVal(want.Name))
		b.SetAttributeRaw("location", tfString(want.Location))
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
			cond.SetAttributeValue("matches_prefix", tfStrings(r.Condition.MatchesPrefix))
			rule.AppendNewBlock("action", nil).Body().SetAttributeValue("type", cty.StringVal(r.Action.Type))
		}
	}
	role := func(name, step string) {
		r, ok := value[templates.GCPRole](m, step)
		if !ok {
			return
		}
		t.importing(step, "google_project_iam_custom_role."+name, gcpRoleImportID(c.GCPProject, r.RoleID))
		b := t.resource("google_project_iam_custom_role", name)
		b.SetAttributeTraversal("project", traversal("var.project"))
		b.SetAttributeValue("role_id", cty.StringVal(r.RoleID))
		b.SetAttributeValue("title", cty.StringVal(r.Role.Title))
		b.SetAttributeValue("description", cty.StringVal(r.Role.Description))
		b.SetAttributeValue("permissions", tfStrings(r.Role.IncludedPermissions))
		b.SetAttributeValue("stage", cty.StringVal(r.Role.Stage))
	}
	role("writer", gcp.StepWriterRole)
	if sa, ok := value[templates.GCPServiceAccount](m, gcp.StepServiceAccount); ok {
		t.importing(gcp.StepServiceAccount, "google_service_account.growthloop", gcpServiceAccountImportID(c.GCPProject, sa.AccountID))
		b := t.resource("google_service_account", "growthloop")
		b.SetAttributeTraversal("project", traversal("var.project"))
		b.SetAttributeValue("account_id", cty.StringVal(sa.AccountID))
		b.SetAttributeValue("display_name", cty.StringVal(sa.ServiceAccount.DisplayName))
		b.SetAttributeValue("description", cty.StringVal(sa.ServiceAccount.Description))
	}
	binding := func(name, step, roleName string) {
		bd, ok := value[templates.GCSBinding](m, step)
		if !ok {
			return
		}
		for i, member := range bd.Members {
			addr := "google_storage_bucket_iam_member." + name + suffix(i)
			if m, ok := t.known(member); ok {
				t.importing(step, addr, gcsMemberImportID(c.Bucket, bd.Role, m))
			} else {
				t.cannotImport(step, addr, "the state file records no Snowflake service account")
			}
			b := t.resource("google_storage_bucket_iam_member", name+suffix(i))
			b.SetAttributeTraversal("bucket", traversal("google_storage_bucket.exports.name"))
			b.SetAttributeTraversal("role", traversal("google_project_iam_custom_role."+roleName+".name"))
			b.SetAttributeRaw("member", tfString(member))
			if roleName == "writer" {
				// The member names the account by its email: create it first.
				b.SetAttributeRaw("depends_on", hclwrite.TokensForTuple([]hclwrite.Tokens{tfExpr("google_service_account.growthloop")}))
			}
		}
	}
	binding("writer", gcp.StepWriterBinding, "writer")
	if m.has(gcp.StepSnowflakeRole) {
		role("snowflake", gcp.StepSnowflakeRole)
		binding("snowflake", gcp.StepSnowflakeBinding, "snowflake")
	}
	t.cannotImport(gcp.StepKey, "google_service_account_key.growthloop", gcsKeyNotImported)
	key := t.resource("google_service_account_key", "growthloop")
	key.SetAttributeTraversal("service_account_id", traversal("google_service_account.growthloop.name"))

	t.output("bucket", "the export bucket", "google_storage_bucket.exports.name", false)
	t.output("location", "the bucket's location", "google_storage_bucket.exports.location", false)
	t.output("gcp_project", "the bucket's project", "var.project", false)
	t.output("gcp_service_account", "GrowthLoop's service account", "google_service_account.growthloop.email", false)
	t.output("gcp_private_key", "GrowthLoop's key file, base64: in the Terraform state too", "google_service_account_key.growthloop.private_key", true)
}

func suffix(i int) string {
	if i == 0 {
		return ""
	}
	return fmt.Sprintf("_%d", i+1)
}
