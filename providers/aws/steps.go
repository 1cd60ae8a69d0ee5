package aws

import (
	"strconv"

	"github.com/growthloop/byob/providers"
)

// Steps returns the AWS steps. With p.Warehouse the role steps wait for
// warehouseStep, which supplies the trust policy's principal and external
// ID (Snowflake's DESC INTEGRATION).
func Steps(p Params, c *Clients, warehouseStep string) []providers.Step {
	b := func(id, title, verify string, needs ...string) providers.Basic {
		return providers.Basic{StepID: id, StepTitle: title, StepVerify: verify, StepNeeds: needs}
	}
	steps := []providers.Step{
		&bucketStep{b(StepBucket, "Create S3 bucket "+p.Bucket, "Bucket exists in the expected region and is yours"), p, c},
		&publicAccessBlockStep{b(StepPublicAccessBlock, "Block all public access to the bucket", "All four public access block settings are on", StepBucket), p, c},
		&encryptionStep{b(StepEncryption, "Turn on default encryption (SSE-S3)", "Default encryption is on", StepBucket), p, c},
		&bucketPolicyStep{b(StepBucketPolicy, "Deny requests without TLS (bucket policy)", "Bucket policy denies requests without TLS", StepBucket), p, c},
		&lifecycleStep{b(StepLifecycle, "Expire objects under "+p.Prefix+" after "+days(p.TTLDays), "Lifecycle rule expires the prefix at the TTL", StepBucket), p, c},
		&policyStep{b(StepPolicy, "Create IAM policy "+p.Names.Policy, "IAM policy is the expected document"), p, c},
	}
	if p.Warehouse {
		steps = append(steps,
			&roleStep{b(StepRole, "Create IAM role "+p.Names.Role+" trusted by Snowflake's IAM user", "Role trusts the integration's IAM user and external ID", warehouseStep), p, c},
			&attachStep{b(StepRolePolicy, "Attach the policy to the role", "Policy is attached to the role", StepRole, StepPolicy), p, c, true},
		)
	}
	return append(steps,
		&userStep{b(StepUser, "Create IAM user "+p.Names.User+" for GrowthLoop", "GrowthLoop's IAM user exists"), p, c},
		&attachStep{b(StepUserPolicy, "Attach the policy to the user", "Policy is attached to the user", StepUser, StepPolicy), p, c, false},
		&accessKeyStep{b(StepAccessKey, "Create the user's access key", "", StepUser), p, c},
	)
}

func days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}
