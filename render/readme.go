package render

import (
	"fmt"
	"strings"

	"github.com/growthloop/byob/providers"
	awsp "github.com/growthloop/byob/providers/aws"
	"github.com/growthloop/byob/wizard"
)

// terraformReadme says how to apply the module and hand its key to
// GrowthLoop.
func terraformReadme(cfg providers.Config, m *Model) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# GrowthLoop export storage: bucket %s\n\n", cfg.Bucket)
	b.WriteString("Written by `byob render --format terraform` from the same plan `byob init` applies:\n")
	b.WriteString("every policy, bucket setting, lifecycle rule and Snowflake object is the one init would make.\n\n")
	b.WriteString("## Apply\n\n```sh\nterraform init\nterraform plan -out byob.tfplan   # review it\nterraform apply byob.tfplan\n```\n\n")
	b.WriteString("Credentials come from the providers' usual places: AWS (`AWS_PROFILE`, SSO), Google (`gcloud auth application-default login`), ")
	b.WriteString("Snowflake (`SNOWFLAKE_*` variables or `~/.snowflake/config`); the Snowflake role needs `CREATE INTEGRATION`.\n\n")
	if m.has(awsp.StepRole) {
		b.WriteString("One apply is enough: the role's ARN is computed from the account id and its name, the external ID comes from\n")
		b.WriteString("`random_id.external_id`, and the role's trust reads the integration's `storage_aws_iam_user_arn`.\n")
		b.WriteString("IAM may take a minute to trust Snowflake: `LIST @stage` can fail with 003167 until it does.\n\n")
	}
	b.WriteString("## The key is in the Terraform state\n\n")
	b.WriteString("The module creates GrowthLoop's key, so the Terraform state holds its secret (the outputs are `sensitive`, the state is not).\n")
	b.WriteString("Keep the state in an encrypted backend with restricted access (S3 with SSE-KMS, GCS with CMEK, Terraform Cloud), never in git.\n\n")
	b.WriteString("## Hand the key to GrowthLoop\n\n```sh\nterraform output -json | byob bundle --from-terraform -\n")
	b.WriteString(verifyCommand(cfg) + "\n```\n\n")
	b.WriteString("`byob bundle` proves the key works before it writes the bundle (mode 0600); upload it in GrowthLoop under\n")
	b.WriteString("Settings > Organization > Storage. `byob verify` then checks the whole setup, read-only.\n")
	return b.String()
}

// cloudFormationReadme gives the order: the integration, its identity,
// the stack, the stage.
func cloudFormationReadme(cfg providers.Config, m *Model) string {
	var b strings.Builder
	stack := cfg.Name + "-byob"
	fmt.Fprintf(&b, "# GrowthLoop export storage: bucket %s\n\n", cfg.Bucket)
	b.WriteString("Written by `byob render --format cloudformation` from the same plan `byob init` applies.\n")
	b.WriteString("`template.json` is the AWS half; `snowflake.sql` the Snowflake half, statement by statement.\n\n")
	if m.has(awsp.StepRole) {
		b.WriteString("The role's trust needs Snowflake's IAM user, which exists only once the integration does, so apply in this order:\n\n")
		b.WriteString("1. In `snowflake.sql`, replace `<aws-account-id>` with your account id (`aws sts get-caller-identity`), then run\n")
		b.WriteString("   `CREATE STORAGE INTEGRATION` and `DESC INTEGRATION` as a role with `CREATE INTEGRATION`.\n")
		b.WriteString("2. Deploy the stack with the integration's identity:\n\n")
		fmt.Fprintf(&b, "   ```sh\n   aws cloudformation deploy --stack-name %s --template-file template.json --capabilities CAPABILITY_NAMED_IAM \\\n", stack)
		b.WriteString("     --parameter-overrides SnowflakeIamUserArn=<STORAGE_AWS_IAM_USER_ARN> ExternalId=<STORAGE_AWS_EXTERNAL_ID>\n   ```\n\n")
		b.WriteString("   The ExternalId default is the one `snowflake.sql` sets; pass DESC INTEGRATION's value if it differs.\n")
		b.WriteString("3. Run the rest of `snowflake.sql` (the stage and the grants). `LIST @stage` works once IAM trusts Snowflake (a minute).\n\n")
	} else {
		fmt.Fprintf(&b, "```sh\naws cloudformation deploy --stack-name %s --template-file template.json --capabilities CAPABILITY_NAMED_IAM\n```\n\n", stack)
	}
	b.WriteString("The access key's secret is kept in AWS Secrets Manager (output `KeySecretArn`), never in an output.\n\n")
	b.WriteString("## Hand the key to GrowthLoop\n\n```sh\n")
	fmt.Fprintf(&b, "aws cloudformation describe-stacks --stack-name %s --query 'Stacks[0].Outputs' > outputs.json\n", stack)
	b.WriteString("byob bundle --from-cloudformation outputs.json\n")
	b.WriteString(verifyCommand(cfg) + "\n```\n\n")
	b.WriteString("`byob bundle` reads the key from the secret (`secretsmanager:GetSecretValue`), proves it works, and writes the bundle (mode 0600).\n")
	return b.String()
}

// verifyCommand is byob verify with the flags that describe the setup:
// init's, as the verify of a setup without a state file takes them.
func verifyCommand(cfg providers.Config) string {
	return "byob verify " + strings.TrimPrefix(wizard.InitCommand(cfg), "byob init ")
}
