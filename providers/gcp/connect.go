package gcp

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	"google.golang.org/api/googleapi"

	"github.com/growthloop/byob/internal/netfail"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/gcp/gcpapi"
)

// Clients are the Google Cloud clients the steps call: the REST clients of
// the Cloud Storage JSON API, IAM and Resource Manager. Nil in a dry run.
type Clients struct {
	Storage *gcpapi.Storage
	IAM     *gcpapi.IAM
	CRM     *gcpapi.CRM
	// KeyStorage makes a Cloud Storage client that acts as the service
	// account of a JSON key, to prove what GrowthLoop's key can do.
	KeyStorage func(ctx context.Context, keyJSON []byte) (*gcpapi.Storage, error)

	retryPolicy Retry
}

// Retry says how calls that failed for a passing reason (408, 429, 5xx, a
// connection reset) are tried again: the REST clients retry nothing
// themselves. The pause before each retry is random up to a bound that
// starts at Initial and doubles up to Max, as Google's client libraries do.
type Retry struct {
	Attempts     int
	Initial, Max time.Duration
}

// DefaultRetry is what byob uses against Google Cloud.
var DefaultRetry = Retry{Attempts: 10, Initial: 250 * time.Millisecond, Max: 8 * time.Second}

// SetRetry changes how the clients retry.
func (c *Clients) SetRetry(r Retry) { c.retryPolicy = r }

// transient reports whether a call failed for a passing reason, as
// Google's client libraries decide (Cloud Storage's retry strategy:
// https://cloud.google.com/storage/docs/retry-strategy).
func transient(err error) bool {
	var ge *googleapi.Error
	var ne net.Error
	switch {
	case netfail.Lasting(err): // no host, nothing listening, an untrusted certificate
		return false
	case errors.As(err, &ge):
		return ge.Code == http.StatusRequestTimeout || ge.Code == http.StatusTooManyRequests || ge.Code >= 500
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE):
		return true
	}
	return errors.As(err, &ne) && ne.Timeout()
}

// retry calls fn until it succeeds, fails for good, or runs out of
// attempts. Only idempotent calls go through it: a create whose answer was
// lost is handled by its step (see keyStep.createOnce).
func (c *Clients) retry(ctx context.Context, fn func() error) error {
	bound := c.retryPolicy.Initial
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || !transient(err) || attempt >= c.retryPolicy.Attempts {
			return err
		}
		if err := providers.Sleep(ctx, time.Duration(1+rand.Int64N(int64(max(bound, 1))))); err != nil {
			return err
		}
		bound = min(2*bound, c.retryPolicy.Max)
	}
}

// do runs an idempotent API call with c's retries.
func do[T any](ctx context.Context, c *Clients, call interface{ Do() (T, error) }) (T, error) {
	var out T
	err := c.retry(ctx, func() (err error) {
		out, err = call.Do()
		return err
	})
	return out, err
}

// Endpoints override the APIs' addresses, for emulators and private access.
type Endpoints struct {
	IAM, CRM, Storage string
}

// emulatorEndpoint is the JSON API's address on a Cloud Storage emulator
// (STORAGE_EMULATOR_HOST: host:port, or a URL).
func emulatorEndpoint(host string) string {
	if !strings.Contains(host, "://") {
		host = "http://" + host
	}
	return strings.TrimSuffix(host, "/") + "/storage/v1/"
}

// storageScope is what GrowthLoop's key is used for.
const storageScope = "https://www.googleapis.com/auth/devstorage.read_write"

// NewClients makes the clients, calling all three APIs through hc (which
// adds the caller's credentials).
func NewClients(ep Endpoints, hc *http.Client) *Clients {
	keyStorage := func(ctx context.Context, keyJSON []byte) (*gcpapi.Storage, error) {
		// Only a service account key is accepted: the file is byob's own.
		creds, err := google.CredentialsFromJSONWithType(ctx, keyJSON, google.ServiceAccount, storageScope)
		if err != nil {
			return nil, errors.New("the key file is not a service account key") // never quote the key
		}
		return gcpapi.NewStorage(oauth2.NewClient(ctx, creds.TokenSource), ep.Storage), nil
	}
	return &Clients{Storage: gcpapi.NewStorage(hc, ep.Storage), IAM: gcpapi.NewIAM(hc, ep.IAM), CRM: gcpapi.NewCRM(hc, ep.CRM),
		KeyStorage: keyStorage, retryPolicy: DefaultRetry}
}

