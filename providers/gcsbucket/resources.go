package gcsbucket

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"cloud.google.com/go/iam"
	"cloud.google.com/go/iam/apiv1/iampb"
	"cloud.google.com/go/storage"
	iamapi "google.golang.org/api/iam/v1"

	"github.com/growthloop/byob/internal/prose"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/templates"
)

type bucketStep struct {
	providers.Basic
	p Params
	c *Clients
}

// ReadsEarly implements providers.ReadsEarly.
func (*bucketStep) ReadsEarly(*providers.Values) bool { return true }

// read is the bucket as the run read it; nil when there is none.
func (s *bucketStep) read(ctx context.Context, r *runenv.Run) (*storage.BucketAttrs, error) {
	return runenv.Read(ctx, r, "storage.buckets.get "+s.p.Bucket, s.get)
}

// want is the bucket the step makes and shows, in the JSON API's shape.
// Soft delete is left at Google's default (deleted objects kept 7 days).
func (s *bucketStep) want(v *providers.Values) templates.GCSBucket {
	return templates.NewGCSBucket(s.p.Bucket, s.p.location(v), s.p.Prefix, s.p.TTLDays)
}

func (s *bucketStep) Artifacts(v *providers.Values) []providers.Artifact {
	return []providers.Artifact{providers.JSONArtifact("bucket (adopted and reconciled when you already administer it)", s.want(v))}
}

