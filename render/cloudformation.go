package render

import (
	"encoding/json"
	"strings"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/iam"
	"github.com/awslabs/goformation/v7/cloudformation/s3"
	"github.com/awslabs/goformation/v7/cloudformation/secretsmanager"

	"github.com/growthloop/byob/providers"
	awsp "github.com/growthloop/byob/providers/aws"
	sfp "github.com/growthloop/byob/providers/snowflake"
	sflib "github.com/growthloop/byob/snowflake"
	"github.com/growthloop/byob/templates"
)

// The template's parameters: Snowflake's identity, known only after
// CREATE STORAGE INTEGRATION and DESC INTEGRATION, and the external ID
// the integration was created with.
const (
	paramUserARN    = "SnowflakeIamUserArn"
	paramExternalID = "ExternalId"
)

// What a template refers to for the values applying learns (Fn::Sub).
var cfnRefs = map[providers.Key]string{
	providers.AWSAccountID:     "AWS::AccountId",
	providers.WarehouseUserARN: paramUserARN,
}

// cfnSub is s as CloudFormation takes it: a plain string, or Fn::Sub
// with the references as ${...} and literal "${" escaped (in goformation's
// encoding, which Template.JSON writes out as Fn::Sub unevaluated).
func cfnSub(s string) any {
	if !hasRef(s) {
		return s
	}
	var b strings.Builder
	for i, part := range refs(s) {
		if i%2 == 1 {
			b.WriteString("${" + part + "}")
		} else {
			b.WriteString(strings.ReplaceAll(part, "${", "${!"))
		}
	}
	return cloudformation.Sub(b.String())
}

// cfnDocument is a JSON document of the plan with each string holding a
// reference turned into Fn::Sub.
func cfnDocument(doc string) any {
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return doc
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		case string:
			return cfnSub(x)
		}
		return v
	}
	return walk(v)
}

