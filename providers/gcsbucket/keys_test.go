package gcsbucket

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"google.golang.org/api/option"

	"github.com/growthloop/byob/templates"
)

func testKeyPEM(t *testing.T) string {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
}

// TestKeyCreateIsSentOnce: keys.create is never sent twice by a blind
// retry, whether it fails with a 503 before the change (Google's JSON
// error) or its connection drops after it: every call makes a key, so a
// lost answer is for keyStep.createOnce to look into. The idempotent
// keys.list, given the same 503, is retried.
// https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts.keys/create
func TestKeyCreateIsSentOnce(t *testing.T) {
	for _, drop := range []bool{false, true} {
		var creates, lists atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				creates.Add(1)
			} else {
				lists.Add(1)
			}
			if drop && r.Method == http.MethodPost {
				if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
					_ = c.Close()
				}
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}`))
		}))
		c, err := NewClients(context.Background(), Endpoints{IAM: srv.URL + "/"}, option.WithoutAuthentication())
		if err != nil {
			t.Fatal(err)
		}
		c.SetRetry(Retry{Attempts: 3, Initial: 1, Max: 1})
		account := "projects/p/serviceAccounts/gl@p.iam.gserviceaccount.com"
		if _, err := createKey(context.Background(), c, account, templates.GCPKeyRequest{PrivateKeyType: "TYPE_GOOGLE_CREDENTIALS_FILE"}); err == nil {
			t.Fatal("no error")
		}
		if n := creates.Load(); n != 1 {
			t.Errorf("dropped %v: keys.create sent %d times, want once", drop, n)
		}
		if _, err := listKeys(context.Background(), c, account); err == nil || lists.Load() != 3 {
			t.Errorf("keys.list: sent %d times (%v), want 3 attempts", lists.Load(), err)
		}
		srv.Close()
	}
}
