package gcp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"cloud.google.com/go/storage"
	iam "google.golang.org/api/iam/v1"

	iamapi "cloud.google.com/go/iam"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/templates"
)

type bucketStep struct {
	providers.Basic
	p Params
	c *Clients
}

// want is the bucket the step makes and shows, in the JSON API's shape.
func (s *bucketStep) want(v *providers.Values) templates.GCSBucket {
	return templates.NewGCSBucket(s.p.Bucket, s.p.location(v), s.p.Prefix, s.p.TTLDays)
}

func (s *bucketStep) Artifacts(v *providers.Values) []providers.Artifact {
	return []providers.Artifact{providers.JSONArtifact("bucket (adopted and reconciled when you already administer it)", s.want(v))}
}

// attrsOf are the storage library's attributes of the wanted bucket.
func attrsOf(b templates.GCSBucket) *storage.BucketAttrs {
	a := &storage.BucketAttrs{
		Location:                 b.Location,
		UniformBucketLevelAccess: storage.UniformBucketLevelAccess{Enabled: b.IAMConfiguration.UniformBucketLevelAccess.Enabled},
		PublicAccessPrevention:   publicAccessPrevention[b.IAMConfiguration.PublicAccessPrevention],
	}
	for _, r := range b.Lifecycle.Rule {
		a.Lifecycle.Rules = append(a.Lifecycle.Rules, storage.LifecycleRule{
			Action: storage.LifecycleAction{Type: r.Action.Type},
			Condition: storage.LifecycleCondition{AgeInDays: int64(r.Condition.Age), DaysSinceNoncurrentTime: int64(r.Condition.DaysSinceNoncurrentTime),
				MatchesPrefix: r.Condition.MatchesPrefix},
		})
	}
	return a
}

// publicAccessPrevention maps the JSON API's values to the library's.
var publicAccessPrevention = map[string]storage.PublicAccessPrevention{
	"enforced": storage.PublicAccessPreventionEnforced, "inherited": storage.PublicAccessPreventionInherited,
}

// ours reports whether a lifecycle rule is one byob manages: a delete rule
// for exactly the prefix.
func (s *bucketStep) ours(r storage.LifecycleRule) bool {
	return r.Action.Type == storage.DeleteAction && slices.Equal(r.Condition.MatchesPrefix, []string{s.p.Prefix})
}

func (s *bucketStep) takenError() error {
	return providers.Mismatchf("bucket name %q is taken by another project (or you cannot administer it): choose another --bucket", s.p.Bucket)
}

// drift lists what differs from the wanted settings.
func (s *bucketStep) drift(a *storage.BucketAttrs) []string {
	var d []string
	if !a.UniformBucketLevelAccess.Enabled {
		d = append(d, "uniform bucket-level access is off")
	}
	if a.PublicAccessPrevention != storage.PublicAccessPreventionEnforced {
		d = append(d, "public access prevention is not enforced")
	}
	var have []storage.LifecycleRule
	for _, r := range a.Lifecycle.Rules {
		if s.ours(r) {
			have = append(have, r)
		}
	}
	want := attrsOf(templates.NewGCSBucket(s.p.Bucket, "", s.p.Prefix, s.p.TTLDays)).Lifecycle.Rules
	if !slices.EqualFunc(have, want, func(h, w storage.LifecycleRule) bool {
		return h.Condition.AgeInDays == w.Condition.AgeInDays && h.Condition.DaysSinceNoncurrentTime == w.Condition.DaysSinceNoncurrentTime
	}) {
		d = append(d, fmt.Sprintf("the lifecycle rules do not delete objects under %s at age %d days and their noncurrent versions %d days after they became noncurrent",
			s.p.Prefix, s.p.TTLDays, s.p.TTLDays))
	}
	return d
}

func (s *bucketStep) attrs(ctx context.Context) (*storage.BucketAttrs, error) {
	a, err := s.c.Storage.Bucket(s.p.Bucket).Attrs(ctx)
	switch {
	case errors.Is(err, storage.ErrBucketNotExist):
		return nil, nil
	case code(err) == http.StatusForbidden:
		return nil, s.takenError()
	case err != nil:
		return nil, fmt.Errorf("get bucket %s: %w", s.p.Bucket, err)
	}
	return a, nil
}

func (s *bucketStep) Check(ctx context.Context, v *providers.Values) (providers.Observation, error) {
	a, err := s.attrs(ctx)
	if err != nil || a == nil {
		return providers.Observation{Status: providers.Missing}, err
	}
	if want := s.p.location(v); !strings.EqualFold(a.Location, want) {
		return providers.Observation{}, providers.Mismatchf("bucket %s is in %s, not %s: re-run with --location %s or choose another --bucket", s.p.Bucket, a.Location, want, a.Location)
	}
	var adopted string
	if !providers.Owned(v, StepBucket) {
		adopted = "adopted the existing bucket " + s.p.Bucket + "; its objects are left alone"
	}
	if d := s.drift(a); len(d) > 0 {
		if adopted != "" {
			d = append(d, adopted)
		}
		return providers.Observation{Status: providers.Drifted, Reason: strings.Join(d, "; ")}, nil
	}
	return providers.Observation{Status: providers.Done, Reason: adopted}, nil
}

