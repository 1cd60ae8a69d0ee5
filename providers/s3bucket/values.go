package s3bucket

import "github.com/growthloop/byob/providers"

// Values the AWS steps share, kept in the state file. Never a secret.
var (
	// AccountID is the caller's account, read at preflight.
	AccountID = providers.Key{Name: "aws.account_id", Placeholder: "<aws-account-id>"}
	// BucketRegion is the bucket's region.
	BucketRegion = providers.Key{Name: "aws.region", Placeholder: "<region: the Snowflake account's region>"}
	// CallerPartition is the caller's (aws, aws-us-gov, aws-cn).
	CallerPartition = providers.Key{Name: "aws.partition", Placeholder: "aws"}
	// AccessKeyID is the bundle's access key.
	AccessKeyID = providers.Key{Name: "aws.access_key_id", Placeholder: "<access-key-id: created at apply>"}
)
