package s3bucket

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
)

// keyStep is the access key step of a setup, for rotation.
func keyStep(s providers.Setup) *accessKeyStep {
	return &accessKeyStep{Basic: providers.Basic{StepID: StepAccessKey}, p: params(s), c: clients(s)}
}

// NewKey implements providers.KeyRotator. IAM allows two keys per user:
// the current one and the new one.
func (Provider) NewKey(ctx context.Context, r *runenv.Run, s providers.Setup) (string, error) {
	return keyStep(s).keys().Rotate(ctx, r, s.Values)
}

// ProveKey implements providers.KeyRotator: the key writes, reads and
// lists a probe object under the prefix.
func (Provider) ProveKey(ctx context.Context, r *runenv.Run, s providers.Setup, id string) error {
	st := keyStep(s)
	// A refused key that is gone or inactive fails at once: no wait for
	// propagation.
	unusable := func(ctx context.Context, r *runenv.Run) *providers.CheckResult {
		return keyState(ctx, r, st.p, id, "byob rotate-keys", func(ctx context.Context, _ *runenv.Run) ([]types.AccessKeyMetadata, error) {
			return listKeys(ctx, st.c, st.p.Names.User)
		})
	}
	res := useKey(ctx, r, st.p, st.c, s.Values, id, string(s.Keys.Secret(id)), "", unusable)
	if res.Status != providers.Pass {
		return errors.New(res.Detail)
	}
	return nil
}

// RetireKey implements providers.KeyRotator.
func (Provider) RetireKey(ctx context.Context, _ *runenv.Run, s providers.Setup, id string, keep bool) error {
	return keyStep(s).keys().Retire(ctx, s.Values, id, keep)
}
