package gcsbucket

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"

	iamapi "google.golang.org/api/iam/v1"

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
	st, v := keyStepOf(s), s.Values
	list, err := st.list(ctx)
	if err != nil {
		return "", err
	}
	ks := st.keySet(v, list)
	known, ours, err := ks.Prune(ctx, v, true, st.delete)
	if err != nil {
		return "", err
	}
	keys.End(v)
	keys.SetCreated(v, ours)
	in, err := keys.Begin(r, v, known)
	if err != nil {
		return "", err
	}
	key, err := st.createOnce(ctx, in)
	if err != nil {
		return "", err
	}
	keyJSON, err := base64.StdEncoding.DecodeString(key.PrivateKeyData)
	if err != nil {
		_ = st.delete(ctx, keyID(key))
		return "", errors.New("the new key's data is not base64")
	}
	if err := s.Keys.Keep(keyID(key), keyJSON); err != nil {
		_ = st.delete(ctx, keyID(key))
		return "", fmt.Errorf("write %s: %w", st.p.KeyFile, err)
	}
	v.Set(KeyID, keyID(key))
	keys.SetCreated(v, append(ours, keyID(key)))
	keys.End(v)
	return keyID(key), r.Checkpoint()
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
	s.Values.Set(KeyID, id)
	if in, ok := keys.Intent(s.Values); ok {
		// The phase that made the key stopped before recording it: it is
		// byob's when made under the intent, which ends here.
		list, err := st.list(ctx)
		if err != nil {
			return err
		}
		if k, ok := st.keySet(s.Values, list).Find(id); ok && made(in, k) && !slices.Contains(keys.Created(s.Values), id) {
			keys.SetCreated(s.Values, append(keys.Created(s.Values), id))
		}
		keys.End(s.Values)
	}
	return nil
}

// RetireKey implements providers.KeyRotator.
func (Provider) RetireKey(ctx context.Context, _ *runenv.Run, s providers.Setup, id string, keep bool) error {
	st := keyStepOf(s)
	_, err := do(ctx, st.c, st.c.IAM.Projects.ServiceAccounts.Keys.Disable(st.p.accountName()+"/keys/"+id, &iamapi.DisableServiceAccountKeyRequest{}).Context(ctx))
	switch {
	case code(err) == http.StatusNotFound:
		keys.Deleted(s.Values, id)
		return nil
	case err != nil:
		return fmt.Errorf("disable key %s: %w", id, err)
	case keep:
		keys.Retire(s.Values, id)
		return nil
	}
	if err := st.delete(ctx, id); err != nil {
		return fmt.Errorf("the old key %s is disabled but not deleted: %w", id, err)
	}
	keys.Deleted(s.Values, id)
	return nil
}
