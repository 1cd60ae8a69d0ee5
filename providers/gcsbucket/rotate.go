package gcsbucket

import (
	"context"
	"errors"
	"fmt"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
)

// keyStepOf is the key step of a setup, for rotation.
func keyStepOf(s providers.Setup) *keyStep {
	return &keyStep{Basic: providers.Basic{StepID: StepKey}, p: params(s), c: clients(s)}
}

// NewKey implements providers.KeyRotator. The new key is written to the
// key file, which Retain copied to <file>.previous first.
func (Provider) NewKey(ctx context.Context, r *runenv.Run, s providers.Setup) (string, error) {
	return keyStepOf(s).keys().Rotate(ctx, r, s.Values)
}

// ProveKey implements providers.KeyRotator: the key file's key writes,
// reads and lists under the prefix. Proved, it is the setup's key whatever
// the state file says (as the key step's check holds): a phase killed
// after writing the key file, before the state recorded the key, resumes
// here.
func (Provider) ProveKey(ctx context.Context, r *runenv.Run, s providers.Setup, id string) error {
	st := keyStepOf(s)
	if got := s.Keys.Delivered(); got != id {
		return fmt.Errorf("key file %s holds key %q, not %s", st.p.KeyFile, got, id)
	}
	if res := keyWorks(ctx, r, st.p, st.c, ""); res.Status != providers.Pass {
		return errors.New(res.Detail)
	}
	return st.keys().Claim(ctx, s.Values, id)
}

// RetireKey implements providers.KeyRotator.
func (Provider) RetireKey(ctx context.Context, _ *runenv.Run, s providers.Setup, id string, keep bool) error {
	return keyStepOf(s).keys().Retire(ctx, s.Values, id, keep)
}