// attrsOf is the storage library's attributes of the wanted bucket, which
// it sends as the template shows them.
func attrsOf(b templates.GCSBucket) *storage.BucketAttrs {
	out := &storage.BucketAttrs{Name: b.Name, Location: b.Location,
		UniformBucketLevelAccess: storage.UniformBucketLevelAccess{Enabled: b.IAMConfiguration.UniformBucketLevelAccess.Enabled}}
	if b.IAMConfiguration.PublicAccessPrevention == "enforced" {
		out.PublicAccessPrevention = storage.PublicAccessPreventionEnforced
	}
	for _, r := range b.Lifecycle.Rule {
		out.Lifecycle.Rules = append(out.Lifecycle.Rules, storage.LifecycleRule{
			Action: storage.LifecycleAction{Type: r.Action.Type},
			Condition: storage.LifecycleCondition{AgeInDays: int64(r.Condition.Age), DaysSinceNoncurrentTime: int64(r.Condition.DaysSinceNoncurrentTime),
				MatchesPrefix: r.Condition.MatchesPrefix},
		})
	}
	return out
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
func (s *bucketStep) drift(b *storage.BucketAttrs) []string {
	var d []string
	if !b.UniformBucketLevelAccess.Enabled {
		d = append(d, "uniform bucket-level access is off")
	}
	if b.PublicAccessPrevention != storage.PublicAccessPreventionEnforced {
		d = append(d, "public access prevention is not enforced")
	}
	have := slices.DeleteFunc(slices.Clone(b.Lifecycle.Rules), func(r storage.LifecycleRule) bool { return !s.ours(r) })
	want := attrsOf(templates.NewGCSBucket(s.p.Bucket, "", s.p.Prefix, s.p.TTLDays)).Lifecycle.Rules
	if !slices.EqualFunc(have, want, func(h, w storage.LifecycleRule) bool {
		return h.Condition.AgeInDays == w.Condition.AgeInDays && !h.Condition.AllObjects && h.Condition.DaysSinceNoncurrentTime == w.Condition.DaysSinceNoncurrentTime
	}) {
		d = append(d, fmt.Sprintf("the lifecycle rules do not delete objects under %s at age %s and their noncurrent versions %s after they became noncurrent",
			s.p.Prefix, prose.Count(s.p.TTLDays, "day"), prose.Count(s.p.TTLDays, "day")))
	}
	return d
}

// get reads the bucket; nil when there is none.
func (s *bucketStep) get(ctx context.Context) (*storage.BucketAttrs, error) {
	b, err := s.c.Storage.Bucket(s.p.Bucket).Attrs(ctx)
	switch code(err) {
	case 0:
		return b, err
	case http.StatusNotFound:
		return nil, nil
	case http.StatusForbidden:
		return nil, s.takenError()
	}
	return nil, fmt.Errorf("get bucket %s: %w", s.p.Bucket, err)
}

// Gate implements providers.Gate: a bucket or integration byob cannot
// use (another account's or provider's, in another place) stops the run
// before any change.
func (s *bucketStep) Gate(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	_, err := s.Check(ctx, r, v)
	return err
}

func (s *bucketStep) Check(ctx context.Context, r *runenv.Run, v *providers.Values) (providers.Observation, error) {
	b, err := s.read(ctx, r)
	if err != nil || b == nil {
		return providers.Observation{Status: providers.Missing}, err
	}
	if want := s.p.location(v); !strings.EqualFold(b.Location, want) {
		return providers.Observation{}, providers.Mismatchf("bucket %s is in %s, not %s: re-run with --location %s or choose another --bucket", s.p.Bucket, b.Location, want, b.Location)
	}
	var adopted string
	if !providers.Owned(v, StepBucket) {
		adopted = "adopted the existing bucket " + s.p.Bucket + "; its objects are left alone"
	}
	if d := s.drift(b); len(d) > 0 {
		if adopted != "" {
			d = append(d, adopted)
		}
		return providers.Observation{Status: providers.Drifted, Reason: strings.Join(d, "; ")}, nil
	}
	return providers.Observation{Status: providers.Done, Reason: adopted}, nil
}

func (s *bucketStep) Apply(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	b, err := s.read(ctx, r)
	if err != nil {
		return err
	}
	want := attrsOf(s.want(v))
	if b == nil {
		// A retried insert whose first answer was lost answers 409: then
		// the bucket is read back.
		err := s.c.Storage.Bucket(s.p.Bucket).Create(ctx, s.p.Project, want)
		switch {
		case code(err) == http.StatusConflict:
			if b, err = s.get(ctx); err != nil || b == nil {
				return s.takenError()
			}
		case err != nil:
			return fmt.Errorf("create bucket %s: %w", s.p.Bucket, err)
		default:
			return nil
		}
	}
	// A read-modify-write under the bucket's metageneration, so retrying
	// it is safe: a 412 means the bucket changed since it was read (by
	// this very update, when its answer was lost): read again.
	for attempt := 1; ; attempt++ {
		keep := slices.DeleteFunc(slices.Clone(b.Lifecycle.Rules), s.ours)
		lifecycle := storage.Lifecycle{Rules: append(keep, want.Lifecycle.Rules...)}
		_, err = s.c.Storage.Bucket(s.p.Bucket).If(storage.BucketConditions{MetagenerationMatch: b.MetaGeneration}).Update(ctx, storage.BucketAttrsToUpdate{
			UniformBucketLevelAccess: &want.UniformBucketLevelAccess, PublicAccessPrevention: want.PublicAccessPrevention, Lifecycle: &lifecycle})
		if code(err) != http.StatusPreconditionFailed || attempt == 3 {
			break
		}
		if b, err = s.get(ctx); err != nil || b == nil {
			return fmt.Errorf("update bucket %s: it changed while being updated: %v", s.p.Bucket, err)
		}
		if len(s.drift(b)) == 0 {
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

// ReadsEarly implements providers.ReadsEarly.
func (*roleStep) ReadsEarly(*providers.Values) bool { return true }

// read is the role as the run read it; nil when there is none.
func (s *roleStep) read(ctx context.Context, r *runenv.Run) (*iamapi.Role, error) {
	return runenv.Read(ctx, r, "iam.roles.get "+s.name(), s.get)
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

func (s *roleStep) get(ctx context.Context) (*iamapi.Role, error) {
	r, err := do(ctx, s.c, s.c.IAM.Projects.Roles.Get(s.name()).Context(ctx))
	if code(err) == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get role %s: %w", s.name(), err)
	}
	return r, nil
}

func (s *roleStep) Check(ctx context.Context, r *runenv.Run, _ *providers.Values) (providers.Observation, error) {
	role, err := s.read(ctx, r)
	switch {
	case err != nil || role == nil:
		return providers.Observation{Status: providers.Missing}, err
	case role.Deleted:
		return providers.Observation{Status: providers.Drifted, Reason: "role " + s.want.RoleID + " was deleted; it is undeleted"}, nil
	case !samePermissions(role.IncludedPermissions, s.want.Role.IncludedPermissions):
		return providers.Observation{Status: providers.Drifted, Reason: fmt.Sprintf("role %s has permissions %v", s.want.RoleID, role.IncludedPermissions)}, nil
	}
	return providers.Observation{Status: providers.Done}, nil
}

func (s *roleStep) Apply(ctx context.Context, r *runenv.Run, _ *providers.Values) error {
	role, err := s.read(ctx, r)
	if err != nil {
		return err
	}
	if role == nil {
		// A retried create whose first answer was lost answers 409: the
		// role is read back below.
		_, err := do(ctx, s.c, s.c.IAM.Projects.Roles.Create("projects/"+s.p.Project, &iamapi.CreateRoleRequest{RoleId: s.want.RoleID,
			Role: &iamapi.Role{Title: s.want.Role.Title, Description: s.want.Role.Description,
				IncludedPermissions: s.want.Role.IncludedPermissions, Stage: s.want.Role.Stage},
		}).Context(ctx))
		if err == nil {
			return nil
		}
		if code(err) != http.StatusConflict {
			return fmt.Errorf("create role %s: %w", s.want.RoleID, err)
		}
		if role, err = s.get(ctx); err != nil || role == nil {
			return fmt.Errorf("create role %s: it exists but cannot be read: %v", s.want.RoleID, err)
		}
	}
	if role.Deleted {
		if role, err = do(ctx, s.c, s.c.IAM.Projects.Roles.Undelete(s.name(), &iamapi.UndeleteRoleRequest{Etag: role.Etag}).Context(ctx)); err != nil {
			return fmt.Errorf("undelete role %s: %w", s.want.RoleID, err)
		}
	}
	if !samePermissions(role.IncludedPermissions, s.want.Role.IncludedPermissions) {
		_, err := do(ctx, s.c, s.c.IAM.Projects.Roles.Patch(s.name(), &iamapi.Role{IncludedPermissions: s.want.Role.IncludedPermissions, Etag: role.Etag}).
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

// read is the service account as the run read it; nil when there is none.
func (s *serviceAccountStep) read(ctx context.Context, r *runenv.Run) (*iamapi.ServiceAccount, error) {
	return runenv.Read(ctx, r, "iam.serviceAccounts.get "+s.p.accountName(), s.get)
}

// get reads the service account; nil when there is none.
func (s *serviceAccountStep) get(ctx context.Context) (*iamapi.ServiceAccount, error) {
	sa, err := do(ctx, s.c, s.c.IAM.Projects.ServiceAccounts.Get(s.p.accountName()).Context(ctx))
	switch {
	case code(err) == http.StatusNotFound:
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("get service account %s: %w", s.p.ServiceAccountEmail(), err)
	}
	return sa, nil
}

// writesTo is the description byob gives the service account of a bucket.
const writesTo = "Writes GrowthLoop exports to gs://"

// Gate implements providers.Gate: a service account of this name that
// another byob setup of the same --name made for another bucket is not
// taken over without --adopt (destroying this setup would remove it).
func (s *serviceAccountStep) Gate(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	if s.p.Adopt || providers.Owned(v, s.ID()) || providers.Adopted(v, s.ID()) {
		return nil
	}
	sa, err := s.read(ctx, r)
	if err != nil || sa == nil {
		return err
	}
	other, ok := strings.CutPrefix(sa.Description, writesTo)
	if !ok || other == s.p.Bucket {
		return nil
	}
	return providers.Usagef("service account %s is another byob setup's: it was made for gs://%s, not gs://%s. "+
		"Pass --name with another name to make a separate setup (its own service account and roles), "+
		"or --adopt to take this one over for gs://%s (destroying either setup then removes it from both)",
		s.p.ServiceAccountEmail(), other, s.p.Bucket, s.p.Bucket)
}

// ReadsEarly implements providers.ReadsEarly.
func (*serviceAccountStep) ReadsEarly(*providers.Values) bool { return true }

// request is the account creation the step sends and shows.
func (s *serviceAccountStep) request() templates.GCPServiceAccount {
	return templates.NewGCPServiceAccount(s.p.Names.ServiceAccount, "GrowthLoop exports (byob)", writesTo+s.p.Bucket)
}

func (s *serviceAccountStep) Artifacts(*providers.Values) []providers.Artifact {
	return []providers.Artifact{providers.JSONArtifact("projects.serviceAccounts.create in "+s.p.Project, s.request())}
}

func (s *serviceAccountStep) Check(ctx context.Context, r *runenv.Run, _ *providers.Values) (providers.Observation, error) {
	sa, err := s.read(ctx, r)
	switch {
	case err != nil:
		return providers.Observation{}, err
	case sa == nil:
		return providers.Observation{Status: providers.Missing}, nil
	}
	return providers.Observation{Status: providers.Done}, nil
}

func (s *serviceAccountStep) Apply(ctx context.Context, r *runenv.Run, _ *providers.Values) error {
	req := s.request()
	// A retried create whose first answer was lost answers 409.
	_, err := do(ctx, s.c, s.c.IAM.Projects.ServiceAccounts.Create("projects/"+s.p.Project, &iamapi.CreateServiceAccountRequest{AccountId: req.AccountID,
		ServiceAccount: &iamapi.ServiceAccount{DisplayName: req.ServiceAccount.DisplayName, Description: req.ServiceAccount.Description},
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

func (s *bindingStep) policy(ctx context.Context) (*iam.Policy3, error) {
	return bucketPolicy(ctx, s.c, s.p.Bucket)
}

// read is the bucket's IAM policy as the run read it. It is not read
// ahead: the bucket step may create the bucket, and with it its policy's
// first bindings.
func (s *bindingStep) read(ctx context.Context, r *runenv.Run) (*iam.Policy3, error) {
	return runenv.Read(ctx, r, "storage.buckets.getIamPolicy "+s.p.Bucket, s.policy)
}

// bucketPolicy reads a bucket's IAM policy, in version 3: a policy with
// conditions refuses a read of an older version.
// https://cloud.google.com/storage/docs/json_api/v1/buckets/getIamPolicy
func bucketPolicy(ctx context.Context, c *Clients, bucket string) (*iam.Policy3, error) {
	p, err := c.Storage.Bucket(bucket).IAM().V3().Policy(ctx)
	if err != nil {
		return nil, fmt.Errorf("get IAM policy of bucket %s: %w", bucket, err)
	}
	return p, nil
}

// hasRole reports whether the policy binds member to role.
func hasRole(p *iam.Policy3, member, role string) bool {
	return slices.ContainsFunc(p.Bindings, func(b *iampb.Binding) bool { return b.Role == role && slices.Contains(b.Members, member) })
}

// addRole binds member to role, keeping every other binding.
func addRole(p *iam.Policy3, member, role string) {
	for _, b := range p.Bindings {
		if b.Role == role && b.Condition == nil {
			if !slices.Contains(b.Members, member) {
				b.Members = append(b.Members, member)
			}
			return
		}
	}
	p.Bindings = append(p.Bindings, &iampb.Binding{Role: role, Members: []string{member}})
}

// removeRole unbinds member from role, dropping a binding left empty.
func removeRole(p *iam.Policy3, member, role string) {
	for _, b := range p.Bindings {
		if b.Role == role {
			b.Members = slices.DeleteFunc(b.Members, func(m string) bool { return m == member })
		}
	}
	p.Bindings = slices.DeleteFunc(p.Bindings, func(b *iampb.Binding) bool { return len(b.Members) == 0 })
}

// setPolicy writes the policy, its etag making it a compare-and-swap: a
// policy changed meanwhile is read and changed again.
func (s *bindingStep) setPolicy(ctx context.Context, p *iam.Policy3) error {
	err := s.c.Storage.Bucket(s.p.Bucket).IAM().V3().SetPolicy(ctx, p)
	switch {
	case code(err) == http.StatusPreconditionFailed || code(err) == http.StatusConflict:
		return fmt.Errorf("%w: the bucket policy changed while it was updated: %v", runenv.ErrNotYet, err)
	case err != nil:
		return fmt.Errorf("set IAM policy of bucket %s: %w", s.p.Bucket, err)
	}
	return nil
}

func (s *bindingStep) Check(ctx context.Context, r *runenv.Run, v *providers.Values) (providers.Observation, error) {
	p, err := s.read(ctx, r)
	if err != nil {
		return providers.Observation{}, err
	}
	if hasRole(p, s.member(v), s.role) {
		return providers.Observation{Status: providers.Done}, nil
	}
	return providers.Observation{Status: providers.Missing}, nil
}

func (s *bindingStep) Apply(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	member := s.member(v)
	read := func(ctx context.Context) (*iam.Policy3, error) { return s.read(ctx, r) }
	return s.p.Propagation.Poll(ctx, r, "waiting for the new service account to be usable in bucket IAM", func(ctx context.Context) error {
		// The first attempt changes what Check read (the step's own read,
		// never read ahead, so no one else holds it); a retry reads again.
		p, err := read(ctx)
		read = s.policy
		if err != nil {
			return err
		}
		addRole(p, member, s.role)
		err = s.setPolicy(ctx, p)
		if code(err) == http.StatusBadRequest && strings.Contains(err.Error(), "does not exist") {
			return fmt.Errorf("%w: %v", runenv.ErrNotYet, err)
		}
		return err
	})
}
