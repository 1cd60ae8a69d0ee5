package gcsbucket

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"cloud.google.com/go/storage"
	"golang.org/x/sync/errgroup"
	"google.golang.org/api/iterator"

	"github.com/growthloop/byob/internal/prose"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
)

// What byob destroy does on Google Cloud: it removes what byob created, in
// the reverse order of the plan, and leaves what it found in place. The
// bucket goes only with --delete-bucket, and one holding objects only with
// --delete-objects as well.

func (s *bucketStep) Teardown(ctx context.Context, v *providers.Values) (providers.Teardown, error) {
	kept := fmt.Sprintf("private, exports under %s still expiring after %s", s.p.Prefix, prose.Count(s.p.TTLDays, "day"))
	if s.c == nil {
		return providers.BucketTeardown(v, StepBucket, s.p.Bucket, s.p.Destroy, kept, nil)
	}
	return providers.BucketTeardown(v, StepBucket, s.p.Bucket, s.p.Destroy, kept, func() (int, bool, error) {
		n, more, err := s.count(ctx, maxListed)
		if code(err) == http.StatusNotFound {
			return 0, false, providers.ErrGone
		}
		return n, more, err
	})
}

// maxListed is how many objects destroy's plan counts before it says "or
// more".
const maxListed = 1000

// eachVersionPage calls f with each page of the bucket's object
// generations, live and noncurrent (their names and generations only).
func (s *bucketStep) eachVersionPage(ctx context.Context, f func([]*storage.ObjectAttrs) error) error {
	q := &storage.Query{Versions: true}
	if err := q.SetAttrSelection([]string{"Name", "Generation"}); err != nil {
		return err
	}
	it := s.c.Storage.Bucket(s.p.Bucket).Objects(ctx, q)
	pages := iterator.NewPager(it, maxListed, "")
	for {
		var page []*storage.ObjectAttrs
		token, err := pages.NextPage(&page)
		if err != nil {
			return err
		}
		if err := f(page); err != nil {
			return err
		}
		if token == "" {
			return nil
		}
	}
}

// errEnough stops a count at its limit.
var errEnough = errors.New("enough")

// count counts the bucket's object generations, up to limit (more then
// says there are others); no limit when limit <= 0.
func (s *bucketStep) count(ctx context.Context, limit int) (n int, more bool, err error) {
	err = s.eachVersionPage(ctx, func(objects []*storage.ObjectAttrs) error {
		n += len(objects)
		if limit > 0 && n > limit {
			n, more = limit, true
			return errEnough
		}
		return nil
	})
	if errors.Is(err, errEnough) {
		err = nil
	}
	if err != nil {
		return n, false, fmt.Errorf("list objects of bucket %s: %w", s.p.Bucket, err)
	}
	return n, more, nil
}

// deleters is how many objects are deleted at once: the JSON API deletes
// one object per request.
const deleters = 16

// empty deletes every object generation, counting them first so progress
// has a total.
func (s *bucketStep) empty(ctx context.Context, r *runenv.Run) error {
	total, _, err := s.count(ctx, 0)
	if code(err) == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	var (
		mu   sync.Mutex
		done int
	)
	r.Count("objects deleted", 0, total)
	err = s.eachVersionPage(ctx, func(objects []*storage.ObjectAttrs) error {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(deleters)
		for _, o := range objects {
			g.Go(func() error {
				err := s.c.Storage.Bucket(s.p.Bucket).Object(o.Name).Generation(o.Generation).Delete(gctx)
				if err != nil && code(err) != http.StatusNotFound {
					return fmt.Errorf("delete object %s of bucket %s: %w", o.Name, s.p.Bucket, err)
				}
				mu.Lock()
				defer mu.Unlock()
				if done++; done%100 == 0 || done == total {
					r.Count("objects deleted", done, max(total, done))
				}
				return nil
			})
		}
		return g.Wait()
	})
	if code(err) == http.StatusNotFound {
		return nil
	}
	return err
}

