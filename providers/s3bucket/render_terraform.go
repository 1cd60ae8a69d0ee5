package s3bucket

import (
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/render/plan"
	"github.com/growthloop/byob/render/terraform"
	"github.com/growthloop/byob/templates"
)

// The Terraform provider the module pins: the release the tests validate
// the module with (scripts/tfschema, render/tftest).
const (
	terraformSource  = "hashicorp/aws"
	terraformVersion = "5.100.0"
)

// TerraformRefs implements terraform.Renderer: the account id is the
// caller's.
func (Provider) TerraformRefs() map[providers.Key]string {
	return map[providers.Key]string{AccountID: "data.aws_caller_identity.current.account_id"}
}

// TerraformMention implements terraform.Mentioned.
func (Provider) TerraformMention() terraform.Mention {
	return terraform.Mention{Credentials: "AWS (`AWS_PROFILE`, SSO)", Backend: "S3 with SSE-KMS"}
}

// terraformImportIDs are the import IDs of an S3 setup's resources by
// step, as hashicorp/aws 5.100.0 documents them in the Import section of
// each resource's page
// (registry.terraform.io/providers/hashicorp/aws/5.100.0/docs/resources/TYPE):
// the bucket and each of its settings (s3_bucket,
// s3_bucket_public_access_block, ..._server_side_encryption_configuration,
// ..._policy, ..._ownership_controls, ..._lifecycle_configuration) by the
// bucket's name; iam_policy by its ARN; iam_role and iam_user by name;
// iam_role_policy_attachment as "role-name/policy-arn" and
// iam_user_policy_attachment as "user-name/policy-arn"; iam_access_key by
// the key's id. account and keyID are the setup's.
func terraformImportIDs(cfg *providers.Config, account, keyID string) map[string]string {
	names := NamesOf(cfg)
	part, _ := PartitionOf(SettingsOf(cfg).Region)
	policyARN := func(name string) string { return part.IAMARN(account, "policy/"+name) }
	ids := map[string]string{
		StepPolicy:          policyARN(names.Policy),
		StepSnowflakePolicy: policyARN(names.SnowflakePolicy),
		StepRole:            names.Role,
		StepRolePolicy:      names.Role + "/" + policyARN(names.SnowflakePolicy),
		StepUser:            names.User,
		StepUserPolicy:      names.User + "/" + policyARN(names.Policy),
		StepAccessKey:       keyID,
	}
	for _, step := range []string{StepBucket, StepPublicAccessBlock, StepEncryption, StepBucketPolicy, StepObjectOwnership, StepLifecycle} {
		ids[step] = cfg.Bucket
	}
	return ids
}

// terraformTags are the tags init puts on what it creates.
func terraformTags() cty.Value {
	tags := map[string]cty.Value{}
	for k, v := range Tags() {
		tags[k] = cty.StringVal(v)
	}
	return cty.MapVal(tags)
}

