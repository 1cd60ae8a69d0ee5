package gcsbucket

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"

	"google.golang.org/api/googleapi"
	iamapi "google.golang.org/api/iam/v1"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/keys"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/templates"
)

// ledger records the service account keys byob made.
var ledger = keys.NewLedger("gcp")

// CreatedKeys returns the ids of the service account keys byob made.
func CreatedKeys(v *providers.Values) []string { return ledger.Created(v) }

// keyCreated is when the key was made (its validAfterTime); zero when
// Google says nothing readable.
func keyCreated(k *iamapi.ServiceAccountKey) time.Time {
	t, _ := time.Parse(time.RFC3339, k.ValidAfterTime)
	return t
}

func keyID(k *iamapi.ServiceAccountKey) string { return path.Base(k.Name) }

// OrgPolicyError says an organization policy forbids service account keys.
type OrgPolicyError struct {
	Project string
	// Constraint is the one Google named: the managed constraint
	// (organizations created since May 2024) or the legacy one.
	Constraint string
	Err        error
}

// The organization policy constraints that block key creation.
const (
	KeyCreationConstraint        = "iam.disableServiceAccountKeyCreation"
	ManagedKeyCreationConstraint = "iam.managed.disableServiceAccountKeyCreation"
)

// keyBlock returns the constraint a FAILED_PRECONDITION answer to key
// creation names; "" when it is not the key-creation block.
func keyBlock(err error) string {
	var ge *googleapi.Error
	if !failedPrecondition(err) || !errors.As(err, &ge) {
		return ""
	}
	switch {
	case strings.Contains(ge.Body, "constraints/"+ManagedKeyCreationConstraint):
		return ManagedKeyCreationConstraint
	case strings.Contains(ge.Body, "constraints/"+KeyCreationConstraint):
		return KeyCreationConstraint
	}
	return ""
}

func (e *OrgPolicyError) Error() string {
	return fmt.Sprintf("creating a service account key is blocked by the organization policy constraint %s (FAILED_PRECONDITION). "+
		"An organization policy administrator can allow keys for project %s only, for the constraint that is enforced:\n"+
		"  managed constraint %s (organizations created since May 2024): in the console, IAM & Admin > Organization policies (project %s) > "+
		"\"Disable service account key creation\" > Manage policy > Override parent's policy > Enforcement off; or save\n"+
		"    name: projects/%s/policies/%s\n    spec:\n      rules:\n      - enforce: false\n"+
		"  as policy.yaml and run: gcloud org-policies set-policy policy.yaml\n"+
		"  legacy constraint %s: gcloud resource-manager org-policies disable-enforce %s --project=%s\n"+
		"then run the same byob command again: everything else is in place",
		e.Constraint, e.Project, ManagedKeyCreationConstraint, e.Project, e.Project, ManagedKeyCreationConstraint,
		KeyCreationConstraint, KeyCreationConstraint, e.Project)
}

func (e *OrgPolicyError) Unwrap() error { return e.Err }

// keyStep gives GrowthLoop's service account exactly one JSON key whose
// file byob holds. The key goes to the key store (the key file, mode
// 0600) and its id to the state file as soon as Google answers.
type keyStep struct {
	providers.Basic
	p Params
	c *Clients
}

// keys is the lifecycle of the service account's keys.
func (s *keyStep) keys() keys.Lifecycle[*iamapi.ServiceAccountKey] {
	return keys.Lifecycle[*iamapi.ServiceAccountKey]{
		Cloud: keys.Cloud[*iamapi.ServiceAccountKey]{
			View: keyView,
			State: func(k *iamapi.ServiceAccountKey) string {
				if k.Disabled {
					return "disabled"
				}
				return "enabled"
			},
			Noun:   "key",
			Owner:  "service account " + s.p.ServiceAccountEmail(),
			Holder: s.p.KeyFile,
			File:   "key file",
			List:   s.list,
			Create: s.createOnce,
			Delete: func(ctx context.Context, id string) error {
				_, err := do(ctx, s.c, s.c.IAM.Projects.ServiceAccounts.Keys.Delete(s.p.accountName()+"/keys/"+id).Context(ctx))
				return wrapf(err, "delete key %s", id)
			},
			Disable: func(ctx context.Context, id string) error {
				_, err := do(ctx, s.c, s.c.IAM.Projects.ServiceAccounts.Keys.Disable(s.p.accountName()+"/keys/"+id, &iamapi.DisableServiceAccountKeyRequest{}).Context(ctx))
				return wrapf(err, "disable key %s", id)
			},
			Gone:         func(err error) bool { return code(err) == http.StatusNotFound },
			MaybeApplied: maybeApplied,
			Waiting:      "waiting for the new service account to accept keys",
		},
		Ledger:      ledger,
		Store:       s.p.Keys,
		Value:       KeyID,
		Propagation: s.p.Propagation,
	}
}

