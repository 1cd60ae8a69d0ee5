package render

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/awslabs/goformation/v7/cloudformation/iam"
	"github.com/awslabs/goformation/v7/cloudformation/policies"
	"github.com/awslabs/goformation/v7/cloudformation/s3"
	"github.com/awslabs/goformation/v7/cloudformation/secretsmanager"
	"github.com/awslabs/goformation/v7/cloudformation/tags"

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
	providers.ExternalID:       paramExternalID,
}

// template is a CloudFormation template whose resources are goformation's
// typed resources. (goformation's own Template would link all of its 250
// services into byob, 19 MB, for its parser.)
type template struct {
	AWSTemplateFormatVersion string               `json:"AWSTemplateFormatVersion"`
	Description              string               `json:"Description,omitempty"`
	Parameters               map[string]parameter `json:"Parameters,omitempty"`
	Resources                map[string]any       `json:"Resources"`
	Outputs                  map[string]output    `json:"Outputs,omitempty"`
}

type parameter struct {
	Type           string `json:"Type"`
	Description    string `json:"Description,omitempty"`
	Default        string `json:"Default,omitempty"`
	AllowedPattern string `json:"AllowedPattern,omitempty"`
}

type output struct {
	Value       any    `json:"Value"`
	Description string `json:"Description,omitempty"`
}

// intrinsic marks a string field that stands for an intrinsic function:
// goformation's typed fields are strings, so the function travels as
// marked JSON and JSON() puts it in place.
const intrinsic = "\x00cfn-intrinsic:"

func fn(name string, arg any) string {
	b, _ := json.Marshal(map[string]any{name: arg})
	return intrinsic + string(b)
}

func cfnRef(name string) string          { return fn("Ref", name) }
func cfnGetAtt(name, attr string) string { return fn("Fn::GetAtt", []string{name, attr}) }
func cfnSubString(s string) string       { return fn("Fn::Sub", s) }
func strPtr(s string) *string            { return &s }
func boolPtr(b bool) *bool               { return &b }
func intPtr(n int) *int                  { return &n }

// cfnTags are the tags init puts on the IAM objects it creates.
func cfnTags() []tags.Tag {
	var out []tags.Tag
	for _, k := range slices.Sorted(maps.Keys(awsp.Tags())) {
		out = append(out, tags.Tag{Key: k, Value: awsp.Tags()[k]})
	}
	return out
}

// JSON is the template with each intrinsic in place, indented as
// CloudFormation's own examples are.
func (t *template) JSON() ([]byte, error) {
	raw, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return json.MarshalIndent(mapStrings(v, func(x string) any {
		if f, ok := strings.CutPrefix(x, intrinsic); ok {
			var obj any
			if json.Unmarshal([]byte(f), &obj) == nil {
				return obj
			}
		}
		return x
	}), "", "  ")
}

// cfnSub is s as CloudFormation takes it: a plain string, or Fn::Sub
// with the references as ${...} and literal "${" escaped.
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
	return cfnSubString(b.String())
}

// mapStrings replaces each string of a decoded JSON value by f's.
func mapStrings(v any, f func(string) any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = mapStrings(e, f)
		}
	case []any:
		for i, e := range x {
			x[i] = mapStrings(e, f)
		}
	case string:
		return f(x)
	}
	return v
}

