package snowflake

import (
	"errors"
	"io"
	"net/http"
	"os"
	"syscall"
	"time"
)

// quickRetries is how many times a request is tried again at once before
// the driver's own retries, which wait a second or more, take over.
const quickRetries = 3

// quickRetry tries a request again after a short pause when Snowflake
// answers 5xx or 429, or the connection was reset. It is safe: every query
// carries a request ID that Snowflake runs once, so a retry returns the
// first run's answer instead of running the statement again; a retried
// login only opens another session.
type quickRetry struct{ base http.RoundTripper }

func (q quickRetry) RoundTrip(req *http.Request) (*http.Response, error) {
	pause := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		resp, err := q.base.RoundTrip(req)
		if attempt == quickRetries || !passing(resp, err) || req.Body != nil && req.GetBody == nil {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		select {
		case <-req.Context().Done():
			return nil, req.Context().Err()
		case <-time.After(pause):
		}
		pause *= 2
		next := req.Clone(req.Context())
		if req.GetBody != nil {
			if next.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		req = next
	}
}

// passing reports an answer worth trying again at once.
func passing(resp *http.Response, err error) bool {
	if err != nil {
		return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF)
	}
	return resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
}

// transport is what the driver sends its requests through: base (Go's
// own transport when nil: the environment's proxy, TLS verified against
// the system's roots) with quick retries. The driver checks certificate
// revocation (OCSP) only on the transport it makes itself, which byob
// cannot wrap (docs/design-notes.md).
func transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	return quickRetry{base}
}

// disablePlatformDetection turns off the driver's probing of the machine
// it runs on (an STS call under the default AWS configuration and cloud
// metadata requests) before every first login: byob does not need it. A
// user's own setting of the variable wins.
func disablePlatformDetection() {
	const env = "SNOWFLAKE_DISABLE_PLATFORM_DETECTION"
	if _, set := os.LookupEnv(env); !set {
		_ = os.Setenv(env, "true")
	}
}
