package snowflakestage

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/bundlefile"
	"github.com/growthloop/byob/render/cloudformation"
	"github.com/growthloop/byob/render/plan"
	"github.com/growthloop/byob/render/raw"
	"github.com/growthloop/byob/render/terraform"
	"github.com/growthloop/byob/snowflake"
)

// The module uses snowflakedb/snowflake 1.2.3, whose
// snowflake_storage_integration and snowflake_stage are preview features
// the provider refuses unless its block enables them. 2.18 has generally
// available replacements (snowflake_storage_integration_aws, whose
// external ID can be set, and snowflake_stage_external_s3/_gcs), but no
// 2.x release builds here to validate against. In 1.x the integration's
// external ID is Snowflake's own (storage_aws_external_id is computed
// only), and the role's trust reads it, as it reads the IAM user.
var previewFeatures = []string{"snowflake_stage_resource", "snowflake_storage_integration_resource"}

// The Terraform provider the module pins: the release the tests validate
// the module with (render/tftest builds it).
const (
	terraformSource  = "snowflakedb/snowflake"
	terraformVersion = "1.2.3"
)

// Import IDs of the Snowflake objects, as snowflakedb/snowflake 1.2.3
// documents them in the Import section of each resource's page
// (registry.terraform.io/providers/snowflakedb/snowflake/1.2.3/docs/resources/TYPE).

// integrationImportID is storage_integration's "name".
func integrationImportID(in snowflake.Integration) string { return string(in.Name) }

// stageImportID is stage's "dbName|schemaName|stageName".
func stageImportID(st snowflake.Stage) string {
	return string(st.Name.Database) + "|" + string(st.Name.Schema) + "|" + string(st.Name.Object)
}

// grantImportID is grant_privileges_to_account_role's
// "<account_role_name>|<with_grant_option>|<always_apply>|<privileges>|<grant_type>|<grant_data>",
// names fully qualified and quoted: OnAccountObject|TYPE|NAME for an
// integration or a database, OnSchema|OnSchema|NAME for a schema,
// OnSchemaObject|OnObject|TYPE|NAME for a stage.
func grantImportID(g snowflake.Grant) string {
	var on string
	switch g.ObjectType {
	case "INTEGRATION", "DATABASE":
		on = "OnAccountObject|" + g.ObjectType + "|" + g.Object
	case "SCHEMA":
		on = "OnSchema|OnSchema|" + g.Object
	default:
		on = "OnSchemaObject|OnObject|" + g.ObjectType + "|" + g.Object
	}
	return g.Role.SQL() + "|false|false|" + g.Privilege + "|" + on
}

// TerraformRefs implements terraform.Renderer: Snowflake gives the
// integration its identity and external ID.
func (Provider) TerraformRefs() map[providers.Key]string {
	return map[providers.Key]string{
		providers.ExternalID:              "snowflake_storage_integration.this.storage_aws_external_id",
		providers.WarehouseUserARN:        "snowflake_storage_integration.this.storage_aws_iam_user_arn",
		providers.WarehouseServiceAccount: "snowflake_storage_integration.this.storage_gcp_service_account",
	}
}

// TerraformMention implements terraform.Mentioned.
func (Provider) TerraformMention() terraform.Mention {
	return terraform.Mention{Credentials: "Snowflake (`SNOWFLAKE_*` variables or `~/.snowflake/config`); the Snowflake role needs `CREATE INTEGRATION`"}
}

// objectName is a quoted identifier's name ("FLYWHEEL_APP_AWS"), as the
// provider takes an account object's name.
func objectName(ident string) string {
	if len(ident) > 1 && ident[0] == '"' && ident[len(ident)-1] == '"' {
		return strings.ReplaceAll(ident[1:len(ident)-1], `""`, `"`)
	}
	return ident
}

