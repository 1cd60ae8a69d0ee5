package render

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/growthloop/byob/providers"
	awsp "github.com/growthloop/byob/providers/aws"
	"github.com/growthloop/byob/wizard"
)

// terraformReadme says how to apply the module, take over an existing
// setup, and hand the key to GrowthLoop.
func terraformReadme(cfg providers.Config, t *tfModule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# GrowthLoop export storage: bucket %s\n\n", cfg.Bucket)
	b.WriteString("Written by `byob render --format terraform` from the same plan `byob init` applies:\n")
	b.WriteString("every policy, bucket setting, lifecycle rule, tag, description and Snowflake object is the one init would make.\n\n")
	b.WriteString("## Providers\n\n")
	for _, n := range slices.Sorted(maps.Keys(t.uses)) {
		fmt.Fprintf(&b, "- `%s` %s\n", tfProviders[n][0], tfProviders[n][1])
	}
	b.WriteString("\nPinned exactly: these are the releases byob's tests validate the module with (`terraform validate`).\n")
	if t.uses["snowflake"] {
		b.WriteString("The Snowflake provider is 1.2.3, in which `snowflake_storage_integration` and `snowflake_stage` are preview features:\n")
		b.WriteString("the `provider \"snowflake\"` block enables them (`preview_features_enabled`). Provider 2.18 and later have generally\n")
		b.WriteString("available replacements (`snowflake_storage_integration_aws` or `_gcs`, `snowflake_stage_external_s3` or `_gcs`);\n")
		b.WriteString("moving to them is a change of resource types, with `import` blocks for the objects this module made.\n")
	}
	b.WriteString("\n## Apply\n\n```sh\nterraform init\nterraform plan -out byob.tfplan   # review it\nterraform apply byob.tfplan\n```\n\n")
	b.WriteString("Credentials come from the providers' usual places: AWS (`AWS_PROFILE`, SSO), Google (`gcloud auth application-default login`), ")
	b.WriteString("Snowflake (`SNOWFLAKE_*` variables or `~/.snowflake/config`); the Snowflake role needs `CREATE INTEGRATION`.\n\n")
	if t.m.has(awsp.StepRole) {
		b.WriteString("One apply is enough, and the external ID flows one way: the integration's role ARN is computed from the account id\n")
		b.WriteString("and the role's name (no role needs to exist first), Snowflake gives the integration its IAM user and external ID\n")
		b.WriteString("(`storage_aws_iam_user_arn`, `storage_aws_external_id`), and the role's trust reads both. So the trust and the\n")
		b.WriteString("integration agree after the first `terraform apply`. IAM may take a minute to trust Snowflake: `LIST @stage` can fail\n")
		b.WriteString("with 003167 until it does.\n\n")
	}
	t.importReadme(&b)
	b.WriteString("## The key is in the Terraform state\n\n")
	b.WriteString("The module creates GrowthLoop's key, so the Terraform state holds its secret (the outputs are `sensitive`, the state is not).\n")
	b.WriteString("Keep the state in an encrypted backend with restricted access (S3 with SSE-KMS, GCS with CMEK, Terraform Cloud), never in git.\n\n")
	b.WriteString("## Hand the key to GrowthLoop\n\n```sh\nterraform output -json | byob bundle --from-terraform -\n")
	b.WriteString(verifyCommand(cfg) + "\n```\n\n")
	b.WriteString("`byob bundle` proves the key works before it writes the bundle (mode 0600); upload it in GrowthLoop under\n")
	b.WriteString("Settings > Organization > Storage. `byob verify` then checks the whole setup, read-only.\n")
	return b.String()
}

