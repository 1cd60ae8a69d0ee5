package aws

import (
	"errors"
	"strings"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/render/plan"
	"github.com/growthloop/byob/render/raw"
)

// RenderFlags implements providers.RenderFlagger: the account id, which
// only preflight learns.
func (Provider) RenderFlags() []providers.RenderFlag {
	return []providers.RenderFlag{{Flag: "aws-account-id", Usage: "your AWS account id, to write into the SQL and documents instead of a placeholder",
		Key: providers.AWSAccountID, Check: func(id string) error {
			if len(id) != 12 || strings.Trim(id, "0123456789") != "" {
				return errors.New("must be 12 digits")
			}
			return nil
		}}}
}

// RawRefs implements raw.Refs.
func (Provider) RawRefs() map[providers.Key]string {
	return map[providers.Key]string{providers.AWSAccountID: "aws-account-id"}
}

// documentFiles name the steps' documents, one file each.
var documentFiles = map[string]string{
	StepPolicy: "iam-policy.json", StepSnowflakePolicy: "snowflake-iam-policy.json", StepRole: "trust-policy.json",
	StepBucketPolicy: "bucket-policy.json", StepLifecycle: "lifecycle.json", StepPublicAccessBlock: "public-access-block.json",
	StepEncryption: "encryption.json", StepObjectOwnership: "ownership-controls.json", StepBucket: "create-bucket.json",
}

// Documents implements raw.Documents.
func (Provider) Documents(m *plan.Model) []raw.File { return raw.DocumentFiles(m, documentFiles) }
