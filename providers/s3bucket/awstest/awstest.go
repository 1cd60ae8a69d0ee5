// Package awstest runs kumo, an in-process AWS emulator, behind a small
// proxy that fills the gaps byob's tests need:
//
//   - STS GetCallerIdentity answers the account kumo's IAM builds ARNs in
//     (kumo's STS says 000000000000, its IAM 123456789012), and answers a
//     new access key with InvalidClientTokenId for its first calls, as IAM
//     does while the key propagates;
//   - IAM GetPolicy, GetPolicyVersion, ListPolicyVersions,
//     CreatePolicyVersion, DeletePolicyVersion, ListAttachedUserPolicies and
//     UpdateAccessKey, which kumo lacks, are answered from what the proxy
//     recorded (an inactive key is listed so and refused);
//   - S3 GetBucketLocation answers the region the bucket was created in
//     (kumo always says us-east-1), and names in ForeignBuckets behave as
//     buckets of another account;
//   - kumo enforces no IAM: S3 requests signed by a deleted or inactive key
//     answer InvalidAccessKeyId, ConfineKeysTo denies a key what byob's
//     policy denies it (objects outside the prefix), and Deny answers
//     chosen actions AccessDenied;
//   - every request is counted, mutations can be made to fail, and a fixed
//     latency can be added.
//
// The product code is unaware of the proxy: it talks to it through the SDK's
// BaseEndpoint like to any AWS endpoint.
//
// kumo's services are process-wide singletons: every Server of a test
// binary sees the same buckets, users and policies. Tests use names no
// other test uses (see Unique).
package awstest

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/sivchari/kumo"

	"github.com/growthloop/byob/internal/testsupport/fault"
	"github.com/growthloop/byob/providers/s3bucket"
)

// AccountID is the account of every ARN the emulator makes.
const AccountID = "123456789012"

// CanonicalID is the account's canonical user id, the owner in ACLs.
const CanonicalID = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"

// Admin credentials the tests sign with.
const (
	AdminKeyID  = "AKIAADMINTEST0000000"
	AdminSecret = "admin-secret-not-real"
	AdminARN    = "arn:aws:iam::" + AccountID + ":user/admin"
)

// Call is one request through the proxy, as it was on the wire.
type Call struct {
	Service  string // s3, iam, sts
	Action   string // the IAM/STS Action, or the S3 operation (method + subresource)
	Mutating bool
	KeyID    string // the access key that signed it
	Region   string // the region it was signed for
	Path     string // the URL path (S3: /bucket/key)
	Form     url.Values
	Body     []byte
	At       time.Time // when it arrived, before the added latency
}

type policyVersion struct {
	id, doc string
	created time.Time
}

type policy struct {
	name       string
	versions   []policyVersion
	defaultVer string
	nextVer    int
}

// Server is kumo behind the proxy.
type Server struct {
	URL string
	// Partition, when aws-us-gov or aws-cn, makes the account one of that
	// partition (kumo knows only aws): ARNs in answers name it, and IAM
	// and bucket policies refuse an ARN of another partition, as AWS does.
	Partition string
	// The knobs a test turns, through the methods below.
	foreign                                   map[string]bool
	deny                                      map[string]bool
	keyWarmup, invalidPrincipal               int
	confineKeysTo                             string
	throttle, unavailable, loseAnswer, hangUp map[string]int
	lateGetPolicy                             map[string]int
	slowAnswer                                map[string]time.Duration
	together                                  map[string]*sync.WaitGroup

	faults  atomic.Pointer[fault.Injector]
	latency atomic.Int64 // added to every request, in nanoseconds
	kumo    *kumo.Server
	proxy   *httptest.Server
	fwd     *httputil.ReverseProxy

	mu         sync.Mutex
	calls      []Call
	locations  map[string]string
	ownership  map[string]string   // bucket -> Object Ownership
	acls       map[string][]string // bucket -> grants besides the owner's, "URI PERMISSION"
	accountPAB map[string]*accountPAB
	policies   map[string]*policy // by ARN
	userPolicy map[string][]string
	keyUses    map[string]int
	inactive   map[string]bool   // access keys made inactive
	secrets    map[string]string // secret of each access key IAM made, to check signatures
	failAt     int               // 1-based index of the mutation to fail; 0: none
	failCode   string
	mutations  int
}

var unique atomic.Int64

// Unique returns a short suffix no other call in this process returns.
func Unique() string { return fmt.Sprintf("%d", unique.Add(1)) }

// sharedKumo is the process's one kumo: its data is package-level anyway,
// and starting another rewires its services while the last one's
// background work (an S3 event after PutObject) still reads them.
var sharedKumo = sync.OnceValue(kumo.NewServer)