// Terraform implements terraform.Renderer: the integration, the stage and
// the grants.
func (Provider) Terraform(t *terraform.Module) error {
	m := t.Plan
	t.Provider("snowflake", terraformSource, terraformVersion).SetAttributeValue("preview_features_enabled", terraform.Strings(previewFeatures))
	t.Note(terraform.NoteProviders, "The Snowflake provider is 1.2.3, in which `snowflake_storage_integration` and `snowflake_stage` are preview features:\n"+
		"the `provider \"snowflake\"` block enables them (`preview_features_enabled`). Provider 2.18 and later have generally\n"+
		"available replacements (`snowflake_storage_integration_aws` or `_gcs`, `snowflake_stage_external_s3` or `_gcs`);\n"+
		"byob stays on 1.2.3 because it is the release its tests build and validate this module with, and byob does not\n"+
		"ship a module it has not validated. Moving to 2.18+ is a change of resource types, with `import` blocks for the\n"+
		"objects this module made.\n")

	in, _ := plan.Value[snowflake.Integration](m, StepIntegration)
	t.Import(StepIntegration, "snowflake_storage_integration.this", integrationImportID(in))
	b := t.Resource("snowflake_storage_integration", "this")
	b.SetAttributeValue("name", cty.StringVal(string(in.Name)))
	b.SetAttributeValue("type", cty.StringVal("EXTERNAL_STAGE"))
	b.SetAttributeValue("storage_provider", cty.StringVal(in.Provider))
	b.SetAttributeValue("enabled", cty.True)
	if in.AssumesRole() {
		b.SetAttributeRaw("storage_aws_role_arn", terraform.String(in.RoleARN))
	}
	b.SetAttributeValue("storage_allowed_locations", terraform.Strings(in.AllowedLocations))
	t.Output("integration", "the storage integration", "snowflake_storage_integration.this.name", false)
	if in.AssumesRole() {
		t.Output("external_id", "the integration's external ID, which the role's trust requires", "snowflake_storage_integration.this.storage_aws_external_id", false)
	}

	if st, ok := plan.Value[snowflake.Stage](m, StepStage); ok {
		t.Import(StepStage, "snowflake_stage.exports", stageImportID(st))
		s := t.Resource("snowflake_stage", "exports")
		s.SetAttributeValue("name", cty.StringVal(string(st.Name.Object)))
		s.SetAttributeValue("database", cty.StringVal(string(st.Name.Database)))
		s.SetAttributeValue("schema", cty.StringVal(string(st.Name.Schema)))
		s.SetAttributeValue("url", cty.StringVal(st.URL))
		s.SetAttributeTraversal("storage_integration", terraform.Traversal("snowflake_storage_integration.this.name"))
		t.Output("stage", "the stage", fmt.Sprintf("%q", st.Name.String()), false)
	}
	grant := func(step string, g snowflake.Grant) {
		name := "usage_on_" + strings.ToLower(g.ObjectType)
		t.Import(step, "snowflake_grant_privileges_to_account_role."+name, grantImportID(g))
		b := t.Resource("snowflake_grant_privileges_to_account_role", name)
		b.SetAttributeValue("account_role_name", cty.StringVal(string(g.Role)))
		b.SetAttributeValue("privileges", terraform.Strings([]string{g.Privilege}))
		switch g.ObjectType {
		case "INTEGRATION", "DATABASE":
			on := b.AppendNewBlock("on_account_object", nil).Body()
			on.SetAttributeValue("object_type", cty.StringVal(g.ObjectType))
			on.SetAttributeValue("object_name", cty.StringVal(objectName(g.Object)))
		case "SCHEMA":
			b.AppendNewBlock("on_schema", nil).Body().SetAttributeValue("schema_name", cty.StringVal(g.Object))
		default:
			on := b.AppendNewBlock("on_schema_object", nil).Body()
			on.SetAttributeValue("object_type", cty.StringVal(g.ObjectType))
			on.SetAttributeValue("object_name", cty.StringVal(g.Object))
		}
		switch g.ObjectType {
		case "INTEGRATION":
			terraform.DependsOn(b, "snowflake_storage_integration.this")
		case "STAGE":
			terraform.DependsOn(b, "snowflake_stage.exports")
		}
	}
	for _, g := range plan.All[snowflake.Grant](m, StepIntegrationGrant) {
		grant(StepIntegrationGrant, g)
	}
	for _, g := range plan.All[snowflake.Grant](m, StepStageGrants) {
		grant(StepStageGrants, g)
	}
	return nil
}

