package s3bucket

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
	"github.com/aws/smithy-go/logging"

	"github.com/growthloop/byob/internal/netfail"
	"github.com/growthloop/byob/providers"
)

// Connect loads credentials the way the AWS CLI does (environment, shared
// config and credentials files, profile, SSO, instance roles) and returns
// the clients. AWS_ENDPOINT_URL (and the per-service variables) are the
// SDK's own; with a custom endpoint S3 uses path-style addressing, as
// emulators such as LocalStack need.
func Connect(ctx context.Context, profile, region string, opts ...func(*config.LoadOptions) error) (*Clients, error) {
	opts = append(opts, config.WithRetryer(DefaultRetry.Retryer))
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	var missing config.SharedConfigProfileNotExistError
	switch {
	case errors.As(err, &missing):
		flag := "--profile"
		if profile == "" {
			flag = "AWS_PROFILE"
		}
		return nil, providers.Usagef("invalid %s %q: no such profile in %s (list them with `aws configure list-profiles`)", flag, missing.Profile, strings.Join(missing.Filename, " or "))
	case err != nil:
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return NewClients(cfg), nil
}

// Retry says how calls that failed for a passing reason (throttling,
// 5xx, a reset connection) are tried again: the SDK's standard retryer,
// with more attempts than its default 3 and no client-side retry quota,
// which a burst of errors would otherwise exhaust. A call that is not
// idempotent opts out (see accessKeyStep.createOnce).
type Retry struct {
	MaxAttempts int
	MaxBackoff  time.Duration
}

// DefaultRetry is what byob uses against AWS.
var DefaultRetry = Retry{MaxAttempts: 10, MaxBackoff: 10 * time.Second}

// Retryer makes the SDK retryer of r.
func (r Retry) Retryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = r.MaxAttempts
		o.MaxBackoff = r.MaxBackoff
		o.Backoff = retry.NewExponentialJitterBackoff(r.MaxBackoff)
		o.RateLimiter = ratelimit.None
		// No host, nothing listening, an untrusted certificate: say so
		// at once instead of after ten attempts.
		o.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if netfail.Lasting(err) {
				return aws.FalseTernary
			}
			return aws.UnknownTernary
		})}, o.Retryables...)
	})
}

// NewClients makes the clients from an SDK configuration; without a
// retryer of its own, cfg gets DefaultRetry's.
func NewClients(cfg aws.Config) *Clients {
	if cfg.Retryer == nil {
		cfg.Retryer = DefaultRetry.Retryer
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1" // IAM and STS are global; S3 gets the bucket's region
	}
	pathStyle := func(o *s3.Options) {
		o.UsePathStyle = o.BaseEndpoint != nil
		o.DisableLogOutputChecksumValidationSkipped = true // the SDK would print it to stderr
	}
	return &Clients{
		S3:  s3.NewFromConfig(cfg, pathStyle),
		IAM: iam.NewFromConfig(cfg),
		STS: sts.NewFromConfig(cfg),
		S3Control: s3control.NewFromConfig(cfg, func(o *s3control.Options) {
			o.EndpointResolverV2 = controlEndpoint{s3control.NewDefaultEndpointResolverV2()}
		}),
		Secrets: func(region string) *secretsmanager.Client {
			return secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.Region = region })
		},
		KeySTS: func(id, secret string) *sts.Client { return sts.NewFromConfig(withKey(cfg, id, secret)) },
		KeyS3:  func(id, secret string) *s3.Client { return s3.NewFromConfig(withKey(cfg, id, secret), pathStyle) },
	}
}

// controlEndpoint is S3 Control's endpoint, which names the account in its
// host (123456789012.s3-control.us-east-1.amazonaws.com). A custom
// endpoint on an IP address, localhost or a name without a domain (an
// emulator on 127.0.0.1, localhost:4566 or a container's name) cannot
// take that label: its requests go to the host itself, with the account
// in the x-amz-account-id header they always carry.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_GetPublicAccessBlock.html
type controlEndpoint struct{ s3control.EndpointResolverV2 }

func (r controlEndpoint) ResolveEndpoint(ctx context.Context, p s3control.EndpointParameters) (smithyendpoints.Endpoint, error) {
	e, err := r.EndpointResolverV2.ResolveEndpoint(ctx, p)
	if err != nil || p.Endpoint == nil {
		return e, err
	}
	if label, rest, ok := strings.Cut(e.URI.Hostname(), "."); ok && p.AccountId != nil && label == *p.AccountId && (net.ParseIP(rest) != nil || !strings.Contains(rest, ".") || strings.HasSuffix(rest, ".localhost")) {
		e.URI.Host = strings.Replace(e.URI.Host, label+".", "", 1)
	}
	return e, nil
}

// withKey is cfg signing with an access key instead of the caller's.
func withKey(cfg aws.Config, id, secret string) aws.Config {
	c := cfg.Copy()
	c.Credentials = credentials.NewStaticCredentialsProvider(id, secret, "")
	return c
}

// Caller is who the credentials belong to.
type Caller struct {
	AccountID, ARN string
}

