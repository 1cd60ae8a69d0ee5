package gcp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/gcp/gcpapi"
	"github.com/growthloop/byob/templates"
)

type bucketStep struct {
	providers.Basic
	p    Params
	c    *Clients
	read providers.Read[*gcpapi.Bucket]
}

// Prefetch implements providers.Prefetcher.
func (s *bucketStep) Prefetch(ctx context.Context, _ *providers.Values) { s.read.Start(ctx, s.get) }

// want is the bucket the step makes and shows, in the JSON API's shape.
func (s *bucketStep) want(v *providers.Values) templates.GCSBucket {
	return templates.NewGCSBucket(s.p.Bucket, s.p.location(v), s.p.Prefix, s.p.TTLDays)
}

func (s *bucketStep) Artifacts(v *providers.Values) []providers.Artifact {
	return []providers.Artifact{providers.JSONArtifact("bucket (adopted and reconciled when you already administer it)", s.want(v))}
}

// bucketOf is the JSON API's resource of the wanted bucket: the template
// is in the API's shape, so it is sent as it is shown.
func bucketOf(b templates.GCSBucket) *gcpapi.Bucket {
	var out gcpapi.Bucket
	if err := json.Unmarshal([]byte(templates.IndentJSON(b)), &out); err != nil {
		panic(err) // the template is the API's shape: cannot fail
	}
	return &out
}

// ours reports whether a lifecycle rule is one byob manages: a delete rule
// for exactly the prefix.
func (s *bucketStep) ours(r *gcpapi.LifecycleRule) bool {
	return r.Action != nil && r.Action.Type == "Delete" && r.Condition != nil && slices.Equal(r.Condition.MatchesPrefix, []string{s.p.Prefix})
}

func (s *bucketStep) takenError() error {
	return providers.Mismatchf("bucket name %q is taken by another project (or you cannot administer it): choose another --bucket", s.p.Bucket)
}

// rules are a bucket's lifecycle rules.
func rules(b *gcpapi.Bucket) []*gcpapi.LifecycleRule {
	if b.Lifecycle == nil {
		return nil
	}
	return b.Lifecycle.Rule
}

// drift lists what differs from the wanted settings.
func (s *bucketStep) drift(b *gcpapi.Bucket) []string {
	var d []string
	ic := b.IamConfiguration
	if ic == nil || ic.UniformBucketLevelAccess == nil || !ic.UniformBucketLevelAccess.Enabled {
		d = append(d, "uniform bucket-level access is off")
	}
	if ic == nil || ic.PublicAccessPrevention != "enforced" {
		d = append(d, "public access prevention is not enforced")
	}
	have := slices.DeleteFunc(slices.Clone(rules(b)), func(r *gcpapi.LifecycleRule) bool { return !s.ours(r) })
	want := rules(bucketOf(templates.NewGCSBucket(s.p.Bucket, "", s.p.Prefix, s.p.TTLDays)))
	if !slices.EqualFunc(have, want, func(h, w *gcpapi.LifecycleRule) bool {
		return ptrEqual(h.Condition.Age, w.Condition.Age) && h.Condition.DaysSinceNoncurrentTime == w.Condition.DaysSinceNoncurrentTime
	}) {
		d = append(d, fmt.Sprintf("the lifecycle rules do not delete objects under %s at age %d days and their noncurrent versions %d days after they became noncurrent",
			s.p.Prefix, s.p.TTLDays, s.p.TTLDays))
	}
	return d
}

