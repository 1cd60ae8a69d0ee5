package gcsbucket

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/auth/credentials"
	"cloud.google.com/go/storage"
	"github.com/googleapis/gax-go/v2"
	crm "google.golang.org/api/cloudresourcemanager/v1"
	"google.golang.org/api/googleapi"
	iamapi "google.golang.org/api/iam/v1"
	"google.golang.org/api/option"

	"github.com/growthloop/byob/internal/netfail"
	"github.com/growthloop/byob/providers/runenv"
)

// Clients are the Google Cloud clients the steps call: Cloud Storage
// (cloud.google.com/go/storage), IAM (google.golang.org/api/iam/v1) and
// Resource Manager (google.golang.org/api/cloudresourcemanager/v1). Nil in
// a dry run.
type Clients struct {
	Storage *storage.Client
	IAM     *iamapi.Service
	CRM     *crm.Service
	// KeyStorage makes a Cloud Storage client that acts as the service
	// account of a JSON key, to prove what GrowthLoop's key can do.
	KeyStorage func(ctx context.Context, keyJSON []byte) (*storage.Client, error)

	retryPolicy Retry
}

// Retry says how calls that failed for a passing reason (408, 429, 5xx, a
// connection reset) are tried again: storage.ShouldRetry decides, as for
// every Cloud Storage call the storage library retries, less what no retry
// fixes (no host, nothing listening, an untrusted certificate), which ends
// the run at once. The pause before each retry is gax's backoff: random up
// to a bound that starts at Initial and doubles up to Max.
type Retry struct {
	Attempts     int
	Initial, Max time.Duration
}

// DefaultRetry is what byob uses against Google Cloud.
var DefaultRetry = Retry{Attempts: 10, Initial: 250 * time.Millisecond, Max: 8 * time.Second}

// backoff is r's pauses.
func (r Retry) backoff() gax.Backoff {
	return gax.Backoff{Initial: r.Initial, Max: r.Max, Multiplier: 2}
}

// storageRetry are r as the storage library's options. It retries only
// the calls it knows to be idempotent (reads, and writes made safe by a
// precondition: a bucket update under its metageneration, a policy under
// its etag, a delete of one generation).
func (r Retry) storageRetry() []storage.RetryOption {
	return []storage.RetryOption{storage.WithBackoff(r.backoff()), storage.WithMaxAttempts(r.Attempts), storage.WithErrorFunc(transient)}
}

// SetRetry changes how the clients retry.
func (c *Clients) SetRetry(r Retry) {
	c.retryPolicy = r
	c.Storage.SetRetry(r.storageRetry()...)
}

// transient reports whether a call failed for a passing reason.
// https://cloud.google.com/storage/docs/retry-strategy
func transient(err error) bool {
	return !netfail.Lasting(err) && storage.ShouldRetry(err)
}

// retry calls fn until it succeeds, fails for good, or runs out of
// attempts: the generated REST clients (IAM, Resource Manager) send each
// call once. Only idempotent calls go through it: a create whose answer
// was lost is handled by its step (see keyStep.createOnce).
func (c *Clients) retry(ctx context.Context, fn func() error) error {
	bo := c.retryPolicy.backoff()
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || !transient(err) || attempt >= c.retryPolicy.Attempts || ctx.Err() != nil {
			return err
		}
		if err := runenv.Sleep(ctx, bo.Pause()); err != nil {
			return err
		}
	}
}

// do runs an idempotent IAM or Resource Manager call with c's retries.
func do[T any](ctx context.Context, c *Clients, call interface {
	Do(...googleapi.CallOption) (T, error)
}) (T, error) {
	var out T
	err := c.retry(ctx, func() (err error) {
		out, err = call.Do()
		return err
	})
	return out, err
}

// Endpoints override the APIs' addresses, for emulators and private
// access ("" keeps Google's).
type Endpoints struct {
	IAM, CRM, Storage string
}

// options are the client options of one API: its endpoint, if any, after
// the common ones.
func options(common []option.ClientOption, endpoint string) []option.ClientOption {
	out := slices.Clone(common)
	if endpoint != "" {
		out = append(out, option.WithEndpoint(endpoint))
	}
	return out
}

// storageOptions are options for Cloud Storage: byob's calls are never
// reported to the customer's Cloud Monitoring, whatever
// GCP_STORAGE_GO_ENABLE_OTEL_METRICS says.
func storageOptions(common []option.ClientOption, endpoint string) []option.ClientOption {
	return append(options(common, endpoint), storage.WithDisabledClientMetrics())
}

