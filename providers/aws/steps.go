package aws

import (
	"strconv"

	"github.com/growthloop/byob/providers"
)

// Steps returns the AWS steps in plan order. With p.Snowflake the role
// steps wait for integrationStep, whose DESC INTEGRATION supplies the
// trust policy's principal and external ID.
func Steps(p Params, c *Clients, integrationStep string) []providers.Step {
	b := func(id, title string, needs ...string) providers.Basic {
		return providers.Basic{StepID: id, StepTitle: title, StepNeeds: needs}
	}
	steps := []providers.Step{
		&bucketStep{b(StepBucket, "Create S3 bucket "+p.Bucket), p, c},
		&publicAccessBlockStep{b(StepPublicAccessBlock, "Block all public access to the bucket", StepBucket), p, c},
		&encryptionStep{b(StepEncryption, "Turn on default encryption (SSE-S3)", StepBucket), p, c},
		&bucketPolicyStep{b(StepBucketPolicy, "Deny requests without TLS (bucket policy)", StepBucket), p, c},
		&lifecycleStep{b(StepLifecycle, "Expire objects under "+p.Prefix+" after "+days(p.TTLDays), StepBucket), p, c},
		&policyStep{b(StepPolicy, "Create IAM policy "+p.Names.Policy), p, c},
	}
	if p.Snowflake {
		steps = append(steps,
			&roleStep{b(StepRole, "Create IAM role "+p.Names.Role+" trusted by Snowflake's IAM user", integrationStep), p, c},
			&attachStep{b(StepRolePolicy, "Attach the policy to the role", StepRole, StepPolicy), p, c, true},
		)
	}
	return append(steps,
		&userStep{b(StepUser, "Create IAM user "+p.Names.User+" for GrowthLoop"), p, c},
		&attachStep{b(StepUserPolicy, "Attach the policy to the user", StepUser, StepPolicy), p, c, false},
		&accessKeyStep{b(StepAccessKey, "Create the user's access key", StepUser), p, c},
	)
}

func days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}
