package s3bucket_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/growthloop/byob/internal/testsupport/providertest"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/bundlefile"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/render/cloudformation"
	"github.com/growthloop/byob/render/plan"
)

// TestInputs: the provider's flags fill its own section of Config, its
// rules name the flag and the value, and byob bundle takes the region
// back from a bundle.
func TestInputs(t *testing.T) {
	p := s3bucket.Provider{}
	var flags []string
	var region providers.Field
	for _, f := range p.Fields() {
		if f.Flag == "region" {
			region = f
		}
		if f.Owner != s3bucket.Name {
			t.Errorf("--%s is owned by %q", f.Flag, f.Owner)
		}
		flags = append(flags, f.Flag)
	}
	if want := []string{"profile", "region", "policy-name", "role-name", "user-name"}; !slices.Equal(flags, want) {
		t.Errorf("flags %q, want %q", flags, want)
	}
	c := providers.Config{Provider: s3bucket.Name, Bucket: "acme-exports", Name: "growthloop"}
	if err := region.Set(&c, "eu-west-3"); err != nil || s3bucket.SettingsOf(&c).Region != "eu-west-3" {
		t.Fatalf("--region set %q (%v)", s3bucket.SettingsOf(&c).Region, err)
	}
	copied := c
	_ = region.Set(&copied, "us-east-2")
	if s3bucket.SettingsOf(&c).Region != "eu-west-3" {
		t.Error("a copy of the config changed the original's region")
	}

	c = c.With(s3bucket.Settings{Region: "us-east", UserName: strings.Repeat("u", 65), PolicyName: "ok-name"})
	bad := map[string]string{}
	for _, iv := range p.Validate(&c) {
		bad[iv.Flag] = iv.Value + ": " + iv.Rule
	}
	if !strings.HasPrefix(bad["--region"], "us-east: ") || !strings.HasPrefix(bad["--user-name"], strings.Repeat("u", 65)+": ") || bad["--policy-name"] != "" || len(bad) != 2 {
		t.Errorf("invalid values %q", bad)
	}

	var fromBundle providers.Config
	p.FromBundle(&fromBundle, &bundlefile.Bundle{Region: "ap-south-1", Location: "US"}, "")
	if got := s3bucket.SettingsOf(&fromBundle); got != (s3bucket.Settings{Region: "ap-south-1"}) {
		t.Errorf("from the bundle: %+v", got)
	}
	if got := p.Describe(new(providers.Config{Bucket: "b"}.With(s3bucket.Settings{Region: "eu-west-3"}))); !strings.Contains(got, "b") || !strings.Contains(got, "eu-west-3") {
		t.Errorf("describe %q", got)
	}
}

// s3Model is the plan byob render reads for f's setup.
func s3Model(f *fixture, known *providers.Values, refs map[providers.Key]string) *plan.Model {
	return providertest.Model(s3bucket.Provider{}, f.setup, known, refs)
}

// warehouseRefs are how the module refers to what Snowflake gives.
var warehouseRefs = map[providers.Key]string{
	providers.WarehouseUserARN: "snowflake_storage_integration.this.storage_aws_iam_user_arn",
	providers.ExternalID:       "snowflake_storage_integration.this.storage_aws_external_id",
}

