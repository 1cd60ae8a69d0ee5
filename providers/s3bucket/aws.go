// Package s3bucket implements byob's steps on Amazon S3 and IAM with
// aws-sdk-go-v2: the bucket and its settings, the access policy, the role
// Snowflake assumes, and GrowthLoop's user and access key.
package s3bucket

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/templates"
)

// Names are the IAM names derived from the setup name: GrowthLoop's user
// and its policy, the role Snowflake assumes and its own policy.
type Names struct {
	Policy, SnowflakePolicy, Role, User string
}

// NamesFor derives IAM names from the setup name (--name).
func NamesFor(name string) Names {
	return Names{
		Policy:          name + "-byob-access",
		SnowflakePolicy: name + "-byob-snowflake-access",
		Role:            name + "-byob-snowflake",
		User:            name + "-byob-exporter",
	}
}

// NamesOf are the setup's IAM names: the ones given (--policy-name,
// --role-name, --user-name), else derived from --name.
func NamesOf(c *providers.Config) Names {
	n := NamesFor(c.Name)
	n.Policy = cmp.Or(SettingsOf(c).PolicyName, n.Policy)
	n.Role = cmp.Or(SettingsOf(c).RoleName, n.Role)
	n.User = cmp.Or(SettingsOf(c).UserName, n.User)
	return n
}

// Validate checks each derived name against IAM's rules.
func (n Names) Validate() error {
	for _, c := range []struct {
		kind, name string
		max        int
	}{{"policy", n.Policy, MaxPolicyName}, {"policy", n.SnowflakePolicy, MaxPolicyName}, {"role", n.Role, MaxRoleName}, {"user", n.User, MaxUserName}} {
		if err := ValidateIAMName(c.name, c.max); err != nil {
			return fmt.Errorf("IAM %s name %q %v", c.kind, c.name, err)
		}
	}
	return nil
}

// Params are the inputs of the AWS steps.
type Params struct {
	// Partition is the bucket region's, which every ARN names.
	Partition Partition
	Bucket    string
	Prefix    string
	TTLDays   int
	Names     Names
	// Warehouse adds the role the warehouse assumes.
	Warehouse bool
	// Keys holds the secrets of GrowthLoop's access keys.
	Keys        providers.KeyStore
	Propagation runenv.Propagation
	// Destroy is what byob destroy removes besides byob's own objects.
	Destroy providers.DestroyOptions
	// Adopt and Prune are providers.Setup's.
	Adopt, Prune bool
}

// Clients are the SDK clients the steps call. Nil in a dry run: steps are
// then only asked for their artifacts.
type Clients struct {
	S3  *s3.Client
	IAM *iam.Client
	STS *sts.Client
	// S3Control reads the account's Block Public Access settings.
	S3Control *s3control.Client
	// Secrets is Secrets Manager in a region (where byob render's
	// CloudFormation stack keeps GrowthLoop's key).
	Secrets func(region string) *secretsmanager.Client
	// KeySTS makes an STS client that signs with the given access key, to
	// wait until a new key works.
	KeySTS func(accessKeyID, secretAccessKey string) *sts.Client
	// KeyS3 makes an S3 client that signs with the given access key, to
	// prove what GrowthLoop's key can and cannot do.
	KeyS3 func(accessKeyID, secretAccessKey string) *s3.Client
	// callerARN is who the credentials act as, once Preflight learned it:
	// errors name who was denied.
	callerARN atomic.Pointer[string]
}

func accountID(v *providers.Values) string { return v.Ref(AccountID) }

// PolicyARN is the ARN of the policy name in the caller's account.
func (p Params) PolicyARN(v *providers.Values, name string) string {
	return p.Partition.IAMARN(accountID(v), "policy/"+name)
}

// RoleARN is the ARN of the role Snowflake assumes. It is known before the
// role exists, which lets the integration be created first.
func (p Params) RoleARN(v *providers.Values) string {
	return p.Partition.IAMARN(accountID(v), "role/"+p.Names.Role)
}

// S3Bucket is the bucket, in its partition.
func (p Params) S3Bucket() templates.Bucket {
	return templates.Bucket{Partition: p.Partition.ID, Name: p.Bucket}
}

// errorCode returns the AWS error code of err, "" when it has none.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// errorMessage returns the message of an AWS error, "" when it has none.
func errorMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

// mayHaveLanded reports whether a failed write may still have taken
// effect: it went out and no refusal came back (cancelled, lost in
// transit, a 5xx).
func mayHaveLanded(err error) bool {
	var send *smithyhttp.RequestSendError
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &send) || httpStatus(err) >= 500
}

// httpStatus returns the HTTP status of a failed call, 0 when unknown.
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func isNotFound(err error) bool {
	switch errorCode(err) {
	case "NoSuchEntity", "NoSuchBucket", "NotFound":
		return true
	}
	return httpStatus(err) == http.StatusNotFound
}

// AccessDeniedError says which action the caller may not perform.
type AccessDeniedError struct {
	Action, Caller string
	Err            error
}

func (e *AccessDeniedError) Error() string {
	return fmt.Sprintf("%s is not allowed for %s: grant it in IAM (see the README's list of AWS permissions) and run the same byob command again: %v", e.Action, e.Caller, e.Err)
}

func (e *AccessDeniedError) Unwrap() error { return e.Err }

// wrap adds what was being done and, for AccessDenied, who was denied.
func (c *Clients) wrap(action string, err error) error {
	if err == nil {
		return nil
	}
	switch errorCode(err) {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
		return &AccessDeniedError{Action: action, Caller: c.caller(), Err: err}
	}
	if httpStatus(err) == http.StatusForbidden {
		return &AccessDeniedError{Action: action, Caller: c.caller(), Err: err}
	}
	return fmt.Errorf("%s: %w", action, err)
}

// caller is the ARN c's credentials act as, as Preflight found it; "the
// caller" before.
func (c *Clients) caller() string {
	if arn := c.callerARN.Load(); arn != nil {
		return *arn
	}
	return "the caller"
}

// publicAccessBlock is an account's S3 Block Public Access settings.
type publicAccessBlock struct {
	BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets bool
}

// accountPublicAccessBlock reads account's settings (S3 Control's
// GetPublicAccessBlock); the error NoSuchPublicAccessBlockConfiguration
// says the account has none.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_GetPublicAccessBlock.html
func (c *Clients) accountPublicAccessBlock(ctx context.Context, account string) (publicAccessBlock, error) {
	out, err := c.S3Control.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String(account)})
	if err != nil {
		return publicAccessBlock{}, err
	}
	b := out.PublicAccessBlockConfiguration
	if b == nil {
		return publicAccessBlock{}, nil
	}
	return publicAccessBlock{aws.ToBool(b.BlockPublicAcls), aws.ToBool(b.IgnorePublicAcls), aws.ToBool(b.BlockPublicPolicy), aws.ToBool(b.RestrictPublicBuckets)}, nil
}
