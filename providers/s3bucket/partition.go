package s3bucket

import (
	"strings"

	"github.com/growthloop/byob/providers"
)

// Partition is an AWS partition: its ARNs, and how Snowflake names S3 in
// it. A storage integration reaches a GovCloud or China bucket only from a
// Snowflake account in that same region.
// https://docs.snowflake.com/en/sql-reference/sql/create-storage-integration
type Partition struct {
	ID    string // in ARNs: aws, aws-us-gov, aws-cn
	Title string
	// StorageProvider is the integration's STORAGE_PROVIDER, Scheme its
	// URLs' scheme.
	StorageProvider, Scheme string
}

// The partitions byob supports.
var (
	Commercial = Partition{ID: "aws", Title: "AWS", StorageProvider: "S3", Scheme: "s3://"}
	GovCloud   = Partition{ID: "aws-us-gov", Title: "AWS GovCloud (US)", StorageProvider: "S3GOV", Scheme: "s3gov://"}
	China      = Partition{ID: "aws-cn", Title: "AWS China", StorageProvider: "S3CHINA", Scheme: "s3china://"}
)

// PartitionOf is the partition of region (commercial when it is ""); ok
// is false for the isolated partitions, which byob does not support.
// https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html
func PartitionOf(region string) (p Partition, ok bool) {
	switch {
	case strings.HasPrefix(region, "us-gov-"):
		return GovCloud, true
	case strings.HasPrefix(region, "cn-"):
		return China, true
	case strings.Contains(region, "-iso"):
		return Partition{}, false
	}
	return Commercial, true
}

// partitionOfARN is the partition an ARN names (arn:PARTITION:...).
func partitionOfARN(arn string) string {
	if parts := strings.SplitN(arn, ":", 3); len(parts) == 3 && parts[0] == "arn" {
		return parts[1]
	}
	return ""
}

// partitionOf is the partition of the bucket's region in c.
func partitionOf(c *providers.Config) Partition {
	p, _ := PartitionOf(SettingsOf(c).Region)
	if p.ID == "" {
		return Commercial
	}
	return p
}

// IAMARN is the ARN of an IAM resource (policy/NAME, role/NAME) of
// account in p.
func (p Partition) IAMARN(account, resource string) string {
	return "arn:" + p.ID + ":iam::" + account + ":" + resource
}

// CheckPlacement implements providers.Placer, once the bucket's region is
// settled: the credentials must be of its partition, and a warehouse
// must be able to reach a bucket there.
func (Provider) CheckPlacement(c *providers.Config, v *providers.Values, wh *providers.Identity, whTitle string) error {
	bucket := partitionOf(c)
	if caller := v.Get(CallerPartition); caller != "" && caller != bucket.ID {
		return providers.Usagef("--region %s is in the %s partition (%s), but the AWS credentials are of partition %s: "+
			"use credentials of %s (--profile or AWS_PROFILE), or a --region of %s", SettingsOf(c).Region, bucket.Title, bucket.ID, caller, bucket.Title, caller)
	}
	if wh == nil {
		return nil
	}
	whRegion, onAWS := wh.RegionIn("aws")
	whPart, _ := PartitionOf(whRegion)
	switch {
	case bucket != Commercial && (!onAWS || whRegion != SettingsOf(c).Region):
		return providers.Usagef("a bucket in %s (%s) is reachable by a %s storage integration only from an account in that same region, and the %s account is in %s: "+
			"choose a --region the %s account can reach, or use a %s account in %s", SettingsOf(c).Region, bucket.Title, whTitle, whTitle, wh.Region, whTitle, whTitle, SettingsOf(c).Region)
	case onAWS && whRegion != "" && whPart != Commercial && whPart != bucket:
		return providers.Usagef("the %s account is in %s (%s, region %s): its storage integrations reach buckets in that region only, not in %s: use --region %s",
			whTitle, wh.Region, whPart.Title, whRegion, SettingsOf(c).Region, whRegion)
	}
	return nil
}
