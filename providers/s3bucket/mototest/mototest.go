// Package mototest runs moto (https://github.com/getmoto/moto), an AWS
// emulator nobody on this project wrote, for tests that must meet a second,
// independent implementation of IAM, S3 and STS besides kumo.
//
// Start launches `moto_server` on a free port behind a small proxy that
// logs every request and works around the differences from AWS listed on
// Options. The proxy never answers for moto: it only forwards.
//
// Without moto_server on PATH a test skips, saying how to get it; with
// BYOB_REQUIRE_MOTO=1 (set by .ci/run) it fails instead.
package mototest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// AccountID is moto's default account.
const AccountID = "123456789012"

// Region is where the tests put their buckets.
const Region = "us-east-1"

// Options choose how moto runs.
type Options struct {
	// EnforceIAM makes moto check signatures and evaluate IAM policies
	// for every request after the admin user is made
	// (INITIAL_NO_AUTH_ACTION_COUNT). Without it moto lets every request
	// through, signed by any key.
	//
	// moto's SigV4 check builds the canonical query from the request URL
	// as werkzeug gives it, with %2F decoded to '/'
	// (moto/core/authorization.py, IAMRequestBase._create_aws_request),
	// where SigV4 (and every SDK) has %2F: a query value holding '/' (an
	// S3 listing's prefix) is refused. For such a request signed by a key
	// whose secret it knows (AddKey), the proxy signs again as moto
	// computes it.
	EnforceIAM bool
}

// Server is one moto_server and its proxy.
type Server struct {
	// URL is the proxy's address, for AWS_ENDPOINT_URL.
	URL string
	// Admin signs the tests' own requests; with EnforceIAM it is an IAM
	// user allowed everything.
	AdminKeyID, AdminSecret string

	mu      sync.Mutex
	reqs    []Request
	secrets map[string]string // by access key id, for resign
}

// Request is one request as the proxy forwarded it.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	// Action is the IAM or STS query action ("CreateUser"), "" for S3.
	Action string
}

// Mutating says whether r changes anything: an IAM call other than a
// Get, List or Simulate, or an S3 PUT, POST or DELETE.
func (r Request) Mutating() bool {
	if r.Action != "" {
		for _, p := range []string{"Get", "List", "Simulate"} {
			if strings.HasPrefix(r.Action, p) {
				return false
			}
		}
		return true
	}
	return r.Method == http.MethodPut || r.Method == http.MethodPost || r.Method == http.MethodDelete
}

func (r Request) String() string {
	if r.Action != "" {
		return r.Action
	}
	q := ""
	for k := range r.Query {
		q += "?" + k
	}
	return r.Method + " " + r.Path + q
}

// Start runs moto_server for the test, stopped when the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		msg := "moto_server is not on PATH: install it with `pip install 'moto[server]'` to run the moto conformance suite"
		if os.Getenv("BYOB_REQUIRE_MOTO") == "1" {
			t.Fatal(msg + " (BYOB_REQUIRE_MOTO=1: CI requires it)")
		}
		t.Skip(msg)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", port)
	cmd.Env = os.Environ()
	if o.EnforceIAM {
		// The three calls that make the admin user go unchecked.
		cmd.Env = append(cmd.Env, "INITIAL_NO_AUTH_ACTION_COUNT=3")
	}
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	})
	moto := "http://127.0.0.1:" + port
	if err := waitUp(moto, done); err != nil {
		t.Fatalf("moto_server: %v\n%s", err, log.String())
	}

	s := &Server{AdminKeyID: "AKIAMOTOADMIN0000000", AdminSecret: "moto-admin-secret", secrets: map[string]string{}}
	target, _ := url.Parse(moto)
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host // signed: it must reach moto as it was sent
		if o.EnforceIAM && strings.Contains(pr.Out.URL.RawQuery, "%2F") {
			s.resign(pr.Out)
		}
	}}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.record(r)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	s.URL = front.URL
	if o.EnforceIAM {
		s.makeAdmin(t)
	}
	return s
}

// makeAdmin makes the IAM user the tests act as, allowed everything, with
// the three calls moto lets through unchecked.
func (s *Server) makeAdmin(t testing.TB) {
	ctx := context.Background()
	c := iam.NewFromConfig(s.config("AKIAMOTOBOOTSTRAP000", "bootstrap"))
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("byob-admin")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("byob-admin"), PolicyName: aws.String("all"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("byob-admin")})
	if err != nil {
		t.Fatal(err)
	}
	s.AdminKeyID, s.AdminSecret = aws.ToString(out.AccessKey.AccessKeyId), aws.ToString(out.AccessKey.SecretAccessKey)
	s.AddKey(s.AdminKeyID, s.AdminSecret)
}

// AddKey tells the proxy a key's secret, to sign that key's requests
// again where moto's check needs it (Options.EnforceIAM).
func (s *Server) AddKey(id, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[id] = secret
}

// Config is an SDK configuration signing as the admin.
func (s *Server) Config() aws.Config { return s.config(s.AdminKeyID, s.AdminSecret) }

// KeyConfig is an SDK configuration signing with another key.
func (s *Server) KeyConfig(id, secret string) aws.Config { return s.config(id, secret) }

func (s *Server) config(id, secret string) aws.Config {
	return aws.Config{
		Region:       Region,
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(id, secret, ""),
	}
}

// Env is the environment a byob process reaches this moto with, as the
// admin, and nothing of the machine's own AWS configuration.
func (s *Server) Env(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "BYOB_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"HOME="+home,
		"AWS_ENDPOINT_URL="+s.URL,
		"AWS_ACCESS_KEY_ID="+s.AdminKeyID,
		"AWS_SECRET_ACCESS_KEY="+s.AdminSecret,
		"AWS_REGION="+Region,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
	)
}

// Requests returns the requests forwarded since the last call.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.reqs
	s.reqs = nil
	return out
}

func (s *Server) record(r *http.Request) {
	req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query()}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		req.Action = form.Get("Action")
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

// waitUp waits for moto to answer, at most 30 s.
func waitUp(base string, exited <-chan struct{}) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("exited before it answered")
		default:
		}
		resp, err := http.Get(base + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no answer within 30s")
}