// wrapf is err in the context format names; nil for nil.
func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// ReadsEarly implements providers.ReadsEarly: the keys are listed beside
// the preflight.
func (*keyStep) ReadsEarly(*providers.Values) bool { return true }

// keyRequest is the key creation request, as sent and as shown.
func (s *keyStep) keyRequest() templates.GCPKeyRequest {
	return templates.GCPKeyRequest{ServiceAccount: s.p.ServiceAccountEmail(), PrivateKeyType: "TYPE_GOOGLE_CREDENTIALS_FILE", KeyAlgorithm: "KEY_ALG_RSA_2048", WrittenTo: s.p.KeyFile}
}

// ProvedByUse implements providers.ProvedByUse: verify uses the key.
func (s *keyStep) ProvedByUse() bool { return true }

func (s *keyStep) Artifacts(*providers.Values) []providers.Artifact {
	return []providers.Artifact{providers.JSONArtifact("projects.serviceAccounts.keys.create; the key is written only to "+s.p.KeyFile+" (mode 0600)", s.keyRequest())}
}

func (s *keyStep) list(ctx context.Context) ([]*iamapi.ServiceAccountKey, error) {
	keys, err := listKeys(ctx, s.c, s.p.accountName())
	if err != nil {
		return nil, fmt.Errorf("list keys of %s: %w", s.p.ServiceAccountEmail(), err)
	}
	return keys, nil
}

// keyView is what byob reads of a service account key.
var keyView = keys.View[*iamapi.ServiceAccountKey]{
	ID:      keyID,
	Active:  func(k *iamapi.ServiceAccountKey) bool { return !k.Disabled },
	Created: keyCreated,
}

func (s *keyStep) Check(ctx context.Context, r *runenv.Run, v *providers.Values) (providers.Observation, error) {
	return s.keys().Observe(ctx, r, v, s.p.Adopt)
}

func (s *keyStep) Apply(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	return s.keys().Converge(ctx, r, v)
}

// createOnce sends keys.create once and returns the key file's content;
// a key whose content cannot be read is deleted.
func (s *keyStep) createOnce(ctx context.Context) (string, []byte, error) {
	key, err := createKey(ctx, s.c, s.p.accountName(), s.keyRequest())
	switch {
	case keyBlock(err) != "":
		return "", nil, &OrgPolicyError{Project: s.p.Project, Constraint: keyBlock(err), Err: err}
	case err != nil:
		return "", nil, fmt.Errorf("create key for %s: %w", s.p.ServiceAccountEmail(), err)
	}
	keyJSON, err := base64.StdEncoding.DecodeString(key.PrivateKeyData)
	if err != nil {
		_ = s.keys().Delete(ctx, keyID(key))
		return "", nil, errKeyData
	}
	return keyID(key), keyJSON, nil
}

// errKeyData says Google answered keys.create with key data that is not
// base64 (never quoted: it is the key). The key was made and deleted: the
// answer was not lost, so it is not tried again.
var errKeyData = errors.New("the new key's data is not base64")

// maybeApplied reports whether a failed call may still have changed
// something: no answer, or a 5xx.
func maybeApplied(err error) bool {
	if errors.Is(err, errKeyData) {
		return false
	}
	c := code(err)
	return c == 0 || c >= 500
}

// listKeys lists the keys made for account (projects/P/serviceAccounts/E)
// by someone, not by Google.
func listKeys(ctx context.Context, c *Clients, account string) ([]*iamapi.ServiceAccountKey, error) {
	keys, err := do(ctx, c, c.IAM.Projects.ServiceAccounts.Keys.List(account).KeyTypes("USER_MANAGED").Context(ctx))
	if err != nil {
		return nil, err
	}
	return keys.Keys, nil
}

// createKey sends keys.create once: the generated client retries nothing,
// and every call makes a key.
func createKey(ctx context.Context, c *Clients, account string, req templates.GCPKeyRequest) (*iamapi.ServiceAccountKey, error) {
	return c.IAM.Projects.ServiceAccounts.Keys.Create(account, &iamapi.CreateServiceAccountKeyRequest{
		PrivateKeyType: req.PrivateKeyType, KeyAlgorithm: req.KeyAlgorithm,
	}).Context(ctx).Do()
}
