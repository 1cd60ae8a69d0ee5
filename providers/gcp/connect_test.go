package gcp

import (
	"net/http"
	"net/http/httptest"
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

	var header string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header = r.Header.Get("X-Goog-User-Project")
		_, _ = w.Write([]byte(`{"permissions":[]}`))
	}))
	defer srv.Close()
	c := NewClients(Endpoints{CRM: srv.URL}, &http.Client{Transport: billTo{http.DefaultTransport, "from-creds"}})
	if _, err := c.CRM.TestIamPermissions("p", []string{"iam.roles.get"}).Do(); err != nil {
		t.Fatal(err)
	}
	if header != "from-creds" {
		t.Errorf("X-Goog-User-Project %q, want from-creds", header)
	}
}
