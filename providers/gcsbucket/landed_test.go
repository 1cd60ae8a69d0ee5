package gcsbucket

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"cloud.google.com/go/auth/credentials"
	"cloud.google.com/go/storage"
	"google.golang.org/api/option"

	"github.com/growthloop/byob/internal/testsupport/fault"
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
	key, _ := json.Marshal(map[string]string{"type": "service_account", "client_email": "gl@p.iam.gserviceaccount.com", "private_key_id": "k",
		"private_key": testKeyPEM(t), "token_uri": srv.URL + "/token"})
	creds, err := credentials.NewCredentialsFromJSON(credentials.ServiceAccount, key, &credentials.DetectOptions{Scopes: []string{storageScope}})
	if err != nil {
		t.Fatal(err)
	}
	noAuth, noToken := option.WithoutAuthentication(), option.WithAuthCredentials(creds)
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		auth   option.ClientOption
		url    string
		bucket string
		want   bool
	}{
		{"refused", context.Background(), noAuth, srv.URL, "denied", false},
		{"5xx", context.Background(), noAuth, srv.URL, "b", true},
		{"cancelled", cancelled, noAuth, srv.URL, "b", true},
		{"lost in transit", context.Background(), noAuth, lost, "b", true},
		{"no token", context.Background(), noToken, srv.URL, "b", false},
	} {
		st, err := storage.NewClient(context.Background(), tc.auth, option.WithEndpoint(tc.url+"/storage/v1/"))
		if err != nil {
			t.Fatal(err)
		}
		err = putObject(tc.ctx, st, tc.bucket, "o", []byte("x"))
		if err == nil {
			t.Fatalf("%s: no error", tc.name)
		}
		if got := mayHaveLanded(err); got != tc.want {
			t.Errorf("%s: mayHaveLanded(%v) = %v, want %v", tc.name, err, got, tc.want)
		}
	}
}
