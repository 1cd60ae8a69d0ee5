package aws

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// TestAccountPublicAccessBlock: S3 Control's GetPublicAccessBlock as one
// signed request: its path, account header and signature; its answer;
// a passing 503 retried as the SDK retries; the documented error read
// like an SDK client's (errorCode).
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_GetPublicAccessBlock.html
func TestAccountPublicAccessBlock(t *testing.T) {
	var calls atomic.Int32
	var answer atomic.Value
	answer.Store(`<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls>` +
		`<BlockPublicPolicy>false</BlockPublicPolicy></PublicAccessBlockConfiguration>`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path != "/v20180820/configuration/publicAccessBlock" || r.Header.Get("X-Amz-Account-Id") != "111122223333":
			t.Errorf("sent %s %s account %q", r.Method, r.URL.Path, r.Header.Get("X-Amz-Account-Id"))
		case !strings.Contains(r.Header.Get("Authorization"), "/us-west-2/s3/aws4_request") || r.Header.Get("X-Amz-Content-Sha256") == "":
			t.Errorf("not signed for s3 in us-west-2: %q", r.Header.Get("Authorization"))
		}
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if a := answer.Load().(string); strings.Contains(a, "<Error>") {
			w.WriteHeader(http.StatusNotFound)
		}
		_, _ = w.Write([]byte(answer.Load().(string)))
	}))
	defer srv.Close()
	cfg := aws.Config{Region: "us-west-2", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer:     Retry{MaxAttempts: 3, MaxBackoff: time.Millisecond}.Retryer}
	c := &Clients{cfg: cfg}
	b, err := c.accountPublicAccessBlock(context.Background(), "111122223333")
	if err != nil {
		t.Fatal(err)
	}
	if want := (publicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true}); b != want || calls.Load() != 2 {
		t.Errorf("got %+v after %d calls, want %+v after 2", b, calls.Load(), want)
	}
	answer.Store(`<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Code>NoSuchPublicAccessBlockConfiguration</Code>` +
		`<Message>The public access block configuration was not found</Message></Error><RequestId>r1</RequestId></ErrorResponse>`)
	_, err = c.accountPublicAccessBlock(context.Background(), "111122223333")
	if errorCode(err) != "NoSuchPublicAccessBlockConfiguration" || httpStatus(err) != http.StatusNotFound {
		t.Errorf("error %v: code %q status %d", err, errorCode(err), httpStatus(err))
	}
}

// TestErrorShapes: the code and message of the JSON protocol's errors
// (Secrets Manager) and of S3's and S3 Control's XML ones.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html
func TestErrorShapes(t *testing.T) {
	for _, tc := range []struct {
		read          func([]byte) (string, string)
		body          string
		code, message string
	}{
		{jsonError, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`, "ResourceNotFoundException", "Secrets Manager can't find the specified secret."},
		{jsonError, `{"__type":"com.amazonaws.secretsmanager#AccessDeniedException","message":"no"}`, "AccessDeniedException", "no"},
		{xmlError, `<Error><Code>NoSuchBucket</Code><Message>gone</Message></Error>`, "NoSuchBucket", "gone"},
		{xmlError, `<ErrorResponse><Error><Code>NoSuchPublicAccessBlockConfiguration</Code><Message>none</Message></Error></ErrorResponse>`, "NoSuchPublicAccessBlockConfiguration", "none"},
	} {
		if code, msg := tc.read([]byte(tc.body)); code != tc.code || msg != tc.message {
			t.Errorf("%s: %q %q, want %q %q", tc.body, code, msg, tc.code, tc.message)
		}
	}
}

// TestEndpoint: a signed request goes where the SDK would send its
// client's: the service's own endpoint variable first, then the endpoint
// for every service, then Amazon's host in the region's partition.
// https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
func TestEndpoint(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "")
	c := &Clients{}
	if got := c.endpoint("SECRETS_MANAGER", "secretsmanager", "us-east-1"); got != "https://secretsmanager.us-east-1.amazonaws.com" {
		t.Errorf("Amazon's: %s", got)
	}
	if got := c.endpoint("SECRETS_MANAGER", "secretsmanager", "cn-north-1"); got != "https://secretsmanager.cn-north-1.amazonaws.com.cn" {
		t.Errorf("China's: %s", got)
	}
	c.cfg.BaseEndpoint = aws.String("http://localhost:4566/")
	if got := c.endpoint("SECRETS_MANAGER", "secretsmanager", "us-east-1"); got != "http://localhost:4566" {
		t.Errorf("every service's: %s", got)
	}
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:9000")
	if got := c.endpoint("SECRETS_MANAGER", "secretsmanager", "us-east-1"); got != "http://127.0.0.1:9000" {
		t.Errorf("the service's own: %s", got)
	}
}