// cfnDocument is a JSON document of the plan with each string holding a
// reference turned into Fn::Sub.
func cfnDocument(doc string) any {
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return doc
	}
	return mapStrings(v, cfnSub)
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
	// The trust takes Snowflake's identity from the parameters, whose
	// defaults are the setup's.
	forTemplate := providers.NewValues(known.Map())
	forTemplate.Delete(providers.ExternalID)
	forTemplate.Delete(providers.WarehouseUserARN)
	m, err := build(cfg, forTemplate, unknown)
	if err != nil {
		return nil, err
	}
	names := awsp.NamesOf(&cfg)
	t := &template{AWSTemplateFormatVersion: "2010-09-09", Parameters: map[string]parameter{}, Resources: map[string]any{}, Outputs: map[string]output{}}
	t.Description = "GrowthLoop export storage made by byob render: bucket " + cfg.Bucket + ", IAM policy, user and key"
	if m.has(awsp.StepRole) {
		t.Description += ", Snowflake's role"
	}

	bucket := &s3.Bucket{BucketName: strPtr(cfg.Bucket)}
	if pab, ok := value[templates.PublicAccessBlock](m, awsp.StepPublicAccessBlock); ok {
		bucket.PublicAccessBlockConfiguration = &s3.Bucket_PublicAccessBlockConfiguration{
			BlockPublicAcls: boolPtr(pab.BlockPublicAcls), IgnorePublicAcls: boolPtr(pab.IgnorePublicAcls),
			BlockPublicPolicy: boolPtr(pab.BlockPublicPolicy), RestrictPublicBuckets: boolPtr(pab.RestrictPublicBuckets)}
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
			bucket.OwnershipControls.Rules = append(bucket.OwnershipControls.Rules, s3.Bucket_OwnershipControlsRule{ObjectOwnership: strPtr(r["ObjectOwnership"])})
		}
	}
	if lc, ok := value[templates.Lifecycle](m, awsp.StepLifecycle); ok {
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
	if doc := m.document(awsp.StepBucketPolicy); doc != "" {
		t.Resources["ExportBucketPolicy"] = &s3.BucketPolicy{Bucket: cfnRef("ExportBucket"), PolicyDocument: cfnDocument(doc)}
	}
	descriptions := awsp.Descriptions(cfg.Bucket, cfg.Prefix)
	t.Resources["GrowthLoopPolicy"] = &iam.ManagedPolicy{ManagedPolicyName: strPtr(names.Policy), Description: strPtr(descriptions[awsp.StepPolicy]),
		PolicyDocument: cfnDocument(m.document(awsp.StepPolicy))}
	t.Resources["GrowthLoopUser"] = &iam.User{UserName: strPtr(names.User), ManagedPolicyArns: []string{cfnRef("GrowthLoopPolicy")}, Tags: cfnTags()}
	t.Resources["GrowthLoopKey"] = &iam.AccessKey{UserName: cfnRef("GrowthLoopUser")}
	// The secret never appears in an output: the stack keeps it in Secrets
	// Manager, where byob bundle --from-cloudformation reads it. It goes
	// with the stack (Delete, also on replacement): the key it holds goes
	// too, and a copy kept would outlive it.
	t.Resources["GrowthLoopKeySecret"] = &secretsmanager.Secret{
		Name:                                 strPtr(cfg.Name + "-byob-growthloop-key"),
		Description:                          strPtr("GrowthLoop's access key for bucket " + cfg.Bucket),
		SecretString:                         strPtr(cfnSubString(`{"aws_access_key_id":"${GrowthLoopKey}","aws_secret_access_key":"${GrowthLoopKey.SecretAccessKey}"}`)),
		AWSCloudFormationDeletionPolicy:      policies.DeletionPolicy("Delete"),
		AWSCloudFormationUpdateReplacePolicy: policies.UpdateReplacePolicy("Delete"),
	}
	t.Outputs["Bucket"] = output{Value: cfnRef("ExportBucket"), Description: "the export bucket"}
	t.Outputs["Region"] = output{Value: cfnRef("AWS::Region"), Description: "the bucket's region"}
	t.Outputs["Prefix"] = output{Value: cfg.Prefix, Description: "exports are written under it"}
	t.Outputs["AccessKeyId"] = output{Value: cfnRef("GrowthLoopKey"), Description: "GrowthLoop's access key id"}
	t.Outputs["KeySecretArn"] = output{Value: cfnRef("GrowthLoopKeySecret"), Description: "the secret holding the access key"}
	t.Outputs["SetupName"] = output{Value: cfg.Name, Description: "byob's name of the setup (--name)"}
	if cfg.OrgID != "" {
		t.Outputs["OrgId"] = output{Value: cfg.OrgID, Description: "GrowthLoop organisation id"}
	}

	if m.has(awsp.StepRole) {
		t.Parameters[paramUserARN] = parameter{Type: "String",
			Description:    "STORAGE_AWS_IAM_USER_ARN from DESC INTEGRATION (snowflake.sql)",
			AllowedPattern: `arn:aws[a-z-]*:iam::[0-9]{12}:user/.+`, Default: known.Get(providers.WarehouseUserARN)}
		// The setup's external ID is the default; a new setup's is the one
		// chosen for <external-id> in snowflake.sql.
		t.Parameters[paramExternalID] = parameter{Type: "String",
			Description: "STORAGE_AWS_EXTERNAL_ID of the integration: the value given for <external-id> in snowflake.sql",
			Default:     known.Get(providers.ExternalID)}
		t.Resources["GrowthLoopSnowflakePolicy"] = &iam.ManagedPolicy{ManagedPolicyName: strPtr(names.SnowflakePolicy), Description: strPtr(descriptions[awsp.StepSnowflakePolicy]),
			PolicyDocument: cfnDocument(m.document(awsp.StepSnowflakePolicy))}
		t.Resources["SnowflakeRole"] = &iam.Role{RoleName: strPtr(names.Role), Description: strPtr(descriptions[awsp.StepRole]), AssumeRolePolicyDocument: cfnDocument(m.document(awsp.StepRole)),
			ManagedPolicyArns: []string{cfnRef("GrowthLoopSnowflakePolicy")}, Tags: cfnTags()}
		t.Outputs["RoleArn"] = output{Value: cfnGetAtt("SnowflakeRole", "Arn"), Description: "the role Snowflake assumes"}
		t.Outputs["ExternalId"] = output{Value: cfnRef(paramExternalID), Description: "the integration's external ID"}
		if in, ok := value[sflib.Integration](m, sfp.StepIntegration); ok {
			t.Outputs["Integration"] = output{Value: string(in.Name), Description: "the storage integration (snowflake.sql)"}
		}
		if st, ok := value[sflib.Stage](m, sfp.StepStage); ok {
			t.Outputs["Stage"] = output{Value: st.Name.String(), Description: "the stage (snowflake.sql)"}
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
	files = append(files, File{"README.md", cloudFormationReadme(cfg, m, known)})
	return files, nil
}
