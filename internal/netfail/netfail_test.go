package netfail

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
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
