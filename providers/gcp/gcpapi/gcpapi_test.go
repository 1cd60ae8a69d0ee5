package gcpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"google.golang.org/api/googleapi"
)

// sent is one request as the server saw it.
type sent struct {
	method, uri, ctype, body string
}

// server answers every request with status and answer, recording it.
func server(t *testing.T, status int, answer string) (*httptest.Server, *[]sent) {
	t.Helper()
	var got []sent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, sent{r.Method, r.URL.RequestURI(), r.Header.Get("Content-Type"), string(b)})
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

// TestRequests: each method is the REST call its API reference documents
// (method, path with escaped names, query, JSON body).
func TestRequests(t *testing.T) {
	srv, got := server(t, http.StatusOK, "{}")
	st := NewStorage(srv.Client(), srv.URL+"/storage/v1/")
	iam := NewIAM(srv.Client(), srv.URL)
	crm := NewCRM(srv.Client(), srv.URL+"/")
	age := int64(30)
	for _, tc := range []struct {
		do   func() error
		want sent
	}{
		{func() error { _, err := st.Buckets.Get("b1").Do(); return err },
			sent{"GET", "/storage/v1/b/b1?alt=json&prettyPrint=false", "", ""}},
		{func() error {
			_, err := st.Buckets.Insert("p1", &Bucket{Name: "b1", Lifecycle: &Lifecycle{Rule: []*LifecycleRule{{Action: &RuleAction{Type: "Delete"}, Condition: &RuleCondition{Age: &age}}}}}).Do()
			return err
		}, sent{"POST", "/storage/v1/b?alt=json&prettyPrint=false&project=p1", "application/json", `{"name":"b1","lifecycle":{"rule":[{"action":{"type":"Delete"},"condition":{"age":30}}]}}`}},
		{func() error {
			_, err := st.Buckets.Patch("b1", &Bucket{IamConfiguration: &IamConfiguration{UniformBucketLevelAccess: &UniformBucketLevelAccess{Enabled: true}}}).Query("ifMetagenerationMatch", "7").Do()
			return err
		}, sent{"PATCH", "/storage/v1/b/b1?alt=json&ifMetagenerationMatch=7&prettyPrint=false", "application/json", `{"iamConfiguration":{"uniformBucketLevelAccess":{"enabled":true}}}`}},
		{func() error { _, err := st.Buckets.SetIamPolicy("b1", &Policy{Etag: "CAE="}).Do(); return err },
			sent{"PUT", "/storage/v1/b/b1/iam?alt=json&prettyPrint=false", "application/json", `{"etag":"CAE="}`}},
		{func() error {
			_, err := st.Objects.Delete("b1", "exports/a b").Query("generation", "12").Do()
			return err
		},
			sent{"DELETE", "/storage/v1/b/b1/o/exports%2Fa%20b?alt=json&generation=12&prettyPrint=false", "", ""}},
		{func() error {
			_, err := st.Objects.List("b1").Query("prefix", "exports/").Query("pageToken", "").Do()
			return err
		},
			sent{"GET", "/storage/v1/b/b1/o?alt=json&prefix=exports%2F&prettyPrint=false", "", ""}},
		{func() error {
			_, err := iam.Keys.List("projects/p1/serviceAccounts/gl@p1.iam.gserviceaccount.com").Query("keyTypes", "USER_MANAGED").Do()
			return err
		}, sent{"GET", "/v1/projects/p1/serviceAccounts/gl@p1.iam.gserviceaccount.com/keys?alt=json&keyTypes=USER_MANAGED&prettyPrint=false", "", ""}},
		{func() error {
			_, err := iam.Keys.Create("projects/p1/serviceAccounts/gl@p1.iam.gserviceaccount.com", &CreateKeyRequest{PrivateKeyType: "TYPE_GOOGLE_CREDENTIALS_FILE"}).Do()
			return err
		}, sent{"POST", "/v1/projects/p1/serviceAccounts/gl@p1.iam.gserviceaccount.com/keys?alt=json&prettyPrint=false", "application/json", `{"privateKeyType":"TYPE_GOOGLE_CREDENTIALS_FILE"}`}},
		{func() error {
			_, err := iam.Keys.Disable("projects/p1/serviceAccounts/gl@p1.iam.gserviceaccount.com/keys/k1").Do()
			return err
		},
			sent{"POST", "/v1/projects/p1/serviceAccounts/gl@p1.iam.gserviceaccount.com/keys/k1:disable?alt=json&prettyPrint=false", "application/json", `{}`}},
		{func() error {
			_, err := iam.Roles.Patch("projects/p1/roles/w", &Role{IncludedPermissions: []string{"a"}}, "includedPermissions").Do()
			return err
		},
			sent{"PATCH", "/v1/projects/p1/roles/w?alt=json&prettyPrint=false&updateMask=includedPermissions", "application/json", `{"includedPermissions":["a"]}`}},
		{func() error { _, err := iam.Roles.Undelete("projects/p1/roles/w", "BwX=").Do(); return err },
			sent{"POST", "/v1/projects/p1/roles/w:undelete?alt=json&prettyPrint=false", "application/json", `{"etag":"BwX="}`}},
		{func() error {
			_, err := iam.ServiceAccounts.Create("projects/p1", &CreateServiceAccountRequest{AccountID: "gl", ServiceAccount: &ServiceAccount{DisplayName: "GL"}}).Do()
			return err
		}, sent{"POST", "/v1/projects/p1/serviceAccounts?alt=json&prettyPrint=false", "application/json", `{"accountId":"gl","serviceAccount":{"displayName":"GL"}}`}},
		{func() error { _, err := crm.GetIamPolicy("p1").Do(); return err },
			sent{"POST", "/v1/projects/p1:getIamPolicy?alt=json&prettyPrint=false", "application/json", `{}`}},
		{func() error { _, err := crm.SetIamPolicy("p1", &Policy{Etag: "e"}).Do(); return err },
			sent{"POST", "/v1/projects/p1:setIamPolicy?alt=json&prettyPrint=false", "application/json", `{"policy":{"etag":"e"}}`}},
		{func() error { _, err := crm.TestIamPermissions("p1", []string{"iam.roles.get"}).Do(); return err },
			sent{"POST", "/v1/projects/p1:testIamPermissions?alt=json&prettyPrint=false", "application/json", `{"permissions":["iam.roles.get"]}`}},
	} {
		*got = nil
		if err := tc.do(); err != nil {
			t.Fatal(err)
		}
		if len(*got) != 1 || (*got)[0] != tc.want {
			t.Errorf("sent %+v\nwant %+v", *got, tc.want)
		}
	}
}

