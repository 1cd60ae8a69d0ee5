package gcp

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"

	"google.golang.org/api/googleapi"
)

// TestTransient: what Google's retry strategy retries, less what no retry
// fixes (a refused connection, an unknown host), which ends the run at
// once.
func TestTransient(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&googleapi.Error{Code: http.StatusServiceUnavailable}, true},
		{&googleapi.Error{Code: http.StatusTooManyRequests}, true},
		{&googleapi.Error{Code: http.StatusForbidden}, false},
		{fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{io.ErrUnexpectedEOF, true},
		{fmt.Errorf("dial: %w", syscall.ECONNREFUSED), false},
		{&net.DNSError{Err: "no such host", Name: "iam.invalid", IsNotFound: true}, false},
	} {
		if got := transient(tc.err); got != tc.want {
			t.Errorf("transient(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
