package s3bucket

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/awslabs/goformation/v7/cloudformation/iam"
	"github.com/awslabs/goformation/v7/cloudformation/policies"
	"github.com/awslabs/goformation/v7/cloudformation/s3"
	"github.com/awslabs/goformation/v7/cloudformation/secretsmanager"
	"github.com/awslabs/goformation/v7/cloudformation/tags"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/bundlefile"
	"github.com/growthloop/byob/render/cloudformation"
	"github.com/growthloop/byob/render/plan"
	"github.com/growthloop/byob/templates"
)

// The template's parameters: Snowflake's identity, known only after
// CREATE STORAGE INTEGRATION and DESC INTEGRATION, and the external ID
// the integration was created with.
const (
	paramUserARN    = "SnowflakeIamUserArn"
	paramExternalID = "ExternalId"
)

// CloudFormationRefs implements cloudformation.Renderer: the account is
// the stack's; the trust takes Snowflake's identity from the parameters,
// whose defaults are the setup's.
func (Provider) CloudFormationRefs() (map[providers.Key]string, []providers.Key) {
	return map[providers.Key]string{
		AccountID:                  "AWS::AccountId",
		providers.WarehouseUserARN: paramUserARN,
		providers.ExternalID:       paramExternalID,
	}, []providers.Key{providers.WarehouseUserARN, providers.ExternalID}
}

func strPtr(s string) *string { return &s }
func boolPtr(b bool) *bool    { return &b }
func intPtr(n int) *int       { return &n }

// cloudFormationTags are the tags init puts on the IAM objects it
// creates.
func cloudFormationTags() []tags.Tag {
	var out []tags.Tag
	for _, k := range slices.Sorted(maps.Keys(Tags())) {
		out = append(out, tags.Tag{Key: k, Value: Tags()[k]})
	}
	return out
}

// CloudFormation implements cloudformation.Renderer: the bucket with its
// settings, the IAM policies, user and key, the key's secret, Snowflake's
// role; the README says in which order to deploy it.
func (Provider) CloudFormation(t *cloudformation.Template) error {
	m, cfg, known := t.Plan, &t.Plan.Config, t.Known
	names := NamesOf(cfg)
	t.Description = "GrowthLoop export storage made by byob render: bucket " + cfg.Bucket + ", IAM policy, user and key"
	if m.Has(StepRole) {
		t.Description += ", Snowflake's role"
	}

	// A bucket byob adopted is the customer's: the template names it, and
	// has no resource for it or its settings.
	adopted := providers.Adopted(known, StepBucket)
	bucketOut := cloudformation.Ref("ExportBucket")
	if adopted {
		bucketOut = cfg.Bucket
	} else {
		cloudFormationBucket(t)
	}
	descriptions := Descriptions(cfg.Bucket, cfg.Prefix)
	t.Resources["GrowthLoopPolicy"] = &iam.ManagedPolicy{ManagedPolicyName: strPtr(names.Policy), Description: strPtr(descriptions[StepPolicy]),
		PolicyDocument: cloudformation.Document(m.Document(StepPolicy))}
	t.Resources["GrowthLoopUser"] = &iam.User{UserName: strPtr(names.User), ManagedPolicyArns: []string{cloudformation.Ref("GrowthLoopPolicy")}, Tags: cloudFormationTags()}
	t.Resources["GrowthLoopKey"] = &iam.AccessKey{UserName: cloudformation.Ref("GrowthLoopUser")}
	// The secret never appears in an output: the stack keeps it in Secrets
	// Manager, where byob bundle --from-cloudformation reads it. It goes
	// with the stack (Delete, also on replacement): the key it holds goes
	// too, and a copy kept would outlive it.
	t.Resources["GrowthLoopKeySecret"] = &secretsmanager.Secret{
		Name:                                 strPtr(cfg.Name + "-byob-growthloop-key"),
		Description:                          strPtr("GrowthLoop's access key for bucket " + cfg.Bucket),
		SecretString:                         strPtr(cloudformation.Sub(`{"aws_access_key_id":"${GrowthLoopKey}","aws_secret_access_key":"${GrowthLoopKey.SecretAccessKey}"}`)),
		AWSCloudFormationDeletionPolicy:      policies.DeletionPolicy("Delete"),
		AWSCloudFormationUpdateReplacePolicy: policies.UpdateReplacePolicy("Delete"),
	}
	t.Outputs["Bucket"] = cloudformation.Output{Value: bucketOut, Description: "the export bucket"}
	t.Outputs["Region"] = cloudformation.Output{Value: cloudformation.Ref("AWS::Region"), Description: "the bucket's region"}
	t.Outputs["AccessKeyId"] = cloudformation.Output{Value: cloudformation.Ref("GrowthLoopKey"), Description: "GrowthLoop's access key id"}
	t.Outputs["KeySecretArn"] = cloudformation.Output{Value: cloudformation.Ref("GrowthLoopKeySecret"), Description: "the secret holding the access key"}

	if m.Has(StepRole) {
		t.Parameters[paramUserARN] = cloudformation.Parameter{Type: "String",
			Description:    "STORAGE_AWS_IAM_USER_ARN from DESC INTEGRATION (snowflake.sql)",
			AllowedPattern: `arn:aws[a-z-]*:iam::[0-9]{12}:user/.+`, Default: known.Get(providers.WarehouseUserARN)}
		// The setup's external ID is the default; a new setup's is the one
		// chosen for <external-id> in snowflake.sql.
		t.Parameters[paramExternalID] = cloudformation.Parameter{Type: "String",
			Description: "STORAGE_AWS_EXTERNAL_ID of the integration: the value given for <external-id> in snowflake.sql",
			Default:     known.Get(providers.ExternalID)}
		t.Resources["GrowthLoopSnowflakePolicy"] = &iam.ManagedPolicy{ManagedPolicyName: strPtr(names.SnowflakePolicy), Description: strPtr(descriptions[StepSnowflakePolicy]),
			PolicyDocument: cloudformation.Document(m.Document(StepSnowflakePolicy))}
		t.Resources["SnowflakeRole"] = &iam.Role{RoleName: strPtr(names.Role), Description: strPtr(descriptions[StepRole]), AssumeRolePolicyDocument: cloudformation.Document(m.Document(StepRole)),
			ManagedPolicyArns: []string{cloudformation.Ref("GrowthLoopSnowflakePolicy")}, Tags: cloudFormationTags()}
		t.Outputs["RoleArn"] = cloudformation.Output{Value: cloudformation.GetAtt("SnowflakeRole", "Arn"), Description: "the role Snowflake assumes"}
		t.Outputs["ExternalId"] = cloudformation.Output{Value: cloudformation.Ref(paramExternalID), Description: "the integration's external ID"}
	}
	cloudFormationReadme(t)
	if adopted {
		t.Note(cloudformation.NoteDeploy, "## The bucket byob adopted\n\n"+
			"byob's state file records that bucket `"+cfg.Bucket+"` was there before byob (it adopted it, and `byob destroy` never\n"+
			"deletes it). The template only names it: it has no `AWS::S3::Bucket` or `AWS::S3::BucketPolicy`, so deploying, updating or\n"+
			"deleting the stack never changes or deletes the bucket, its tags, or "+adoptedSettings(m, known, "CloudFormation's `AWS::S3::Bucket` and `AWS::S3::BucketPolicy`", "deleting the stack")+"\n\n")
	}
	return nil
}