// cloudFormation writes the AWS half as one template, the Snowflake SQL
// beside it, and a README with the order to apply them in.
func cloudFormation(cfg providers.Config, known *providers.Values) ([]File, error) {
	if cfg.Provider != awsp.Name {
		return nil, providers.Usagef("--format cloudformation is for --provider s3: use --format terraform or json for %s", cfg.Provider)
	}
	unknown := map[providers.Key]string{}
	for k, expr := range cfnRefs {
		unknown[k] = expr
	}
	m, err := build(cfg, known, unknown)
	if err != nil {
		return nil, err
	}
	names := awsp.NamesFor(cfg.Name)
	t := cloudformation.NewTemplate()
	t.Description = "GrowthLoop export storage made by byob render: bucket " + cfg.Bucket + ", IAM policy, user and key" + map[bool]string{true: ", Snowflake's role", false: ""}[m.has(awsp.StepRole)]

	bucket := &s3.Bucket{BucketName: cloudformation.String(cfg.Bucket)}
	if pab, ok := value[templates.PublicAccessBlock](m, awsp.StepPublicAccessBlock); ok {
		bucket.PublicAccessBlockConfiguration = &s3.Bucket_PublicAccessBlockConfiguration{
			BlockPublicAcls: cloudformation.Bool(pab.BlockPublicAcls), IgnorePublicAcls: cloudformation.Bool(pab.IgnorePublicAcls),
			BlockPublicPolicy: cloudformation.Bool(pab.BlockPublicPolicy), RestrictPublicBuckets: cloudformation.Bool(pab.RestrictPublicBuckets)}
	}
	if enc, ok := value[templates.Encryption](m, awsp.StepEncryption); ok {
		bucket.BucketEncryption = &s3.Bucket_BucketEncryption{}
		for _, r := range enc.Rules {
			bucket.BucketEncryption.ServerSideEncryptionConfiguration = append(bucket.BucketEncryption.ServerSideEncryptionConfiguration,
				s3.Bucket_ServerSideEncryptionRule{ServerSideEncryptionByDefault: &s3.Bucket_ServerSideEncryptionByDefault{SSEAlgorithm: r.ApplyServerSideEncryptionByDefault.SSEAlgorithm}})
		}
	}
	if own, ok := value[map[string]any](m, awsp.StepObjectOwnership); ok {
		bucket.OwnershipControls = &s3.Bucket_OwnershipControls{}
		for _, r := range own["Rules"].([]map[string]string) {
			bucket.OwnershipControls.Rules = append(bucket.OwnershipControls.Rules, s3.Bucket_OwnershipControlsRule{ObjectOwnership: cloudformation.String(r["ObjectOwnership"])})
		}
	}
	if lc, ok := value[templates.Lifecycle](m, awsp.StepLifecycle); ok {
		bucket.LifecycleConfiguration = &s3.Bucket_LifecycleConfiguration{}
		for _, r := range lc.Rules {
			bucket.LifecycleConfiguration.Rules = append(bucket.LifecycleConfiguration.Rules, s3.Bucket_Rule{
				Id: cloudformation.String(r.ID), Status: r.Status, Prefix: cloudformation.String(r.Filter.Prefix),
				ExpirationInDays:               cloudformation.Int(r.Expiration.Days),
				NoncurrentVersionExpiration:    &s3.Bucket_NoncurrentVersionExpiration{NoncurrentDays: r.NoncurrentVersionExpiration.NoncurrentDays},
				AbortIncompleteMultipartUpload: &s3.Bucket_AbortIncompleteMultipartUpload{DaysAfterInitiation: r.AbortIncompleteMultipartUpload.DaysAfterInitiation},
			})
		}
	}
	t.Resources["ExportBucket"] = bucket
	if doc := m.document(awsp.StepBucketPolicy); doc != "" {
		t.Resources["ExportBucketPolicy"] = &s3.BucketPolicy{Bucket: cloudformation.Ref("ExportBucket"), PolicyDocument: cfnDocument(doc)}
	}
	t.Resources["GrowthLoopPolicy"] = &iam.ManagedPolicy{ManagedPolicyName: cloudformation.String(names.Policy), PolicyDocument: cfnDocument(m.document(awsp.StepPolicy))}
	t.Resources["GrowthLoopUser"] = &iam.User{UserName: cloudformation.String(names.User), ManagedPolicyArns: []string{cloudformation.Ref("GrowthLoopPolicy")}}
	t.Resources["GrowthLoopKey"] = &iam.AccessKey{UserName: cloudformation.Ref("GrowthLoopUser")}
	// The secret never appears in an output: the stack keeps it in Secrets
	// Manager, where byob bundle --from-cloudformation reads it.
	t.Resources["GrowthLoopKeySecret"] = &secretsmanager.Secret{
		Name:         cloudformation.String(cfg.Name + "-byob-growthloop-key"),
		Description:  cloudformation.String("GrowthLoop's access key for bucket " + cfg.Bucket),
		SecretString: cloudformation.String(cloudformation.Sub(`{"aws_access_key_id":"${GrowthLoopKey}","aws_secret_access_key":"${GrowthLoopKey.SecretAccessKey}"}`)),
	}
	t.Outputs["Bucket"] = cloudformation.Output{Value: cloudformation.Ref("ExportBucket"), Description: cloudformation.String("the export bucket")}
	t.Outputs["Region"] = cloudformation.Output{Value: cloudformation.Ref("AWS::Region"), Description: cloudformation.String("the bucket's region")}
	t.Outputs["Prefix"] = cloudformation.Output{Value: cfg.Prefix, Description: cloudformation.String("exports are written under it")}
	t.Outputs["AccessKeyId"] = cloudformation.Output{Value: cloudformation.Ref("GrowthLoopKey"), Description: cloudformation.String("GrowthLoop's access key id")}
	t.Outputs["KeySecretArn"] = cloudformation.Output{Value: cloudformation.Ref("GrowthLoopKeySecret"), Description: cloudformation.String("the secret holding the access key")}
	t.Outputs["SetupName"] = cloudformation.Output{Value: cfg.Name, Description: cloudformation.String("byob's name of the setup (--name)")}
	if cfg.OrgID != "" {
		t.Outputs["OrgId"] = cloudformation.Output{Value: cfg.OrgID, Description: cloudformation.String("GrowthLoop organisation id")}
	}

	if m.has(awsp.StepRole) {
		t.Parameters[paramUserARN] = cloudformation.Parameter{Type: "String",
			Description:    cloudformation.String("STORAGE_AWS_IAM_USER_ARN from DESC INTEGRATION (snowflake.sql)"),
			AllowedPattern: cloudformation.String(`arn:aws[a-z-]*:iam::[0-9]{12}:user/.+`)}
		t.Parameters[paramExternalID] = cloudformation.Parameter{Type: "String",
			Description: cloudformation.String("STORAGE_AWS_EXTERNAL_ID of the integration (snowflake.sql sets it)"),
			Default:     known.Get(providers.ExternalID)}
		trust := m.document(awsp.StepRole)
		// The external ID is the parameter, so that DESC INTEGRATION's
		// value can be given when it differs from the one chosen here.
		trust = strings.ReplaceAll(trust, known.Get(providers.ExternalID), ref(paramExternalID))
		t.Resources["GrowthLoopSnowflakePolicy"] = &iam.ManagedPolicy{ManagedPolicyName: cloudformation.String(names.SnowflakePolicy), PolicyDocument: cfnDocument(m.document(awsp.StepSnowflakePolicy))}
		t.Resources["SnowflakeRole"] = &iam.Role{RoleName: cloudformation.String(names.Role), AssumeRolePolicyDocument: cfnDocument(trust),
			ManagedPolicyArns: []string{cloudformation.Ref("GrowthLoopSnowflakePolicy")}}
		t.Outputs["RoleArn"] = cloudformation.Output{Value: cloudformation.GetAtt("SnowflakeRole", "Arn"), Description: cloudformation.String("the role Snowflake assumes")}
		t.Outputs["ExternalId"] = cloudformation.Output{Value: cloudformation.Ref(paramExternalID), Description: cloudformation.String("the integration's external ID")}
		if in, ok := value[sflib.Integration](m, sfp.StepIntegration); ok {
			t.Outputs["Integration"] = cloudformation.Output{Value: string(in.Name), Description: cloudformation.String("the storage integration (snowflake.sql)")}
		}
		if st, ok := value[sflib.Stage](m, sfp.StepStage); ok {
			t.Outputs["Stage"] = cloudformation.Output{Value: st.Name.String(), Description: cloudformation.String("the stage (snowflake.sql)")}
		}
	}
	tmpl, err := t.JSON()
	if err != nil {
		return nil, err
	}
	files := []File{{"template.json", string(tmpl) + "\n"}}
	// The SQL names the values a reviewer fills in, as the raw documents do.
	raw, err := build(cfg, known, rawUnknown)
	if err != nil {
		return nil, err
	}
	if sql := snowflakeSQL(raw); sql != "" {
		files = append(files, File{"snowflake.sql", sql})
	}
	files = append(files, File{"README.md", cloudFormationReadme(cfg, m)})
	return files, nil
}
