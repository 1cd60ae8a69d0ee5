package snowflake

import (
	"context"

	"github.com/growthloop/byob/providers"
	sflib "github.com/growthloop/byob/snowflake"
)

// CheckStageReachable is the ID of the check that Snowflake reaches the
// bucket.
const CheckStageReachable = "snowflake-stage-reachable"

// StageReachable proves Snowflake itself can reach the bucket through the
// stage's integration: LIST @stage assumes the role (or uses the GCP
// service account) exactly as an unload does. Snowflake's own error is
// shown when it cannot.
func StageReachable(db sflib.DB, stage sflib.Stage, reRun string) providers.Check {
	return providers.Check{
		ID:    CheckStageReachable,
		Title: "Snowflake can list the bucket through the stage",
		Run: func(ctx context.Context) providers.CheckResult {
			rows, err := sflib.Query(ctx, db, "LIST @"+stage.Name.SQL())
			if err != nil {
				return providers.Failed("fix the integration and trust checks above, or "+reRun,
					"LIST @%s: %v", stage.Name, err)
			}
			return providers.Passed("LIST @%s returned %d files", stage.Name, len(rows))
		},
	}
}