// cloudFormationBucket writes the bucket with its settings, and its
// policy.
func cloudFormationBucket(t *cloudformation.Template) {
	m, cfg := t.Plan, &t.Plan.Config
	bucket := &s3.Bucket{BucketName: strPtr(cfg.Bucket)}
	if pab, ok := plan.Value[templates.PublicAccessBlock](m, StepPublicAccessBlock); ok {
		bucket.PublicAccessBlockConfiguration = &s3.Bucket_PublicAccessBlockConfiguration{
			BlockPublicAcls: boolPtr(pab.BlockPublicAcls), IgnorePublicAcls: boolPtr(pab.IgnorePublicAcls),
			BlockPublicPolicy: boolPtr(pab.BlockPublicPolicy), RestrictPublicBuckets: boolPtr(pab.RestrictPublicBuckets)}
	}
	if enc, ok := plan.Value[templates.Encryption](m, StepEncryption); ok {
		bucket.BucketEncryption = &s3.Bucket_BucketEncryption{}
		for _, r := range enc.Rules {
			bucket.BucketEncryption.ServerSideEncryptionConfiguration = append(bucket.BucketEncryption.ServerSideEncryptionConfiguration,
				s3.Bucket_ServerSideEncryptionRule{ServerSideEncryptionByDefault: &s3.Bucket_ServerSideEncryptionByDefault{SSEAlgorithm: r.ApplyServerSideEncryptionByDefault.SSEAlgorithm}})
		}
	}
	if own, ok := plan.Value[map[string]any](m, StepObjectOwnership); ok {
		bucket.OwnershipControls = &s3.Bucket_OwnershipControls{}
		for _, r := range own["Rules"].([]map[string]string) {
			bucket.OwnershipControls.Rules = append(bucket.OwnershipControls.Rules, s3.Bucket_OwnershipControlsRule{ObjectOwnership: strPtr(r["ObjectOwnership"])})
		}
	}
	if lc, ok := plan.Value[templates.Lifecycle](m, StepLifecycle); ok {
		bucket.LifecycleConfiguration = &s3.Bucket_LifecycleConfiguration{}
		for _, r := range lc.Rules {
			bucket.LifecycleConfiguration.Rules = append(bucket.LifecycleConfiguration.Rules, s3.Bucket_Rule{
				Id: strPtr(r.ID), Status: r.Status, Prefix: strPtr(r.Filter.Prefix),
				ExpirationInDays:               intPtr(r.Expiration.Days),
				NoncurrentVersionExpiration:    &s3.Bucket_NoncurrentVersionExpiration{NoncurrentDays: r.NoncurrentVersionExpiration.NoncurrentDays},
				AbortIncompleteMultipartUpload: &s3.Bucket_AbortIncompleteMultipartUpload{DaysAfterInitiation: r.AbortIncompleteMultipartUpload.DaysAfterInitiation},
			})
		}
	}
	t.Resources["ExportBucket"] = bucket
	if doc := m.Document(StepBucketPolicy); doc != "" {
		t.Resources["ExportBucketPolicy"] = &s3.BucketPolicy{Bucket: cloudformation.Ref("ExportBucket"), PolicyDocument: cloudformation.Document(doc)}
	}
}