// storageScope is what GrowthLoop's key is used for.
const storageScope = "https://www.googleapis.com/auth/devstorage.read_write"

// NewClients makes the clients of the three APIs with the options common
// to all (the credentials), at ep. Cloud Storage also honours
// STORAGE_EMULATOR_HOST, as its library documents (without
// authentication, unless ep.Storage is set).
func NewClients(ctx context.Context, ep Endpoints, common ...option.ClientOption) (*Clients, error) {
	st, err := storage.NewClient(ctx, storageOptions(common, ep.Storage)...)
	if err != nil {
		return nil, fmt.Errorf("make the Cloud Storage client: %w", err)
	}
	iamService, err := iamapi.NewService(ctx, options(common, ep.IAM)...)
	if err != nil {
		return nil, fmt.Errorf("make the IAM client: %w", err)
	}
	crmService, err := crm.NewService(ctx, options(common, ep.CRM)...)
	if err != nil {
		return nil, fmt.Errorf("make the Resource Manager client: %w", err)
	}
	c := &Clients{Storage: st, IAM: iamService, CRM: crmService}
	c.KeyStorage = func(ctx context.Context, keyJSON []byte) (*storage.Client, error) {
		// Only a service account key is accepted: the file is byob's own.
		creds, err := credentials.NewCredentialsFromJSON(credentials.ServiceAccount, keyJSON, &credentials.DetectOptions{Scopes: []string{storageScope}})
		if err != nil {
			return nil, errors.New("the key file is not a service account key") // never quote the key
		}
		ks, err := storage.NewClient(ctx, storageOptions([]option.ClientOption{option.WithAuthCredentials(creds)}, ep.Storage)...)
		if err != nil {
			return nil, fmt.Errorf("make the Cloud Storage client: %w", err)
		}
		ks.SetRetry(c.retryPolicy.storageRetry()...)
		return ks, nil
	}
	c.SetRetry(DefaultRetry)
	return c, nil
}

// Connect finds Application Default Credentials as Google's client
// libraries do (gcloud auth application-default login,
// GOOGLE_APPLICATION_CREDENTIALS, workload identity federation, the
// metadata server), with their quota project, and honours gcloud's
// endpoint overrides (CLOUDSDK_API_ENDPOINT_OVERRIDES_IAM,
// _CLOUDRESOURCEMANAGER, _STORAGE). It returns the clients and the
// credentials' project, for --gcp-project to default to.
func Connect(ctx context.Context, lookupEnv func(string) (string, bool)) (*Clients, string, error) {
	env := func(k string) string { v, _ := lookupEnv(k); return v }
	ep := Endpoints{IAM: env("CLOUDSDK_API_ENDPOINT_OVERRIDES_IAM"), CRM: env("CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER"),
		Storage: env("CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE")}
	creds, err := credentials.DetectDefault(&credentials.DetectOptions{Scopes: []string{"https://www.googleapis.com/auth/cloud-platform"}})
	if err != nil {
		return nil, "", fmt.Errorf("no Google Cloud credentials: run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS: %w", err)
	}
	c, err := NewClients(ctx, ep, option.WithAuthCredentials(creds))
	if err != nil {
		return nil, "", err
	}
	project, _ := creds.ProjectID(ctx)
	return c, project, nil
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
	resp, err := do(ctx, c, c.CRM.Projects.TestIamPermissions(project, &crm.TestIamPermissionsRequest{Permissions: access.Permissions}).Context(ctx))
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
		token   *auth.Error
	)
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || code(err) >= 500 ||
		errors.As(err, &transit) && !errors.As(err, &token)
}

// code returns the HTTP status of a Google API error, 0 when none. The
// storage library answers a 404 with its own errors.
func code(err error) int {
	var ge *googleapi.Error
	switch {
	case errors.As(err, &ge):
		return ge.Code
	case errors.Is(err, storage.ErrBucketNotExist), errors.Is(err, storage.ErrObjectNotExist):
		return http.StatusNotFound
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
	creds, err := credentials.DetectDefault(&credentials.DetectOptions{Scopes: []string{"https://www.googleapis.com/auth/cloud-platform"}})
	if err != nil {
		return ""
	}
	p, _ := creds.ProjectID(ctx)
	return p
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