// New starts the proxy in front of the process's kumo.
func New() *Server {
	k := sharedKumo()
	target, _ := url.Parse(k.URL)
	s := &Server{
		kumo: k, fwd: httputil.NewSingleHostReverseProxy(target),
		foreign: map[string]bool{}, deny: map[string]bool{}, throttle: map[string]int{}, unavailable: map[string]int{}, loseAnswer: map[string]int{}, hangUp: map[string]int{}, slowAnswer: map[string]time.Duration{}, lateGetPolicy: map[string]int{}, together: map[string]*sync.WaitGroup{},
		locations: map[string]string{}, ownership: map[string]string{}, acls: map[string][]string{},
		accountPAB: map[string]*accountPAB{AccountID: {true, true, true, true}}, policies: map[string]*policy{},
		userPolicy: map[string][]string{}, keyUses: map[string]int{}, inactive: map[string]bool{}, secrets: map[string]string{},
	}
	s.proxy = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.proxy.URL
	return s
}

// A test turns the knobs below while byob may still have requests in
// flight (a detached read outlives the call that started it), so each
// takes the lock the handler reads them under.

// Foreign makes bucket a name another account owns.
func (s *Server) Foreign(bucket string) { s.set(func() { s.foreign[bucket] = true }) }

// Deny answers action (an IAM action, or an S3 operation such as
// "GET ?lifecycle", "HEAD bucket" or "GET /" for ListBuckets) with
// AccessDenied.
func (s *Server) Deny(action string) { s.set(func() { s.deny[action] = true }) }

// KeyWarmup makes a new access key's first n uses fail with
// InvalidClientTokenId, as while it propagates.
func (s *Server) KeyWarmup(n int) { s.set(func() { s.keyWarmup = n }) }

// InvalidPrincipal makes the next n CreateRole or UpdateAssumeRolePolicy
// calls answer MalformedPolicyDocument "Invalid principal in policy".
func (s *Server) InvalidPrincipal(n int) { s.set(func() { s.invalidPrincipal = n }) }

// ConfineKeysTo, when prefix is not "", denies S3 requests signed by a
// non-admin key for objects (or listings) outside prefix, as byob's
// policy makes S3 do: kumo enforces no IAM.
func (s *Server) ConfineKeysTo(prefix string) { s.set(func() { s.confineKeysTo = prefix }) }

// Throttle makes the next n calls of action answer 400 Throttling (the
// SDK retries it).
func (s *Server) Throttle(action string, n int) { s.set(func() { s.throttle[action] = n }) }

// Unavailable makes the next n calls of action answer 503
// ServiceUnavailable (the SDK retries it).
func (s *Server) Unavailable(action string, n int) { s.set(func() { s.unavailable[action] = n }) }

// LoseAnswer makes the next n calls of action take effect and answer 500,
// as when the response is lost.
func (s *Server) LoseAnswer(action string, n int) { s.set(func() { s.loseAnswer[action] = n }) }

// HangUp makes the next n calls of action take effect and close the
// connection without an answer, as when it drops in transit.
func (s *Server) HangUp(action string, n int) { s.set(func() { s.hangUp[action] = n }) }

// LateGetPolicy makes the next n GetPolicy calls of a policy ARN that
// exists answer NoSuchEntity, as IAM's eventual consistency shows a new
// policy late.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency
func (s *Server) LateGetPolicy(arn string, n int) { s.set(func() { s.lateGetPolicy[arn] = n }) }

// SlowAnswer adds d to every answer of action, as IAM's eventual
// consistency makes some calls take seconds.
func (s *Server) SlowAnswer(action string, d time.Duration) {
	s.set(func() { s.slowAnswer[action] = d })
}

// Together holds the first call of each action until the first calls of
// all of them have arrived (5 s at most), as when they are in flight at
// once: a test that must see calls overlap uses it instead of a delay.
func (s *Server) Together(actions ...string) {
	wg := &sync.WaitGroup{}
	wg.Add(len(actions))
	s.set(func() {
		for _, a := range actions {
			s.together[a] = wg
		}
	})
}

func (s *Server) set(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

// SetLatency adds d to every request (a handler serving another process
// must see it without a data race).
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

// SetFaults makes f fail a share of all answers (and kill a client after a
// chosen change); nil injects nothing.
func (s *Server) SetFaults(f *fault.Injector) { s.faults.Store(f) }

// Close stops the proxy; kumo serves the next test.
func (s *Server) Close() { s.proxy.Close() }

// Config is an SDK configuration that reaches the proxy with the admin
// credentials, and byob's retries with no delay worth waiting for.
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(AdminKeyID, AdminSecret, ""),
		Retryer:      s3bucket.Retry{MaxAttempts: s3bucket.DefaultRetry.MaxAttempts, MaxBackoff: 5 * time.Millisecond}.Retryer,
	}
}

// ConfigIn is Config with the S3 calls made in region (a bucket answers
// only in its own).
func (s *Server) ConfigIn(region string) aws.Config {
	c := s.Config()
	c.Region = region
	return c
}

// Calls returns every request so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Mutations returns the mutating requests so far.
func (s *Server) Mutations() []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Mutating {
			out = append(out, c)
		}
	}
	return out
}

// FailMutation makes the k-th mutating request from now (k >= 1) fail with
// a non-retryable error code (AccessDenied when code is "").
func (s *Server) FailMutation(k int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == "" {
		code = "AccessDenied"
	}
	s.failAt, s.failCode = s.mutations+k, code
}

