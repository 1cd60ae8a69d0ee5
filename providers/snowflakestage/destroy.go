package snowflakestage

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/snowflake"
)

// What byob destroy does in Snowflake: it revokes the grants byob made,
// drops the stage and, only when byob created it, the integration.

func (s *integrationStep) Teardown(_ context.Context, v *providers.Values) (providers.Teardown, error) {
	name := s.want(v).Name
	return providers.TeardownOf(v, StepIntegration, "DROP STORAGE INTEGRATION IF EXISTS "+name.SQL(), "storage integration "+string(name)), nil
}

// Destroy drops the integration and forgets the identity and external ID
// it had: a new integration gets new ones.
func (s *integrationStep) Destroy(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	in := s.want(v)
	if _, err := s.db.ExecContext(ctx, "DROP STORAGE INTEGRATION IF EXISTS "+in.Name.SQL()); err != nil {
		return s.db.explain("DROP STORAGE INTEGRATION "+string(in.Name), err)
	}
	for _, k := range []providers.Key{providers.ExternalID, providers.WarehouseUserARN, providers.WarehouseServiceAccount} {
		v.Delete(k)
	}
	return nil
}

func (s *stageStep) Teardown(_ context.Context, v *providers.Values) (providers.Teardown, error) {
	return providers.TeardownOf(v, StepStage, "DROP STAGE IF EXISTS "+s.stage.Name.SQL(), "stage "+s.stage.Name.String()), nil
}

func (s *stageStep) Destroy(ctx context.Context, r *runenv.Run, _ *providers.Values) error {
	if _, err := s.db.ExecContext(ctx, "DROP STAGE IF EXISTS "+s.stage.Name.SQL()); err != nil {
		return s.db.explain("DROP STAGE "+s.stage.Name.String(), err)
	}
	return nil
}

// ranKey records the GRANT statements byob ran for the step.
func (s *grantStep) ranKey() providers.Key { return providers.Key{Name: "granted." + s.ID()} }

// ran returns the GRANT statements byob ran (or was about to).
func (s *grantStep) ran(v *providers.Values) []string {
	var out []string
	_ = json.Unmarshal([]byte(v.Get(s.ranKey())), &out)
	return out
}

// revokes are the REVOKE statements of the grants byob made.
func (s *grantStep) revokes(v *providers.Values) []string {
	var out []string
	for _, g := range s.grants {
		if slices.Contains(s.ran(v), g.SQL()) {
			out = append(out, g.Revoke())
		}
	}
	return out
}

func (s *grantStep) Teardown(_ context.Context, v *providers.Values) (providers.Teardown, error) {
	revokes := s.revokes(v)
	switch {
	case len(revokes) > 0:
		return providers.Teardown{Remove: strings.Join(revokes, "; ")}, nil
	case providers.Owned(v, s.ID()):
		// A state file from before byob recorded its grants.
		var all []string
		for _, g := range s.grants {
			all = append(all, g.Revoke())
		}
		return providers.Teardown{Keep: "the state file does not say which of these grants to role " + string(s.role) +
			" byob made, so none is revoked; revoke those nobody else needs by hand: " + strings.Join(all, "; ")}, nil
	}
	return providers.TeardownOf(v, s.ID(), "", "the grants to role "+string(s.role)), nil
}

// Destroy revokes the grants byob made; a grant on an object dropped
// already went with it.
func (s *grantStep) Destroy(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	for _, stmt := range s.revokes(v) {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil && !snowflake.IsNotFound(err) {
			return s.db.explain(stmt, err)
		}
	}
	v.Delete(s.ranKey())
	return nil
}
