package s3bucket

import (
	"errors"
	"fmt"
	"strings"

	"github.com/growthloop/byob/providers"
)

var (
	bucketChars   = providers.Pattern(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`)
	regionPattern = providers.Pattern(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$`)
	iamName       = providers.Pattern(`^[A-Za-z0-9+=,.@_-]+$`)
)

var (
	reservedBucketPrefixes = []string{"xn--", "sthree-", "amzn-s3-demo-"}
	reservedBucketSuffixes = []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}
)

// ValidateBucketName checks the S3 general purpose bucket naming rules.
func ValidateBucketName(name string) error {
	var b providers.Broken
	b.If(len(name) < 3 || len(name) > 63, "must be 3-63 characters long (it is %d)", len(name))
	b.If(name != "" && !bucketChars().MatchString(name), "may contain only lowercase letters, digits, dots and hyphens, and must start and end with a letter or digit")
	b.If(strings.Contains(name, ".."), "must not contain two adjacent dots")
	b.If(providers.DottedQuad().MatchString(name), "must not be formatted as an IP address")
	for _, p := range reservedBucketPrefixes {
		b.If(strings.HasPrefix(name, p), "must not start with the reserved prefix %q", p)
	}
	for _, s := range reservedBucketSuffixes {
		b.If(strings.HasSuffix(name, s), "must not end with the reserved suffix %q", s)
	}
	return b.Err()
}

// ValidateRegion checks an AWS region name (us-east-1, eu-central-2,
// us-gov-west-1 ...): one the AWS SDK byob is built with knows, or, when
// unknown is allowed, of the shape of one (a region newer than byob).
func ValidateRegion(region string, unknown bool) error {
	if !regionPattern().MatchString(region) {
		return errors.New("must look like an AWS region name, for example us-east-1 or eu-west-2" + providers.DidYouMean(region, regionNames()))
	}
	if _, ok := PartitionOf(region); !ok {
		return errors.New("is in an isolated AWS partition, which Snowflake and byob do not support (supported: aws, aws-us-gov, aws-cn)")
	}
	if !unknown && !knownRegion(region) {
		return fmt.Errorf("is not a region byob's AWS SDK knows%s (one newer than byob: add %s)", providers.DidYouMean(region, regionNames()), providers.AllowUnknownRegionFlag)
	}
	return nil
}

// IAM name limits.
const (
	MaxRoleName   = 64
	MaxUserName   = 64
	MaxPolicyName = 128
)

// ValidateIAMName checks an IAM role, user or policy name against IAM's
// character set and the given length limit.
func ValidateIAMName(name string, max int) error {
	if name == "" || len(name) > max {
		return fmt.Errorf("must be 1-%d characters long (it is %d)", max, len(name))
	}
	if !iamName().MatchString(name) {
		return errors.New("may contain only letters, digits and + = , . @ _ -")
	}
	return nil
}
