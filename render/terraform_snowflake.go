package render

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	sfp "github.com/growthloop/byob/providers/snowflake"
	sflib "github.com/growthloop/byob/snowflake"
)

// The module uses snowflakedb/snowflake 1.2.3, whose
// snowflake_storage_integration and snowflake_stage are preview features
// the provider refuses unless its block enables them. 2.18 has generally
// available replacements (snowflake_storage_integration_aws, whose
// external ID can be set, and snowflake_stage_external_s3/_gcs), but no
// 2.x release builds here to validate against. In 1.x the integration's
// external ID is Snowflake's own (storage_aws_external_id is computed
// only), and the role's trust reads it, as it reads the IAM user.
var snowflakePreviewFeatures = []string{"snowflake_stage_resource", "snowflake_storage_integration_resource"}

// Import IDs of the Snowflake objects, as snowflakedb/snowflake 1.2.3
// documents them in the Import section of each resource's page
// (registry.terraform.io/providers/snowflakedb/snowflake/1.2.3/docs/resources/TYPE).

// integrationImportID is storage_integration's "name".
func integrationImportID(in sflib.Integration) string { return string(in.Name) }

// stageImportID is stage's "dbName|schemaName|stageName".
func stageImportID(st sflib.Stage) string {
	return string(st.Name.Database) + "|" + string(st.Name.Schema) + "|" + string(st.Name.Object)
}

// grantImportID is grant_privileges_to_account_role's
// "<account_role_name>|<with_grant_option>|<always_apply>|<privileges>|<grant_type>|<grant_data>",
// names fully qualified and quoted: OnAccountObject|TYPE|NAME for an
// integration or a database, OnSchema|OnSchema|NAME for a schema,
// OnSchemaObject|OnObject|TYPE|NAME for a stage.
func grantImportID(g sflib.Grant) string {
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

func (t *tfModule) snowflake() {
	m := t.m
	t.uses["snowflake"] = true
	t.main.Body().AppendNewline()
	p := t.main.Body().AppendNewBlock("provider", []string{"snowflake"}).Body()
	p.SetAttributeValue("preview_features_enabled", tfStrings(snowflakePreviewFeatures))

	in, _ := value[sflib.Integration](m, sfp.StepIntegration)
	t.importing(sfp.StepIntegration, "snowflake_storage_integration.this", integrationImportID(in))
	b := t.resource("snowflake_storage_integration", "this")
	b.SetAttributeValue("name", cty.StringVal(string(in.Name)))
	b.SetAttributeValue("type", cty.StringVal("EXTERNAL_STAGE"))
	b.SetAttributeValue("storage_provider", cty.StringVal(in.Provider))
	b.SetAttributeValue("enabled", cty.True)
	if in.AssumesRole() {
		b.SetAttributeRaw("storage_aws_role_arn", tfString(in.RoleARN))
	}
	b.SetAttributeValue("storage_allowed_locations", tfStrings(in.AllowedLocations))
	t.output("integration", "the storage integration", "snowflake_storage_integration.this.name", false)
	if in.AssumesRole() {
		t.output("external_id", "the integration's external ID, which the role's trust requires", "snowflake_storage_integration.this.storage_aws_external_id", false)
	}

	if st, ok := value[sflib.Stage](m, sfp.StepStage); ok {
		t.importing(sfp.StepStage, "snowflake_stage.exports", stageImportID(st))
		s := t.resource("snowflake_stage", "exports")
		s.SetAttributeValue("name", cty.StringVal(string(st.Name.Object)))
		s.SetAttributeValue("database", cty.StringVal(string(st.Name.Database)))
		s.SetAttributeValue("schema", cty.StringVal(string(st.Name.Schema)))
		s.SetAttributeValue("url", cty.StringVal(st.URL))
		s.SetAttributeTraversal("storage_integration", traversal("snowflake_storage_integration.this.name"))
		t.output("stage", "the stage", fmt.Sprintf("%q", st.Name.String()), false)
	}
	grant := func(step string, g sflib.Grant) {
		name := "usage_on_" + strings.ToLower(g.ObjectType)
		t.importing(step, "snowflake_grant_privileges_to_account_role."+name, grantImportID(g))
		b := t.resource("snowflake_grant_privileges_to_account_role", name)
		b.SetAttributeValue("account_role_name", cty.StringVal(string(g.Role)))
		b.SetAttributeValue("privileges", tfStrings([]string{g.Privilege}))
		switch g.ObjectType {
		case "INTEGRATION", "DATABASE":
			on := b.AppendNewBlock("on_account_object", nil).Body()
			on.SetAttributeValue("object_type", cty.StringVal(g.ObjectType))
			on.SetAttributeValue("object_name", cty.StringVal(unquote(g.Object)))
		case "SCHEMA":
			b.AppendNewBlock("on_schema", nil).Body().SetAttributeValue("schema_name", cty.StringVal(g.Object))
		default:
			on := b.AppendNewBlock("on_schema_object", nil).Body()
			on.SetAttributeValue("object_type", cty.StringVal(g.ObjectType))
			on.SetAttributeValue("object_name", cty.StringVal(g.Object))
		}
		switch g.ObjectType {
		case "INTEGRATION":
			b.SetAttributeRaw("depends_on", hclwrite.TokensForTuple([]hclwrite.Tokens{tfExpr("snowflake_storage_integration.this")}))
		case "STAGE":
			b.SetAttributeRaw("depends_on", hclwrite.TokensForTuple([]hclwrite.Tokens{tfExpr("snowflake_stage.exports")}))
		}
	}
	for _, g := range values[sflib.Grant](m, sfp.StepIntegrationGrant) {
		grant(sfp.StepIntegrationGrant, g)
	}
	for _, g := range values[sflib.Grant](m, sfp.StepStageGrants) {
		grant(sfp.StepStageGrants, g)
	}
}
