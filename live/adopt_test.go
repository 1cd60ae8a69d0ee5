//go:build live

package live

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/snowflakestage"
	"github.com/growthloop/byob/snowflake"
	"github.com/growthloop/byob/wizard"
)

// TestLiveAdoptHandMade makes the setup GrowthLoop's guide makes by hand
// (its policy, a role trusting the account with external ID 0000, the
// user and its key, the integration, the stage URL without its slash),
// then verify names the mistakes, init --adopt repairs them keeping the
// one key, verify passes and destroy removes only what byob added.
func TestLiveAdoptHandMade(t *testing.T) {
	r := newRun(t, "aws", "snowflake")
	ctx := context.Background()
	cfg := r.config(t, s3bucket.Name, snowflakestage.Name)
	providers.UpdateSection(&cfg, func(s *s3bucket.Settings) {
		s.PolicyName, s.RoleName, s.UserName = Prefix+r.id+"-guide-policy", Prefix+r.id+"-guide-role", Prefix+r.id+"-guide-user"
	})
	tags := []iamtypes.Tag{{Key: aws.String(Tag), Value: aws.String(r.id)}}
	iamc := iam.NewFromConfig(r.aws)
	s3c := s3.NewFromConfig(r.aws, func(o *s3.Options) { o.UsePathStyle = r.emulated; o.Region = s3bucket.SettingsOf(&cfg).Region })
	db := r.snowflakeDB(t)
	stage := snowflake.Name{Database: snowflake.Ident(snowflakestage.SettingsOf(&cfg).Database), Schema: snowflake.Ident(snowflakestage.SettingsOf(&cfg).Schema), Object: snowflake.Ident(snowflakestage.SettingsOf(&cfg).Stage)}
	t.Cleanup(func() { // what the customer made; byob's destroy leaves it
		if keys, err := iamc.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(s3bucket.SettingsOf(&cfg).UserName)}); err == nil {
			for _, k := range keys.AccessKeyMetadata {
				_, _ = iamc.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(s3bucket.SettingsOf(&cfg).UserName), AccessKeyId: k.AccessKeyId})
			}
		}
		sweepAWS(t, r, 0)
		_, _ = db.ExecContext(ctx, "DROP STAGE IF EXISTS "+stage.SQL())
		_, _ = db.ExecContext(ctx, "DROP STORAGE INTEGRATION IF EXISTS "+snowflake.Ident(snowflakestage.SettingsOf(&cfg).Integration).SQL())
	})

	var account string
	if r.emulated {
		account = "123456789012"
	} else {
		u, err := iamc.GetUser(ctx, &iam.GetUserInput{})
		if err == nil {
			account = strings.Split(aws.ToString(u.User.Arn), ":")[4]
		}
	}
	var create *s3types.CreateBucketConfiguration
	if s3bucket.SettingsOf(&cfg).Region != "us-east-1" {
		create = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(s3bucket.SettingsOf(&cfg).Region)}
	}
	_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(cfg.Bucket), CreateBucketConfiguration: create})
	must(t, err, "create the bucket")
	guide := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:GetObject","s3:GetObjectVersion"],"Resource":"arn:aws:s3:::` + cfg.Bucket +
		`/exports/*"},{"Effect":"Allow","Action":["s3:ListBucket","s3:GetBucketLocation"],"Resource":"arn:aws:s3:::` + cfg.Bucket + `","Condition":{"StringLike":{"s3:prefix":["exports/*"]}}}]}`
	policy, err := iamc.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(s3bucket.SettingsOf(&cfg).PolicyName), PolicyDocument: aws.String(guide), Tags: tags})
	must(t, err, "create the guide's policy")
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"0000"}}}]}`
	_, err = iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(s3bucket.SettingsOf(&cfg).RoleName), AssumeRolePolicyDocument: aws.String(trust), Tags: tags})
	must(t, err, "create the guide's role")
	_, err = iamc.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(s3bucket.SettingsOf(&cfg).RoleName), PolicyArn: policy.Policy.Arn})
	must(t, err, "attach")
	_, err = iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(s3bucket.SettingsOf(&cfg).UserName), Tags: tags})
	must(t, err, "create the guide's user")
	_, err = iamc.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(s3bucket.SettingsOf(&cfg).UserName), PolicyArn: policy.Policy.Arn})
	must(t, err, "attach")
	key, err := iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(s3bucket.SettingsOf(&cfg).UserName)})
	must(t, err, "create the guide's key")
	roleARN := "arn:aws:iam::" + account + ":role/" + s3bucket.SettingsOf(&cfg).RoleName
	for _, q := range []string{
		"CREATE STORAGE INTEGRATION IF NOT EXISTS " + snowflake.Ident(snowflakestage.SettingsOf(&cfg).Integration).SQL() + "\n  TYPE = EXTERNAL_STAGE\n  STORAGE_PROVIDER = 'S3'\n  ENABLED = TRUE\n  STORAGE_AWS_ROLE_ARN = " +
			snowflake.Literal(roleARN) + "\n  STORAGE_ALLOWED_LOCATIONS = (" + snowflake.Literal("s3://"+cfg.Bucket+"exports/") + ")", // the slash left out here too, or Snowflake refuses the stage
		"CREATE STAGE IF NOT EXISTS " + stage.SQL() + "\n  URL = " + snowflake.Literal("s3://"+cfg.Bucket+"exports/live/") + "\n  STORAGE_INTEGRATION = " + snowflake.Ident(snowflakestage.SettingsOf(&cfg).Integration).SQL(),
	} {
		_, err := db.ExecContext(ctx, q)
		must(t, err, q)
	}
	deps := r.connect(t, cfg)

	values := providers.NewValues(nil)
	values.Set(providers.GrowthLoopsKey, aws.ToString(key.AccessKey.AccessKeyId))
	rep, err := wizard.Verify(ctx, cfg, deps, values, &wizard.Bundle{}, wizard.VerifyOptions{Propagation: r.prop()})
	must(t, err, "verify")
	var all strings.Builder
	for _, c := range rep.Checks {
		all.WriteString(c.Detail + "\n")
	}
	for _, want := range []string{"s3:GetBucketLocation is under an s3:prefix condition", "trust external ID 0000 does not match", "lacks the slash after the bucket"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("verify does not say %q:\n%s", want, all.String())
		}
	}

	state, values, err := wizard.Prepare(cfg)
	must(t, err, "prepare")
	_, err = wizard.Apply(ctx, cfg, deps, state, values, wizard.ApplyOptions{Adopt: true, Propagation: r.prop()})
	must(t, err, "init --adopt")
	if keys := r.keys(t, cfg); len(keys) != 1 || keys[0] != aws.ToString(key.AccessKey.AccessKeyId) {
		t.Errorf("keys %v: want only the guide's, untouched", keys)
	}
	if rep := verify(t, r, cfg, deps); !rep.OK {
		t.Errorf("verify after --adopt: %s", summary(rep))
	}
	destroy(t, r, cfg, deps)
	if _, err := iamc.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(s3bucket.SettingsOf(&cfg).UserName)}); err != nil {
		t.Errorf("destroy removed the user byob adopted: %v", err)
	}
}