// Terraform implements terraform.Renderer: the bucket and its settings,
// the IAM policies, Snowflake's role, GrowthLoop's user and key.
func (Provider) Terraform(t *terraform.Module) error {
	m, c := t.Plan, &t.Plan.Config
	names := NamesOf(c)
	ids := terraformImportIDs(c, t.Values.Get(AccountID), t.Values.Get(AccessKeyID))
	descriptions := Descriptions(c.Bucket, c.Prefix)
	// resource writes step's resource, imported when the setup has it.
	resource := func(step, typ, name string) *hclwrite.Body {
		t.Import(step, typ+"."+name, ids[step])
		return t.Resource(typ, name)
	}
	t.Variable("region", "AWS region of the bucket", SettingsOf(c).Region)
	t.Provider("aws", terraformSource, terraformVersion).SetAttributeTraversal("region", terraform.Traversal("var.region"))
	t.Data("aws_caller_identity", "current")

	// A bucket byob adopted is the customer's: the module reads it, and
	// has no resource for it or its settings.
	bucketRef := "aws_s3_bucket.exports"
	if t.Adopted(StepBucket) {
		bucketRef = "data.aws_s3_bucket.exports"
		t.Data("aws_s3_bucket", "exports").SetAttributeValue("bucket", cty.StringVal(c.Bucket))
		t.Leave("bucket `" + c.Bucket + "`, which the module only reads (`" + bucketRef + "`) and its policies name:\n" +
			"  Terraform never creates, changes or destroys it, nor its tags, as `byob destroy` never deletes it.")
		t.Leave(adoptedSettings(m, t.Values, "Terraform's resources for them (`aws_s3_bucket_policy`, `aws_s3_bucket_lifecycle_configuration`, ...)", "`terraform destroy`"))
	} else {
		terraformBucket(t, ids)
	}
	policy := func(name, step, policyName string) {
		b := resource(step, "aws_iam_policy", name)
		b.SetAttributeValue("name", cty.StringVal(policyName))
		b.SetAttributeValue("description", cty.StringVal(descriptions[step]))
		b.SetAttributeRaw("policy", terraform.Document(m.Document(step)))
		b.SetAttributeValue("tags", terraformTags())
	}
	policy("growthloop", StepPolicy, names.Policy)
	if m.Has(StepRole) {
		policy("snowflake", StepSnowflakePolicy, names.SnowflakePolicy)
		role := resource(StepRole, "aws_iam_role", "snowflake")
		role.SetAttributeValue("name", cty.StringVal(names.Role))
		role.SetAttributeValue("description", cty.StringVal(descriptions[StepRole]))
		role.SetAttributeRaw("assume_role_policy", terraform.Document(m.Document(StepRole)))
		role.SetAttributeValue("tags", terraformTags())
		att := resource(StepRolePolicy, "aws_iam_role_policy_attachment", "snowflake")
		att.SetAttributeTraversal("role", terraform.Traversal("aws_iam_role.snowflake.name"))
		att.SetAttributeTraversal("policy_arn", terraform.Traversal("aws_iam_policy.snowflake.arn"))
		t.Output("role_arn", "the role Snowflake assumes", "aws_iam_role.snowflake.arn", false)
		t.Note(terraform.NoteApply, "One apply is enough, and the external ID flows one way: the integration's role ARN is computed from the account id\n"+
			"and the role's name (no role needs to exist first), Snowflake gives the integration its IAM user and external ID\n"+
			"(`storage_aws_iam_user_arn`, `storage_aws_external_id`), and the role's trust reads both. So the trust and the\n"+
			"integration agree after the first `terraform apply`. IAM may take a minute to trust Snowflake: `LIST @stage` can fail\n"+
			"with 003167 until it does.\n\n")
	}
	user := resource(StepUser, "aws_iam_user", "growthloop")
	user.SetAttributeValue("name", cty.StringVal(names.User))
	user.SetAttributeValue("tags", terraformTags())
	att := resource(StepUserPolicy, "aws_iam_user_policy_attachment", "growthloop")
	att.SetAttributeTraversal("user", terraform.Traversal("aws_iam_user.growthloop.name"))
	att.SetAttributeTraversal("policy_arn", terraform.Traversal("aws_iam_policy.growthloop.arn"))
	const keyAddr = "aws_iam_access_key.growthloop"
	if ids[StepAccessKey] == "" {
		t.CannotImport(StepAccessKey, keyAddr, "the state file records no access key id")
	} else {
		t.Import(StepAccessKey, keyAddr, ids[StepAccessKey])
		if t.Made(StepAccessKey) {
			t.Note(terraform.NoteImport, "An imported access key has no secret in the Terraform state: IAM never returns it. GrowthLoop keeps using the key\n"+
				"byob handed over (`growthloop-byob-bundle.json`); `byob bundle --from-terraform` cannot hand it over again. To give\n"+
				"GrowthLoop a key from Terraform, replace it (`terraform apply -replace="+keyAddr+"`), hand the new\n"+
				"one over at once as below: the old key is deleted by the replace.\n\n")
		}
	}
	key := t.Resource("aws_iam_access_key", "growthloop")
	key.SetAttributeTraversal("user", terraform.Traversal("aws_iam_user.growthloop.name"))

	t.Output("bucket", "the export bucket", bucketRef+".id", false)
	t.Output("region", "the bucket's region", "var.region", false)
	t.Output("aws_access_key_id", "GrowthLoop's access key id", "aws_iam_access_key.growthloop.id", false)
	t.Output("aws_secret_access_key", "GrowthLoop's secret access key: in the Terraform state too", "aws_iam_access_key.growthloop.secret", true)
	return nil
}

