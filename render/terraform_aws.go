package render

import (
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/growthloop/byob/providers"
	awsp "github.com/growthloop/byob/providers/aws"
	"github.com/growthloop/byob/templates"
)

// awsImportIDs are the import IDs of an S3 setup's resources by step, as
// hashicorp/aws 5.100.0 documents them in the Import section of each
// resource's page (registry.terraform.io/providers/hashicorp/aws/5.100.0/docs/resources/TYPE):
// the bucket and each of its settings (s3_bucket,
// s3_bucket_public_access_block, ..._server_side_encryption_configuration,
// ..._policy, ..._ownership_controls, ..._lifecycle_configuration) by the
// bucket's name; iam_policy by its ARN; iam_role and iam_user by name;
// iam_role_policy_attachment as "role-name/policy-arn" and
// iam_user_policy_attachment as "user-name/policy-arn"; iam_access_key by
// the key's id. account and keyID are the setup's.
func awsImportIDs(cfg providers.Config, account, keyID string) map[string]string {
	names := awsp.NamesOf(&cfg)
	part, _ := awsp.PartitionOf(cfg.Region)
	policyARN := func(name string) string { return part.IAMARN(account, "policy/"+name) }
	ids := map[string]string{
		awsp.StepPolicy:          policyARN(names.Policy),
		awsp.StepSnowflakePolicy: policyARN(names.SnowflakePolicy),
		awsp.StepRole:            names.Role,
		awsp.StepRolePolicy:      names.Role + "/" + policyARN(names.SnowflakePolicy),
		awsp.StepUser:            names.User,
		awsp.StepUserPolicy:      names.User + "/" + policyARN(names.Policy),
		awsp.StepAccessKey:       keyID,
	}
	for _, step := range []string{awsp.StepBucket, awsp.StepPublicAccessBlock, awsp.StepEncryption, awsp.StepBucketPolicy, awsp.StepObjectOwnership, awsp.StepLifecycle} {
		ids[step] = cfg.Bucket
	}
	return ids
}

// tfTags are the tags init puts on what it creates.
func tfTags() cty.Value {
	tags := map[string]cty.Value{}
	for k, v := range awsp.Tags() {
		tags[k] = cty.StringVal(v)
	}
	return cty.MapVal(tags)
}

