// Package gcptest is a fake of the Google Cloud APIs byob uses, answering
// what cloud.google.com/go/storage and google.golang.org/api's IAM and
// Resource Manager clients send, over HTTP (Endpoints, Env): Cloud Storage
// buckets (iamConfiguration, lifecycle, IAM policies with etags and
// versions), objects (multipart uploads, XML API reads, versioned lists,
// deletes of a generation), IAM custom roles, service accounts and keys,
// and the project's IAM policy and testIamPermissions. Every answer is in
// the shape Google documents, cited beside it; a share can be made to fail
// (fault), as the libraries' own retries meet it.
package gcptest

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/api/option"

	"github.com/growthloop/byob/internal/testsupport/fault"
	"github.com/growthloop/byob/providers/gcsbucket"
)

// Project is the one project the fake knows.
const Project = "acme-data"

// Bucket is a modelled bucket.
type Bucket struct {
	Name             string          `json:"name"`
	Location         string          `json:"location"`
	IAMConfiguration json.RawMessage `json:"iamConfiguration,omitempty"`
	Lifecycle        json.RawMessage `json:"lifecycle,omitempty"`
	Versioning       json.RawMessage `json:"versioning,omitempty"`
	ProjectNumber    string          `json:"projectNumber"`
	Etag             string          `json:"etag"`
	Metageneration   string          `json:"metageneration"`
}

// Binding is one binding of an IAM policy, of a bucket or the project.
type Binding struct {
	Role      string     `json:"role"`
	Members   []string   `json:"members"`
	Condition *Condition `json:"condition,omitempty"`
}

// Condition narrows a binding (IAM Conditions, policy version 3).
type Condition struct {
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Expression  string `json:"expression"`
}

type policy struct {
	Kind       string    `json:"kind,omitempty"`
	ResourceID string    `json:"resourceId,omitempty"`
	Version    int       `json:"version"`
	Etag       string    `json:"etag"`
	Bindings   []Binding `json:"bindings"`
}

// conditional reports whether a binding has a condition: only a policy of
// version 3 may say so.
// https://cloud.google.com/iam/docs/policies#versions
func conditional(bs []Binding) bool {
	return slices.ContainsFunc(bs, func(b Binding) bool { return b.Condition != nil })
}

// versionOf is the version of a policy with these bindings: 3 with a
// condition, else the one it was set with (at least 1).
func versionOf(bs []Binding, set int) int {
	if conditional(bs) {
		return 3
	}
	return max(set, 1)
}

// Role is a modelled custom role.
type Role struct {
	Name                string   `json:"name"`
	Title               string   `json:"title,omitempty"`
	Description         string   `json:"description,omitempty"`
	IncludedPermissions []string `json:"includedPermissions,omitempty"`
	Stage               string   `json:"stage,omitempty"`
	Etag                string   `json:"etag"`
	Deleted             bool     `json:"deleted,omitempty"`
}

type serviceAccount struct {
	Name        string `json:"name"`
	Email       string `json:"email"`
	UniqueID    string `json:"uniqueId"`
	DisplayName string `json:"displayName,omitempty"`
	Description string `json:"description,omitempty"`
}

// Server is the fake.
type Server struct {
	URL string
	// The knobs a test turns, through the methods below.
	blockKeys, failPrecondition    string
	foreign                        map[string]bool
	granted                        []string
	newAccountDelay                int
	loseKeyAnswers, dropKeyAnswers int

	faults     atomic.Pointer[fault.Injector]
	latency    atomic.Int64 // added to every request, in nanoseconds
	srv        *httptest.Server
	keyPEM     string // the private key of every key the fake makes
	mu         sync.Mutex
	objects    map[string][]*object // bucket/name -> its generations, oldest first
	generation int64
	project    []Binding // the project's IAM policy
	buckets    map[string]*Bucket
	policies   map[string]*policy
	roles      map[string]*Role
	accounts   map[string]*serviceAccount
	unseen     map[string]int // email -> remaining "not found" answers
	keys       map[string][]string
	keyTimes   map[string]time.Time // key id -> creation
	disabled   map[string]bool
	requests   []string
	sent       []Sent
	mutations  int
	failAt     int
	etagSerial int
}

// keyPEM is the private key of every key a fake of this process makes:
// making an RSA key takes a tenth of a second, too long to repeat per fake.
var keyPEM = sync.OnceValue(func() string {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
})

