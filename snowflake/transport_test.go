package snowflake

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestQuickRetry: a 5xx or 429 is tried again at once with the same body;
// other answers, and the last attempt's, are returned as they are.
func TestQuickRetry(t *testing.T) {
	var calls atomic.Int32
	fails := int32(2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		n := calls.Add(1)
		if string(b) != `{"sqlText":"SELECT 1"}` {
			t.Errorf("attempt %d got body %q", n, b)
		}
		switch {
		case n <= fails && n%2 == 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case n <= fails:
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			io.WriteString(w, "ok")
		}
	}))
	defer srv.Close()
	client := &http.Client{Transport: transport(http.DefaultTransport)}
	post := func() *http.Response {
		resp, err := client.Post(srv.URL+"/queries/v1/query-request?requestId=1", "application/json", strings.NewReader(`{"sqlText":"SELECT 1"}`))
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := post(); resp.StatusCode != http.StatusOK || calls.Load() != 3 {
		t.Errorf("status %d after %d calls", resp.StatusCode, calls.Load())
	}
	calls.Store(0)
	fails = 100
	if resp := post(); resp.StatusCode != http.StatusTooManyRequests || calls.Load() != quickRetries+1 {
		t.Errorf("status %d after %d calls: the driver's retries must take over after %d", resp.StatusCode, calls.Load(), quickRetries)
	}
}
