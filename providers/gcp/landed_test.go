package gcp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/growthloop/byob/internal/fault"
	"github.com/growthloop/byob/providers/gcp/gcpapi"
)

// TestMayHaveLanded: an upload that Cloud Storage refused did nothing;
// one cancelled, lost in transit or answered 5xx may have stored the
// object; one whose key got no token (invalid_grant) was never sent.
// Errors in Google's JSON shape.
// https://cloud.google.com/storage/docs/json_api/v1/status-codes
func TestMayHaveLanded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/token": // RFC 6749 section 5.2
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`))
		case strings.Contains(r.URL.Path, "/b/denied/"):
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error":{"code":403,"message":"forbidden","errors":[{"reason":"forbidden"}]}}`))
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":{"code":503,"message":"Backend Error","errors":[{"reason":"backendError"}]}}`))
		}
	}))
	defer srv.Close()
	lost := fault.HangUp(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	noToken := oauth2.NewClient(context.Background(), (&oauth2.Config{Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/token"}}).
		TokenSource(context.Background(), &oauth2.Token{RefreshToken: "r"}))
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		hc     *http.Client
		url    string
		bucket string
		want   bool
	}{
		{"refused", context.Background(), srv.Client(), srv.URL, "denied", false},
		{"5xx", context.Background(), srv.Client(), srv.URL, "b", true},
		{"cancelled", cancelled, srv.Client(), srv.URL, "b", true},
		{"lost in transit", context.Background(), srv.Client(), lost, "b", true},
		{"no token", context.Background(), noToken, srv.URL, "b", false},
	} {
		st := gcpapi.NewStorage(tc.hc, tc.url+"/storage/v1/")
		_, err := st.Objects.Insert(tc.bucket, "o", []byte("x")).Context(tc.ctx).Do()
		if err == nil {
			t.Fatalf("%s: no error", tc.name)
		}
		if got := mayHaveLanded(err); got != tc.want {
			t.Errorf("%s: mayHaveLanded(%v) = %v, want %v", tc.name, err, got, tc.want)
		}
	}
}