var credentialRe = regexp.MustCompile(`Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	time.Sleep(time.Duration(s.latency.Load()))
	body, err := io.ReadAll(r.Body)
	if err != nil {
		// The client went away mid-request (a killed byob): AWS acts on
		// no request it did not receive whole.
		writeError(w, "s3", http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
		return
	}
	// A request that reached AWS whole takes effect even when its client
	// goes away: the call to kumo, and the proxy's record of it, must not
	// be cut short with it.
	r = r.WithContext(context.WithoutCancel(r.Context()))
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	m := credentialRe.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		http.Error(w, "unsigned request", http.StatusForbidden)
		return
	}
	if p := s.Partition; p != "" && p != "aws" {
		var ok bool
		if body, ok = s.inPartition(w, r, m[3], body); !ok {
			return
		}
		rec, out := httptest.NewRecorder(), w
		defer func() {
			rec.Header().Del("Content-Length")
			// Policy documents come back URL-encoded.
			b := bytes.ReplaceAll(rec.Body.Bytes(), []byte("arn:aws:"), []byte("arn:"+p+":"))
			rec.Body = bytes.NewBuffer(bytes.ReplaceAll(b, []byte("arn%3Aaws%3A"), []byte("arn%3A"+p+"%3A")))
			copyResponse(out, rec)
		}()
		w = rec
	}
	call := Call{Service: m[3], KeyID: m[1], Region: m[2], Path: r.URL.Path, Body: body, At: at}
	form := url.Values{}
	if call.Service == "s3" {
		call.Action = s3Operation(r)
		call.Mutating = r.Method != http.MethodGet && r.Method != http.MethodHead
	} else {
		form, _ = url.ParseQuery(string(body))
		call.Action, call.Form = form.Get("Action"), form
		call.Mutating = !strings.HasPrefix(call.Action, "Get") && !strings.HasPrefix(call.Action, "List")
	}

	s.mu.Lock()
	s.calls = append(s.calls, call)
	secret, known := s.secrets[call.KeyID]
	s.mu.Unlock()
	// A key IAM made signs with its own secret, or AWS refuses it
	// (SignatureDoesNotMatch, 403, in S3's and the query APIs' errors).
	if known && !signedWith(r, body, secret) {
		writeError(w, call.Service, http.StatusForbidden, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided. Check your key and signing method.")
		return
	}
	s.mu.Lock()
	slow := s.slowAnswer[call.Action]
	together := s.together[call.Action]
	delete(s.together, call.Action)
	lose := s.loseAnswer[call.Action] > 0
	if lose {
		s.loseAnswer[call.Action]--
	}
	hangUp := s.hangUp[call.Action] > 0
	if hangUp {
		s.hangUp[call.Action]--
	}
	s.mu.Unlock()
	time.Sleep(slow)
	if together != nil {
		together.Done()
		// Every action held together has arrived, or one never will.
		arrived := make(chan struct{})
		go func() { together.Wait(); close(arrived) }()
		select {
		case <-arrived:
		case <-time.After(5 * time.Second):
		}
	}
	if hangUp {
		s.handle(httptest.NewRecorder(), r, call, form)
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = c.Close()
		}
		return
	}
	if lose {
		s.handle(httptest.NewRecorder(), r, call, form)
		writeError(w, call.Service, http.StatusInternalServerError, "ServiceFailure", "The request processing has failed because of an unknown error, exception or failure.")
		return
	}
	s.faults.Load().Serve(w, call.Mutating, func(w http.ResponseWriter) { s.handle(w, r, call, form) }, func(w http.ResponseWriter, status int) {
		// The answers of the IAM and S3 API references' common errors.
		switch {
		case call.Service == "s3" && status == http.StatusServiceUnavailable:
			writeError(w, call.Service, status, "ServiceUnavailable", "Please reduce your request rate.")
		case call.Service == "s3":
			writeError(w, call.Service, status, "InternalError", "We encountered an internal error. Please try again.")
		case status == http.StatusServiceUnavailable:
			writeError(w, call.Service, status, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")
		default:
			writeError(w, call.Service, status, "ServiceFailure", "The request processing has failed because of an unknown error, exception or failure.")
		}
	})
}

// handle answers one request, as kumo with the proxy's additions.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, call Call, form url.Values) {
	s.mu.Lock()
	if s.deny[call.Action] {
		s.mu.Unlock()
		writeError(w, call.Service, http.StatusForbidden, "AccessDenied", "User: "+AdminARN+" is not authorized to perform: "+call.Action)
		return
	}
	if n := s.throttle[call.Action]; n > 0 {
		s.throttle[call.Action] = n - 1
		s.mu.Unlock()
		writeError(w, call.Service, http.StatusBadRequest, "Throttling", "Rate exceeded")
		return
	}
	if n := s.unavailable[call.Action]; n > 0 {
		s.unavailable[call.Action] = n - 1
		s.mu.Unlock()
		writeError(w, call.Service, http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unavailable")
		return
	}
	if call.Mutating {
		s.mutations++
		if s.failAt != 0 && s.mutations == s.failAt {
			s.failAt = 0
			s.mu.Unlock()
			writeError(w, call.Service, http.StatusForbidden, s.failCode, "injected failure of "+call.Action)
			return
		}
	}
	if call.KeyID != AdminKeyID {
		s.keyUses[call.KeyID]++
		if s.keyUses[call.KeyID] <= s.keyWarmup {
			s.mu.Unlock()
			code := "InvalidClientTokenId"
			if call.Service == "s3" {
				code = "InvalidAccessKeyId"
			}
			writeError(w, call.Service, http.StatusForbidden, code, "The security token included in the request is invalid.")
			return
		}
	}
	s.mu.Unlock()

	switch call.Service {
	case "sts":
		s.sts(w, call, form)
	case "iam":
		if call.Action == "CreateAccessKey" {
			rec := httptest.NewRecorder()
			s.iam(rec, r, call, form)
			if id, secret := keyFrom(rec.Body.String()); id != "" {
				s.mu.Lock()
				s.secrets[id] = secret
				s.mu.Unlock()
			}
			copyResponse(w, rec)
			return
		}
		s.iam(w, r, call, form)
	case "s3":
		s.s3(w, r, call)
	default:
		s.forward(w, r)
	}
}

// commercialARN finds an ARN of the commercial partition.
var commercialARN = regexp.MustCompile(`arn:aws:[a-z0-9-]+:[^"\s,\]]*`)

// inPartition checks a request of an account in s.Partition and returns
// its body as kumo (which knows only arn:aws:) takes it; false when it
// answered the request with the error AWS gives an ARN of another
// partition. IAM: "Partition "aws" is not valid for resource ..." in a
// policy document (MalformedPolicyDocument), InvalidInput for an ARN
// parameter; S3: MalformedPolicy "Policy has invalid resource".
func (s *Server) inPartition(w http.ResponseWriter, r *http.Request, service string, body []byte) ([]byte, bool) {
	switch service {
	case "iam":
		form, _ := url.ParseQuery(string(body))
		for k, vs := range form {
			for i, v := range vs {
				if bad := commercialARN.FindString(v); bad != "" {
					if strings.HasSuffix(k, "Document") {
						writeError(w, "iam", http.StatusBadRequest, "MalformedPolicyDocument", `Partition "aws" is not valid for resource "`+bad+`".`)
					} else {
						writeError(w, "iam", http.StatusBadRequest, "InvalidInput", "ARN "+bad+" is not valid.")
					}
					return nil, false
				}
				vs[i] = strings.ReplaceAll(v, "arn:"+s.Partition+":", "arn:aws:")
			}
		}
		body = []byte(form.Encode())
	case "s3":
		if r.URL.Query().Has("policy") && commercialARN.Match(body) {
			writeError(w, "s3", http.StatusBadRequest, "MalformedPolicy", "Policy has invalid resource")
			return nil, false
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return body, true
}

// s3Operation names an S3 request by method and subresource.
func s3Operation(r *http.Request) string {
	q := r.URL.Query()
	for _, sub := range []string{"publicAccessBlock", "encryption", "policy", "lifecycle", "location", "versions", "versioning", "delete", "uploads", "ownershipControls", "acl", "tagging"} {
		if q.Has(sub) {
			return r.Method + " ?" + sub
		}
	}
	path := strings.Trim(r.URL.Path, "/")
	switch {
	case path == "":
		return r.Method + " /" // ListBuckets
	case strings.Contains(path, "/"):
		return r.Method + " object"
	}
	return r.Method + " bucket"
}

// objectOrListPrefix is the object key of an object request, or the
// prefix a listing asks for.
func objectOrListPrefix(r *http.Request) string {
	if _, key, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/"); ok && key != "" {
		return key
	}
	return r.URL.Query().Get("prefix")
}

func bucketOf(r *http.Request) string {
	return strings.SplitN(strings.Trim(r.URL.Path, "/"), "/", 2)[0]
}

func (s *Server) s3(w http.ResponseWriter, r *http.Request, call Call) {
	bucket := bucketOf(r)
	s.mu.Lock()
	confine, foreign := s.confineKeysTo, s.foreign[bucket]
	s.mu.Unlock()
	if call.KeyID != AdminKeyID {
		if _, ok := s.keyUser(call.KeyID); !ok {
			writeError(w, "s3", http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
			return
		}
		if confine != "" && !strings.HasPrefix(objectOrListPrefix(r), confine) {
			writeError(w, "s3", http.StatusForbidden, "AccessDenied", "Access Denied")
			return
		}
	}
	if foreign {
		switch call.Action {
		case "PUT bucket":
			writeError(w, "s3", http.StatusConflict, "BucketAlreadyExists", "The requested bucket name is not available.")
		default:
			w.WriteHeader(http.StatusForbidden)
		}
		return
	}
	// A bucket is answered in its own region only: elsewhere S3 answers
	// 301 and names the region in x-amz-bucket-region (GetBucketLocation
	// and creating it excepted).
	// https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html
	s.mu.Lock()
	loc, located := s.locations[bucket]
	s.mu.Unlock()
	if home := BucketRegion(loc); located && call.Region != home && call.Action != "PUT bucket" && call.Action != "GET ?location" {
		w.Header().Set("x-amz-bucket-region", home)
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusMovedPermanently)
			return
		}
		writeError(w, "s3", http.StatusMovedPermanently, "PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.")
		return
	}
	bucketLevel := !strings.Contains(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.URL.Path == "/v20180820/configuration/publicAccessBlock":
		s.accountPublicAccessBlock(w, r)
	case call.Action == "PUT bucket":
		var cfg struct {
			LocationConstraint string
		}
		body, _ := io.ReadAll(r.Body)
		_ = xml.Unmarshal(body, &cfg)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		s.fwd.ServeHTTP(rec, r)
		if rec.Code == http.StatusOK {
			s.mu.Lock()
			s.locations[bucket] = cfg.LocationConstraint
			// New buckets have ACLs disabled unless asked otherwise (S3,
			// since April 2023).
			s.ownership[bucket] = "BucketOwnerEnforced"
			if o := r.Header.Get("x-amz-object-ownership"); o != "" {
				s.ownership[bucket] = o
			}
			s.mu.Unlock()
		}
		copyResponse(w, rec)
	case strings.HasSuffix(call.Action, " ?ownershipControls"):
		s.ownershipControls(w, r, bucket)
	case strings.HasSuffix(call.Action, " ?acl") && bucketLevel:
		s.bucketACL(w, r, bucket)
	case call.Action == "GET ?location":
		rec := httptest.NewRecorder()
		s.fwd.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			copyResponse(w, rec)
			return
		}
		s.mu.Lock()
		loc := s.locations[bucket]
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">%s</LocationConstraint>`, loc)
	case call.Action == "GET ?versions":
		s.listVersions(w, r)
	default:
		s.forward(w, r)
	}
}

// exists reports whether kumo has the bucket.
func (s *Server) exists(bucket string) bool {
	req := httptest.NewRequest(http.MethodHead, "/"+bucket, nil)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+AdminKeyID+"/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0")
	rec := httptest.NewRecorder()
	s.fwd.ServeHTTP(rec, req)
	return rec.Code == http.StatusOK
}