// ReadTerraform implements terraform.Reader.
func (Provider) ReadTerraform(outs map[string]string, h *providers.Handed) ([]string, error) {
	b := &h.Bundle
	b.Region, b.AWSAccessKeyID, b.AWSSecretAccessKey = outs["region"], outs["aws_access_key_id"], outs["aws_secret_access_key"]
	var missing []string
	if b.Region == "" {
		missing = append(missing, "region")
	}
	if b.AWSSecretAccessKey == "" {
		missing = append(missing, "aws_access_key_id and aws_secret_access_key")
	}
	return missing, nil
}

// terraformBucket writes the bucket byob made and its settings, imported
// when the setup has them.
func terraformBucket(t *terraform.Module, ids map[string]string) {
	m, c := t.Plan, &t.Plan.Config
	t.Import(StepBucket, "aws_s3_bucket.exports", ids[StepBucket])
	t.Resource("aws_s3_bucket", "exports").SetAttributeValue("bucket", cty.StringVal(c.Bucket))
	// setting writes the resource of a setting of the bucket, typ.exports.
	setting := func(step, typ string) *hclwrite.Body {
		t.ImportPart(step, typ+".exports", ids[step])
		b := t.Resource(typ, "exports")
		b.SetAttributeTraversal("bucket", terraform.Traversal("aws_s3_bucket.exports.id"))
		return b
	}
	if pab, ok := plan.Value[templates.PublicAccessBlock](m, StepPublicAccessBlock); ok {
		b := setting(StepPublicAccessBlock, "aws_s3_bucket_public_access_block")
		b.SetAttributeValue("block_public_acls", cty.BoolVal(pab.BlockPublicAcls))
		b.SetAttributeValue("ignore_public_acls", cty.BoolVal(pab.IgnorePublicAcls))
		b.SetAttributeValue("block_public_policy", cty.BoolVal(pab.BlockPublicPolicy))
		b.SetAttributeValue("restrict_public_buckets", cty.BoolVal(pab.RestrictPublicBuckets))
	}
	if enc, ok := plan.Value[templates.Encryption](m, StepEncryption); ok {
		b := setting(StepEncryption, "aws_s3_bucket_server_side_encryption_configuration")
		for _, r := range enc.Rules {
			b.AppendNewBlock("rule", nil).Body().AppendNewBlock("apply_server_side_encryption_by_default", nil).Body().
				SetAttributeValue("sse_algorithm", cty.StringVal(r.ApplyServerSideEncryptionByDefault.SSEAlgorithm))
		}
	}
	if doc := m.Document(StepBucketPolicy); doc != "" {
		setting(StepBucketPolicy, "aws_s3_bucket_policy").SetAttributeRaw("policy", terraform.Document(doc))
	}
	if own, ok := plan.Value[map[string]any](m, StepObjectOwnership); ok {
		b := setting(StepObjectOwnership, "aws_s3_bucket_ownership_controls")
		for _, r := range own["Rules"].([]map[string]string) {
			b.AppendNewBlock("rule", nil).Body().SetAttributeValue("object_ownership", cty.StringVal(r["ObjectOwnership"]))
		}
	}
	if lc, ok := plan.Value[templates.Lifecycle](m, StepLifecycle); ok {
		b := setting(StepLifecycle, "aws_s3_bucket_lifecycle_configuration")
		for _, r := range lc.Rules {
			rule := b.AppendNewBlock("rule", nil).Body()
			rule.SetAttributeValue("id", cty.StringVal(r.ID))
			rule.SetAttributeValue("status", cty.StringVal(r.Status))
			rule.AppendNewBlock("filter", nil).Body().SetAttributeValue("prefix", cty.StringVal(r.Filter.Prefix))
			rule.AppendNewBlock("expiration", nil).Body().SetAttributeValue("days", cty.NumberIntVal(int64(r.Expiration.Days)))
			rule.AppendNewBlock("noncurrent_version_expiration", nil).Body().SetAttributeValue("noncurrent_days", cty.NumberIntVal(int64(r.NoncurrentVersionExpiration.NoncurrentDays)))
			rule.AppendNewBlock("abort_incomplete_multipart_upload", nil).Body().SetAttributeValue("days_after_initiation", cty.NumberIntVal(int64(r.AbortIncompleteMultipartUpload.DaysAfterInitiation)))
		}
	}
}