func (s *bucketStep) Destroy(ctx context.Context, r *runenv.Run, _ *providers.Values) error {
	if s.p.Destroy.DeleteObjects {
		if err := s.empty(ctx, r); err != nil {
			return err
		}
	}
	err := s.c.Storage.Bucket(s.p.Bucket).Delete(ctx)
	switch code(err) {
	case 0, http.StatusNotFound:
		return nil
	case http.StatusConflict:
		return fmt.Errorf("bucket %s is not empty (objects were written since byob looked): pass --delete-objects to delete them too, or leave out --delete-bucket: %w", s.p.Bucket, err)
	}
	return fmt.Errorf("delete bucket %s: %w", s.p.Bucket, err)
}

func (s *roleStep) Teardown(_ context.Context, v *providers.Values) (providers.Teardown, error) {
	return providers.TeardownOf(v, s.ID(), "delete custom role "+s.want.RoleID+" (Google keeps a deleted role 7 days; byob init undeletes it)",
		"custom role "+s.want.RoleID), nil
}

func (s *roleStep) Destroy(ctx context.Context, _ *runenv.Run, _ *providers.Values) error {
	role, err := s.get(ctx)
	if err != nil || role == nil || role.Deleted {
		return err
	}
	if _, err := do(ctx, s.c, s.c.IAM.Projects.Roles.Delete(s.name()).Context(ctx)); err != nil && code(err) != http.StatusNotFound {
		return fmt.Errorf("delete role %s: %w", s.want.RoleID, err)
	}
	return nil
}

func (s *serviceAccountStep) Teardown(_ context.Context, v *providers.Values) (providers.Teardown, error) {
	return providers.TeardownOf(v, StepServiceAccount, "delete service account "+s.p.ServiceAccountEmail(), "service account "+s.p.ServiceAccountEmail()), nil
}

// Destroy deletes the service account, unless it has keys byob did not
// make (deleting the account would delete them): byob's own were deleted
// before.
func (s *serviceAccountStep) Destroy(ctx context.Context, r *runenv.Run, _ *providers.Values) error {
	list, err := listKeys(ctx, s.c, s.p.accountName())
	if code(err) == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list keys of %s: %w", s.p.ServiceAccountEmail(), err)
	}
	if len(list) > 0 {
		var ids []string
		for _, k := range list {
			ids = append(ids, keyID(k))
		}
		return providers.Keepf("service account %s has key %s, which byob did not create: deleting the account would delete it", s.p.ServiceAccountEmail(), strings.Join(ids, ", "))
	}
	if _, err := do(ctx, s.c, s.c.IAM.Projects.ServiceAccounts.Delete(s.p.accountName()).Context(ctx)); err != nil && code(err) != http.StatusNotFound {
		return fmt.Errorf("delete service account %s: %w", s.p.ServiceAccountEmail(), err)
	}
	return nil
}

func (s *bindingStep) Teardown(_ context.Context, v *providers.Values) (providers.Teardown, error) {
	what := fmt.Sprintf("the binding of %s to %s on bucket %s", s.role, s.member(v), s.p.Bucket)
	return providers.TeardownOf(v, s.ID(), "remove "+what, what), nil
}

// Destroy removes the member from the role's binding by a read-modify-write
// of the bucket's IAM policy with its etag, keeping every other binding.
func (s *bindingStep) Destroy(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	member := s.member(v)
	return s.p.Propagation.Poll(ctx, r, "waiting for the bucket's IAM policy to stop changing", func(ctx context.Context) error {
		p, err := s.policy(ctx)
		if code(err) == http.StatusNotFound {
			return nil
		}
		if err != nil || !hasRole(p, member, s.role) {
			return err
		}
		removeRole(p, member, s.role)
		return s.setPolicy(ctx, p)
	})
}

func (s *keyStep) Teardown(_ context.Context, v *providers.Values) (providers.Teardown, error) {
	return s.keys().Teardown(v, StepKey), nil
}

// Destroy deletes the keys byob made, those of a stopped run included.
func (s *keyStep) Destroy(ctx context.Context, _ *runenv.Run, v *providers.Values) error {
	return s.keys().Destroy(ctx, v)
}
