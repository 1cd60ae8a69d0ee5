// Package providertest runs one provider's steps in its own package's
// tests, as the engine would, without the engine. Only tests import it.
package providertest

import (
	"context"
	"testing"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
)

// ByID are steps by their ID.
func ByID(steps []providers.Step) map[string]providers.Step {
	out := map[string]providers.Step{}
	for _, s := range steps {
		out[s.ID()] = s
	}
	return out
}

// Check runs s's Check in run r; an error fails the test.
func Check(t testing.TB, r *runenv.Run, s providers.Step, v *providers.Values) providers.Observation {
	t.Helper()
	obs, err := s.Check(context.Background(), r, v)
	if err != nil {
		t.Fatalf("check %s: %v", s.ID(), err)
	}
	return obs
}

// Apply runs s's Apply in run r; an error fails the test.
func Apply(t testing.TB, r *runenv.Run, s providers.Step, v *providers.Values) {
	t.Helper()
	if err := s.Apply(context.Background(), r, v); err != nil {
		t.Fatalf("apply %s: %v", s.ID(), err)
	}
}
