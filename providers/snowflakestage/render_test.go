package snowflakestage_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/growthloop/byob/internal/testsupport/providertest"
	"github.com/growthloop/byob/providers/bundlefile"
	"github.com/growthloop/byob/providers/s3bucket"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/snowflakestage"
	"github.com/growthloop/byob/render/cloudformation"
	"github.com/growthloop/byob/render/plan"
	"github.com/growthloop/byob/render/terraform"
)

// model is the plan byob render reads, for a bucket that gives st.
func model(st providers.Storage, known *providers.Values, refs map[providers.Key]string) *plan.Model {
	return providertest.Model(snowflakestage.Provider{}, providers.Setup{Config: config(st), Storage: st}, known, refs)
}

// TestStatements: snowflakestage.sql holds init's statements in its order, a
// new setup's external ID a placeholder the note explains.
func TestStatements(t *testing.T) {
	p := snowflakestage.Provider{}
	files := p.Statements(model(s3, providers.NewValues(map[string]string{s3bucket.AccountID.Name: accountID}), p.RawRefs()))
	if len(files) != 1 || files[0].Path != "snowflake.sql" {
		t.Fatalf("files %+v", files)
	}
	sql := files[0].Content
	providertest.MustContain(t, "snowflake.sql", sql, "-- <external-id>: choose one", "STORAGE_AWS_EXTERNAL_ID = '<external-id>'",
		"STORAGE_AWS_ROLE_ARN = '"+roleARN+"'", "-- Put its STORAGE_AWS_IAM_USER_ARN (S3)")
	var order []string
	for line := range strings.Lines(sql) {
		if verb, _, _ := strings.Cut(line, " "); slices.Contains([]string{"CREATE", "DESC", "GRANT"}, verb) {
			order = append(order, strings.TrimSuffix(strings.TrimSpace(line), ";"))
		}
	}
	want := []string{
		`CREATE STORAGE INTEGRATION IF NOT EXISTS "FLYWHEEL_APP_AWS"`,
		`DESC INTEGRATION "FLYWHEEL_APP_AWS"`,
		`GRANT USAGE ON INTEGRATION "FLYWHEEL_APP_AWS" TO ROLE "GROWTHLOOP"`,
		`CREATE STAGE IF NOT EXISTS ` + stageSQL,
		`GRANT USAGE ON DATABASE "ANALYTICS" TO ROLE "GROWTHLOOP"`,
		`GRANT USAGE ON SCHEMA "ANALYTICS"."FLYWHEEL_SYSTEM" TO ROLE "GROWTHLOOP"`,
		`GRANT USAGE ON STAGE ` + stageSQL + ` TO ROLE "GROWTHLOOP"`,
	}
	if !slices.Equal(order, want) {
		t.Errorf("statements\n%q\nwant\n%q", order, want)
	}

	// An existing setup's external ID is known: nothing to choose.
	known := providers.NewValues(map[string]string{s3bucket.AccountID.Name: accountID, providers.ExternalID.Name: "byob-live"})
	sql = p.Statements(model(s3, known, p.RawRefs()))[0].Content
	if strings.Contains(sql, "<external-id>") || !strings.Contains(sql, "STORAGE_AWS_EXTERNAL_ID = 'byob-live'") {
		t.Errorf("snowflake.sql of a known setup:\n%s", sql)
	}

	if got := p.Statements(&plan.Model{Steps: []string{"aws-bucket"}}); got != nil {
		t.Errorf("a plan without Snowflake's steps: %+v", got)
	}
}

