package render

import (
	"strings"

	"github.com/growthloop/byob/providers"
	awsp "github.com/growthloop/byob/providers/aws"
	"github.com/growthloop/byob/providers/gcp"
	sfp "github.com/growthloop/byob/providers/snowflake"
)

// rawRefs are what the raw documents show for the values applying
// learns: the plan's own placeholders, which a reviewer replaces.
func placeholders(s string) string {
	var b strings.Builder
	for i, part := range refs(s) {
		if i%2 == 1 {
			b.WriteString("<" + part + ">")
		} else {
			b.WriteString(part)
		}
	}
	return b.String()
}

// rawUnknown marks each value applying learns by the name a reviewer
// fills in.
var rawUnknown = map[providers.Key]string{
	providers.AWSAccountID:            "aws-account-id",
	providers.ExternalID:              externalIDPlaceholder,
	providers.WarehouseUserARN:        "STORAGE_AWS_IAM_USER_ARN from DESC INTEGRATION",
	providers.WarehouseServiceAccount: "STORAGE_GCP_SERVICE_ACCOUNT from DESC INTEGRATION",
}

// externalIDPlaceholder stands for a new setup's external ID in the raw
// documents and the SQL, where the trust and the integration must get the
// same value.
const externalIDPlaceholder = "external-id"

// rawJSON writes the plan's JSON documents, one file each, exactly as
// init sends them.
func rawJSON(cfg providers.Config, known *providers.Values) ([]File, error) {
	m, err := build(cfg, known, rawUnknown)
	if err != nil {
		return nil, err
	}
	names := map[string]string{
		awsp.StepPolicy: "iam-policy.json", awsp.StepSnowflakePolicy: "snowflake-iam-policy.json", awsp.StepRole: "trust-policy.json",
		awsp.StepBucketPolicy: "bucket-policy.json", awsp.StepLifecycle: "lifecycle.json", awsp.StepPublicAccessBlock: "public-access-block.json",
		awsp.StepEncryption: "encryption.json", awsp.StepObjectOwnership: "ownership-controls.json", awsp.StepBucket: "create-bucket.json",
		gcp.StepBucket: "bucket.json", gcp.StepWriterRole: "writer-role.json", gcp.StepSnowflakeRole: "snowflake-role.json",
		gcp.StepServiceAccount: "service-account.json", gcp.StepWriterBinding: "writer-binding.json", gcp.StepSnowflakeBinding: "snowflake-binding.json",
	}
	var files []File
	for _, id := range m.Steps {
		if name, ok := names[id]; ok {
			if doc := m.document(id); doc != "" {
				files = append(files, File{name, placeholders(doc) + "\n"})
			}
		}
	}
	if sql := snowflakeSQL(m); sql != "" {
		files = append(files, File{"snowflake.sql", sql})
	}
	return files, nil
}

// rawSQL writes only the Snowflake statements.
func rawSQL(cfg providers.Config, known *providers.Values) ([]File, error) {
	m, err := build(cfg, known, rawUnknown)
	if err != nil {
		return nil, err
	}
	sql := snowflakeSQL(m)
	if sql == "" {
		return nil, providers.Usagef("--format sql needs --warehouse snowflake: without a warehouse there is no SQL")
	}
	return []File{{"snowflake.sql", sql}}, nil
}

// snowflakeSQL is the plan's SQL in order, each statement as init runs
// it, with what to do between them.
func snowflakeSQL(m *Model) string {
	var b strings.Builder
	for _, id := range m.Steps {
		for _, a := range m.Artifacts[id] {
			if a.Format != providers.FormatSQL {
				continue
			}
			if b.Len() == 0 {
				b.WriteString("-- byob's Snowflake statements, in the order byob init runs them.\n")
				if strings.Contains(a.Content, ref(externalIDPlaceholder)) {
					b.WriteString("-- <" + externalIDPlaceholder + ">: choose one (byob's are byob- and 40 hex digits: echo byob-$(openssl rand -hex 20));\n")
					b.WriteString("-- the role's trust must require the same.\n")
				}
			}
			b.WriteString("\n-- " + a.Name + "\n" + placeholders(a.Content) + ";\n")
			if id == sfp.StepIntegration && strings.HasPrefix(a.Content, "DESC") {
				b.WriteString("-- Put its STORAGE_AWS_IAM_USER_ARN (S3) or STORAGE_GCP_SERVICE_ACCOUNT (GCS) in the role's trust or the bucket's binding.\n")
			}
		}
	}
	return b.String()
}
