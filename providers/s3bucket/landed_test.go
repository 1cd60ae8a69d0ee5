package s3bucket

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/growthloop/byob/internal/testsupport/fault"
)

// TestMayHaveLanded: a PutObject that S3 refused did nothing; one that
// was cancelled, lost in transit or answered 5xx may have stored the
// object; one never sent (no credentials) did nothing. Errors as the SDK
// returns them, from a server answering S3's error shapes.
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
func TestMayHaveLanded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		switch {
		case strings.HasSuffix(r.URL.Path, "/denied"):
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`))
		case strings.HasSuffix(r.URL.Path, "/unavailable"):
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`))
		}
	}))
	defer srv.Close()
	client := func(url, id string) *s3.Client {
		return s3.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), Retryer: Retry{MaxAttempts: 1}.Retryer,
			Credentials: credentials.NewStaticCredentialsProvider(id, "secret", "")}, func(o *s3.Options) { o.UsePathStyle = true })
	}
	lost := fault.HangUp(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		c    *s3.Client
		key  string
		want bool
	}{
		{"refused", context.Background(), client(srv.URL, "AKID"), "denied", false},
		{"5xx", context.Background(), client(srv.URL, "AKID"), "unavailable", true},
		{"cancelled", cancelled, client(srv.URL, "AKID"), "ok", true},
		{"lost in transit", context.Background(), client(lost, "AKID"), "ok", true},
		{"never sent", context.Background(), client(srv.URL, ""), "ok", false},
	} {
		_, err := tc.c.PutObject(tc.ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String(tc.key), Body: strings.NewReader("x")})
		if err == nil {
			t.Fatalf("%s: no error", tc.name)
		}
		if got := mayHaveLanded(err); got != tc.want {
			t.Errorf("%s: mayHaveLanded(%v) = %v, want %v", tc.name, err, got, tc.want)
		}
	}
}