// Preflight asks STS who the caller is, which c keeps for its errors, and
// records the account id, which every IAM ARN byob computes needs.
func Preflight(ctx context.Context, c *Clients, v *providers.Values) (Caller, error) {
	out, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		hint := "are AWS credentials configured? try `aws sts get-caller-identity`, --profile or AWS_PROFILE"
		if why, ok := netfail.Unreachable(err); ok {
			// Before the credentials: a request that got no answer says
			// nothing about them.
			return Caller{}, &CallerError{Hint: "cannot reach AWS STS: " + why + "; check the network and any proxy (HTTPS_PROXY, NO_PROXY)", Err: err}
		}
		switch {
		case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
			// Stopped waiting (--connect-timeout, Ctrl-C): nothing was
			// said about the credentials either.
			return Caller{}, &CallerError{Hint: "no answer from AWS STS at " + c.stsEndpoint(), Err: err}
		case httpStatus(err) == http.StatusNotFound:
			return Caller{}, &CallerError{Hint: c.stsEndpoint() + " answered 404: it is not AWS STS; check AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_STS)", Err: err}
		}
		switch {
		case strings.Contains(err.Error(), "get credentials: ") && strings.Contains(err.Error(), "SSO"):
			hint = "the AWS SSO session has expired or never began: run `aws sso login` (with --profile NAME when byob runs with one)"
		case strings.Contains(err.Error(), "get credentials: "):
			// The SDK found no credentials in its default chain: what it
			// tried is said in a sentence (its own chain of errors with
			// --verbose).
			return Caller{}, &CallerError{Hint: "no AWS credentials found: byob looked where the AWS CLI does, in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, " +
				"then the profile (--profile, AWS_PROFILE or default) in " + profileFiles() + ", SSO included, then an instance or container role; " +
				"run `aws configure`, or `aws sso login --profile NAME` and pass --profile NAME", Err: err}
		case errorCode(err) == "InvalidClientTokenId":
			hint = "the credentials were refused: check them with `aws sts get-caller-identity`; GovCloud and China credentials also need a --region (or AWS_REGION) of their partition, for example us-gov-west-1"
		}
		return Caller{}, fmt.Errorf("sts:GetCallerIdentity (%s): %w", hint, err)
	}
	caller := Caller{AccountID: aws.ToString(out.Account), ARN: aws.ToString(out.Arn)}
	if caller.ARN != "" {
		c.callerARN.Store(&caller.ARN)
	}
	v.Set(AccountID, caller.AccountID)
	v.Set(CallerPartition, partitionOfARN(caller.ARN))
	return caller, nil
}

// stsEndpoint names where STS calls go: the configured endpoint, else
// AWS's own in the client's region.
func (c *Clients) stsEndpoint() string {
	o := c.STS.Options()
	if o.BaseEndpoint != nil {
		return *o.BaseEndpoint
	}
	return "sts." + o.Region + ".amazonaws.com"
}

// CallerError is a preflight that could not tell who the caller is, for
// a reason Hint says in a sentence: no answer from STS, or no
// credentials. The SDK's own chain of errors follows only when Verbose.
type CallerError struct {
	Hint    string
	Err     error
	Verbose bool
}

func (e *CallerError) Error() string {
	if e.Verbose {
		return "sts:GetCallerIdentity (" + e.Hint + "): " + e.Err.Error()
	}
	return "sts:GetCallerIdentity: " + e.Hint + " (--verbose shows the SDK's errors)"
}

func (e *CallerError) Unwrap() error { return e.Err }

// sdkLogger sends the SDK's own log lines (a retry's warning, "falling
// back to IMDSv1") to w, and drops them when w is nil: they would
// otherwise reach the user's terminal.
func sdkLogger(w io.Writer) logging.Logger {
	if w == nil {
		return logging.Nop{}
	}
	return logging.NewStandardLogger(w)
}

// KeyFromSecret reads GrowthLoop's access key from the Secrets Manager
// secret byob render's CloudFormation template makes (SecretString
// {"aws_access_key_id", "aws_secret_access_key"}) in region, with c's
// credentials. The secret never reaches an error.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
func (c *Clients) KeyFromSecret(ctx context.Context, region, arn string) (id, secret string, err error) {
	out, err := c.Secrets(region).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return "", "", fmt.Errorf("secretsmanager:GetSecretValue %s (the caller needs it on the stack's secret): %w", arn, err)
	}
	var key struct {
		ID     string `json:"aws_access_key_id"`
		Secret string `json:"aws_secret_access_key"`
	}
	if json.Unmarshal([]byte(aws.ToString(out.SecretString)), &key) != nil || key.ID == "" || key.Secret == "" {
		return "", "", fmt.Errorf("secret %s does not hold aws_access_key_id and aws_secret_access_key as JSON", arn)
	}
	return key.ID, key.Secret, nil
}

// profileFiles names the files the SDK reads profiles from: the
// environment's AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE, or the
// defaults.
func profileFiles() string {
	return cmp.Or(os.Getenv("AWS_SHARED_CREDENTIALS_FILE"), "~/.aws/credentials") + " and " + cmp.Or(os.Getenv("AWS_CONFIG_FILE"), "~/.aws/config")
}
