package s3bucket

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/growthloop/byob/internal/prose"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/render/plan"
	"github.com/growthloop/byob/render/raw"
	"github.com/growthloop/byob/templates"
)

// RenderFlags implements providers.RenderFlagger: the account id, which
// only preflight learns.
func (Provider) RenderFlags() []providers.RenderFlag {
	return []providers.RenderFlag{{Flag: "aws-account-id", Usage: "your AWS account id, to write into the SQL and documents instead of a placeholder",
		Key: AccountID, Check: func(id string) error {
			if len(id) != 12 || strings.Trim(id, "0123456789") != "" {
				return errors.New("must be 12 digits")
			}
			return nil
		}}}
}

// RawRefs implements raw.Refs.
func (Provider) RawRefs() map[providers.Key]string {
	return map[providers.Key]string{AccountID: "aws-account-id"}
}

// documentFiles name the steps' documents, one file each.
var documentFiles = map[string]string{
	StepPolicy: "iam-policy.json", StepSnowflakePolicy: "snowflake-iam-policy.json", StepRole: "trust-policy.json",
	StepBucketPolicy: "bucket-policy.json", StepLifecycle: "lifecycle.json", StepPublicAccessBlock: "public-access-block.json",
	StepEncryption: "encryption.json", StepObjectOwnership: "ownership-controls.json", StepBucket: "create-bucket.json",
}

// Documents implements raw.Documents.
func (Provider) Documents(m *plan.Model) []raw.File { return raw.DocumentFiles(m, documentFiles) }

// settingNames say, in the READMEs, what each setting of an adopted
// bucket is, and what the bucket had when byob found it (adopted).
var settingNames = map[string]struct{ what, found string }{
	StepPublicAccessBlock: {"the public access block, all four settings on", "the bucket had one; byob turned on any that was off"},
	StepEncryption:        {"default encryption", "the bucket had it"},
	StepBucketPolicy:      {"the bucket policy's statement that denies requests without TLS (below)", "the bucket had a policy; byob added the statement to it, or found it there"},
	StepObjectOwnership:   {"Object Ownership BucketOwnerEnforced (ACLs off)", "the bucket had Object Ownership set; byob turned ACLs off if they were on"},
	StepLifecycle:         {"lifecycle rule " + templates.ExpireRuleID, "the bucket had the rule"},
}

// adoptedSettings is the README's item on the settings byob wants on a
// bucket it adopted, which the rendered code leaves as they are: who made
// each, why they are left, and byob's bucket-policy statement for the
// customer's own policy. replace names what would replace them
// ("Terraform's aws_s3_bucket_policy, ..."), remove what would remove them.
func adoptedSettings(m *plan.Model, v *providers.Values, replace, remove string) string {
	c := &m.Config
	var b strings.Builder
	b.WriteString("the settings byob wants on that bucket, left as they are:\n")
	for _, step := range bucketSettings {
		if !m.Has(step) {
			continue
		}
		s := settingNames[step]
		if step == StepLifecycle {
			s.what += fmt.Sprintf(" (objects under %s expire after %s)", c.Prefix, prose.Count(c.TTLDays, "day"))
		}
		switch {
		case providers.Owned(v, step):
			s.what += ": byob made it"
		case providers.Adopted(v, step):
			s.what += ": " + s.found
		}
		b.WriteString("  - " + s.what + "\n")
	}
	fmt.Fprintf(&b, "\n  %s\n", replace)
	b.WriteString("  each replace the bucket's whole setting (the whole policy, every lifecycle rule), so they would drop your own\n")
	fmt.Fprintf(&b, "  statements and rules, and %s would remove them. Keep them where you manage the bucket;\n", remove)
	b.WriteString("  `byob verify` checks them.\n")
	if doc := m.Document(StepBucketPolicy); doc != "" {
		var p templates.Policy
		if json.Unmarshal([]byte(doc), &p) == nil && len(p.Statement) == 1 {
			b.WriteString("  byob's statement, to keep in your bucket policy:\n\n  ```json\n")
			b.WriteString("  " + strings.ReplaceAll(templates.IndentJSON(p.Statement[0]), "\n", "\n  ") + "\n  ```")
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}
