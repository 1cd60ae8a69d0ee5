package gcp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// TestQuotaProject: user credentials bill IAM and Resource Manager calls
// to a quota project, found as Google's client libraries find it, and
// every request names it.
func TestQuotaProject(t *testing.T) {
	creds := []byte(`{"type":"authorized_user","quota_project_id":"from-creds"}`)
	for _, tc := range []struct {
		env  map[string]string
		json []byte
		want string
	}{
		{nil, creds, "from-creds"},
		{map[string]string{"GOOGLE_CLOUD_QUOTA_PROJECT": "from-env"}, creds, "from-env"},
		{nil, []byte(`{"type":"service_account"}`), ""},
	} {
		if got := quotaProject(func(k string) string { return tc.env[k] }, tc.json); got != tc.want {
			t.Errorf("env %v creds %s: quota project %q, want %q", tc.env, tc.json, got, tc.want)
		}
	}

	// Through Connect: Application Default Credentials whose file names a
	// quota project; every API call carries it.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var header string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" { // the service account's JWT exchanged for a token
			_, _ = w.Write([]byte(`{"access_token":"t","token_type":"Bearer","expires_in":3600}`))
			return
		}
		header = r.Header.Get("X-Goog-User-Project")
		_, _ = w.Write([]byte(`{"permissions":[]}`))
	}))
	defer srv.Close()
	adc, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "p", "private_key_id": "k", "client_email": "op@p.iam.gserviceaccount.com",
		"private_key":      string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})),
		"token_uri":        srv.URL + "/token",
		"quota_project_id": "from-creds",
	})
	path := filepath.Join(t.TempDir(), "adc.json")
	if err := os.WriteFile(path, adc, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", path)
	c, _, err := Connect(context.Background(), func(k string) (string, bool) {
		return map[string]string{"CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER": srv.URL}[k], k == "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER"
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CRM.TestIamPermissions("p", []string{"iam.roles.get"}).Do(); err != nil {
		t.Fatal(err)
	}
	if header != "from-creds" {
		t.Errorf("X-Goog-User-Project %q, want from-creds", header)
	}
}
