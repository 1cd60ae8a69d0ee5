package aws

import (
	"strconv"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/templates"
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
		&policyStep{b(StepPolicy, "Create IAM policy "+p.Names.Policy+" for GrowthLoop's user", "GrowthLoop's IAM policy is the expected document").Reading(providers.AWSAccountID), p, c,
			p.Names.Policy, templates.S3Access(p.Bucket, p.Prefix), "GrowthLoop exports to"},
	}
	if p.Warehouse {
		steps = append(steps,
			&policyStep{b(StepSnowflakePolicy, "Create IAM policy "+p.Names.SnowflakePolicy+" for Snowflake's role", "Snowflake's IAM policy is the expected document").Reading(providers.AWSAccountID), p, c,
				p.Names.SnowflakePolicy, templates.S3SnowflakeAccess(p.Bucket, p.Prefix), "Snowflake unloads to"},
			&roleStep{b(StepRole, "Create IAM role "+p.Names.Role+" trusted by Snowflake's IAM user", "Role trusts the integration's IAM user and external ID", warehouseStep).
				Reading(providers.WarehouseUserARN, providers.ExternalID), p, c},
			&attachStep{b(StepRolePolicy, "Attach Snowflake's policy to the role", "Snowflake's policy (only) is attached to the role", StepRole, StepSnowflakePolicy).Reading(providers.AWSAccountID), p, c,
				true, p.Names.SnowflakePolicy, p.Names.Policy},
		)
	}
	return append(steps,
		&userStep{b(StepUser, "Create IAM user "+p.Names.User+" for GrowthLoop", "GrowthLoop's IAM user exists"), p, c},
		&attachStep{b(StepUserPolicy, "Attach GrowthLoop's policy to the user", "GrowthLoop's policy is attached to the user", StepUser, StepPolicy).Reading(providers.AWSAccountID), p, c,
			false, p.Names.Policy, ""},
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