func (s *bucketStep) Apply(ctx context.Context, v *providers.Values) error {
	a, err := s.attrs(ctx)
	if err != nil {
		return err
	}
	if a == nil {
		err := s.c.Storage.Bucket(s.p.Bucket).Create(ctx, s.p.Project, attrsOf(s.want(v)))
		switch {
		case code(err) == http.StatusConflict:
			// Either the name is taken, or this is the answer to the
			// library's retry of a create whose first answer was lost.
			if a, err = s.attrs(ctx); err != nil || a == nil {
				return s.takenError()
			}
		case err != nil:
			return fmt.Errorf("create bucket %s: %w", s.p.Bucket, err)
		default:
			return nil
		}
	}
	// A read-modify-write under the bucket's metageneration: the library
	// then retries it, and a 412 means the bucket changed since it was
	// read (by this very update, when its answer was lost): read again.
	for attempt := 1; ; attempt++ {
		rules := slices.DeleteFunc(slices.Clone(a.Lifecycle.Rules), s.ours)
		want := attrsOf(s.want(v))
		_, err = s.c.Storage.Bucket(s.p.Bucket).If(storage.BucketConditions{MetagenerationMatch: a.MetaGeneration}).Update(ctx, storage.BucketAttrsToUpdate{
			UniformBucketLevelAccess: &want.UniformBucketLevelAccess,
			PublicAccessPrevention:   want.PublicAccessPrevention,
			Lifecycle:                &storage.Lifecycle{Rules: append(rules, want.Lifecycle.Rules...)},
		})
		if code(err) != http.StatusPreconditionFailed || attempt == 3 {
			break
		}
		if a, err = s.attrs(ctx); err != nil || a == nil {
			return fmt.Errorf("update bucket %s: it changed while being updated: %v", s.p.Bucket, err)
		}
		if len(s.drift(a)) == 0 {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("update bucket %s: %w", s.p.Bucket, err)
	}
	return nil
}

type roleStep struct {
	providers.Basic
	p    Params
	c    *Clients
	want templates.GCPRole
}

func (s *roleStep) name() string { return s.p.roleName(s.want.RoleID) }

func (s *roleStep) Artifacts(*providers.Values) []providers.Artifact {
	return []providers.Artifact{providers.JSONArtifact("projects.roles.create in "+s.p.Project, s.want)}
}

func samePermissions(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func (s *roleStep) get(ctx context.Context) (*iam.Role, error) {
	r, err := do(ctx, s.c, s.c.IAM.Projects.Roles.Get(s.name()).Context(ctx))
	if code(err) == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get role %s: %w", s.name(), err)
	}
	return r, nil
}

func (s *roleStep) Check(ctx context.Context, _ *providers.Values) (providers.Observation, error) {
	r, err := s.get(ctx)
	switch {
	case err != nil || r == nil:
		return providers.Observation{Status: providers.Missing}, err
	case r.Deleted:
		return providers.Observation{Status: providers.Drifted, Reason: "role " + s.want.RoleID + " was deleted; it is undeleted"}, nil
	case !samePermissions(r.IncludedPermissions, s.want.Role.IncludedPermissions):
		return providers.Observation{Status: providers.Drifted, Reason: fmt.Sprintf("role %s has permissions %v", s.want.RoleID, r.IncludedPermissions)}, nil
	}
	return providers.Observation{Status: providers.Done}, nil
}

func (s *roleStep) Apply(ctx context.Context, _ *providers.Values) error {
	r, err := s.get(ctx)
	if err != nil {
		return err
	}
	if r == nil {
		// A retried create whose first answer was lost answers 409: the
		// role is read back below.
		_, err := do(ctx, s.c, s.c.IAM.Projects.Roles.Create("projects/"+s.p.Project, &iam.CreateRoleRequest{
			RoleId: s.want.RoleID,
			Role: &iam.Role{Title: s.want.Role.Title, Description: s.want.Role.Description,
				IncludedPermissions: s.want.Role.IncludedPermissions, Stage: s.want.Role.Stage},
		}).Context(ctx))
		if err == nil {
			return nil
		}
		if code(err) != http.StatusConflict {
			return fmt.Errorf("create role %s: %w", s.want.RoleID, err)
		}
		if r, err = s.get(ctx); err != nil || r == nil {
			return fmt.Errorf("create role %s: it exists but cannot be read: %v", s.want.RoleID, err)
		}
	}
	if r.Deleted {
		if r, err = do(ctx, s.c, s.c.IAM.Projects.Roles.Undelete(s.name(), &iam.UndeleteRoleRequest{Etag: r.Etag}).Context(ctx)); err != nil {
			return fmt.Errorf("undelete role %s: %w", s.want.RoleID, err)
		}
	}
	if !samePermissions(r.IncludedPermissions, s.want.Role.IncludedPermissions) {
		_, err := do(ctx, s.c, s.c.IAM.Projects.Roles.Patch(s.name(), &iam.Role{IncludedPermissions: s.want.Role.IncludedPermissions, Etag: r.Etag}).
			UpdateMask("includedPermissions").Context(ctx))
		if err != nil {
			return fmt.Errorf("update role %s: %w", s.want.RoleID, err)
		}
	}
	return nil
}

type serviceAccountStep struct {
	providers.Basic
	p Params
	c *Clients
}

// request is the account creation the step sends and shows.
func (s *serviceAccountStep) request() templates.GCPServiceAccount {
	return templates.NewGCPServiceAccount(s.p.Names.ServiceAccount, "GrowthLoop exports (byob)", "Writes GrowthLoop exports to gs://"+s.p.Bucket)
}

func (s *serviceAccountStep) Artifacts(*providers.Values) []providers.Artifact {
	return []providers.Artifact{providers.JSONArtifact("projects.serviceAccounts.create in "+s.p.Project, s.request())}
}

func (s *serviceAccountStep) Check(ctx context.Context, _ *providers.Values) (providers.Observation, error) {
	_, err := do(ctx, s.c, s.c.IAM.Projects.ServiceAccounts.Get(s.p.accountName()).Context(ctx))
	if code(err) == http.StatusNotFound {
		return providers.Observation{Status: providers.Missing}, nil
	}
	if err != nil {
		return providers.Observation{}, fmt.Errorf("get service account %s: %w", s.p.ServiceAccountEmail(), err)
	}
	return providers.Observation{Status: providers.Done}, nil
}

func (s *serviceAccountStep) Apply(ctx context.Context, _ *providers.Values) error {
	req := s.request()
	// A retried create whose first answer was lost answers 409.
	_, err := do(ctx, s.c, s.c.IAM.Projects.ServiceAccounts.Create("projects/"+s.p.Project, &iam.CreateServiceAccountRequest{
		AccountId:      req.AccountID,
		ServiceAccount: &iam.ServiceAccount{DisplayName: req.ServiceAccount.DisplayName, Description: req.ServiceAccount.Description},
	}).Context(ctx))
	if err != nil && code(err) != http.StatusConflict {
		return fmt.Errorf("create service account %s: %w", s.p.ServiceAccountEmail(), err)
	}
	return nil
}

// bindingStep grants a role to a member on the bucket only, by a
// read-modify-write of the bucket's IAM policy that keeps other bindings.
type bindingStep struct {
	providers.Basic
	p      Params
	c      *Clients
	role   string
	member func(v *providers.Values) string
}

func (s *bindingStep) Artifacts(v *providers.Values) []providers.Artifact {
	return []providers.Artifact{providers.JSONArtifact("binding added to the bucket's IAM policy (read-modify-write with its etag)",
		templates.GCSBinding{Bucket: s.p.Bucket, Role: s.role, Members: []string{s.member(v)}})}
}

func (s *bindingStep) policy(ctx context.Context) (*iamapi.Policy, error) {
	p, err := s.c.Storage.Bucket(s.p.Bucket).IAM().Policy(ctx)
	if err != nil {
		return nil, fmt.Errorf("get IAM policy of bucket %s: %w", s.p.Bucket, err)
	}
	return p, nil
}

func (s *bindingStep) Check(ctx context.Context, v *providers.Values) (providers.Observation, error) {
	p, err := s.policy(ctx)
	if err != nil {
		return providers.Observation{}, err
	}
	if p.HasRole(s.member(v), iamapi.RoleName(s.role)) {
		return providers.Observation{Status: providers.Done}, nil
	}
	return providers.Observation{Status: providers.Missing}, nil
}

func (s *bindingStep) Apply(ctx context.Context, v *providers.Values) error {
	member := s.member(v)
	return s.p.Propagation.Poll(ctx, "waiting for the new service account to be usable in bucket IAM", func(ctx context.Context) error {
		p, err := s.policy(ctx)
		if err != nil {
			return err
		}
		p.Add(member, iamapi.RoleName(s.role))
		err = s.c.Storage.Bucket(s.p.Bucket).IAM().SetPolicy(ctx, p)
		switch {
		case code(err) == http.StatusPreconditionFailed || code(err) == http.StatusConflict:
			return fmt.Errorf("%w: the bucket policy changed while it was updated: %v", providers.ErrNotYet, err)
		case code(err) == http.StatusBadRequest && strings.Contains(err.Error(), "does not exist"):
			return fmt.Errorf("%w: %v", providers.ErrNotYet, err)
		case err != nil:
			return fmt.Errorf("set IAM policy of bucket %s: %w", s.p.Bucket, err)
		}
		return nil
	})
}