// TestUpload: an object goes up in one multipart/related request, its
// metadata (the name) and then its data.
// https://cloud.google.com/storage/docs/uploading-objects#uploading-an-object
func TestUpload(t *testing.T) {
	srv, got := server(t, http.StatusOK, `{"name":"exports/x y","generation":"1"}`)
	o, err := NewStorage(srv.Client(), srv.URL+"/storage/v1/").Objects.Insert("b1", "exports/x y", []byte("data")).Do()
	if err != nil || o.Generation != 1 {
		t.Fatalf("insert: %+v %v", o, err)
	}
	req := (*got)[0]
	if req.method != "POST" || req.uri != "/upload/storage/v1/b/b1/o?alt=json&prettyPrint=false&uploadType=multipart" {
		t.Errorf("sent %s %s", req.method, req.uri)
	}
	mediaType, params, err := mime.ParseMediaType(req.ctype)
	if err != nil || mediaType != "multipart/related" {
		t.Fatalf("content type %q", req.ctype)
	}
	mr := multipart.NewReader(strings.NewReader(req.body), params["boundary"])
	var parts []string
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(p)
		parts = append(parts, p.Header.Get("Content-Type")+" "+string(b))
	}
	want := []string{`application/json; charset=UTF-8 {"name":"exports/x y"}`, "application/octet-stream data"}
	if !slices.Equal(parts, want) {
		t.Errorf("parts %q, want %q", parts, want)
	}
}

// TestAnswers: 64-bit numbers come as strings; a kept lifecycle rule goes
// back whole (a condition byob does not set is not dropped, which would
// widen what the rule deletes); a 204 decodes to Empty.
func TestAnswers(t *testing.T) {
	srv, got := server(t, http.StatusOK, `{"name":"b1","metageneration":"9","lifecycle":{"rule":[
		{"action":{"type":"Delete"},"condition":{"age":0,"isLive":false,"numNewerVersions":3,"matchesSuffix":[".tmp"]}}]}}`)
	st := NewStorage(srv.Client(), srv.URL+"/storage/v1/")
	b, err := st.Buckets.Get("b1").Context(context.Background()).Do()
	if err != nil {
		t.Fatal(err)
	}
	if b.Metageneration != 9 {
		t.Errorf("metageneration %d, want 9", b.Metageneration)
	}
	if _, err := st.Buckets.Patch("b1", &Bucket{Lifecycle: b.Lifecycle}).Do(); err != nil {
		t.Fatal(err)
	}
	want := `{"lifecycle":{"rule":[{"action":{"type":"Delete"},"condition":{"age":0,"isLive":false,"matchesSuffix":[".tmp"],"numNewerVersions":3}}]}}`
	if body := (*got)[1].body; body != want {
		t.Errorf("patch sent %s\nwant %s", body, want)
	}

	empty, _ := server(t, http.StatusNoContent, "")
	if _, err := NewStorage(empty.Client(), empty.URL).Objects.Delete("b1", "o").Do(); err != nil {
		t.Errorf("a 204: %v", err)
	}
}

// TestErrors: an error answer is Google's *googleapi.Error, with the
// status, the message and the body (where a reason such as an
// organization policy constraint is named).
func TestErrors(t *testing.T) {
	// https://cloud.google.com/apis/design/errors#http_mapping
	body := `{"error":{"code":400,"message":"Key creation is not allowed on this service account.","status":"FAILED_PRECONDITION",
		"details":[{"@type":"type.googleapis.com/google.rpc.PreconditionFailure","violations":[{"type":"constraints/iam.disableServiceAccountKeyCreation"}]}]}}`
	srv, _ := server(t, http.StatusBadRequest, body)
	_, err := NewIAM(srv.Client(), srv.URL).Keys.Create("projects/p/serviceAccounts/a@p.iam.gserviceaccount.com", &CreateKeyRequest{}).Do()
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		t.Fatalf("error %T %v, want *googleapi.Error", err, err)
	}
	if ge.Code != http.StatusBadRequest || !strings.Contains(ge.Message, "Key creation is not allowed") || !strings.Contains(ge.Body, "constraints/iam.disableServiceAccountKeyCreation") {
		t.Errorf("got code %d message %q body %q", ge.Code, ge.Message, ge.Body)
	}
	var answer map[string]any
	if json.Unmarshal([]byte(ge.Body), &answer) != nil {
		t.Errorf("body is not the answer's JSON: %q", ge.Body)
	}
}
