package aws

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/growthloop/byob/providers"
)

// signedRequest is an AWS API call byob makes without the service's SDK
// client, whose package initialisation every start of byob would pay for
// one call.
type signedRequest struct {
	service, region string // what the signature names
	method, url     string
	header          http.Header
	body            []byte
	// errorOf reads an error answer's code and message.
	errorOf func(body []byte) (code, message string)
}

// send signs r with cfg's credentials (Signature Version 4) and sends it
// through cfg's HTTP client, retrying as cfg's retryer retries SDK calls.
// An error answer is the SDK's own *awshttp.ResponseError, so that
// errorCode, httpStatus and wrap read it like any other.
func send(ctx context.Context, cfg aws.Config, r signedRequest) ([]byte, error) {
	retryer := DefaultRetry.Retryer()
	if cfg.Retryer != nil {
		retryer = cfg.Retryer()
	}
	for attempt := 1; ; attempt++ {
		body, err := r.once(ctx, cfg)
		if err == nil || attempt >= retryer.MaxAttempts() || !retryer.IsErrorRetryable(err) {
			return body, err
		}
		pause, derr := retryer.RetryDelay(attempt, err)
		if derr != nil {
			return nil, err
		}
		if err := providers.Sleep(ctx, pause); err != nil {
			return nil, err
		}
	}
}

func (r signedRequest) once(ctx context.Context, cfg aws.Config) ([]byte, error) {
	if cfg.Credentials == nil {
		return nil, errors.New("no AWS credentials")
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, bytes.NewReader(r.body))
	if err != nil {
		return nil, err
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	sum := sha256.Sum256(r.body)
	hash := hex.EncodeToString(sum[:])
	if r.service == "s3" {
		req.Header.Set("X-Amz-Content-Sha256", hash) // S3 and S3 Control require it
	}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hash, r.service, r.region, time.Now()); err != nil {
		return nil, err
	}
	var hc aws.HTTPClient = http.DefaultClient
	if cfg.HTTPClient != nil {
		hc = cfg.HTTPClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &smithyhttp.RequestSendError{Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, &smithyhttp.RequestSendError{Err: err}
	}
	if resp.StatusCode < 300 {
		return body, nil
	}
	code, message := r.errorOf(body)
	if code == "" {
		code = http.StatusText(resp.StatusCode)
	}
	return nil, &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: resp}, Err: &smithy.GenericAPIError{Code: code, Message: message}},
		RequestID:     cmp.Or(resp.Header.Get("X-Amz-Request-Id"), resp.Header.Get("X-Amzn-Requestid")),
	}
}

// publicAccessBlock is an account's S3 Block Public Access settings.
type publicAccessBlock struct {
	BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets bool
}

// endpoint is where a signed request to a service goes: the endpoint the
// user set for it (AWS_ENDPOINT_URL_<id>), else for every service
// (AWS_ENDPOINT_URL, a profile's endpoint_url), as given; else Amazon's
// host in region.
// https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
func (c *Clients) endpoint(id, host, region string) string {
	if e := os.Getenv("AWS_ENDPOINT_URL_" + id); e != "" {
		return strings.TrimSuffix(e, "/")
	}
	if c.cfg.BaseEndpoint != nil {
		return strings.TrimSuffix(*c.cfg.BaseEndpoint, "/")
	}
	return "https://" + host + "." + region + "." + dnsSuffix(region)
}

// dnsSuffix is the partition's domain of region's endpoints.
func dnsSuffix(region string) string {
	if p, _ := PartitionOf(region); p == China {
		return "amazonaws.com.cn"
	}
	return "amazonaws.com"
}

// accountPublicAccessBlock reads account's settings: S3 Control's
// GetPublicAccessBlock, whose error NoSuchPublicAccessBlockConfiguration
// says the account has none. Amazon's endpoint puts the account id in
// front of the host.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_GetPublicAccessBlock.html
func (c *Clients) accountPublicAccessBlock(ctx context.Context, account string) (publicAccessBlock, error) {
	region := c.cfg.Region
	body, err := send(ctx, c.cfg, signedRequest{
		service: "s3", region: region,
		method: http.MethodGet, url: c.endpoint("S3_CONTROL", account+".s3-control", region) + "/v20180820/configuration/publicAccessBlock",
		header:  http.Header{"X-Amz-Account-Id": {account}},
		errorOf: xmlError,
	})
	var b publicAccessBlock
	if err == nil {
		err = xml.Unmarshal(body, &b)
	}
	return b, err
}

// jsonError reads an error answer of the JSON protocol: {"__type":
// "ResourceNotFoundException", "message": "..."}, the type perhaps after
// a namespace and '#'.
func jsonError(body []byte) (code, message string) {
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Type[strings.LastIndex(e.Type, "#")+1:], e.Message
}

// xmlError reads an S3-style error answer: <Error><Code>, wrapped in
// <ErrorResponse> by S3 Control.
func xmlError(body []byte) (code, message string) {
	var e struct {
		Code    string
		Message string
		Error   struct{ Code, Message string }
	}
	_ = xml.Unmarshal(body, &e)
	return cmp.Or(e.Error.Code, e.Code), cmp.Or(e.Error.Message, e.Message)
}