// ptrEqual reports whether two optional values are equal.
func ptrEqual[T comparable](a, b *T) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// get reads the bucket; nil when there is none.
func (s *bucketStep) get(ctx context.Context) (*gcpapi.Bucket, error) {
	b, err := do(ctx, s.c, s.c.Storage.Buckets.Get(s.p.Bucket).Context(ctx))
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
func (s *bucketStep) Gate(ctx context.Context, v *providers.Values) error {
	_, err := s.Check(ctx, v)
	return err
}

func (s *bucketStep) Check(ctx context.Context, v *providers.Values) (providers.Observation, error) {
	b, err := s.read.Get(ctx, s.get)
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

func (s *bucketStep) Apply(ctx context.Context, v *providers.Values) error {
	b, err := s.read.Get(ctx, s.get)
	s.read.Forget()
	if err != nil {
		return err
	}
	want := bucketOf(s.want(v))
	if b == nil {
		// A retried insert whose first answer was lost answers 409: then
		// the bucket is read back.
		_, err := do(ctx, s.c, s.c.Storage.Buckets.Insert(s.p.Project, want).Context(ctx))
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
		keep := slices.DeleteFunc(slices.Clone(rules(b)), s.ours)
		patch := &gcpapi.Bucket{IamConfiguration: want.IamConfiguration, Lifecycle: &gcpapi.Lifecycle{Rule: append(keep, want.Lifecycle.Rule...)}}
		_, err = do(ctx, s.c, s.c.Storage.Buckets.Patch(s.p.Bucket, patch).Query("ifMetagenerationMatch", strconv.FormatInt(b.Metageneration, 10)).Context(ctx))
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
	read providers.Read[*gcpapi.Role]
}

// Prefetch implements providers.Prefetcher.
func (s *roleStep) Prefetch(ctx context.Context, _ *providers.Values) { s.read.Start(ctx, s.get) }

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

func (s *roleStep) get(ctx context.Context) (*gcpapi.Role, error) {
	r, err := do(ctx, s.c, s.c.IAM.Roles.Get(s.name()).Context(ctx))
	if code(err) == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get role %s: %w", s.name(), err)
	}
	return r, nil
}

func (s *roleStep) Check(ctx context.Context, _ *providers.Values) (providers.Observation, error) {
	r, err := s.read.Get(ctx, s.get)
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
	r, err := s.read.Get(ctx, s.get)
	s.read.Forget()
	if err != nil {
		return err
	}
	if r == nil {
		// A retried create whose first answer was lost answers 409: the
		// role is read back below.
		_, err := do(ctx, s.c, s.c.IAM.Roles.Create("projects/"+s.p.Project, &gcpapi.CreateRoleRequest{RoleID: s.want.RoleID,
			Role: &gcpapi.Role{Title: s.want.Role.Title, Description: s.want.Role.Description,
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
		if r, err = do(ctx, s.c, s.c.IAM.Roles.Undelete(s.name(), r.Etag).Context(ctx)); err != nil {
			return fmt.Errorf("undelete role %s: %w", s.want.RoleID, err)
		}
	}
	if !samePermissions(r.IncludedPermissions, s.want.Role.IncludedPermissions) {
		_, err := do(ctx, s.c, s.c.IAM.Roles.Patch(s.name(), &gcpapi.Role{IncludedPermissions: s.want.Role.IncludedPermissions, Etag: r.Etag}, "includedPermissions").Context(ctx))
		if err != nil {
			return fmt.Errorf("update role %s: %w", s.want.RoleID, err)
		}
	}
	return nil
}

type serviceAccountStep struct {
	providers.Basic
	p    Params
	c    *Clients
	read providers.Read[bool]
}

// exists reads whether the service account exists.
func (s *serviceAccountStep) exists(ctx context.Context) (bool, error) {
	_, err := do(ctx, s.c, s.c.IAM.ServiceAccounts.Get(s.p.accountName()).Context(ctx))
	switch {
	case code(err) == http.StatusNotFound:
		return false, nil
	case err != nil:
		return false, fmt.Errorf("get service account %s: %w", s.p.ServiceAccountEmail(), err)
	}
	return true, nil
}

// Prefetch implements providers.Prefetcher.
func (s *serviceAccountStep) Prefetch(ctx context.Context, _ *providers.Values) {
	s.read.Start(ctx, s.exists)
}

// request is the account creation the step sends and shows.
func (s *serviceAccountStep) request() templates.GCPServiceAccount {
	return templates.NewGCPServiceAccount(s.p.Names.ServiceAccount, "GrowthLoop exports (byob)", "Writes GrowthLoop exports to gs://"+s.p.Bucket)
}

func (s *serviceAccountStep) Artifacts(*providers.Values) []providers.Artifact {
	return []providers.Artifact{providers.JSONArtifact("projects.serviceAccounts.create in "+s.p.Project, s.request())}
}

func (s *serviceAccountStep) Check(ctx context.Context, _ *providers.Values) (providers.Observation, error) {
	ok, err := s.read.Get(ctx, s.exists)
	switch {
	case err != nil:
		return providers.Observation{}, err
	case !ok:
		return providers.Observation{Status: providers.Missing}, nil
	}
	return providers.Observation{Status: providers.Done}, nil
}

func (s *serviceAccountStep) Apply(ctx context.Context, _ *providers.Values) error {
	s.read.Forget()
	req := s.request()
	// A retried create whose first answer was lost answers 409.
	_, err := do(ctx, s.c, s.c.IAM.ServiceAccounts.Create("projects/"+s.p.Project, &gcpapi.CreateServiceAccountRequest{AccountID: req.AccountID,
		ServiceAccount: &gcpapi.ServiceAccount{DisplayName: req.ServiceAccount.DisplayName, Description: req.ServiceAccount.Description},
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
	// read is Check's: not prefetched, since the bucket step may create
	// the bucket, and with it its policy's first bindings.
	read providers.Read[*gcpapi.Policy]
}

func (s *bindingStep) Artifacts(v *providers.Values) []providers.Artifact {
	return []providers.Artifact{providers.JSONArtifact("binding added to the bucket's IAM policy (read-modify-write with its etag)",
		templates.GCSBinding{Bucket: s.p.Bucket, Role: s.role, Members: []string{s.member(v)}})}
}

func (s *bindingStep) policy(ctx context.Context) (*gcpapi.Policy, error) {
	p, err := do(ctx, s.c, s.c.Storage.Buckets.GetIamPolicy(s.p.Bucket).Context(ctx))
	if err != nil {
		return nil, fmt.Errorf("get IAM policy of bucket %s: %w", s.p.Bucket, err)
	}
	return p, nil
}

// hasRole reports whether the policy binds member to role.
func hasRole(p *gcpapi.Policy, member, role string) bool {
	return slices.ContainsFunc(p.Bindings, func(b *gcpapi.Binding) bool { return b.Role == role && slices.Contains(b.Members, member) })
}

// addRole binds member to role, keeping every other binding.
func addRole(p *gcpapi.Policy, member, role string) {
	for _, b := range p.Bindings {
		if b.Role == role && b.Condition == nil {
			if !slices.Contains(b.Members, member) {
				b.Members = append(b.Members, member)
			}
			return
		}
	}
	p.Bindings = append(p.Bindings, &gcpapi.Binding{Role: role, Members: []string{member}})
}

// removeRole unbinds member from role, dropping a binding left empty.
func removeRole(p *gcpapi.Policy, member, role string) {
	for _, b := range p.Bindings {
		if b.Role == role {
			b.Members = slices.DeleteFunc(b.Members, func(m string) bool { return m == member })
		}
	}
	p.Bindings = slices.DeleteFunc(p.Bindings, func(b *gcpapi.Binding) bool { return len(b.Members) == 0 })
}

// setPolicy writes the policy, its etag making it a compare-and-swap: a
// policy changed meanwhile is read and changed again.
func (s *bindingStep) setPolicy(ctx context.Context, p *gcpapi.Policy) error {
	_, err := do(ctx, s.c, s.c.Storage.Buckets.SetIamPolicy(s.p.Bucket, p).Context(ctx))
	switch {
	case code(err) == http.StatusPreconditionFailed || code(err) == http.StatusConflict:
		return fmt.Errorf("%w: the bucket policy changed while it was updated: %v", providers.ErrNotYet, err)
	case err != nil:
		return fmt.Errorf("set IAM policy of bucket %s: %w", s.p.Bucket, err)
	}
	return nil
}

func (s *bindingStep) Check(ctx context.Context, v *providers.Values) (providers.Observation, error) {
	p, err := s.read.Get(ctx, s.policy)
	if err != nil {
		return providers.Observation{}, err
	}
	if hasRole(p, s.member(v), s.role) {
		return providers.Observation{Status: providers.Done}, nil
	}
	return providers.Observation{Status: providers.Missing}, nil
}

func (s *bindingStep) Apply(ctx context.Context, v *providers.Values) error {
	member := s.member(v)
	defer s.read.Forget()
	return s.p.Propagation.Poll(ctx, "waiting for the new service account to be usable in bucket IAM", func(ctx context.Context) error {
		// The first attempt changes what Check read; a retry reads again.
		p, err := s.read.Get(ctx, s.policy)
		s.read.Forget()
		if err != nil {
			return err
		}
		addRole(p, member, s.role)
		err = s.setPolicy(ctx, p)
		if code(err) == http.StatusBadRequest && strings.Contains(err.Error(), "does not exist") {
			return fmt.Errorf("%w: %v", providers.ErrNotYet, err)
		}
		return err
	})
}
