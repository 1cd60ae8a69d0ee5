package netfail

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

func TestLasting(t *testing.T) {
	// A port nothing listens on: take one, then free it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	_, refused := http.Get("http://" + closed + "/")

	// A name that cannot exist (RFC 6761 reserves .invalid); the resolver
	// is asked nothing.
	r := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no resolver in tests")
	}}
	_, lookup := r.LookupHost(context.Background(), "byob.invalid")
	notFound := &net.DNSError{Err: "no such host", Name: "byob.invalid", IsNotFound: true}

	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	_, untrusted := http.Get(tlsSrv.URL) // the default client does not trust the test CA

	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", refused, true},
		{"no such host", fmt.Errorf("dial: %w", notFound), true},
		{"resolver unreachable", lookup, false},
		{"untrusted certificate", untrusted, true},
		{"timeout", context.DeadlineExceeded, false},
		{"nil", nil, false},
	} {
		if got := Lasting(tc.err); got != tc.want {
			t.Errorf("%s: Lasting(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

// TestUnreachable: a request that got no answer is told with where it
// went, whatever the reason; an answer or any other error is not.
func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	_, refused := http.Get("http://" + closed + "/")

	proxied := &http.Client{Transport: &http.Transport{Proxy: func(*http.Request) (*url.URL, error) { return url.Parse("http://" + closed) }}}
	_, viaProxy := proxied.Get("https://sts.amazonaws.com/")

	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	_, timeout := (&http.Client{Timeout: 50 * time.Millisecond}).Get("http://" + silent.Addr().String() + "/")

	notFound := &url.Error{Op: "Post", URL: "https://sts.byob.invalid/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "sts.byob.invalid", IsNotFound: true}}}
	unnamedProxy := &http.Client{Transport: &http.Transport{Proxy: func(*http.Request) (*url.URL, error) { return url.Parse("http://proxy.byob.invalid:3128") }}}
	_, viaUnnamedProxy := unnamedProxy.Get("https://sts.amazonaws.com/")
	plain := httptest.NewServer(http.NotFoundHandler()) // http:// asked for as https://
	defer plain.Close()
	_, notTLS := http.Get("https://" + plain.Listener.Addr().String() + "/")
	if !Lasting(notTLS) {
		t.Errorf("Lasting(%v) = false: an http:// server asked in TLS never will answer in it", notTLS)
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"connection refused", refused, "nothing accepts connections at " + closed},
		{"proxy", viaProxy, "the proxy at " + closed + " (HTTPS_PROXY) cannot be reached"},
		{"no such host", fmt.Errorf("get identity: %w", notFound), "the name sts.byob.invalid does not resolve (DNS)"},
		{"proxy that does not resolve", viaUnnamedProxy, "the proxy at proxy.byob.invalid (HTTPS_PROXY) cannot be reached"},
		{"not TLS", notTLS, plain.Listener.Addr().String() + " does not answer in TLS: check that the endpoint is http:// or https:// as the server is"},
		{"timeout", timeout, silent.Addr().String() + " did not answer in time"},
		{"no credentials", errors.New("get credentials: failed to refresh cached credentials"), ""},
		{"nil", nil, ""},
	} {
		got, ok := Unreachable(tc.err)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: Unreachable(%v) = %q, %v; want %q", tc.name, tc.err, got, ok, tc.want)
		}
	}
}