// TestTerraform: the module makes the integration, the stage and the
// grants, and imports what the setup has with the IDs snowflakedb/snowflake
// 1.2.3 documents (registry.terraform.io/providers/snowflakedb/snowflake/
// 1.2.3/docs/resources/grant_privileges_to_account_role#import:
// "role"|false|false|PRIVILEGE|OnAccountObject|TYPE|"name", ...); an
// adopted integration's address is named, as Terraform would destroy it.
func TestTerraform(t *testing.T) {
	p := snowflakestage.Provider{}
	known := providers.NewValues(map[string]string{s3bucket.AccountID.Name: accountID, providers.ExternalID.Name: "byob-live",
		providers.AdoptedKey(snowflakestage.StepIntegration).Name: "true"})
	mod, files := providertest.Terraform(t, p, model(s3, known, p.TerraformRefs()), p.TerraformRefs(), known)
	if got := mod.Required()["snowflake"]; got != (terraform.Requirement{Source: "snowflakedb/snowflake", Version: "1.2.3"}) {
		t.Errorf("provider %+v", got)
	}
	providertest.MustContain(t, "main.tf", files["main.tf"],
		`preview_features_enabled = ["snowflake_stage_resource", "snowflake_storage_integration_resource"]`,
		`resource "snowflake_storage_integration" "this"`, `storage_aws_role_arn      = "`+roleARN+`"`,
		`storage_allowed_locations = ["s3://acme-exports/exports/"]`,
		`url                 = "s3://acme-exports/exports/org-1/"`, `storage_integration = snowflake_storage_integration.this.name`,
		`resource "snowflake_grant_privileges_to_account_role" "usage_on_stage"`, `depends_on = [snowflake_stage.exports]`)
	providertest.MustContain(t, "imports.tf", files["imports.tf"],
		`id = "FLYWHEEL_APP_AWS"`, `id = "ANALYTICS|FLYWHEEL_SYSTEM|GROWTHLOOP_EXPORTS"`,
		`id = "\"GROWTHLOOP\"|false|false|USAGE|OnAccountObject|INTEGRATION|\"FLYWHEEL_APP_AWS\""`,
		`id = "\"GROWTHLOOP\"|false|false|USAGE|OnSchema|OnSchema|\"ANALYTICS\".\"FLYWHEEL_SYSTEM\""`,
		`id = "\"GROWTHLOOP\"|false|false|USAGE|OnSchemaObject|OnObject|STAGE|\"ANALYTICS\".\"FLYWHEEL_SYSTEM\".\"GROWTHLOOP_EXPORTS\""`)
	if mod.Imports() != 6 || !slices.Equal(mod.AdoptedImports(), []string{"snowflake_storage_integration.this"}) {
		t.Errorf("%d imports, adopted %q", mod.Imports(), mod.AdoptedImports())
	}
	providertest.MustContain(t, "outputs.tf", files["outputs.tf"], `output "external_id"`, "snowflake_storage_integration.this.storage_aws_external_id")

	var h providers.Handed
	if _, err := p.ReadTerraform(map[string]string{"integration": "FLYWHEEL_APP_AWS", "stage": stageName, "role_arn": roleARN, "external_id": "byob-live"}, &h); err != nil {
		t.Fatal(err)
	}
	if want := (bundlefile.Snowflake{Integration: "FLYWHEEL_APP_AWS", Stage: stageName, RoleARN: roleARN, ExternalID: "byob-live"}); h.Bundle.Snowflake == nil || *h.Bundle.Snowflake != want {
		t.Errorf("bundle from the outputs %+v", h.Bundle.Snowflake)
	}
}

// TestCloudFormation: the template names the objects snowflakestage.sql makes,
// and a stack with the role hands Snowflake's part of the bundle over.
func TestCloudFormation(t *testing.T) {
	p := snowflakestage.Provider{}
	m := model(s3, providers.NewValues(nil), p.RawRefs())
	tpl := cloudformation.New(m, providers.NewValues(nil))
	if err := p.CloudFormation(tpl); err != nil {
		t.Fatal(err)
	}
	if tpl.Outputs["Integration"].Value != "FLYWHEEL_APP_AWS" || tpl.Outputs["Stage"].Value != stageName {
		t.Errorf("outputs %+v", tpl.Outputs)
	}
	var h providers.Handed
	p.ReadCloudFormation(map[string]string{"Integration": "FLYWHEEL_APP_AWS", "Stage": stageName}, &h)
	if h.Bundle.Snowflake != nil {
		t.Errorf("a stack without the role: %+v", h.Bundle.Snowflake)
	}
	p.ReadCloudFormation(map[string]string{"Integration": "FLYWHEEL_APP_AWS", "Stage": stageName, "RoleArn": roleARN, "ExternalId": "byob-1"}, &h)
	if want := (bundlefile.Snowflake{Integration: "FLYWHEEL_APP_AWS", Stage: stageName, RoleARN: roleARN, ExternalID: "byob-1"}); h.Bundle.Snowflake == nil || *h.Bundle.Snowflake != want {
		t.Errorf("bundle %+v", h.Bundle.Snowflake)
	}
}