func (t *tfModule) aws() {
	m, c := t.m, t.m.Config
	names := awsp.NamesOf(&c)
	ids := awsImportIDs(c, t.values.Get(providers.AWSAccountID), t.values.Get(providers.AccessKeyID))
	descriptions := awsp.Descriptions(c.Bucket, c.Prefix)
	// resource writes step's resource, imported when the setup has it.
	resource := func(step, typ, name string) *hclwrite.Body {
		t.importing(step, typ+"."+name, ids[step])
		return t.resource(typ, name)
	}
	v := t.variables.Body().AppendNewBlock("variable", []string{"region"}).Body()
	v.SetAttributeRaw("type", tfExpr("string"))
	v.SetAttributeValue("description", cty.StringVal("AWS region of the bucket"))
	v.SetAttributeValue("default", cty.StringVal(c.Region))
	t.uses["aws"] = true
	t.main.Body().AppendNewBlock("provider", []string{"aws"}).Body().SetAttributeTraversal("region", traversal("var.region"))
	t.main.Body().AppendNewline()
	t.main.Body().AppendNewBlock("data", []string{"aws_caller_identity", "current"})

	bucket := resource(awsp.StepBucket, "aws_s3_bucket", "exports")
	bucket.SetAttributeValue("bucket", cty.StringVal(c.Bucket))
	bucketID := traversal("aws_s3_bucket.exports.id")
	if pab, ok := value[templates.PublicAccessBlock](m, awsp.StepPublicAccessBlock); ok {
		b := resource(awsp.StepPublicAccessBlock, "aws_s3_bucket_public_access_block", "exports")
		b.SetAttributeTraversal("bucket", bucketID)
		b.SetAttributeValue("block_public_acls", cty.BoolVal(pab.BlockPublicAcls))
		b.SetAttributeValue("ignore_public_acls", cty.BoolVal(pab.IgnorePublicAcls))
		b.SetAttributeValue("block_public_policy", cty.BoolVal(pab.BlockPublicPolicy))
		b.SetAttributeValue("restrict_public_buckets", cty.BoolVal(pab.RestrictPublicBuckets))
	}
	if enc, ok := value[templates.Encryption](m, awsp.StepEncryption); ok {
		b := resource(awsp.StepEncryption, "aws_s3_bucket_server_side_encryption_configuration", "exports")
		b.SetAttributeTraversal("bucket", bucketID)
		for _, r := range enc.Rules {
			b.AppendNewBlock("rule", nil).Body().AppendNewBlock("apply_server_side_encryption_by_default", nil).Body().
				SetAttributeValue("sse_algorithm", cty.StringVal(r.ApplyServerSideEncryptionByDefault.SSEAlgorithm))
		}
	}
	if doc := m.document(awsp.StepBucketPolicy); doc != "" {
		b := resource(awsp.StepBucketPolicy, "aws_s3_bucket_policy", "exports")
		b.SetAttributeTraversal("bucket", bucketID)
		b.SetAttributeRaw("policy", tfDocument(doc))
	}
	if own, ok := value[map[string]any](m, awsp.StepObjectOwnership); ok {
		b := resource(awsp.StepObjectOwnership, "aws_s3_bucket_ownership_controls", "exports")
		b.SetAttributeTraversal("bucket", bucketID)
		for _, r := range own["Rules"].([]map[string]string) {
			b.AppendNewBlock("rule", nil).Body().SetAttributeValue("object_ownership", cty.StringVal(r["ObjectOwnership"]))
		}
	}
	if lc, ok := value[templates.Lifecycle](m, awsp.StepLifecycle); ok {
		b := resource(awsp.StepLifecycle, "aws_s3_bucket_lifecycle_configuration", "exports")
		b.SetAttributeTraversal("bucket", bucketID)
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
	policy := func(name, step, policyName string) {
		b := resource(step, "aws_iam_policy", name)
		b.SetAttributeValue("name", cty.StringVal(policyName))
		b.SetAttributeValue("description", cty.StringVal(descriptions[step]))
		b.SetAttributeRaw("policy", tfDocument(m.document(step)))
		b.SetAttributeValue("tags", tfTags())
	}
	policy("growthloop", awsp.StepPolicy, names.Policy)
	if m.has(awsp.StepRole) {
		policy("snowflake", awsp.StepSnowflakePolicy, names.SnowflakePolicy)
		role := resource(awsp.StepRole, "aws_iam_role", "snowflake")
		role.SetAttributeValue("name", cty.StringVal(names.Role))
		role.SetAttributeValue("description", cty.StringVal(descriptions[awsp.StepRole]))
		role.SetAttributeRaw("assume_role_policy", tfDocument(m.document(awsp.StepRole)))
		role.SetAttributeValue("tags", tfTags())
		att := resource(awsp.StepRolePolicy, "aws_iam_role_policy_attachment", "snowflake")
		att.SetAttributeTraversal("role", traversal("aws_iam_role.snowflake.name"))
		att.SetAttributeTraversal("policy_arn", traversal("aws_iam_policy.snowflake.arn"))
		t.output("role_arn", "the role Snowflake assumes", "aws_iam_role.snowflake.arn", false)
	}
	user := resource(awsp.StepUser, "aws_iam_user", "growthloop")
	user.SetAttributeValue("name", cty.StringVal(names.User))
	user.SetAttributeValue("tags", tfTags())
	att := resource(awsp.StepUserPolicy, "aws_iam_user_policy_attachment", "growthloop")
	att.SetAttributeTraversal("user", traversal("aws_iam_user.growthloop.name"))
	att.SetAttributeTraversal("policy_arn", traversal("aws_iam_policy.growthloop.arn"))
	if ids[awsp.StepAccessKey] == "" {
		t.cannotImport(awsp.StepAccessKey, "aws_iam_access_key.growthloop", "the state file records no access key id")
		delete(t.have, awsp.StepAccessKey)
	}
	key := resource(awsp.StepAccessKey, "aws_iam_access_key", "growthloop")
	key.SetAttributeTraversal("user", traversal("aws_iam_user.growthloop.name"))

	t.output("bucket", "the export bucket", "aws_s3_bucket.exports.id", false)
	t.output("region", "the bucket's region", "var.region", false)
	t.output("aws_access_key_id", "GrowthLoop's access key id", "aws_iam_access_key.growthloop.id", false)
	t.output("aws_secret_access_key", "GrowthLoop's secret access key: in the Terraform state too", "aws_iam_access_key.growthloop.secret", true)
}