// cloudFormationReadme gives the order: the integration, its identity,
// the stack, the stage.
func cloudFormationReadme(t *cloudformation.Template) {
	stack := t.Plan.Config.Name + "-byob"
	deploy := "`template.json` holds the whole setup.\n\n"
	if t.Plan.Has(StepRole) {
		deploy = "`template.json` is the AWS half; `snowflake.sql` the Snowflake half, statement by statement.\n\n"
		deploy += "The role's trust needs Snowflake's IAM user, which exists only once the integration does, so apply in this order:\n\n"
		deploy += "1. In `snowflake.sql`, replace `<aws-account-id>` with your account id (`aws sts get-caller-identity`)"
		if t.Known.Get(providers.ExternalID) == "" {
			deploy += " and\n   `<external-id>` with an external ID you choose (`echo byob-$(openssl rand -hex 20)`)"
		}
		deploy += ", then run\n   `CREATE STORAGE INTEGRATION` and `DESC INTEGRATION` as a role with `CREATE INTEGRATION`.\n"
		deploy += "2. Deploy the stack with the integration's identity:\n\n"
		deploy += fmt.Sprintf("   ```sh\n   aws cloudformation deploy --stack-name %s --template-file template.json --capabilities CAPABILITY_NAMED_IAM \\\n", stack)
		deploy += "     --parameter-overrides SnowflakeIamUserArn=<STORAGE_AWS_IAM_USER_ARN> ExternalId=<STORAGE_AWS_EXTERNAL_ID>\n   ```\n\n"
		deploy += "   `ExternalId` is the one the integration was created with (DESC INTEGRATION shows it).\n"
		deploy += "3. Run the rest of `snowflake.sql` (the stage and the grants). `LIST @stage` works once IAM trusts Snowflake (a minute).\n\n"
	} else {
		deploy += fmt.Sprintf("```sh\naws cloudformation deploy --stack-name %s --template-file template.json --capabilities CAPABILITY_NAMED_IAM\n```\n\n", stack)
	}
	deploy += "The access key's secret is kept in AWS Secrets Manager (output `KeySecretArn`), never in an output.\n\n"
	t.Note(cloudformation.NoteDeploy, deploy)
	t.Note(cloudformation.NoteOutputs, fmt.Sprintf("aws cloudformation describe-stacks --stack-name %s --query 'Stacks[0].Outputs' > outputs.json\n", stack))
	t.Note(cloudformation.NoteHandover, "`byob bundle` reads the key from the secret (`secretsmanager:GetSecretValue`), proves it works, and writes the bundle (mode 0600).\n")
}

// ReadCloudFormation implements cloudformation.Reader: the stack keeps
// the key's secret in Secrets Manager, which the key's proof reads.
func (Provider) ReadCloudFormation(outs map[string]string, h *providers.Handed) []string {
	b := &h.Bundle
	b.Provider, b.Region, b.AWSAccessKeyID = Name, outs["Region"], outs["AccessKeyId"]
	var missing []string
	if b.Region == "" {
		missing = append(missing, "region")
	}
	secret := outs["KeySecretArn"]
	if secret == "" {
		return append(missing, "KeySecretArn")
	}
	h.Fetch = func(ctx context.Context, conn providers.Conn, b *bundlefile.Bundle) error {
		return fetchKey(ctx, conn, b, secret)
	}
	return missing
}

// fetchKey reads the key the stack keeps in secret through conn, the
// caller's connection to AWS, into b.
func fetchKey(ctx context.Context, conn providers.Conn, b *bundlefile.Bundle, secret string) error {
	c := ClientsOf(conn)
	if c == nil {
		return fmt.Errorf("the stack's key secret %s is in AWS, but the setup is not on S3", secret)
	}
	id, key, err := c.KeyFromSecret(ctx, b.Region, secret)
	if err != nil {
		return err
	}
	if id != b.AWSAccessKeyID {
		return fmt.Errorf("the secret %s holds key %s, but the stack's output AccessKeyId is %s", secret, id, b.AWSAccessKeyID)
	}
	b.AWSSecretAccessKey = key
	return nil
}