// Connect uses Application Default Credentials (gcloud auth
// application-default login, GOOGLE_APPLICATION_CREDENTIALS, metadata
// server) and gcloud's endpoint overrides. It returns the clients and ADC's
// project, for --gcp-project to default to.
func Connect(ctx context.Context, lookupEnv func(string) (string, bool)) (*Clients, string, error) {
	env := func(k string) string { v, _ := lookupEnv(k); return v }
	ep := Endpoints{IAM: env("CLOUDSDK_API_ENDPOINT_OVERRIDES_IAM"), CRM: env("CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER")}
	if h := env("STORAGE_EMULATOR_HOST"); h != "" {
		ep.Storage = emulatorEndpoint(h)
	}
	creds, err := google.FindDefaultCredentials(ctx, "https://www.googleapis.com/auth/cloud-platform")
	if err != nil {
		return nil, "", fmt.Errorf("no Google Cloud credentials: run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS: %w", err)
	}
	hc := oauth2.NewClient(ctx, creds.TokenSource)
	if q := quotaProject(env, creds.JSON); q != "" {
		hc.Transport = billTo{hc.Transport, q}
	}
	return NewClients(ep, hc), creds.ProjectID, nil
}

// quotaProject is the project user credentials bill API calls to, as
// Google's client libraries find it: GOOGLE_CLOUD_QUOTA_PROJECT, else the
// credentials' quota_project_id (gcloud auth application-default
// set-quota-project). Without one, IAM and Resource Manager refuse user
// credentials.
func quotaProject(env func(string) string, credsJSON []byte) string {
	if q := env("GOOGLE_CLOUD_QUOTA_PROJECT"); q != "" {
		return q
	}
	var f struct {
		QuotaProjectID string `json:"quota_project_id"`
	}
	_ = json.Unmarshal(credsJSON, &f)
	return f.QuotaProjectID
}

// billTo sends the quota project with every request.
type billTo struct {
	base    http.RoundTripper
	project string
}

func (t billTo) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Goog-User-Project", t.project)
	return t.base.RoundTrip(r)
}

// Access is what a caller needs on the project: permissions checked
// before anything runs, and the roles that grant them.
type Access struct {
	Permissions []string
	Roles       string
}

// Operator is what byob init needs, checked before any change.
var Operator = Access{
	Permissions: []string{
		"iam.roles.create", "iam.roles.get", "iam.roles.update", "iam.roles.undelete",
		"iam.serviceAccounts.create", "iam.serviceAccounts.get",
		"iam.serviceAccountKeys.create", "iam.serviceAccountKeys.list", "iam.serviceAccountKeys.delete",
		"storage.buckets.create", "storage.buckets.get", "storage.buckets.update",
		"storage.buckets.getIamPolicy", "storage.buckets.setIamPolicy",
	},
	Roles: "roles/iam.roleAdmin, roles/iam.serviceAccountAdmin, roles/iam.serviceAccountKeyAdmin, roles/storage.admin",
}

// KeyRotator is what byob rotate-keys needs.
var KeyRotator = Access{
	Permissions: []string{
		"iam.serviceAccounts.get", "iam.serviceAccountKeys.create", "iam.serviceAccountKeys.list",
		"iam.serviceAccountKeys.disable", "iam.serviceAccountKeys.delete",
	},
	Roles: "roles/iam.serviceAccountKeyAdmin",
}

// Remover is what byob destroy needs; with the bucket, also what deletes
// it and its objects.
func Remover(bucket bool) Access {
	a := Access{
		Permissions: []string{
			"iam.roles.get", "iam.roles.delete", "iam.serviceAccounts.get", "iam.serviceAccounts.delete",
			"iam.serviceAccountKeys.list", "iam.serviceAccountKeys.delete",
			"storage.buckets.get", "storage.buckets.getIamPolicy", "storage.buckets.setIamPolicy",
		},
		Roles: "roles/iam.roleAdmin, roles/iam.serviceAccountAdmin, roles/iam.serviceAccountKeyAdmin, roles/storage.admin",
	}
	if bucket {
		a.Permissions = append(a.Permissions, "storage.buckets.delete", "storage.objects.list", "storage.objects.delete")
	}
	return a
}

