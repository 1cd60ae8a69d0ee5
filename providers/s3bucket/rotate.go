package s3bucket

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
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
	st, v := keyStep(s), s.Values
	list, err := listKeys(ctx, st.c, st.p.Names.User)
	if err != nil {
		return "", err
	}
	ks := st.keySet(v, list)
	known, ours, err := ks.Prune(ctx, v, true, st.delete)
	if err != nil {
		return "", err
	}
	keys.End(v)
	if pending := s.Keys.Pending(); pending != "" && ks.Works(pending) {
		v.Set(AccessKeyID, pending)
		keys.SetCreated(v, append(ours, pending))
		return pending, r.Checkpoint()
	}
	keys.SetCreated(v, ours)
	if err := st.create(ctx, r, v, known, ours); err != nil {
		return "", err
	}
	return v.Get(AccessKeyID), nil
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
	st := keyStep(s)
	_, err := st.c.IAM.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(st.p.Names.User), AccessKeyId: aws.String(id), Status: types.StatusTypeInactive})
	switch {
	case isNotFound(err):
		keys.Deleted(s.Values, id)
		return nil
	case err != nil:
		return st.c.wrap("iam:UpdateAccessKey "+id, err)
	case keep:
		keys.Retire(s.Values, id)
		return nil
	}
	if err := st.delete(ctx, id); err != nil {
		return fmt.Errorf("the old key %s is inactive but not deleted: %w", id, err)
	}
	keys.Deleted(s.Values, id)
	return nil
}
