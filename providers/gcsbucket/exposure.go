package gcsbucket

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"cloud.google.com/go/iam"
	"cloud.google.com/go/iam/apiv1/iampb"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
)

// Who else can reach the bucket: verify's exposure checks on Google Cloud.

// Check IDs of the exposure probes.
const (
	CheckNoPublicAccess = "gcs-no-public-access"
	CheckOtherReaders   = "gcs-other-readers"
)

// readsObjects are the predefined roles that read or list a bucket's
// objects (storage.objects.get or storage.objects.list).
// https://cloud.google.com/storage/docs/access-control/iam-roles
var readsObjects = []string{
	"roles/storage.admin", "roles/storage.objectAdmin", "roles/storage.objectUser", "roles/storage.objectViewer",
	"roles/storage.legacyBucketOwner", "roles/storage.legacyBucketReader", "roles/storage.legacyBucketWriter",
	"roles/storage.legacyObjectOwner", "roles/storage.legacyObjectReader",
}

// exposureProbes answer "who else can reach the exports": nobody on the
// internet (a failure; a warning where a condition keeps it to other
// objects) and which other principals read them (a warning: they may be
// needed, and are never removed).
func exposureProbes(p Params, c *Clients, v *providers.Values) []providers.Check {
	// Both checks read the bucket's policy: one call serves them.
	policy := func(ctx context.Context, r *runenv.Run) (*iam.Policy3, error) {
		return runenv.Shared(ctx, r, "storage.buckets.getIamPolicy "+p.Bucket, func(ctx context.Context) (*iam.Policy3, error) { return bucketPolicy(ctx, c, p.Bucket) })
	}
	remove := func(member, role string) string {
		return fmt.Sprintf("gcloud storage buckets remove-iam-policy-binding gs://%s --member=%s --role=%s", p.Bucket, member, role)
	}
	return []providers.Check{
		{ID: CheckNoPublicAccess, Title: "Nobody on the internet holds a role on the bucket", Run: func(ctx context.Context, r *runenv.Run) providers.CheckResult {
			pol, err := policy(ctx, r)
			if err != nil {
				return providers.CannotRun(err, "grant storage.buckets.getIamPolicy and re-run byob verify")
			}
			// A public binding that reaches the exports fails; one a
			// condition keeps to other objects warns.
			var found, fixes, other, otherFixes []string
			for _, b := range pol.Bindings {
				for _, m := range b.Members {
					if m != "allUsers" && m != "allAuthenticatedUsers" {
						continue
					}
					if reaches(condition(b), p.Bucket, p.Prefix) {
						found, fixes = append(found, m+" holds "+b.Role), append(fixes, remove(m, b.Role))
					} else {
						other, otherFixes = append(other, m+" holds "+b.Role+" where "+condition(b)), append(otherFixes, remove(m, b.Role))
					}
				}
			}
			switch {
			case len(found) > 0:
				return providers.Failed(strings.Join(fixes, " && "), "%s (public access prevention blocks it only while it stays enforced)", strings.Join(found, ", "))
			case len(other) > 0:
				return providers.Warned(strings.Join(otherFixes, " && "), "%s: on objects outside %s only, so GrowthLoop's exports are not reachable through it", strings.Join(other, ", "), p.Prefix)
			}
			return providers.Passed("no binding to allUsers or allAuthenticatedUsers")
		}},
		{ID: CheckOtherReaders, Title: "No one else reads the exports in the bucket", Run: func(ctx context.Context, r *runenv.Run) providers.CheckResult {
			pol, err := policy(ctx, r)
			if err != nil {
				return providers.CannotRun(err, "grant storage.buckets.getIamPolicy and re-run byob verify")
			}
			ours := []string{"serviceAccount:" + p.ServiceAccountEmail(), "allUsers", "allAuthenticatedUsers"}
			if sa := v.Get(providers.WarehouseServiceAccount); sa != "" {
				ours = append(ours, "serviceAccount:"+sa)
			}
			for _, basic := range []string{"projectOwner:", "projectEditor:", "projectViewer:"} {
				ours = append(ours, basic+p.Project) // the project's own
			}
			// Readers a condition keeps to other objects do not read
			// GrowthLoop's exports.
			var found, fixes, elsewhere []string
			for _, b := range pol.Bindings {
				reads, err := roleReadsObjects(ctx, c, b.Role)
				if err != nil {
					return providers.CannotRun(err, "grant iam.roles.get and re-run byob verify")
				}
				for _, m := range b.Members {
					switch {
					case !reads || slices.Contains(ours, m):
					case !reaches(condition(b), p.Bucket, p.Prefix):
						elsewhere = append(elsewhere, m+" ("+b.Role+")")
					default:
						found = append(found, m+" ("+b.Role+")")
						fixes = append(fixes, remove(m, b.Role))
					}
				}
			}
			if len(found) > 0 {
				return providers.Warned("if they need no access: "+strings.Join(fixes, " && "), "also read the exports under %s: %s", p.Prefix, strings.Join(found, ", "))
			}
			if len(elsewhere) > 0 {
				return providers.Passed("only byob's service accounts and the project's owners, editors and viewers read the exports; %s read only objects outside %s", strings.Join(elsewhere, ", "), p.Prefix)
			}
			return providers.Passed("only byob's service accounts and the project's owners, editors and viewers")
		}},
	}
}

// condition is a binding's IAM condition, "" for none.
func condition(b *iampb.Binding) string {
	if b.Condition == nil {
		return ""
	}
	return b.Condition.Expression
}

// roleReadsObjects reports whether a role grants storage.objects.get or
// storage.objects.list: from the list of predefined roles, or a custom
// role's permissions.
func roleReadsObjects(ctx context.Context, c *Clients, role string) (bool, error) {
	if strings.HasPrefix(role, "roles/") {
		return slices.Contains(readsObjects, role), nil
	}
	r, err := do(ctx, c, c.IAM.Roles.Get(role).Context(ctx)) // projects/P/roles/R or organizations/O/roles/R
	if code(err) == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("get role %s: %w", role, err)
	}
	return slices.Contains(r.IncludedPermissions, "storage.objects.get") || slices.Contains(r.IncludedPermissions, "storage.objects.list"), nil
}
