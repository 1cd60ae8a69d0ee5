package snowflakestage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/growthloop/byob/internal/prose"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/snowflake"
)

// CheckStageReachable is the ID of the check that Snowflake reaches the
// bucket.
const CheckStageReachable = "snowflake-stage-reachable"

// StageReachable proves Snowflake itself can reach the bucket through the
// stage's integration: LIST @stage assumes the role (or uses the GCP
// service account) exactly as an unload does. Snowflake answers 003167
// "Error assuming AWS_ROLE" until IAM propagates a new trust: that is
// tried again within prop; if it lasts, causes says what to look at.
// Snowflake's own error is shown.
func StageReachable(db snowflake.DB, stage snowflake.Stage, reRun string, prop runenv.Propagation, causes func() string) providers.Check {
	return providers.Check{
		ID:    CheckStageReachable,
		Title: "Snowflake can list the bucket through the stage",
		Run: func(ctx context.Context, r *runenv.Run) providers.CheckResult {
			var rows []map[string]string
			err := prop.Poll(ctx, r, "waiting for Snowflake to assume the role (IAM propagates its trust)", func(ctx context.Context) error {
				var err error
				rows, err = snowflake.Query(ctx, db, "LIST @"+stage.Name.SQL())
				if snowflake.IsAssumeRoleError(err) {
					return fmt.Errorf("%w: %w", runenv.ErrNotYet, err)
				}
				return err
			})
			switch {
			case snowflake.IsAssumeRoleError(err):
				return providers.Failed(causes(), "LIST @%s: %v", stage.Name, err)
			case err != nil:
				return providers.Failed("fix the integration and trust checks above, or "+reRun, "LIST @%s: %v", stage.Name, err)
			}
			return providers.Passed("LIST @%s returned %s", stage.Name, prose.Count(len(rows), "file"))
		},
	}
}

// assumeRoleCauses names what keeps Snowflake from assuming the role once
// IAM had time to propagate: the trust's principal and external ID, and
// STS in the Snowflake account's region.
func assumeRoleCauses(s providers.Setup) func() string {
	return func() string {
		v := s.Values
		role := "the role"
		if s.Storage.Role != nil {
			role = s.Storage.Role(v)
		}
		region, _ := snowflake.CloudRegion(v.Get(Region), "AWS")
		if region == "" {
			region = "the Snowflake account's AWS region (" + v.Get(Region) + ")"
		}
		return fmt.Sprintf("the trust policy of %s must name the integration's IAM user %s with external ID %s (%s to set it), "+
			"and AWS STS must be active in %s for your account (IAM > Account settings > Security Token Service (STS) endpoints)",
			role, v.Get(providers.WarehouseUserARN), v.Get(providers.ExternalID), s.ReRun, region)
	}
}

// CheckOtherGrants is the ID of the check that no other role uses the
// integration or the stage.
const CheckOtherGrants = "snowflake-no-other-grants"

// OtherGrants warns about roles other than GrowthLoop's and the owner's
// that hold a privilege on the integration or the stage: they may be
// needed, so they are named with the statement that revokes them, and
// never revoked.
func OtherGrants(db *conn, o objects) providers.Check {
	return providers.Check{
		ID:    CheckOtherGrants,
		Title: "No other role uses the integration or the stage",
		Run: func(ctx context.Context, _ *runenv.Run) providers.CheckResult {
			type object struct{ typ, sql, name string }
			objs := []object{{"INTEGRATION", o.Integration.Name.SQL(), string(o.Integration.Name)}, {"STAGE", o.Stage.Name.SQL(), o.Stage.Name.String()}}
			rows := make([][]map[string]string, len(objs))
			errs := make([]error, len(objs))
			var wg sync.WaitGroup
			for i, obj := range objs {
				wg.Go(func() { rows[i], errs[i] = snowflake.Query(ctx, db, "SHOW GRANTS ON "+obj.typ+" "+obj.sql) })
			}
			wg.Wait()
			var found, fixes []string
			for i, obj := range objs {
				if errs[i] != nil {
					return providers.CannotRun(db.explain("SHOW GRANTS ON "+obj.typ+" "+obj.name, errs[i]), "use a role that can see the grants and re-run byob verify")
				}
				var owners []string
				for _, r := range rows[i] {
					if strings.EqualFold(r["privilege"], "OWNERSHIP") {
						owners = append(owners, r["grantee_name"])
					}
				}
				for _, r := range rows[i] {
					grantee := r["grantee_name"]
					if strings.EqualFold(r["privilege"], "OWNERSHIP") || slices.Contains(owners, grantee) ||
						strings.EqualFold(r["granted_to"], "ROLE") && unquote(grantee) == string(o.Role) {
						continue
					}
					found = append(found, fmt.Sprintf("%s %s has %s on %s %s", strings.ToLower(r["granted_to"]), grantee, r["privilege"], strings.ToLower(obj.typ), obj.name))
					fixes = append(fixes, fmt.Sprintf("REVOKE %s ON %s %s FROM %s %s", r["privilege"], obj.typ, obj.sql, r["granted_to"], snowflake.Ident(grantee).SQL()))
				}
			}
			if len(found) > 0 {
				return providers.Warned("if they need no access: "+strings.Join(fixes, "; "), "%s", strings.Join(found, "; "))
			}
			return providers.Passed("only GrowthLoop's role and the owner")
		},
	}
}