// New starts the fake.
func New() *Server {
	s := &Server{
		foreign: map[string]bool{},
		buckets: map[string]*Bucket{}, policies: map[string]*policy{},
		roles: map[string]*Role{}, accounts: map[string]*serviceAccount{},
		unseen: map[string]int{}, keys: map[string][]string{}, keyTimes: map[string]time.Time{}, disabled: map[string]bool{}, objects: map[string][]*object{},
	}
	s.keyPEM = keyPEM()
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// SetFaults makes f fail a share of all answers (and kill a client after a
// chosen change); nil injects nothing.
func (s *Server) SetFaults(f *fault.Injector) { s.faults.Store(f) }

// A test turns the knobs below while byob may still have requests in
// flight (a detached read outlives the call that started it), so each
// takes the lock the handler reads them under.

// BlockKeys answers key creation with FAILED_PRECONDITION naming this
// organization policy constraint, as Google does when it is enforced
// (iam.disableServiceAccountKeyCreation, or the managed
// iam.managed.disableServiceAccountKeyCreation); "" creates keys.
func (s *Server) BlockKeys(constraint string) { s.set(func() { s.blockKeys = constraint }) }

// FailPrecondition answers key creation with another FAILED_PRECONDITION
// ("" creates keys).
func (s *Server) FailPrecondition(message string) { s.set(func() { s.failPrecondition = message }) }

// Foreign makes bucket a name another project owns.
func (s *Server) Foreign(bucket string) { s.set(func() { s.foreign[bucket] = true }) }

// Granted sets the permissions testIamPermissions grants; nil: all.
func (s *Server) Granted(permissions []string) { s.set(func() { s.granted = permissions }) }

// NewAccountDelay makes a new service account unknown to bucket IAM and
// key creation n times after it is made (propagation).
func (s *Server) NewAccountDelay(n int) { s.set(func() { s.newAccountDelay = n }) }

// LoseKeyAnswers makes the next n key creations take effect and answer
// 500, as when the response is lost.
func (s *Server) LoseKeyAnswers(n int) { s.set(func() { s.loseKeyAnswers = n }) }

// DropKeyAnswers makes the next n key creations take effect and close the
// connection without an answer.
func (s *Server) DropKeyAnswers(n int) { s.set(func() { s.dropKeyAnswers = n }) }

func (s *Server) set(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

// SetLatency adds d before every answer, as a network round trip would.
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// Endpoints are the fake's, as option.WithEndpoint takes them.
func (s *Server) Endpoints() gcsbucket.Endpoints {
	return gcsbucket.Endpoints{IAM: s.URL + "/", CRM: s.URL + "/", Storage: s.URL + "/storage/v1/"}
}

// Clients are byob's clients of the fake, without credentials.
func (s *Server) Clients() *gcsbucket.Clients {
	c, err := gcsbucket.NewClients(context.Background(), s.Endpoints(), option.WithoutAuthentication())
	if err != nil {
		panic(err) // only options that cannot fail
	}
	return c
}

// Requests returns "METHOD path" of every request so far.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

type arrivedKey struct{}

// Sent is one request as it was on the wire.
type Sent struct {
	Method, Path string
	Body         []byte
	At           time.Time // when it arrived, before the added latency
}

// Sent returns every request so far, with its body.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// Mutations counts the requests that changed something.
func (s *Server) Mutations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mutations
}

// FailMutation makes the k-th mutating request from now (k >= 1) fail with
// 403 PERMISSION_DENIED.
func (s *Server) FailMutation(k int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failAt = s.mutations + k
}

// Bucket returns a copy of a bucket, nil when absent.
func (s *Server) Bucket(name string) *Bucket {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[name]
	if !ok {
		return nil
	}
	c := *b
	return &c
}

// SetBucket stores a bucket as is (for adopt and drift tests).
func (s *Server) SetBucket(b Bucket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b.Etag, b.ProjectNumber, b.Metageneration = s.etag(), "123456", "1"
	s.buckets[b.Name] = &b
	if s.policies[b.Name] == nil {
		s.policies[b.Name] = s.newPolicy()
	}
}

// Bindings returns a bucket's IAM bindings.
func (s *Server) Bindings(bucket string) []Binding {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.policies[bucket]; p != nil {
		return slices.Clone(p.Bindings)
	}
	return nil
}

// SetBindings replaces a bucket's bindings (for tests).
func (s *Server) SetBindings(bucket string, b []Binding) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policies[bucket].Bindings = b
	s.policies[bucket].Etag = s.etag()
}

// Role returns a copy of a custom role by id, nil when absent.
func (s *Server) Role(id string) *Role {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.roles["projects/"+Project+"/roles/"+id]
	if !ok {
		return nil
	}
	c := *r
	return &c
}

// Keys returns the user-managed key ids of a service account.
func (s *Server) Keys(email string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.keys[email])
}

// HasAccount reports whether the service account exists.
func (s *Server) HasAccount(email string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accounts[email] != nil
}

// newPolicy is a new bucket's IAM policy: the project owners own it.
func (s *Server) newPolicy() *policy {
	return &policy{Version: 1, Etag: s.etag(), Bindings: []Binding{{Role: "roles/storage.legacyBucketOwner", Members: []string{"projectOwner:" + Project}}}}
}

func (s *Server) etag() string {
	s.etagSerial++
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("etag-%d", s.etagSerial)))
}

