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
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/templates"
)

// keys records the service account keys byob made.
var keys = providers.NewKeyLedger("gcp")

// CreatedKeys returns the ids of the service account keys byob made.
func CreatedKeys(v *providers.Values) []string { return keys.Created(v) }

// made reports whether a key was made under the intent.
func made(in providers.Intent, k *iamapi.ServiceAccountKey) bool {
	return in.Made(keyID(k), keyCreated(k))
}

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
	p    Params
	c    *Clients
	read runenv.Read[[]*iamapi.ServiceAccountKey]
}

// keys lists the account's keys; none when the account does not exist.
func (s *keyStep) keys(ctx context.Context) ([]*iamapi.ServiceAccountKey, error) {
	list, err := s.list(ctx)
	if code(err) == http.StatusNotFound {
		return nil, nil
	}
	return list, err
}

// Prefetch implements providers.Prefetcher.
func (s *keyStep) Prefetch(ctx context.Context, r *runenv.Run, _ *providers.Values) {
	s.read.Start(ctx, r, s.keys)
}

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
var keyView = providers.KeyView[*iamapi.ServiceAccountKey]{
	ID:      keyID,
	Active:  func(k *iamapi.ServiceAccountKey) bool { return !k.Disabled },
	Created: keyCreated,
}

// keySet is the service account's keys as byob sees them.
type keySet = providers.KeySet[*iamapi.ServiceAccountKey]

func (s *keyStep) keySet(v *providers.Values, list []*iamapi.ServiceAccountKey) keySet {
	return providers.NewKeySet(keys, keyView, v, s.p.Keys, list)
}

// foreign describes the keys byob did not make and does not hold: they
// are reported and never touched. "" when there are none.
func foreign(ks keySet, account string) string {
	var ids []string
	for _, k := range ks.Foreign() {
		ids = append(ids, keyID(k))
	}
	if len(ids) == 0 {
		return ""
	}
	return fmt.Sprintf("service account %s also has key %s, which byob did not create; left alone", account, strings.Join(ids, " and "))
}

func (s *keyStep) Check(ctx context.Context, r *runenv.Run, v *providers.Values) (providers.Observation, error) {
	list, err := s.read.Get(ctx, r, s.keys)
	if err != nil {
		return providers.Observation{}, err
	}
	ks := s.keySet(v, list)
	held := s.p.Keys.Delivered()
	obs := func(st providers.Status, reason string) (providers.Observation, error) {
		if f := foreign(ks, s.p.ServiceAccountEmail()); f != "" {
			reason = strings.TrimPrefix(reason+"; "+f, "; ")
		}
		return providers.Observation{Status: st, Reason: reason}, nil
	}
	if id := ks.Adopted(v, s.p.Adopt); held == "" && id != "" {
		// GrowthLoop holds this key's file: keep it, make no other.
		v.Set(KeyID, id)
		v.Set(providers.GrowthLoopsKey, id)
		return providers.Observation{Status: providers.Done, Reason: "key " + id + " of " + s.p.ServiceAccountEmail() +
			" is the one GrowthLoop holds: left in place, and no key file is written; byob rotate-keys replaces it"}, nil
	}
	switch {
	case held == "":
		return obs(providers.Missing, "")
	case !ks.Exists(held):
		return obs(providers.Missing, "key "+held+" of "+s.p.KeyFile+" no longer exists")
	case !ks.Works(held):
		return obs(providers.Drifted, "key "+held+" of "+s.p.KeyFile+" is disabled: a new key replaces it and "+held+" is deleted (upload the new key file to GrowthLoop)")
	case len(ks.Unwanted()) > 0:
		return obs(providers.Drifted, "key "+strings.Join(ks.Unwanted(), ", ")+" was made by byob but its file was lost, so it can never be used: it is deleted")
	}
	// The key file's key is the setup's, whatever the state file says.
	v.Set(KeyID, held)
	return obs(providers.Done, "")
}

func (s *keyStep) Apply(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	list, err := s.read.Get(ctx, r, s.keys)
	s.read.Forget()
	if err != nil {
		return err
	}
	ks := s.keySet(v, list)
	known, ours, err := ks.Prune(ctx, v, false, s.delete)
	if err != nil {
		return err
	}
	keys.End(v)
	if held := s.p.Keys.Delivered(); ks.Works(held) {
		v.Set(KeyID, held)
		keys.SetCreated(v, append(ours, held))
		return r.Checkpoint()
	}
	keys.SetCreated(v, ours)
	in, err := keys.Begin(r, v, known)
	if err != nil {
		return err
	}
	var key *iamapi.ServiceAccountKey
	err = s.p.Propagation.Poll(ctx, r, "waiting for the new service account to accept keys", func(ctx context.Context) error {
		var err error
		key, err = s.createOnce(ctx, in)
		if code(err) == http.StatusNotFound {
			return fmt.Errorf("%w: %v", runenv.ErrNotYet, err)
		}
		return err
	})
	if err != nil {
		return err
	}
	keyJSON, err := base64.StdEncoding.DecodeString(key.PrivateKeyData)
	if err != nil {
		_ = s.delete(ctx, keyID(key))
		return errors.New("the new key's data is not base64") // never quote the data
	}
	if err := s.p.Keys.Keep(keyID(key), keyJSON); err != nil {
		// A key whose file cannot be written can never be delivered.
		_ = s.delete(ctx, keyID(key))
		return fmt.Errorf("write %s: %w", s.p.KeyFile, err)
	}
	v.Set(KeyID, keyID(key))
	keys.SetCreated(v, append(ours, keyID(key)))
	keys.End(v)
	return r.Checkpoint()
}

// createOnce creates a key without blind retries: when an answer is lost
// it deletes the keys the lost call made, then tries again.
func (s *keyStep) createOnce(ctx context.Context, in providers.Intent) (*iamapi.ServiceAccountKey, error) {
	req := s.keyRequest()
	var key *iamapi.ServiceAccountKey
	err := providers.RetryLost(ctx, maybeApplied, func(ctx context.Context) (err error) {
		key, err = createKey(ctx, s.c, s.p.accountName(), req)
		return err
	}, func(ctx context.Context) (bool, error) {
		list, err := s.list(ctx)
		if err != nil {
			return false, err
		}
		for _, k := range list {
			if made(in, k) && !providers.Holds(s.p.Keys, keyID(k)) {
				if err := s.delete(ctx, keyID(k)); err != nil {
					return false, err
				}
			}
		}
		return false, nil
	})
	switch {
	case keyBlock(err) != "":
		return nil, &OrgPolicyError{Project: s.p.Project, Constraint: keyBlock(err), Err: err}
	case err != nil && code(err) != http.StatusNotFound:
		return nil, fmt.Errorf("create key for %s: %w", s.p.ServiceAccountEmail(), err)
	}
	return key, err
}

// maybeApplied reports whether a failed call may still have changed
// something: no answer, or a 5xx.
func maybeApplied(err error) bool {
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

func (s *keyStep) delete(ctx context.Context, id string) error {
	_, err := do(ctx, s.c, s.c.IAM.Projects.ServiceAccounts.Keys.Delete(s.p.accountName()+"/keys/"+id).Context(ctx))
	if err != nil && code(err) != http.StatusNotFound {
		return fmt.Errorf("delete key %s: %w", id, err)
	}
	return nil
}