// Viewer is what byob verify needs before it starts: to see the project.
// A check whose own read is denied reports that it could not run.
var Viewer = Access{Permissions: []string{"resourcemanager.projects.get"}, Roles: "roles/browser or roles/viewer"}

// Preflight checks that the project exists and that the caller has the
// access in it (projects.testIamPermissions).
func Preflight(ctx context.Context, c *Clients, project string, access Access) error {
	resp, err := do(ctx, c, c.CRM.TestIamPermissions(project, access.Permissions).Context(ctx))
	if code(err) == http.StatusForbidden || code(err) == http.StatusNotFound {
		return fmt.Errorf("project %s does not exist or you cannot see it: check --gcp-project and `gcloud auth application-default login`: %w", project, err)
	}
	if err != nil {
		return fmt.Errorf("test permissions on project %s: %w", project, err)
	}
	var missing []string
	for _, p := range access.Permissions {
		if !slices.Contains(resp.Permissions, p) {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("you lack %s on project %s: grant them (%s) and re-run", strings.Join(missing, ", "), project, access.Roles)
	}
	return nil
}

// mayHaveLanded reports whether a failed write may still have taken
// effect: it went out and no refusal came back (cancelled, lost in
// transit, a 5xx). A key refused a token never sent it.
func mayHaveLanded(err error) bool {
	var (
		transit *url.Error
		token   *oauth2.RetrieveError
	)
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || code(err) >= 500 ||
		errors.As(err, &transit) && !errors.As(err, &token)
}

// code returns the HTTP status of a Google API error, 0 when none.
func code(err error) int {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code
	}
	return 0
}

// failedPrecondition reports a FAILED_PRECONDITION answer (an organization
// policy forbids the request).
func failedPrecondition(err error) bool {
	var ge *googleapi.Error
	return errors.As(err, &ge) && ge.Code == http.StatusBadRequest && strings.Contains(ge.Body, "FAILED_PRECONDITION")
}

// DefaultProject is the project gcloud would use: CLOUDSDK_CORE_PROJECT,
// else (when useADC) the project of the Application Default Credentials.
func DefaultProject(ctx context.Context, lookupEnv func(string) (string, bool), useADC bool) string {
	if p, ok := lookupEnv("CLOUDSDK_CORE_PROJECT"); ok && p != "" {
		return p
	}
	if p := GcloudProject(lookupEnv); p != "" {
		return p
	}
	if !useADC {
		return ""
	}
	creds, err := google.FindDefaultCredentials(ctx)
	if err != nil {
		return ""
	}
	return creds.ProjectID
}

// GcloudProject is the project of gcloud's active configuration
// (`gcloud config set project`): [core] project in
// $CLOUDSDK_CONFIG/configurations/config_<active> (default
// ~/.config/gcloud), the active one named by CLOUDSDK_ACTIVE_CONFIG_NAME
// or the file active_config. "" when there is none.
func GcloudProject(lookupEnv func(string) (string, bool)) string {
	get := func(k string) string { v, _ := lookupEnv(k); return v }
	dir := get("CLOUDSDK_CONFIG")
	if dir == "" {
		home := get("HOME")
		if home == "" {
			return ""
		}
		dir = filepath.Join(home, ".config", "gcloud")
	}
	name := get("CLOUDSDK_ACTIVE_CONFIG_NAME")
	if name == "" {
		b, _ := os.ReadFile(filepath.Join(dir, "active_config"))
		name = cmp.Or(strings.TrimSpace(string(b)), "default")
	}
	b, err := os.ReadFile(filepath.Join(dir, "configurations", "config_"+name))
	if err != nil {
		return ""
	}
	section := ""
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.TrimSpace(line[1 : len(line)-1])
		case section == "core":
			if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "project" {
				return strings.TrimSpace(v)
			}
		}
	}
	return ""
}