// byName is a list answer: m's values in name order, those keep allows
// (nil keeps all).
func byName[T any](m map[string]*T, keep func(*T) bool) []*T {
	var out []*T
	for _, n := range slices.Sorted(maps.Keys(m)) {
		if keep == nil || keep(m[n]) {
			out = append(out, m[n])
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, code int, status, msg string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status,
		"errors": []map[string]string{{"message": msg, "reason": strings.ToLower(status)}}}})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	time.Sleep(time.Duration(s.latency.Load()))
	r = r.WithContext(context.WithValue(r.Context(), arrivedKey{}, at))
	path := r.URL.Path
	read := r.Method == http.MethodGet || r.Method == http.MethodHead || strings.HasSuffix(path, ":testIamPermissions") || strings.HasSuffix(path, ":getIamPolicy") || path == "/token"
	if r.Method == http.MethodPost && strings.HasSuffix(path, "/keys") {
		s.mu.Lock()
		lose, drop := s.loseKeyAnswers > 0, s.loseKeyAnswers == 0 && s.dropKeyAnswers > 0
		if lose {
			s.loseKeyAnswers--
		} else if drop {
			s.dropKeyAnswers--
		}
		s.mu.Unlock()
		if lose || drop {
			s.handle(httptest.NewRecorder(), r, read)
			if drop {
				if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
					_ = c.Close()
				}
				return
			}
			apiError(w, http.StatusInternalServerError, "INTERNAL", "Internal Error")
			return
		}
	}
	s.faults.Load().Serve(w, !read, func(w http.ResponseWriter) { s.handle(w, r, read) }, func(w http.ResponseWriter, status int) {
		// Google's JSON error answers for 503 and 500
		// (cloud.google.com/storage/docs/json_api/v1/status-codes).
		if status == http.StatusServiceUnavailable {
			apiError(w, status, "UNAVAILABLE", "Backend Error")
			return
		}
		apiError(w, status, "INTERNAL", "Internal Error")
	})
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, read bool) {
	body, _ := io.ReadAll(r.Body)
	path := r.URL.Path
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Method+" "+path)
	at, _ := r.Context().Value(arrivedKey{}).(time.Time)
	s.sent = append(s.sent, Sent{Method: r.Method, Path: path, Body: body, At: at})
	if !read {
		s.mutations++
		if s.failAt != 0 && s.mutations == s.failAt {
			s.failAt = 0
			apiError(w, http.StatusForbidden, "PERMISSION_DENIED", "injected failure of "+r.Method+" "+path)
			return
		}
	}
	switch {
	case path == "/token": // OAuth token endpoint of the credentials files
		s.token(w, body)
	case strings.HasPrefix(path, "/storage/v1/b"), strings.HasPrefix(path, "/upload/storage/v1/b"):
		s.storage(w, r, strings.TrimPrefix(strings.TrimPrefix(path, "/upload"), "/storage/v1/b"), body)
	case path == "/v1/projects/"+Project+":getIamPolicy":
		// projects.getIamPolicy: {"options": {"requestedPolicyVersion"}};
		// a policy with conditions is refused in an older version.
		// https://cloud.google.com/resource-manager/reference/rest/v1/projects/getIamPolicy
		var req struct {
			Options struct {
				RequestedPolicyVersion int `json:"requestedPolicyVersion"`
			} `json:"options"`
		}
		_ = json.Unmarshal(body, &req)
		if conditional(s.project) && req.Options.RequestedPolicyVersion < 3 {
			apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "The policy has conditions: request policy version 3.")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"version": versionOf(s.project, 1), "etag": s.projectEtag(), "bindings": s.project})
	case path == "/v1/projects/"+Project+":setIamPolicy":
		// projects.setIamPolicy: {"policy": Policy}; a stale etag is 409
		// ABORTED, as Resource Manager answers a concurrent change.
		// https://cloud.google.com/resource-manager/reference/rest/v1/projects/setIamPolicy
		var req struct {
			Policy struct {
				Version  int       `json:"version"`
				Etag     string    `json:"etag"`
				Bindings []Binding `json:"bindings"`
			} `json:"policy"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", err.Error())
			return
		}
		if conditional(req.Policy.Bindings) && req.Policy.Version < 3 {
			apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "A policy with conditions must be version 3.")
			return
		}
		if req.Policy.Etag != "" && req.Policy.Etag != s.projectEtag() {
			apiError(w, http.StatusConflict, "ABORTED", "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.")
			return
		}
		s.project = req.Policy.Bindings
		writeJSON(w, http.StatusOK, map[string]any{"version": versionOf(s.project, req.Policy.Version), "etag": s.projectEtag(), "bindings": s.project})
	case strings.HasSuffix(path, ":testIamPermissions"):
		s.testPermissions(w, path, body)
	case strings.HasPrefix(path, "/v1/projects/"+Project+"/roles"):
		s.role(w, r, strings.TrimPrefix(path, "/v1/"), body)
	case strings.HasPrefix(path, "/v1/projects/"+Project+"/serviceAccounts"):
		s.serviceAccount(w, r, strings.TrimPrefix(path, "/v1/projects/"+Project+"/serviceAccounts"), body)
	case s.isBucketPath(path):
		s.xmlObject(w, r)
	default:
		apiError(w, http.StatusNotFound, "NOT_FOUND", "the fake does not serve "+r.Method+" "+path)
	}
}

func (s *Server) testPermissions(w http.ResponseWriter, path string, body []byte) {
	if path != "/v1/projects/"+Project+":testIamPermissions" {
		apiError(w, http.StatusForbidden, "PERMISSION_DENIED", "The caller does not have permission")
		return
	}
	var req struct{ Permissions []string }
	_ = json.Unmarshal(body, &req)
	var granted []string
	for _, p := range req.Permissions {
		if s.granted == nil || slices.Contains(s.granted, p) {
			granted = append(granted, p)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"permissions": granted})
}

// visible reports whether a service account can be used yet, counting down
// its propagation delay.
func (s *Server) visible(email string) bool {
	if email == gcpSnowflakeAccount {
		return true
	}
	if s.accounts[email] == nil {
		return false
	}
	if s.unseen[email] > 0 {
		s.unseen[email]--
		return false
	}
	return true
}

// gcpSnowflakeAccount is Snowflake's account; it lives in Snowflake's project.
const gcpSnowflakeAccount = "sfc-fake@sfc-prod.iam.gserviceaccount.com"

func (s *Server) storage(w http.ResponseWriter, r *http.Request, rest string, body []byte) {
	name, sub, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
	if name != "" && s.foreign[name] {
		apiError(w, http.StatusForbidden, "PERMISSION_DENIED", "caller does not have storage.buckets.get access to the Google Cloud Storage bucket.")
		return
	}
	switch {
	case name == "" && r.Method == http.MethodGet:
		// buckets.list: {"items": [...]} (no timeCreated is modelled: the
		// sweeper treats a bucket without one as old).
		writeJSON(w, http.StatusOK, map[string]any{"items": byName(s.buckets, nil)})
		return
	case name == "" && r.Method == http.MethodPost:
		var b Bucket
		_ = json.Unmarshal(body, &b)
		if s.foreign[b.Name] || s.buckets[b.Name] != nil {
			apiError(w, http.StatusConflict, "CONFLICT", "The requested bucket name is not available.")
			return
		}
		b.Location = strings.ToUpper(b.Location)
		if b.Location == "" {
			b.Location = "US"
		}
		b.ProjectNumber, b.Metageneration, b.Etag = "123456", "1", s.etag()
		s.buckets[b.Name] = &b
		s.policies[b.Name] = s.newPolicy()
		writeJSON(w, http.StatusOK, b)
		return
	}
	b := s.buckets[name]
	if b == nil {
		apiError(w, http.StatusNotFound, "NOT_FOUND", "The specified bucket does not exist.")
		return
	}
	if sub == "o" || strings.HasPrefix(sub, "o/") {
		s.object(w, r, b.Name, strings.TrimPrefix(strings.TrimPrefix(sub, "o"), "/"), body)
		return
	}
	switch {
	case sub == "" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, b)
	case sub == "" && r.Method == http.MethodPatch:
		if m := r.URL.Query().Get("ifMetagenerationMatch"); m != "" && m != b.Metageneration {
			apiError(w, http.StatusPreconditionFailed, "FAILED_PRECONDITION", "At least one of the pre-conditions you specified did not hold.")
			return
		}
		var patch map[string]json.RawMessage
		_ = json.Unmarshal(body, &patch)
		if v, ok := patch["iamConfiguration"]; ok {
			b.IAMConfiguration = v
		}
		if v, ok := patch["lifecycle"]; ok {
			b.Lifecycle = v
		}
		if v, ok := patch["versioning"]; ok {
			b.Versioning = v
		}
		b.Etag = s.etag()
		if n, err := strconv.Atoi(b.Metageneration); err == nil {
			b.Metageneration = strconv.Itoa(n + 1)
		}
		writeJSON(w, http.StatusOK, b)
	case sub == "" && r.Method == http.MethodDelete:
		for k := range s.objects {
			if strings.HasPrefix(k, name+"/") {
				// https://cloud.google.com/storage/docs/json_api/v1/status-codes#409_Conflict
				apiError(w, http.StatusConflict, "CONFLICT", "The bucket you tried to delete is not empty.")
				return
			}
		}
		delete(s.buckets, name)
		delete(s.policies, name)
		w.WriteHeader(http.StatusNoContent)
	case sub == "iam" && r.Method == http.MethodGet:
		// buckets.getIamPolicy: a policy with conditions is refused unless
		// optionsRequestedPolicyVersion is 3 or more.
		// https://cloud.google.com/storage/docs/json_api/v1/buckets/getIamPolicy
		p := *s.policies[name]
		v, _ := strconv.Atoi(r.URL.Query().Get("optionsRequestedPolicyVersion"))
		if conditional(p.Bindings) && v < 3 {
			apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "The policy has conditions: set optionsRequestedPolicyVersion to 3.")
			return
		}
		p.Kind, p.ResourceID = "storage#policy", "projects/_/buckets/"+name
		writeJSON(w, http.StatusOK, p)
	case sub == "iam" && r.Method == http.MethodPut:
		// buckets.setIamPolicy: the etag must be the current one; a
		// policy with conditions must say version 3.
		// https://cloud.google.com/storage/docs/json_api/v1/buckets/setIamPolicy
		var p policy
		_ = json.Unmarshal(body, &p)
		if conditional(p.Bindings) && p.Version < 3 {
			apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "A policy with conditions must be version 3.")
			return
		}
		cur := s.policies[name]
		if p.Etag != cur.Etag {
			apiError(w, http.StatusPreconditionFailed, "FAILED_PRECONDITION", "The etag does not match: the policy changed since it was read.")
			return
		}
		for _, bd := range p.Bindings {
			for _, m := range bd.Members {
				if email, ok := strings.CutPrefix(m, "serviceAccount:"); ok && !s.visible(email) {
					apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Service account "+email+" does not exist.")
					return
				}
			}
		}
		p.Etag, p.Version = s.etag(), versionOf(p.Bindings, p.Version)
		s.policies[name] = &p
		p.Kind, p.ResourceID = "storage#policy", "projects/_/buckets/"+name
		writeJSON(w, http.StatusOK, p)
	default:
		apiError(w, http.StatusNotFound, "NOT_FOUND", "the fake does not serve "+r.Method+" bucket "+sub)
	}
}

func (s *Server) role(w http.ResponseWriter, r *http.Request, path string, body []byte) {
	parent := "projects/" + Project + "/roles"
	name, action, _ := strings.Cut(path, ":")
	switch {
	case name == parent && r.Method == http.MethodGet:
		// projects.roles.list: {"roles": [...]}, deleted ones only when
		// asked (showDeleted).
		all := r.URL.Query().Get("showDeleted") == "true"
		writeJSON(w, http.StatusOK, map[string]any{"roles": byName(s.roles, func(ro *Role) bool { return all || !ro.Deleted })})
		return
	case name == parent && r.Method == http.MethodPost:
		var req struct {
			RoleID string `json:"roleId"`
			Role   Role   `json:"role"`
		}
		_ = json.Unmarshal(body, &req)
		full := parent + "/" + req.RoleID
		if s.roles[full] != nil {
			apiError(w, http.StatusConflict, "ALREADY_EXISTS", "A role named "+req.RoleID+" in this project already exists.")
			return
		}
		role := req.Role
		role.Name, role.Etag = full, s.etag()
		s.roles[full] = &role
		writeJSON(w, http.StatusOK, role)
		return
	}
	role := s.roles[name]
	if role == nil {
		apiError(w, http.StatusNotFound, "NOT_FOUND", "The role named "+name+" was not found.")
		return
	}
	switch {
	case action == "undelete" && r.Method == http.MethodPost:
		role.Deleted, role.Etag = false, s.etag()
	case r.Method == http.MethodGet:
	case r.Method == http.MethodPatch:
		var patch Role
		_ = json.Unmarshal(body, &patch)
		if strings.Contains(r.URL.Query().Get("updateMask"), "includedPermissions") {
			role.IncludedPermissions = patch.IncludedPermissions
		}
		role.Etag = s.etag()
	case r.Method == http.MethodDelete:
		role.Deleted, role.Etag = true, s.etag()
	}
	writeJSON(w, http.StatusOK, role)
}

func (s *Server) serviceAccount(w http.ResponseWriter, r *http.Request, rest string, body []byte) {
	rest = strings.TrimPrefix(rest, "/")
	email, keyPath, _ := strings.Cut(rest, "/keys")
	switch {
	case rest == "" && r.Method == http.MethodPost:
		var req struct {
			AccountID      string         `json:"accountId"`
			ServiceAccount serviceAccount `json:"serviceAccount"`
		}
		_ = json.Unmarshal(body, &req)
		email := req.AccountID + "@" + Project + ".iam.gserviceaccount.com"
		if s.accounts[email] != nil {
			apiError(w, http.StatusConflict, "ALREADY_EXISTS", "Service account "+req.AccountID+" already exists within project.")
			return
		}
		sa := req.ServiceAccount
		sa.Name, sa.Email, sa.UniqueID = "projects/"+Project+"/serviceAccounts/"+email, email, "1000"+fmt.Sprint(len(s.accounts))
		s.accounts[email] = &sa
		s.unseen[email] = s.newAccountDelay
		writeJSON(w, http.StatusOK, sa)
		return
	case rest == "" && r.Method == http.MethodGet:
		// projects.serviceAccounts.list: {"accounts": [...]}, sorted.
		writeJSON(w, http.StatusOK, map[string]any{"accounts": byName(s.accounts, nil)})
		return
	}
	sa := s.accounts[email]
	if sa == nil {
		apiError(w, http.StatusNotFound, "NOT_FOUND", "Unknown service account")
		return
	}
	keyID := strings.TrimPrefix(keyPath, "/")
	switch {
	case !strings.Contains(rest, "/keys") && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, sa)
	case !strings.Contains(rest, "/keys") && r.Method == http.MethodDelete:
		delete(s.accounts, email)
		writeJSON(w, http.StatusOK, map[string]any{})
	case keyID == "" && r.Method == http.MethodPost:
		if s.blockKeys != "" {
			// https://cloud.google.com/resource-manager/docs/organization-policy/restricting-service-accounts
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{
				"code": http.StatusBadRequest, "message": "Key creation is not allowed on this service account.", "status": "FAILED_PRECONDITION",
				"details": []map[string]any{{"@type": "type.googleapis.com/google.rpc.PreconditionFailure", "violations": []map[string]string{{
					"type": "constraints/" + s.blockKeys, "subject": "projects/" + Project + "?configvalue=" + email,
					"description": "Key creation is not allowed on this service account."}}}}}})
			return
		}
		if s.failPrecondition != "" {
			apiError(w, http.StatusBadRequest, "FAILED_PRECONDITION", s.failPrecondition)
			return
		}
		if !s.visible(email) {
			apiError(w, http.StatusNotFound, "NOT_FOUND", "Unknown service account")
			return
		}
		raw := make([]byte, 20)
		_, _ = rand.Read(raw)
		id := hex.EncodeToString(raw)
		s.keys[email] = append(s.keys[email], id)
		s.keyTimes[id] = time.Now().UTC()
		cred, _ := json.Marshal(map[string]string{
			"type": "service_account", "project_id": Project, "private_key_id": id,
			"private_key": s.keyPEM, "client_email": email, "token_uri": s.URL + "/token",
		})
		writeJSON(w, http.StatusOK, map[string]any{
			"name": sa.Name + "/keys/" + id, "privateKeyType": "TYPE_GOOGLE_CREDENTIALS_FILE", "keyAlgorithm": "KEY_ALG_RSA_2048",
			"privateKeyData": base64.StdEncoding.EncodeToString(cred), "keyType": "USER_MANAGED",
			"validAfterTime": s.keyTimes[id].Format(time.RFC3339), "validBeforeTime": "9999-12-31T23:59:59Z",
		})
	case keyID == "" && r.Method == http.MethodGet:
		var keys []map[string]any
		for _, id := range s.keys[email] {
			keys = append(keys, map[string]any{"name": sa.Name + "/keys/" + id, "keyType": "USER_MANAGED",
				"validAfterTime": s.keyTimes[id].Format(time.RFC3339), "validBeforeTime": "9999-12-31T23:59:59Z",
				"keyAlgorithm": "KEY_ALG_RSA_2048", "disabled": s.disabled[id]})
		}
		writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
	case strings.HasSuffix(keyID, ":disable") && r.Method == http.MethodPost:
		// https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts.keys/disable
		id := strings.TrimSuffix(keyID, ":disable")
		if !slices.Contains(s.keys[email], id) {
			apiError(w, http.StatusNotFound, "NOT_FOUND", "Unknown key")
			return
		}
		s.disabled[id] = true
		writeJSON(w, http.StatusOK, map[string]any{})
	case keyID != "" && r.Method == http.MethodDelete:
		if !slices.Contains(s.keys[email], keyID) {
			apiError(w, http.StatusNotFound, "NOT_FOUND", "Unknown key")
			return
		}
		s.keys[email] = slices.DeleteFunc(s.keys[email], func(k string) bool { return k == keyID })
		writeJSON(w, http.StatusOK, map[string]any{})
	default:
		apiError(w, http.StatusNotFound, "NOT_FOUND", "the fake does not serve "+r.Method+" service account "+rest)
	}
}

// token answers the OAuth token request of a key file: the JWT's issuer
// and key id become the token, so object requests know who makes them. A
// deleted key gets invalid_grant, as from Google. The signature is not
// checked.
func (s *Server) token(w http.ResponseWriter, body []byte) {
	form, _ := url.ParseQuery(string(body))
	parts := strings.Split(form.Get("assertion"), ".")
	var header struct {
		Kid string `json:"kid"`
	}
	var claims struct {
		Iss string `json:"iss"`
	}
	if len(parts) == 3 {
		h, _ := base64.RawURLEncoding.DecodeString(parts[0])
		c, _ := base64.RawURLEncoding.DecodeString(parts[1])
		_ = json.Unmarshal(h, &header)
		_ = json.Unmarshal(c, &claims)
	}
	token := "fake-token"
	if s.accounts[claims.Iss] != nil {
		if !slices.Contains(s.keys[claims.Iss], header.Kid) || s.disabled[header.Kid] {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
			return
		}
		token = "sa:" + claims.Iss
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": token, "token_type": "Bearer", "expires_in": 3600})
}

// object is one generation of an object.
type object struct {
	data       []byte
	generation int64
	noncurrent bool
}

// live is the object's live generation, nil when it has none.
func (s *Server) live(key string) *object {
	gens := s.objects[key]
	if len(gens) == 0 || gens[len(gens)-1].noncurrent {
		return nil
	}
	return gens[len(gens)-1]
}

// versioned reports whether a bucket keeps noncurrent generations.
func (s *Server) versioned(bucket string) bool {
	var v struct {
		Enabled bool `json:"enabled"`
	}
	return s.buckets[bucket] != nil && json.Unmarshal(s.buckets[bucket].Versioning, &v) == nil && v.Enabled
}

// put stores a new live generation of an object.
func (s *Server) put(bucket, name string, data []byte) *object {
	key := bucket + "/" + name
	s.generation++
	o := &object{data: data, generation: s.generation}
	if s.versioned(bucket) {
		if l := s.live(key); l != nil {
			l.noncurrent = true
		}
		s.objects[key] = append(s.objects[key], o)
	} else {
		s.objects[key] = append(slices.DeleteFunc(s.objects[key], func(o *object) bool { return !o.noncurrent }), o)
	}
	return o
}

// object serves the object requests of key probes and of emptying a
// bucket: uploads, reads, lists (with versions and pages) and deletes (of
// a generation), as the JSON API does.
// https://cloud.google.com/storage/docs/json_api/v1/objects
func (s *Server) object(w http.ResponseWriter, r *http.Request, bucket, name string, body []byte) {
	if email, ok := keyCaller(r); ok {
		if !s.bound(bucket, email) {
			apiError(w, http.StatusForbidden, "PERMISSION_DENIED", email+" does not have storage.objects access to the Google Cloud Storage bucket.")
			return
		}
	}
	meta := func(name string, o *object) map[string]any {
		sum := binary.BigEndian.AppendUint32(nil, crc32.Checksum(o.data, crc32.MakeTable(crc32.Castagnoli)))
		return map[string]any{"kind": "storage#object", "bucket": bucket, "name": name, "size": fmt.Sprint(len(o.data)),
			"generation": fmt.Sprint(o.generation), "crc32c": base64.StdEncoding.EncodeToString(sum)}
	}
	q := r.URL.Query()
	key := bucket + "/" + name
	o := s.live(key)
	if g := q.Get("generation"); g != "" {
		o = nil
		for _, gen := range s.objects[key] {
			if fmt.Sprint(gen.generation) == g {
				o = gen
			}
		}
	}
	switch {
	case name == "" && r.Method == http.MethodPost:
		// A single-request upload: uploadType=media (the name in the query,
		// the data the body) or multipart (a multipart/related body of the
		// metadata, then the data).
		// https://cloud.google.com/storage/docs/uploading-objects
		objName, data := q.Get("name"), body
		if q.Get("uploadType") == "multipart" {
			_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
			var m struct {
				Name string `json:"name"`
			}
			if part, err := mr.NextPart(); err == nil {
				_ = json.NewDecoder(part).Decode(&m)
			}
			data = nil
			if part, err := mr.NextPart(); err == nil {
				data, _ = io.ReadAll(part)
			}
			objName = m.Name
		} else if q.Get("uploadType") != "media" {
			objName = ""
		}
		if objName == "" {
			apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "the fake takes media and multipart uploads with a name")
			return
		}
		writeJSON(w, http.StatusOK, meta(objName, s.put(bucket, objName, data)))
	case name == "" && r.Method == http.MethodGet:
		var items []map[string]any
		for k, gens := range s.objects {
			n, ok := strings.CutPrefix(k, bucket+"/")
			if !ok || !strings.HasPrefix(n, q.Get("prefix")) {
				continue
			}
			for _, g := range gens {
				if !g.noncurrent || q.Get("versions") == "true" {
					items = append(items, meta(n, g))
				}
			}
		}
		slices.SortFunc(items, func(a, b map[string]any) int {
			return strings.Compare(a["name"].(string)+"#"+fmt.Sprintf("%020s", a["generation"]), b["name"].(string)+"#"+fmt.Sprintf("%020s", b["generation"]))
		})
		// Pages of maxResults (1000 at most), the token the next offset.
		size, _ := strconv.Atoi(q.Get("maxResults"))
		if size <= 0 || size > 1000 {
			size = 1000
		}
		from, _ := strconv.Atoi(q.Get("pageToken"))
		from = min(from, len(items))
		page := map[string]any{"kind": "storage#objects", "items": items[from:min(from+size, len(items))]}
		if from+size < len(items) {
			page["nextPageToken"] = strconv.Itoa(from + size)
		}
		writeJSON(w, http.StatusOK, page)
	case o == nil:
		apiError(w, http.StatusNotFound, "NOT_FOUND", "No such object: "+bucket+"/"+name)
	case r.Method == http.MethodGet && q.Get("alt") == "media":
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(o.data)
	case r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, meta(name, o))
	case r.Method == http.MethodDelete:
		// Deleting the live object of a versioned bucket keeps it as a
		// noncurrent generation; deleting a generation removes it.
		if q.Get("generation") == "" && s.versioned(bucket) {
			o.noncurrent = true
		} else {
			s.objects[key] = slices.DeleteFunc(s.objects[key], func(g *object) bool { return g == o })
			if len(s.objects[key]) == 0 {
				delete(s.objects, key)
			}
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		apiError(w, http.StatusNotFound, "NOT_FOUND", "the fake does not serve "+r.Method+" object "+name)
	}
}

// isBucketPath reports whether path is /BUCKET/OBJECT of a bucket the fake
// has: an XML API request.
func (s *Server) isBucketPath(path string) bool {
	bucket, _, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return ok && (s.buckets[bucket] != nil || s.foreign[bucket])
}

// xmlObject serves the XML API's GET and HEAD of an object at
// /BUCKET/OBJECT, which cloud.google.com/go/storage reads objects with
// unless told to use the JSON API: the data, with the object's generation,
// metageneration, stored length and CRC32C and MD5 in x-goog-hash; errors
// as an XML <Error> document (NoSuchKey, AccessDenied).
// https://cloud.google.com/storage/docs/xml-api/get-object-download
// https://cloud.google.com/storage/docs/xml-api/reference-headers
// https://cloud.google.com/storage/docs/xml-api/reference-status
func (s *Server) xmlObject(w http.ResponseWriter, r *http.Request) {
	bucket, name, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	xmlError := func(status int, code, message string) {
		w.Header().Set("Content-Type", "application/xml; charset=UTF-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<?xml version='1.0' encoding='UTF-8'?><Error><Code>%s</Code><Message>%s</Message></Error>", code, message)
	}
	email, byKey := keyCaller(r)
	if s.foreign[bucket] || byKey && !s.bound(bucket, email) {
		xmlError(http.StatusForbidden, "AccessDenied", "Access denied.")
		return
	}
	o := s.live(bucket + "/" + name)
	if g := r.URL.Query().Get("generation"); g != "" {
		o = nil
		for _, gen := range s.objects[bucket+"/"+name] {
			if fmt.Sprint(gen.generation) == g {
				o = gen
			}
		}
	}
	if o == nil || r.Method != http.MethodGet && r.Method != http.MethodHead {
		xmlError(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	crc := binary.BigEndian.AppendUint32(nil, crc32.Checksum(o.data, crc32.MakeTable(crc32.Castagnoli)))
	md5sum := md5.Sum(o.data)
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.Itoa(len(o.data)))
	h.Set("ETag", `"`+hex.EncodeToString(md5sum[:])+`"`)
	h.Set("X-Goog-Generation", fmt.Sprint(o.generation))
	h.Set("X-Goog-Metageneration", "1")
	h.Set("X-Goog-Stored-Content-Length", strconv.Itoa(len(o.data)))
	h.Set("X-Goog-Stored-Content-Encoding", "identity")
	h.Add("X-Goog-Hash", "crc32c="+base64.StdEncoding.EncodeToString(crc))
	h.Add("X-Goog-Hash", "md5="+base64.StdEncoding.EncodeToString(md5sum[:]))
	if r.Method == http.MethodGet {
		_, _ = w.Write(o.data)
	}
}

// keyCaller is the service account whose key made the request ("sa:" +
// email, the token the fake's token endpoint gave it).
func keyCaller(r *http.Request) (string, bool) {
	return strings.CutPrefix(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), "sa:")
}

// bound reports whether a bucket's policy binds the service account.
func (s *Server) bound(bucket, email string) bool {
	return slices.ContainsFunc(s.policies[bucket].Bindings, func(b Binding) bool { return slices.Contains(b.Members, "serviceAccount:"+email) })
}

// Objects returns the names of the live objects in a bucket.
func (s *Server) Objects(bucket string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.objects {
		if n, ok := strings.CutPrefix(k, bucket+"/"); ok && s.live(k) != nil {
			out = append(out, n)
		}
	}
	return out
}

// Generations counts the object generations in a bucket, live and
// noncurrent.
func (s *Server) Generations(bucket string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, gens := range s.objects {
		if strings.HasPrefix(k, bucket+"/") {
			n += len(gens)
		}
	}
	return n
}

// PutObject stores an object as another writer would.
func (s *Server) PutObject(bucket, name string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.put(bucket, name, data)
}

// projectEtag changes with the project's bindings.
func (s *Server) projectEtag() string {
	b, _ := json.Marshal(s.project)
	sum := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(sum[:8])
}

// ProjectBindings returns the project's IAM policy bindings.
func (s *Server) ProjectBindings() []Binding {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.project)
}

// SetProjectBindings replaces the project's IAM policy bindings.
func (s *Server) SetProjectBindings(b []Binding) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.project = b
}

// DisableKey disables a service account key, as from the console.
func (s *Server) DisableKey(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disabled[id] = true
}

// AddKey makes a key for the account as someone else would (the console),
// and returns its id.
func (s *Server) AddKey(email string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	raw := make([]byte, 20)
	_, _ = rand.Read(raw)
	id := hex.EncodeToString(raw)
	s.keys[email] = append(s.keys[email], id)
	s.keyTimes[id] = time.Now().UTC().Add(-48 * time.Hour)
	return id
}

// DeleteKey deletes a service account key, as from the console.
func (s *Server) DeleteKey(email, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[email] = slices.DeleteFunc(s.keys[email], func(k string) bool { return k == id })
}

// CredentialsFile writes a service account key file whose token endpoint is
// the fake, for Application Default Credentials
// (GOOGLE_APPLICATION_CREDENTIALS), and returns its path.
func (s *Server) CredentialsFile(dir string) (string, error) {
	cred, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": Project, "private_key_id": "operator", "private_key": s.keyPEM,
		"client_email": "operator@" + Project + ".iam.gserviceaccount.com", "token_uri": s.URL + "/token",
	})
	path := filepath.Join(dir, "adc.json")
	return path, os.WriteFile(path, cred, 0o600)
}

// Env is gcloud's endpoint overrides pointing at the fake. Cloud Storage
// is reached through its override too, not STORAGE_EMULATOR_HOST: the
// storage library sends no credentials to an emulator, and the fake tells
// GrowthLoop's key from the operator by them.
func (s *Server) Env() map[string]string {
	ep := s.Endpoints()
	return map[string]string{
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_IAM":                  ep.IAM,
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER": ep.CRM,
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE":              ep.Storage,
	}
}