// ownershipControls answers Get/Put/DeleteBucketOwnershipControls, which
// kumo lacks. Setting BucketOwnerEnforced on a bucket whose ACL grants
// others fails, as in S3.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketOwnershipControls.html
func (s *Server) ownershipControls(w http.ResponseWriter, r *http.Request, bucket string) {
	if !s.exists(bucket) {
		writeError(w, "s3", http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		o, ok := s.ownership[bucket]
		if !ok {
			writeError(w, "s3", http.StatusNotFound, "OwnershipControlsNotFoundError", "The bucket ownership controls were not found")
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><OwnershipControls xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ObjectOwnership>%s</ObjectOwnership></Rule></OwnershipControls>`, o)
	case http.MethodPut:
		var body struct {
			Rule struct{ ObjectOwnership string } `xml:"Rule"`
		}
		b, _ := io.ReadAll(r.Body)
		_ = xml.Unmarshal(b, &body)
		o := body.Rule.ObjectOwnership
		if o == "BucketOwnerEnforced" && len(s.acls[bucket]) > 0 {
			writeError(w, "s3", http.StatusBadRequest, "InvalidBucketAclWithObjectOwnership", "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")
			return
		}
		s.ownership[bucket] = o
	case http.MethodDelete:
		delete(s.ownership, bucket)
		w.WriteHeader(http.StatusNoContent)
	}
}

// S3's predefined grantee groups.
const (
	AllUsers           = "http://acs.amazonaws.com/groups/global/AllUsers"
	AuthenticatedUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
)

// bucketACL answers Get/PutBucketAcl: the owner's FULL_CONTROL and the
// grants to groups (set with a canned ACL). With ACLs disabled
// (BucketOwnerEnforced) only the owner's may be set, as in S3.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketAcl.html
func (s *Server) bucketACL(w http.ResponseWriter, r *http.Request, bucket string) {
	if !s.exists(bucket) {
		writeError(w, "s3", http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method == http.MethodGet {
		var grants strings.Builder
		for _, g := range s.acls[bucket] {
			uri, perm, _ := strings.Cut(g, " ")
			fmt.Fprintf(&grants, `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>%s</URI></Grantee><Permission>%s</Permission></Grant>`, uri, perm)
		}
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>%s</ID></Owner><AccessControlList>`+
			`<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>%s</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>%s</AccessControlList></AccessControlPolicy>`,
			CanonicalID, CanonicalID, grants.String())
		return
	}
	var grants []string
	switch r.Header.Get("x-amz-acl") {
	case "public-read":
		grants = []string{AllUsers + " READ"}
	case "public-read-write":
		grants = []string{AllUsers + " READ", AllUsers + " WRITE"}
	case "authenticated-read":
		grants = []string{AuthenticatedUsers + " READ"}
	}
	if len(grants) > 0 && s.ownership[bucket] == "BucketOwnerEnforced" {
		writeError(w, "s3", http.StatusBadRequest, "AccessControlListNotSupported", "The bucket does not allow ACLs")
		return
	}
	s.acls[bucket] = grants
}

// accountPAB is an account's S3 public access block.
type accountPAB struct {
	BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets bool
}

// accountPublicAccessBlock answers S3 Control's Get/Put/Delete
// PublicAccessBlock in its documented shapes (the payload is the
// configuration; errors are wrapped in ErrorResponse), which kumo's
// differ from. The test account has all four settings on, as a
// well-kept account does.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_GetPublicAccessBlock.html
func (s *Server) accountPublicAccessBlock(w http.ResponseWriter, r *http.Request) {
	account := r.Header.Get("x-amz-account-id")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		c := s.accountPAB[account]
		if c == nil {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Code>NoSuchPublicAccessBlockConfiguration</Code>`+
				`<Message>The public access block configuration was not found</Message></Error><RequestId>fake</RequestId><HostId>fake</HostId></ErrorResponse>`)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		out, _ := xml.Marshal(struct {
			XMLName xml.Name `xml:"PublicAccessBlockConfiguration"`
			accountPAB
		}{accountPAB: *c})
		_, _ = w.Write(out)
	case http.MethodPut:
		var c accountPAB
		b, _ := io.ReadAll(r.Body)
		_ = xml.Unmarshal(b, &c)
		s.accountPAB[account] = &c
	case http.MethodDelete:
		delete(s.accountPAB, account)
		w.WriteHeader(http.StatusNoContent)
	}
}

// versionsPage is ListObjectVersions' answer, its entries (Version and
// DeleteMarker elements) kept as they are.
type versionsPage struct {
	XMLName             xml.Name
	Name                string         `xml:"Name"`
	Prefix              string         `xml:"Prefix"`
	KeyMarker           string         `xml:"KeyMarker"`
	VersionIDMarker     string         `xml:"VersionIdMarker"`
	NextKeyMarker       string         `xml:"NextKeyMarker,omitempty"`
	NextVersionIDMarker string         `xml:"NextVersionIdMarker,omitempty"`
	MaxKeys             int            `xml:"MaxKeys"`
	IsTruncated         bool           `xml:"IsTruncated"`
	Entries             []versionEntry `xml:",any"`
}

type versionEntry struct {
	XMLName   xml.Name
	Key       string `xml:"Key"`
	VersionID string `xml:"VersionId"`
	Inner     []byte `xml:",innerxml"`
}

func (e versionEntry) MarshalXML(enc *xml.Encoder, start xml.StartElement) error {
	start.Name = xml.Name{Local: e.XMLName.Local}
	return enc.EncodeElement(struct {
		Inner []byte `xml:",innerxml"`
	}{e.Inner}, start)
}

// listVersions pages ListObjectVersions as S3 documents it (max-keys,
// key-marker and version-id-marker; IsTruncated with the next markers):
// kumo answers every version at once, never truncated.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
func (s *Server) listVersions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size, err := strconv.Atoi(q.Get("max-keys"))
	if err != nil || size <= 0 || size > 1000 {
		size = 1000
	}
	keyMarker, versionMarker := q.Get("key-marker"), q.Get("version-id-marker")
	all := r.Clone(r.Context())
	aq := all.URL.Query()
	aq.Del("key-marker")
	aq.Del("version-id-marker")
	aq.Set("max-keys", "1000000")
	all.URL.RawQuery = aq.Encode()
	rec := httptest.NewRecorder()
	s.fwd.ServeHTTP(rec, all)
	var page versionsPage
	if rec.Code != http.StatusOK || xml.Unmarshal(rec.Body.Bytes(), &page) != nil {
		copyResponse(w, rec)
		return
	}
	slices.SortStableFunc(page.Entries, func(a, b versionEntry) int { return strings.Compare(a.Key, b.Key) })
	from := 0
	if keyMarker != "" {
		from = slices.IndexFunc(page.Entries, func(e versionEntry) bool { return e.Key > keyMarker })
		if versionMarker != "" {
			if i := slices.IndexFunc(page.Entries, func(e versionEntry) bool { return e.Key == keyMarker && e.VersionID == versionMarker }); i >= 0 {
				from = i + 1
			}
		}
		if from < 0 {
			from = len(page.Entries)
		}
	}
	rest := page.Entries[from:]
	page.KeyMarker, page.VersionIDMarker, page.MaxKeys = keyMarker, versionMarker, size
	page.IsTruncated = len(rest) > size
	if page.IsTruncated {
		rest = rest[:size]
		last := rest[len(rest)-1]
		page.NextKeyMarker, page.NextVersionIDMarker = last.Key, last.VersionID
	}
	page.Entries = rest
	out, err := xml.Marshal(page)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	_, _ = w.Write(append([]byte(xml.Header), out...))
}

// BucketRegion is the region of a bucket whose GetBucketLocation says loc:
// none is us-east-1, the legacy EU is eu-west-1.
func BucketRegion(loc string) string {
	switch loc {
	case "":
		return "us-east-1"
	case "EU":
		return "eu-west-1"
	}
	return loc
}

// SetBucketLocation records the region of a bucket made outside the proxy.
func (s *Server) SetBucketLocation(bucket, region string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.locations[bucket] = region
}

// forward answers r as kumo does. The answer is taken whole before it is
// passed on: handed w, the reverse proxy would cancel kumo's request when
// the client goes away (http.CloseNotifier), and AWS finishes a request it
// received whole.
func (s *Server) forward(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	s.fwd.ServeHTTP(rec, r)
	copyResponse(w, rec)
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func writeError(w http.ResponseWriter, service string, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	if service == "s3" {
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, xmlEscape(msg))
		return
	}
	fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fake</RequestId></ErrorResponse>`, code, xmlEscape(msg))
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func writeXML(w http.ResponseWriter, action, result string) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse><%sResult>%s</%sResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></%sResponse>`, action, action, result, action, action)
}

func (s *Server) sts(w http.ResponseWriter, call Call, form url.Values) {
	if call.Action != "GetCallerIdentity" {
		writeError(w, "sts", http.StatusBadRequest, "InvalidAction", call.Action)
		return
	}
	arn := AdminARN
	if call.KeyID != AdminKeyID {
		user, ok := s.keyUser(call.KeyID)
		if !ok {
			writeError(w, "sts", http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
			return
		}
		arn = "arn:aws:iam::" + AccountID + ":user/" + user
	}
	writeXML(w, "GetCallerIdentity", fmt.Sprintf("<Arn>%s</Arn><UserId>AIDAFAKE</UserId><Account>%s</Account>", arn, AccountID))
}

var (
	memberRe      = regexp.MustCompile(`(?s)<member>.*?</member>`)
	accessKeyIDRe = regexp.MustCompile(`<AccessKeyId>([^<]+)</AccessKeyId>`)
)

// keyUser finds the user of an active access key by asking kumo.
func (s *Server) keyUser(keyID string) (string, bool) {
	s.mu.Lock()
	inactive := s.inactive[keyID]
	s.mu.Unlock()
	if inactive {
		return "", false
	}
	for _, user := range s.users() {
		resp, err := s.kumoIAM(url.Values{"Action": {"ListAccessKeys"}, "UserName": {user}})
		if err == nil && strings.Contains(resp, "<AccessKeyId>"+keyID+"</AccessKeyId>") {
			return user, true
		}
	}
	return "", false
}

var userNameRe = regexp.MustCompile(`<UserName>([^<]+)</UserName>`)

func (s *Server) users() []string {
	// kumo returns an arbitrary 100 users unless asked for more, and says
	// the list is not truncated.
	resp, err := s.kumoIAM(url.Values{"Action": {"ListUsers"}, "MaxItems": {"1000000"}})
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range userNameRe.FindAllStringSubmatch(resp, -1) {
		out = append(out, m[1])
	}
	return out
}

// kumoIAM calls kumo's IAM directly (kumo checks no signature).
func (s *Server) kumoIAM(form url.Values) (string, error) {
	form.Set("Version", "2010-05-08")
	req, _ := http.NewRequest(http.MethodPost, s.kumo.URL+"/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+AdminKeyID+"/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("kumo %s: %d", form.Get("Action"), resp.StatusCode)
	}
	return string(b), nil
}

func (s *Server) iam(w http.ResponseWriter, r *http.Request, call Call, form url.Values) {
	s.mu.Lock()
	defer s.mu.Unlock()
	arn := form.Get("PolicyArn")
	switch call.Action {
	case "CreateRole", "UpdateAssumeRolePolicy":
		if s.invalidPrincipal > 0 {
			s.invalidPrincipal--
			writeError(w, "iam", http.StatusBadRequest, "MalformedPolicyDocument", "Invalid principal in policy: \"AWS\":\"arn:aws:iam::999999999999:user/sfc-fake-user\"")
			return
		}
	case "CreatePolicy":
		rec := httptest.NewRecorder()
		s.fwd.ServeHTTP(rec, r)
		if rec.Code == http.StatusOK {
			parn := "arn:aws:iam::" + AccountID + ":policy/" + form.Get("PolicyName")
			s.policies[parn] = &policy{name: form.Get("PolicyName"), defaultVer: "v1", nextVer: 2,
				versions: []policyVersion{{"v1", form.Get("PolicyDocument"), time.Now()}}}
		}
		copyResponse(w, rec)
		return
	case "DeletePolicy":
		// Forgotten only once kumo deleted it: IAM refuses to delete an
		// attached policy (DeleteConflict).
		rec := httptest.NewRecorder()
		s.fwd.ServeHTTP(rec, r)
		if rec.Code == http.StatusOK {
			delete(s.policies, arn)
		}
		copyResponse(w, rec)
		return
	case "GetPolicy":
		p, ok := s.policies[arn]
		if ok && s.lateGetPolicy[arn] > 0 {
			s.lateGetPolicy[arn]--
			ok = false
		}
		if !ok {
			writeError(w, "iam", http.StatusNotFound, "NoSuchEntity", "Policy "+arn+" was not found.")
			return
		}
		writeXML(w, "GetPolicy", fmt.Sprintf("<Policy><PolicyName>%s</PolicyName><Arn>%s</Arn><DefaultVersionId>%s</DefaultVersionId><AttachmentCount>0</AttachmentCount></Policy>", p.name, arn, p.defaultVer))
		return
	case "GetPolicyVersion", "ListPolicyVersions", "CreatePolicyVersion", "DeletePolicyVersion":
		s.policyVersions(w, call.Action, arn, form)
		return
	case "AttachUserPolicy", "DetachUserPolicy":
		rec := httptest.NewRecorder()
		s.fwd.ServeHTTP(rec, r)
		if rec.Code == http.StatusOK {
			user := form.Get("UserName")
			list := slices.DeleteFunc(s.userPolicy[user], func(a string) bool { return a == arn })
			if call.Action == "AttachUserPolicy" {
				list = append(list, arn)
			}
			s.userPolicy[user] = list
		}
		copyResponse(w, rec)
		return
	case "UpdateAccessKey": // kumo lacks it
		// A key the user does not have is NoSuchEntity (404).
		// https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAccessKey.html
		id := form.Get("AccessKeyId")
		if keys, err := s.kumoIAM(url.Values{"Action": {"ListAccessKeys"}, "UserName": {form.Get("UserName")}}); err != nil || !strings.Contains(keys, "<AccessKeyId>"+id+"</AccessKeyId>") {
			writeError(w, "iam", http.StatusNotFound, "NoSuchEntity", "The Access Key with id "+id+" cannot be found.")
			return
		}
		s.inactive[id] = form.Get("Status") == "Inactive"
		writeXML(w, call.Action, "")
		return
	case "ListAccessKeys":
		rec := httptest.NewRecorder()
		s.fwd.ServeHTTP(rec, r)
		body := memberRe.ReplaceAllStringFunc(rec.Body.String(), func(m string) string {
			if id := accessKeyIDRe.FindStringSubmatch(m); id != nil && s.inactive[id[1]] {
				return strings.Replace(m, "<Status>Active</Status>", "<Status>Inactive</Status>", 1)
			}
			return m
		})
		rec.Body.Reset()
		rec.Body.WriteString(body)
		rec.Header().Del("Content-Length")
		copyResponse(w, rec)
		return
	case "ListAttachedUserPolicies":
		var b strings.Builder
		for _, a := range s.userPolicy[form.Get("UserName")] {
			fmt.Fprintf(&b, "<member><PolicyArn>%s</PolicyArn><PolicyName>%s</PolicyName></member>", a, a[strings.LastIndex(a, "/")+1:])
		}
		writeXML(w, "ListAttachedUserPolicies", "<AttachedPolicies>"+b.String()+"</AttachedPolicies><IsTruncated>false</IsTruncated>")
		return
	}
	s.forward(w, r)
}

// policyVersions answers the policy version API from what was recorded.
// Documents are returned URL-encoded, as IAM does.
func (s *Server) policyVersions(w http.ResponseWriter, action, arn string, form url.Values) {
	p, ok := s.policies[arn]
	if !ok {
		writeError(w, "iam", http.StatusNotFound, "NoSuchEntity", "Policy "+arn+" was not found.")
		return
	}
	version := func(v policyVersion, withDoc bool) string {
		doc := ""
		if withDoc {
			doc = "<Document>" + xmlEscape(strings.ReplaceAll(url.QueryEscape(v.doc), "+", "%20")) + "</Document>"
		}
		return fmt.Sprintf("<VersionId>%s</VersionId><IsDefaultVersion>%t</IsDefaultVersion><CreateDate>%s</CreateDate>%s",
			v.id, v.id == p.defaultVer, v.created.UTC().Format(time.RFC3339), doc)
	}
	switch action {
	case "GetPolicyVersion":
		for _, v := range p.versions {
			if v.id == form.Get("VersionId") {
				writeXML(w, action, "<PolicyVersion>"+version(v, true)+"</PolicyVersion>")
				return
			}
		}
		writeError(w, "iam", http.StatusNotFound, "NoSuchEntity", "no version "+form.Get("VersionId"))
	case "ListPolicyVersions":
		var b strings.Builder
		for _, v := range p.versions {
			b.WriteString("<member>" + version(v, false) + "</member>")
		}
		writeXML(w, action, "<Versions>"+b.String()+"</Versions><IsTruncated>false</IsTruncated>")
	case "CreatePolicyVersion":
		if len(p.versions) >= 5 {
			writeError(w, "iam", http.StatusConflict, "LimitExceeded", "A managed policy can have up to 5 versions.")
			return
		}
		v := policyVersion{fmt.Sprintf("v%d", p.nextVer), form.Get("PolicyDocument"), time.Now()}
		p.nextVer++
		p.versions = append(p.versions, v)
		if form.Get("SetAsDefault") == "true" {
			p.defaultVer = v.id
		}
		writeXML(w, action, "<PolicyVersion>"+version(v, false)+"</PolicyVersion>")
	case "DeletePolicyVersion":
		id := form.Get("VersionId")
		if id == p.defaultVer {
			writeError(w, "iam", http.StatusConflict, "DeleteConflict", "cannot delete the default version")
			return
		}
		p.versions = slices.DeleteFunc(p.versions, func(v policyVersion) bool { return v.id == id })
		writeXML(w, action, "")
	}
}

// SetPolicyDocument adds a new default version (for drift tests).
func (s *Server) SetPolicyDocument(arn, doc string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.policies[arn]
	v := policyVersion{fmt.Sprintf("v%d", p.nextVer), doc, time.Now()}
	p.nextVer++
	p.versions = append(p.versions, v)
	p.defaultVer = v.id
}
