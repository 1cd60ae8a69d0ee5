package s3bucket

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
)

// anyHost is an HTTP client that reaches srv whatever host a request
// names: S3 Control's endpoint rules put the account id in front of a
// named endpoint's host, which no resolver here knows.
func anyHost(srv *httptest.Server) config.LoadOptionsFunc {
	return config.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.Proxy = nil
		t.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
		}
	}))
}

// request is one request as a fake saw it.
type request struct {
	host, method, path, account, target, auth, body string
}

// recorder answers each request with the next of answers (status, body),
// the last one again once they run out, and records it.
func recorder(t *testing.T, answers ...[2]string) (*httptest.Server, func() []request) {
	var mu sync.Mutex
	var got []request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, request{r.Host, r.Method, r.URL.Path, r.Header.Get("X-Amz-Account-Id"), r.Header.Get("X-Amz-Target"), r.Header.Get("Authorization"), string(b)})
		a := answers[min(len(got), len(answers))-1]
		mu.Unlock()
		status := map[string]int{"200": 200, "400": 400, "404": 404, "503": 503}[a[0]]
		w.WriteHeader(status)
		_, _ = io.WriteString(w, a[1])
	}))
	t.Cleanup(srv.Close)
	return srv, func() []request { mu.Lock(); defer mu.Unlock(); return append([]request(nil), got...) }
}

func staticCreds(t *testing.T) {
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_ENDPOINT_URL": "", "AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
}

// TestAccountPublicAccessBlock: S3 Control's GetPublicAccessBlock through
// the SDK's client, at the endpoint AWS_ENDPOINT_URL_S3_CONTROL names with
// the account id in front of its host (the SDK's endpoint rules), signed
// for s3 in the region; a passing 503 retried by byob's retryer; the
// documented error read like any other (errorCode, httpStatus).
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_GetPublicAccessBlock.html
func TestAccountPublicAccessBlock(t *testing.T) {
	srv, got := recorder(t, [2]string{"503", ""}, [2]string{"200", `<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls>` +
		`<IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>false</BlockPublicPolicy></PublicAccessBlockConfiguration>`},
		[2]string{"404", `<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Code>NoSuchPublicAccessBlockConfiguration</Code>` +
			`<Message>The public access block configuration was not found</Message></Error><RequestId>r1</RequestId></ErrorResponse>`})
	staticCreds(t)
	t.Setenv("AWS_ENDPOINT_URL_S3_CONTROL", srv.URL)
	c, err := Connect(context.Background(), "", "us-west-2", anyHost(srv))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.accountPublicAccessBlock(context.Background(), "111122223333")
	if err != nil {
		t.Fatal(err)
	}
	if want := (publicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true}); b != want {
		t.Errorf("got %+v, want %+v", b, want)
	}
	reqs := got()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2 (a 503, then the answer)", len(reqs))
	}
	r := reqs[1]
	// An endpoint on an IP address takes no account label.
	if wantHost := srv.Listener.Addr().String(); r.host != wantHost || r.method != http.MethodGet ||
		r.path != "/v20180820/configuration/publicAccessBlock" || r.account != "111122223333" || !strings.Contains(r.auth, "/us-west-2/s3/aws4_request") {
		t.Errorf("sent %+v", r)
	}
	_, err = c.accountPublicAccessBlock(context.Background(), "111122223333")
	if errorCode(err) != "NoSuchPublicAccessBlockConfiguration" || httpStatus(err) != http.StatusNotFound {
		t.Errorf("error %v: code %q status %d", err, errorCode(err), httpStatus(err))
	}

	// A named endpoint gets the account in front of its host, as the
	// SDK's endpoint rules have it (a wildcard DNS name serves it).
	t.Setenv("AWS_ENDPOINT_URL_S3_CONTROL", "http://localstack.example:4566")
	if c, err = Connect(context.Background(), "", "us-west-2", anyHost(srv)); err != nil {
		t.Fatal(err)
	}
	_, _ = c.accountPublicAccessBlock(context.Background(), "111122223333")
	if reqs := got(); reqs[len(reqs)-1].host != "111122223333.localstack.example:4566" {
		t.Errorf("named endpoint: sent %+v", reqs[len(reqs)-1])
	}
}

// TestKeyFromSecret: GetSecretValue through the SDK's Secrets Manager
// client, in the secret's region, at AWS_ENDPOINT_URL_SECRETS_MANAGER; the
// key is read from the SecretString; a refusal never quotes a secret.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
func TestKeyFromSecret(t *testing.T) {
	const arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:k"
	srv, got := recorder(t, [2]string{"200", `{"ARN":"` + arn + `","Name":"k","SecretString":"{\"aws_access_key_id\":\"AKIAKEY\",\"aws_secret_access_key\":\"s3cr3t\"}"}`},
		[2]string{"400", `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`})
	staticCreds(t)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", srv.URL)
	c, err := Connect(context.Background(), "", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	id, secret, err := c.KeyFromSecret(context.Background(), "eu-west-1", arn)
	if err != nil || id != "AKIAKEY" || secret != "s3cr3t" {
		t.Fatalf("got %q %q %v", id, secret, err)
	}
	r := got()[0]
	if r.target != "secretsmanager.GetSecretValue" || !strings.Contains(r.body, `"SecretId":"`+arn+`"`) || !strings.Contains(r.auth, "/eu-west-1/secretsmanager/aws4_request") {
		t.Errorf("sent %+v", r)
	}
	_, _, err = c.KeyFromSecret(context.Background(), "eu-west-1", arn)
	if errorCode(err) != "ResourceNotFoundException" || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error %v: code %q", err, errorCode(err))
	}
}

// TestControlEndpointOfAnEmulator: S3 Control names the account in its
// host; a custom endpoint that cannot take the label (an address,
// localhost, a container's name) is reached as it is.
func TestControlEndpointOfAnEmulator(t *testing.T) {
	r := controlEndpoint{s3control.NewDefaultEndpointResolverV2()}
	for endpoint, want := range map[string]string{
		"http://127.0.0.1:5000":          "127.0.0.1:5000",
		"http://localhost:4566":          "localhost:4566",
		"http://moto:5000":               "moto:5000",
		"http://s3.localhost:4566":       "s3.localhost:4566",
		"https://s3-control.example.com": "123456789012.s3-control.example.com",
		"":                               "123456789012.s3-control.us-east-1.amazonaws.com",
	} {
		p := s3control.EndpointParameters{AccountId: aws.String("123456789012"), Region: aws.String("us-east-1"), RequiresAccountId: aws.Bool(true),
			UseDualStack: aws.Bool(false), UseFIPS: aws.Bool(false)}
		if endpoint != "" {
			p.Endpoint = aws.String(endpoint)
		}
		e, err := r.ResolveEndpoint(context.Background(), p)
		if err != nil || e.URI.Host != want {
			t.Errorf("endpoint %q: %s, %v; want host %s", endpoint, e.URI.Host, err, want)
		}
	}
}

// TestProfileFilesAreTheSDKs: the files a missing-credentials error names
// are the ones the SDK read: the environment's, else the defaults.
func TestProfileFilesAreTheSDKs(t *testing.T) {
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "")
	t.Setenv("AWS_CONFIG_FILE", "")
	if got := profileFiles(); got != "~/.aws/credentials and ~/.aws/config" {
		t.Errorf("defaults: %q", got)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/etc/creds")
	t.Setenv("AWS_CONFIG_FILE", "/etc/conf")
	if got := profileFiles(); got != "/etc/creds and /etc/conf" {
		t.Errorf("from the environment: %q", got)
	}
}
