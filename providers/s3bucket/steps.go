package s3bucket

import (
	"github.com/growthloop/byob/internal/prose"
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
	user := &userStep{Basic: b(StepUser, "Create IAM user "+p.Names.User+" for GrowthLoop", "GrowthLoop's IAM user exists"), p: p, c: c}
	steps := []providers.Step{
		&bucketStep{Basic: b(StepBucket, "Create S3 bucket "+p.Bucket, "Bucket exists in the expected region and is yours").Reading(inBucket...), p: p, c: c},
		&publicAccessBlockStep{Basic: b(StepPublicAccessBlock, "Block all public access to the bucket", "All four public access block settings are on", StepBucket).Reading(inBucket...), p: p, c: c},
		&encryptionStep{Basic: b(StepEncryption, "Turn on default encryption (SSE-S3)", "Default encryption is on", StepBucket).Reading(inBucket...), p: p, c: c},
		&bucketPolicyStep{Basic: b(StepBucketPolicy, "Deny requests without TLS (bucket policy)", "Bucket policy denies requests without TLS", StepBucket).Reading(inBucket...), p: p, c: c},
		&objectOwnershipStep{Basic: b(StepObjectOwnership, "Turn ACLs off (Object Ownership: bucket owner enforced)", "ACLs are off (BucketOwnerEnforced)", StepBucket).Reading(inBucket...), p: p, c: c},
		&lifecycleStep{Basic: b(StepLifecycle, "Expire objects under "+p.Prefix+" after "+prose.Count(p.TTLDays, "day"), "Lifecycle rule expires the prefix at the TTL", StepBucket).Reading(inBucket...), p: p, c: c},
		&policyStep{Basic: b(StepPolicy, "Create IAM policy "+p.Names.Policy+" for GrowthLoop's user", "GrowthLoop's IAM policy is the expected document").Reading(AccountID), p: p, c: c,
			name: p.Names.Policy, doc: templates.S3Access(p.S3Bucket(), p.Prefix), holder: user.has},
	}
	if p.Warehouse {
		role := &roleStep{Basic: b(StepRole, "Create IAM role "+p.Names.Role+" trusted by Snowflake's IAM user", "Role trusts the integration's IAM user and external ID", warehouseStep).
			Reading(providers.WarehouseUserARN, providers.ExternalID), p: p, c: c}
		steps = append(steps,
			&policyStep{Basic: b(StepSnowflakePolicy, "Create IAM policy "+p.Names.SnowflakePolicy+" for Snowflake's role", "Snowflake's IAM policy is the expected document").Reading(AccountID), p: p, c: c,
				name: p.Names.SnowflakePolicy, doc: templates.S3SnowflakeAccess(p.S3Bucket(), p.Prefix), holder: role.has},
			role,
			&attachStep{Basic: b(StepRolePolicy, "Attach Snowflake's policy to the role", "Snowflake's policy is attached to the role", StepRole, StepSnowflakePolicy).Reading(AccountID), p: p, c: c,
				toRole: true, policy: p.Names.SnowflakePolicy, replaces: p.Names.Policy},
		)
	}
	return append(steps,
		user,
		&attachStep{Basic: b(StepUserPolicy, "Attach GrowthLoop's policy to the user", "GrowthLoop's policy is attached to the user", StepUser, StepPolicy).Reading(AccountID), p: p, c: c,
			policy: p.Names.Policy},
		&accessKeyStep{Basic: b(StepAccessKey, "Create the user's access key", "", StepUser).Writing(AccessKeyID), p: p, c: c},
	)
}

// inBucket are what the bucket's calls read: its region and owner.
var inBucket = []providers.Key{BucketRegion, AccountID}
