package gcsbucket

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
	"strings"
	"sync"
	"testing"

	"github.com/growthloop/byob/providers"
)

// fakeGoogle answers every API request with answer and records its path
// and headers; /token is the OAuth token endpoint of the credentials
// files.
type fakeGoogle struct {
	*httptest.Server
	mu   sync.Mutex
	sent []*http.Request
}

func newFakeGoogle(t *testing.T, answer string) *fakeGoogle {
	f := &fakeGoogle{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/token" { // the service account's JWT exchanged for a token (RFC 7523)
			_, _ = w.Write([]byte(`{"access_token":"t","token_type":"Bearer","expires_in":3600}`))
			return
		}
		f.mu.Lock()
		f.sent = append(f.sent, r)
		f.mu.Unlock()
		_, _ = w.Write([]byte(answer))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeGoogle) last() *http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sent[len(f.sent)-1]
}

// adc writes Application Default Credentials (a service account key whose
// token endpoint is f) with extra fields, and points
// GOOGLE_APPLICATION_CREDENTIALS at them.
func adc(t *testing.T, f *fakeGoogle, extra map[string]string) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{
		"type": "service_account", "project_id": "p", "private_key_id": "k", "client_email": "op@p.iam.gserviceaccount.com",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})),
		"token_uri":   f.URL + "/token",
	}
	for k, v := range extra {
		fields[k] = v
	}
	b, _ := json.Marshal(fields)
	path := filepath.Join(t.TempDir(), "adc.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", path)
	t.Setenv("GOOGLE_CLOUD_QUOTA_PROJECT", "")
	t.Setenv("STORAGE_EMULATOR_HOST", "")
}

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// TestQuotaProject: the Application Default Credentials' quota project
// (gcloud auth application-default set-quota-project), or
// GOOGLE_CLOUD_QUOTA_PROJECT, goes with every request as
// X-Goog-User-Project, as Google's client libraries send it: without one,
// IAM and Resource Manager refuse user credentials. gcloud's endpoint
// override of Resource Manager is honoured.
func TestQuotaProject(t *testing.T) {
	f := newFakeGoogle(t, `{"permissions":[]}`)
	for _, tc := range []struct{ env, want string }{{"", "from-creds"}, {"from-env", "from-env"}} {
		adc(t, f, map[string]string{"quota_project_id": "from-creds"})
		t.Setenv("GOOGLE_CLOUD_QUOTA_PROJECT", tc.env)
		c, project, err := Connect(context.Background(), envOf(map[string]string{"CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER": f.URL + "/"}))
		if err != nil || project != "p" {
			t.Fatalf("connect: project %q, %v", project, err)
		}
		if err := Preflight(context.Background(), c, "p", Access{}); err != nil {
			t.Fatal(err)
		}
		r := f.last()
		if r.URL.Path != "/v1/projects/p:testIamPermissions" || r.Header.Get("X-Goog-User-Project") != tc.want || r.Header.Get("Authorization") != "Bearer t" {
			t.Errorf("GOOGLE_CLOUD_QUOTA_PROJECT %q: sent %s with X-Goog-User-Project %q, Authorization %q", tc.env, r.URL.Path,
				r.Header.Get("X-Goog-User-Project"), r.Header.Get("Authorization"))
		}
		if !strings.Contains(r.Header.Get("X-Goog-Api-Client"), "gl-go/") {
			t.Errorf("no x-goog-api-client header: %q", r.Header.Get("X-Goog-Api-Client"))
		}
	}
}

// TestStorageEndpoints: STORAGE_EMULATOR_HOST works as the storage library
// documents (host:port, its JSON API under /storage/v1/, no credentials
// sent); gcloud's CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE reaches another
// endpoint with the caller's credentials.
func TestStorageEndpoints(t *testing.T) {
	f := newFakeGoogle(t, `{"kind":"storage#bucket","name":"b1","location":"US","metageneration":"1"}`)
	for _, tc := range []struct {
		name     string
		env      map[string]string
		emulator string
		auth     string
	}{
		{"STORAGE_EMULATOR_HOST", nil, strings.TrimPrefix(f.URL, "http://"), ""},
		{"CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE", map[string]string{"CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE": f.URL + "/storage/v1/"}, "", "Bearer t"},
	} {
		adc(t, f, nil)
		t.Setenv("STORAGE_EMULATOR_HOST", tc.emulator)
		c, _, err := Connect(context.Background(), envOf(tc.env))
		if err != nil {
			t.Fatal(err)
		}
		b, err := c.Storage.Bucket("b1").Attrs(context.Background())
		if err != nil || b.Location != "US" {
			t.Fatalf("%s: %+v %v", tc.name, b, err)
		}
		if r := f.last(); r.URL.Path != "/storage/v1/b/b1" || r.Header.Get("Authorization") != tc.auth {
			t.Errorf("%s: sent %s with Authorization %q, want %q", tc.name, r.URL.Path, r.Header.Get("Authorization"), tc.auth)
		}
	}
}

// TestCheckEnv: GOOGLE_APPLICATION_CREDENTIALS naming no file, or a
// directory, is an invalid value naming the variable and the path; a
// file, or the variable unset, passes.
func TestCheckEnv(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "adc.json")
	if err := os.WriteFile(file, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"":                              "",
		file:                            "",
		filepath.Join(dir, "none.json"): "the environment variable names a file that does not exist",
		dir:                             "the environment variable names a directory, not a credentials file",
	} {
		got := Provider{}.CheckEnv(providers.Env{LookupEnv: envOf(map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": path})})
		switch {
		case want == "" && len(got) > 0:
			t.Errorf("%q: %v", path, got)
		case want != "" && (len(got) != 1 || got[0].Flag != "GOOGLE_APPLICATION_CREDENTIALS" || got[0].Value != path || !strings.HasPrefix(got[0].Rule, want)):
			t.Errorf("%q: %+v, want %q", path, got, want)
		}
	}
}