// ReadTerraform implements terraform.Reader: the role Snowflake assumes is
// the bucket's (role_arn), when it has one.
func (Provider) ReadTerraform(outs map[string]string, h *providers.Handed) ([]string, error) {
	if in := outs["integration"]; in != "" {
		h.Bundle.Snowflake = &bundlefile.Snowflake{Integration: in, Stage: outs["stage"], RoleARN: outs["role_arn"], ExternalID: outs["external_id"]}
	}
	return nil, nil
}

// CloudFormationRefs implements cloudformation.Renderer: the template
// refers to nothing of Snowflake's; its SQL is beside it.
func (Provider) CloudFormationRefs() (map[providers.Key]string, []providers.Key) { return nil, nil }

// CloudFormation implements cloudformation.Renderer: the names of the
// objects snowflake.sql makes, as outputs byob bundle reads.
func (Provider) CloudFormation(t *cloudformation.Template) error {
	if in, ok := plan.Value[snowflake.Integration](t.Plan, StepIntegration); ok {
		t.Outputs["Integration"] = cloudformation.Output{Value: string(in.Name), Description: "the storage integration (snowflake.sql)"}
	}
	if st, ok := plan.Value[snowflake.Stage](t.Plan, StepStage); ok {
		t.Outputs["Stage"] = cloudformation.Output{Value: st.Name.String(), Description: "the stage (snowflake.sql)"}
	}
	return nil
}

// ReadCloudFormation implements cloudformation.Reader: Snowflake's part
// comes with the role the template made for it.
func (Provider) ReadCloudFormation(outs map[string]string, h *providers.Handed) []string {
	if outs["RoleArn"] != "" {
		h.Bundle.Snowflake = &bundlefile.Snowflake{Integration: outs["Integration"], Stage: outs["Stage"], RoleARN: outs["RoleArn"], ExternalID: outs["ExternalId"]}
	}
	return nil
}

// externalIDPlaceholder stands for a new setup's external ID in the raw
// documents and the SQL, where the trust and the integration must get the
// same value.
const externalIDPlaceholder = "external-id"

// RawRefs implements raw.Refs.
func (Provider) RawRefs() map[providers.Key]string {
	return map[providers.Key]string{
		providers.ExternalID:              externalIDPlaceholder,
		providers.WarehouseUserARN:        "STORAGE_AWS_IAM_USER_ARN from DESC INTEGRATION",
		providers.WarehouseServiceAccount: "STORAGE_GCP_SERVICE_ACCOUNT from DESC INTEGRATION",
	}
}

// stepIDs are Snowflake's steps.
var stepIDs = []string{StepIntegration, StepIntegrationGrant, StepStage, StepStageGrants}

// Statements implements raw.Statements: snowflake.sql, the plan's SQL in
// order, each statement as init runs it, with what to do between them.
func (Provider) Statements(m *plan.Model) []raw.File {
	var b strings.Builder
	for _, id := range m.Steps {
		if !slices.Contains(stepIDs, id) {
			continue
		}
		for _, a := range m.Artifacts[id] {
			if a.Format != providers.FormatSQL {
				continue
			}
			if b.Len() == 0 {
				b.WriteString("-- byob's Snowflake statements, in the order byob init runs them.\n")
				if strings.Contains(a.Content, plan.Ref(externalIDPlaceholder)) {
					b.WriteString("-- <" + externalIDPlaceholder + ">: choose one (byob's are byob- and 40 hex digits: echo byob-$(openssl rand -hex 20));\n")
					b.WriteString("-- the role's trust must require the same.\n")
				}
			}
			b.WriteString("\n-- " + a.Name + "\n" + raw.Placeholders(a.Content) + ";\n")
			if id == StepIntegration && strings.HasPrefix(a.Content, "DESC") {
				b.WriteString("-- Put its STORAGE_AWS_IAM_USER_ARN (S3) or STORAGE_GCP_SERVICE_ACCOUNT (GCS) in the role's trust or the bucket's binding.\n")
			}
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return []raw.File{{Path: "snowflake.sql", Content: b.String()}}
}
