package s3bucket

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestDescribeRule: a drifted lifecycle rule is told as it is, whatever
// form its filter and expiration take.
func TestDescribeRule(t *testing.T) {
	on := types.ExpirationStatusEnabled
	for _, tc := range []struct {
		rule types.LifecycleRule
		want string
	}{
		{types.LifecycleRule{Status: on, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("exports/")}, Expiration: &types.LifecycleExpiration{Days: aws.Int32(30)}},
			"on exports/ expires objects after 30 days"},
		{types.LifecycleRule{Status: on, Filter: &types.LifecycleRuleFilter{And: &types.LifecycleRuleAndOperator{Prefix: aws.String("exports/"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}},
			Expiration: &types.LifecycleExpiration{Date: aws.Time(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))}},
			"on exports/ (and tags) expires objects on 2027-01-01"},
		//lint:ignore SA1019 old rules still carry the deprecated top-level filter
		{types.LifecycleRule{Status: on, Prefix: aws.String("old/"), Expiration: &types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)}},
			"on old/ expires expired delete markers"},
		{types.LifecycleRule{Status: on, Filter: &types.LifecycleRuleFilter{}, NoncurrentVersionExpiration: &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(3)}},
			"on the whole bucket expires noncurrent versions after 3 days"},
		{types.LifecycleRule{Status: types.ExpirationStatusDisabled}, "is disabled"},
	} {
		if got := describeRule(tc.rule); got != tc.want {
			t.Errorf("describeRule = %q, want %q", got, tc.want)
		}
	}
}
