package gcsbucket

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"

	"google.golang.org/api/googleapi"
)

// TestTransient: what Google's retry strategy retries (storage.ShouldRetry),
// less what no retry fixes (a refused connection, an unknown host), which
// ends the run at once. Errors as net/http reports them.
func TestTransient(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&googleapi.Error{Code: http.StatusServiceUnavailable}, true},
		{&googleapi.Error{Code: http.StatusTooManyRequests}, true},
		{&googleapi.Error{Code: http.StatusForbidden}, false},
		{&url.Error{Op: "Post", URL: "https://iam.googleapis.com/v1/x", Err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}, true},
		{io.ErrUnexpectedEOF, true},
		{&url.Error{Op: "Post", URL: "https://iam.googleapis.com/v1/x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}, false},
		{&net.DNSError{Err: "no such host", Name: "iam.invalid", IsNotFound: true}, false},
	} {
		if got := transient(tc.err); got != tc.want {
			t.Errorf("transient(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