// importReadme says what imports.tf takes over from a setup byob made,
// and what it cannot.
func (t *tfModule) importReadme(b *strings.Builder) {
	if t.state == nil || (t.state.Destroyed == nil && len(t.imports.Body().Blocks()) == 0) {
		return
	}
	b.WriteString("## Taking over the setup byob made\n\n")
	if d := t.state.Destroyed; d != nil {
		fmt.Fprintf(b, "The state file records a `byob destroy` that finished (%s): there is nothing to import,\n", d.At.UTC().Format(time.RFC3339))
		b.WriteString("and `terraform apply` makes the setup anew.\n\n")
		return
	}
	n := len(t.imports.Body().Blocks())
	fmt.Fprintf(b, "`imports.tf` imports the %d objects byob's state file records as made (Terraform 1.5 `import` blocks, each with the\n", n)
	b.WriteString("import ID its provider documents). The module describes them exactly as `byob init` made them, so against the same\n")
	fmt.Fprintf(b, "accounts `terraform plan` shows `%d to import, 0 to add, 0 to change, 0 to destroy`", n)
	if len(t.unimported) > 0 {
		b.WriteString(", apart from what cannot be imported, which it adds:\n\n")
		for _, u := range t.unimported {
			b.WriteString("- " + u + "\n")
		}
		b.WriteString("\nTerraform creates those anew. A new key is a second one: hand it to GrowthLoop as below, then delete byob's\n")
		b.WriteString("(the key id in `growthloop-byob-bundle.json`) with the cloud's console or CLI.\n\n")
	} else {
		b.WriteString(".\n\n")
	}
	if t.have[awsp.StepAccessKey] {
		b.WriteString("An imported access key has no secret in the Terraform state: IAM never returns it. GrowthLoop keeps using the key\n")
		b.WriteString("byob handed over (`growthloop-byob-bundle.json`); `byob bundle --from-terraform` cannot hand it over again. To give\n")
		b.WriteString("GrowthLoop a key from Terraform, replace it (`terraform apply -replace=aws_iam_access_key.growthloop`), hand the new\n")
		b.WriteString("one over at once as below: the old key is deleted by the replace.\n\n")
	}
	b.WriteString("After `terraform apply`, Terraform owns the setup: change it there, and stop using `byob init`, `rotate-keys` and\n")
	b.WriteString("`destroy` on it (keep `byob verify`).\n\n")
}

// cloudFormationReadme gives the order: the integration, its identity,
// the stack, the stage.
func cloudFormationReadme(cfg providers.Config, m *Model, known *providers.Values) string {
	var b strings.Builder
	stack := cfg.Name + "-byob"
	fmt.Fprintf(&b, "# GrowthLoop export storage: bucket %s\n\n", cfg.Bucket)
	b.WriteString("Written by `byob render --format cloudformation` from the same plan `byob init` applies.\n")
	b.WriteString("`template.json` is the AWS half; `snowflake.sql` the Snowflake half, statement by statement.\n\n")
	if m.has(awsp.StepRole) {
		b.WriteString("The role's trust needs Snowflake's IAM user, which exists only once the integration does, so apply in this order:\n\n")
		b.WriteString("1. In `snowflake.sql`, replace `<aws-account-id>` with your account id (`aws sts get-caller-identity`)")
		if known.Get(providers.ExternalID) == "" {
			b.WriteString(" and\n   `<external-id>` with an external ID you choose (`echo byob-$(openssl rand -hex 20)`)")
		}
		b.WriteString(", then run\n   `CREATE STORAGE INTEGRATION` and `DESC INTEGRATION` as a role with `CREATE INTEGRATION`.\n")
		b.WriteString("2. Deploy the stack with the integration's identity:\n\n")
		fmt.Fprintf(&b, "   ```sh\n   aws cloudformation deploy --stack-name %s --template-file template.json --capabilities CAPABILITY_NAMED_IAM \\\n", stack)
		b.WriteString("     --parameter-overrides SnowflakeIamUserArn=<STORAGE_AWS_IAM_USER_ARN> ExternalId=<STORAGE_AWS_EXTERNAL_ID>\n   ```\n\n")
		b.WriteString("   `ExternalId` is the one the integration was created with (DESC INTEGRATION shows it).\n")
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