// TestTerraform: a made setup's module writes the bucket, its settings,
// the IAM objects and the key, and imports each with the ID
// hashicorp/aws 5.100.0 documents in the resource's Import section
// (registry.terraform.io/providers/hashicorp/aws/5.100.0/docs/resources/
// iam_user_policy_attachment#import: "user-name/policy-arn"; iam_policy
// by ARN; s3_bucket and its settings by the bucket's name).
func TestTerraform(t *testing.T) {
	f := newFixture(t)
	known := providers.NewValues(map[string]string{s3bucket.AccountID.Name: "111122223333", s3bucket.AccessKeyID.Name: "AKIAIOSFODNN7EXAMPLE"})
	refs := map[providers.Key]string{}
	for k, v := range warehouseRefs {
		refs[k] = v
	}
	for k, v := range (s3bucket.Provider{}).TerraformRefs() {
		refs[k] = v
	}
	_, files := providertest.Terraform(t, s3bucket.Provider{}, s3Model(f, known, refs), refs, known)
	providertest.MustContain(t, "main.tf", files["main.tf"], `resource "aws_s3_bucket" "exports"`, `resource "aws_s3_bucket_public_access_block"`,
		`resource "aws_iam_policy" "growthloop"`, `resource "aws_iam_role" "snowflake"`, `resource "aws_iam_access_key" "growthloop"`,
		"user = aws_iam_user.growthloop.name")
	policyARN := "arn:aws:iam::111122223333:policy/" + f.names.Policy
	providertest.MustContain(t, "imports.tf", files["imports.tf"], `id = "`+f.setup.Config.Bucket+`"`, `id = "`+policyARN+`"`,
		`id = "`+f.names.User+"/"+policyARN+`"`, `id = "`+f.names.Role+`"`, `id = "AKIAIOSFODNN7EXAMPLE"`)
	providertest.MustContain(t, "outputs.tf", files["outputs.tf"], `output "aws_secret_access_key"`, "sensitive   = true", `output "role_arn"`)

	var h providers.Handed
	missing, err := (s3bucket.Provider{}).ReadTerraform(map[string]string{"region": region, "aws_access_key_id": "AKIA1", "aws_secret_access_key": "s"}, &h)
	if err != nil || len(missing) != 0 || h.Bundle.Region != region || h.Bundle.AWSAccessKeyID != "AKIA1" {
		t.Errorf("read back %+v, missing %q, %v", h.Bundle, missing, err)
	}
	if missing, _ := (s3bucket.Provider{}).ReadTerraform(map[string]string{}, &providers.Handed{}); len(missing) != 2 {
		t.Errorf("empty outputs lack %q", missing)
	}
}

// TestCloudFormation: the template holds the bucket, its policy, the IAM
// objects and the key's secret (never the secret itself in an output).
func TestCloudFormation(t *testing.T) {
	f := newFixture(t)
	refs, _ := (s3bucket.Provider{}).CloudFormationRefs()
	for k, v := range warehouseRefs {
		refs[k] = v
	}
	tpl := cloudformation.New(s3Model(f, providers.NewValues(nil), refs), providers.NewValues(nil))
	if err := (s3bucket.Provider{}).CloudFormation(tpl); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"ExportBucket", "ExportBucketPolicy", "GrowthLoopPolicy", "GrowthLoopUser", "GrowthLoopKey", "GrowthLoopKeySecret", "SnowflakeRole"} {
		if tpl.Resources[r] == nil {
			t.Errorf("no resource %s", r)
		}
	}
	b, err := tpl.JSON()
	if err != nil {
		t.Fatal(err)
	}
	providertest.MustContain(t, "template", string(b), `"Type": "AWS::S3::Bucket"`, `"BlockPublicAcls": true`, `"Type": "AWS::IAM::AccessKey"`)
	var doc struct{ Outputs map[string]any }
	if err := json.Unmarshal(b, &doc); err != nil || len(doc.Outputs) == 0 {
		t.Fatalf("outputs: %v", err)
	}
	for name, out := range doc.Outputs {
		if o, _ := json.Marshal(out); strings.Contains(string(o), "SecretAccessKey") {
			t.Errorf("output %s holds the secret access key: %s", name, o)
		}
	}
}

// TestDocuments: byob render --format json writes one file per document,
// in plan order.
func TestDocuments(t *testing.T) {
	f := newFixture(t)
	refs := (s3bucket.Provider{}).RawRefs()
	for k, v := range warehouseRefs {
		refs[k] = v
	}
	files := (s3bucket.Provider{}).Documents(s3Model(f, providers.NewValues(nil), refs))
	var names []string
	for _, file := range files {
		names = append(names, file.Path)
		if !strings.HasPrefix(strings.TrimSpace(file.Content), "{") {
			t.Errorf("%s is not a JSON document", file.Path)
		}
	}
	if want := []string{"create-bucket.json", "public-access-block.json", "encryption.json", "bucket-policy.json", "ownership-controls.json", "lifecycle.json",
		"iam-policy.json", "snowflake-iam-policy.json", "trust-policy.json"}; !slices.Equal(names, want) {
		t.Errorf("files %q, want %q", names, want)
	}
	for _, file := range files {
		if file.Path == "iam-policy.json" {
			providertest.MustContain(t, file.Path, file.Content, `"s3:GetBucketLocation"`, `"s3:PutObject"`, "arn:aws:s3:::"+f.setup.Config.Bucket+"/exports/*")
		}
	}
}
