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
		&bucketStep{b(StepBucket, "Create S3 bucket "+p.Bucket, "Bucket exists in the expected region and is yours").Reading(inBucket...), p, c},
		&publicAccessBlockStep{b(StepPublicAccessBlock, "Block all public access to the bucket", "All four public access block settings are on", StepBucket).Reading(inBucket...), p, c},
		&encryptionStep{b(StepEncryption, "Turn on default encryption (SSE-S3)", "Default encryption is on", StepBucket).Reading(inBucket...), p, c},
		&bucketPolicyStep{b(StepBucketPolicy, "Deny requests without TLS (bucket policy)", "Bucket policy denies requests without TLS", StepBucket).Reading(inBucket...), p, c},
		&lifecycleStep{b(StepLifecycle, "Expire objects under "+p.Prefix+" after "+days(p.TTLDays), "Lifecycle rule expires the prefix at the TTL", StepBucket).Reading(inBucket...), p, c},
		&policyStep{b(StepPolicy, "Create IAM policy "+p.Names.Policy, "IAM policy is the expected document").Reading(providers.AWSAccountID), p, c},
	}
	if p.Warehouse {
		steps = append(steps,
			&roleStep{b(StepRole, "Create IAM role "+p.Names.Role+" trusted by Snowflake's IAM user", "Role trusts the integration's IAM user and external ID", warehouseStep).
				Reading(providers.WarehouseUserARN, providers.ExternalID), p, c},
			&attachStep{b(StepRolePolicy, "Attach the policy to the role", "Policy is attached to the role", StepRole, StepPolicy).Reading(providers.AWSAccountID), p, c, true},
		)
	}
	return append(steps,
		&userStep{b(StepUser, "Create IAM user "+p.Names.User+" for GrowthLoop", "GrowthLoop's IAM user exists"), p, c},
		&attachStep{b(StepUserPolicy, "Attach the policy to the user", "Policy is attached to the user", StepUser, StepPolicy).Reading(providers.AWSAccountID), p, c, false},
		&accessKeyStep{b(StepAccessKey, "Create the user's access key", "", StepUser).Writing(providers.AccessKeyID), p, c},
	)
}

// inBucket are what the bucket's calls read: its region and owner.
var inBucket = []providers.Key{providers.AWSRegion, providers.AWSAccountID}

func days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}
