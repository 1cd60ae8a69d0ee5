package s3bucket

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/growthloop/byob/internal/prose"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
)

// keys records the access keys byob made on GrowthLoop's user.
var keys = providers.NewKeyLedger("aws")

// CreatedKeys returns the ids of the access keys byob made.
func CreatedKeys(v *providers.Values) []string { return keys.Created(v) }

// accessKeyStep gives GrowthLoop's user exactly one access key whose
// secret byob holds. The secret goes straight to the key store (a 0600
// file) and its id to the state file, before byob waits for it to work.
type accessKeyStep struct {
	providers.Basic
	p    Params
	c    *Clients
	read runenv.Read[[]types.AccessKeyMetadata]
}

// keys lists the user's access keys; none when the user does not exist.
func (s *accessKeyStep) keys(ctx context.Context) ([]types.AccessKeyMetadata, error) {
	list, err := listKeys(ctx, s.c, s.p.Names.User)
	if isNotFound(err) {
		return nil, nil
	}
	return list, err
}

// Prefetch implements providers.Prefetcher.
func (s *accessKeyStep) Prefetch(ctx context.Context, r *runenv.Run, _ *providers.Values) {
	s.read.Start(ctx, r, s.keys)
}

// ProvedByUse implements providers.ProvedByUse: verify uses the key.
func (s *accessKeyStep) ProvedByUse() bool { return true }

func (s *accessKeyStep) Artifacts(*providers.Values) []providers.Artifact {
	return []providers.Artifact{{Name: "access key", Format: providers.FormatText,
		Content: "create one access key for " + s.p.Names.User + "; its secret is written only to the bundle file (mode 0600)"}}
}

// listKeys lists a user's access keys.
func listKeys(ctx context.Context, c *Clients, user string) ([]types.AccessKeyMetadata, error) {
	out, err := c.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		return nil, c.wrap("iam:ListAccessKeys "+user, err)
	}
	return out.AccessKeyMetadata, nil
}

// keyView is what byob reads of an IAM access key.
var keyView = providers.KeyView[types.AccessKeyMetadata]{
	ID:      func(k types.AccessKeyMetadata) string { return aws.ToString(k.AccessKeyId) },
	Active:  func(k types.AccessKeyMetadata) bool { return k.Status == types.StatusTypeActive },
	Created: func(k types.AccessKeyMetadata) time.Time { return aws.ToTime(k.CreateDate) },
}

// keySet is the user's access keys as byob sees them.
type keySet = providers.KeySet[types.AccessKeyMetadata]

func (s *accessKeyStep) keySet(v *providers.Values, list []types.AccessKeyMetadata) keySet {
	return providers.NewKeySet(keys, keyView, v, s.p.Keys, list)
}

// foreign describes the keys byob did not make and does not hold: they
// are reported and never touched. "" when there are none.
func foreign(ks keySet, user string, now time.Time) string {
	var names []string
	for _, k := range ks.Foreign() {
		names = append(names, fmt.Sprintf("%s (%s, %s old)", aws.ToString(k.AccessKeyId), k.Status, age(now, aws.ToTime(k.CreateDate))))
	}
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf("user %s also has access key %s, which byob did not create; left alone", user, strings.Join(names, " and "))
}

func (s *accessKeyStep) Check(ctx context.Context, r *runenv.Run, v *providers.Values) (providers.Observation, error) {
	list, err := s.read.Get(ctx, r, s.keys)
	if err != nil {
		return providers.Observation{}, err
	}
	ks := s.keySet(v, list)
	delivered, pending := s.p.Keys.Delivered(), s.p.Keys.Pending()
	obs := func(st providers.Status, reason string) (providers.Observation, error) {
		if f := foreign(ks, s.p.Names.User, time.Now()); f != "" {
			reason = strings.TrimPrefix(reason+"; "+f, "; ")
		}
		return providers.Observation{Status: st, Reason: reason}, nil
	}
	if id := ks.Adopted(v, s.p.Adopt); delivered == "" && pending == "" && id != "" {
		// GrowthLoop holds this key's secret: keep it, make no other.
		v.Set(AccessKeyID, id)
		v.Set(providers.GrowthLoopsKey, id)
		k, _ := ks.Find(id)
		return providers.Observation{Status: providers.Done, Reason: fmt.Sprintf("access key %s (%s old) is the one GrowthLoop holds: left in place, and no new bundle is written; byob rotate-keys replaces it",
			id, age(time.Now(), aws.ToTime(k.CreateDate)))}, nil
	}
	switch {
	case pending != delivered && ks.Works(pending):
		return obs(providers.Missing, "access key "+pending+", made by a run that did not finish, goes into the bundle")
	case ks.Exists(delivered) && !ks.Works(delivered):
		k, _ := ks.Find(delivered)
		return obs(providers.Drifted, fmt.Sprintf("access key %s of the bundle is %s in IAM: a new key replaces it and %s is deleted (upload the new bundle to GrowthLoop)",
			delivered, k.Status, delivered))
	case delivered == "":
		return obs(providers.Missing, "")
	case !ks.Works(delivered):
		return obs(providers.Missing, "access key "+delivered+" of the bundle no longer exists")
	case len(ks.Unwanted()) > 0:
		return obs(providers.Drifted, "access key "+strings.Join(ks.Unwanted(), ", ")+" was made by byob but its secret was lost, so it can never be used: it is deleted")
	}
	// The bundle's key is the setup's, whatever the state file says.
	v.Set(AccessKeyID, delivered)
	return obs(providers.Done, "")
}

func (s *accessKeyStep) Apply(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	list, err := s.read.Get(ctx, r, s.keys)
	s.read.Forget()
	if err != nil {
		return err
	}
	ks := s.keySet(v, list)
	known, ours, err := ks.Prune(ctx, v, false, s.delete)
	if err != nil {
		return err
	}
	// Whatever an unfinished creation made is now either held or deleted.
	keys.End(v)
	for _, id := range []string{s.p.Keys.Pending(), s.p.Keys.Delivered()} {
		if ks.Works(id) {
			v.Set(AccessKeyID, id)
			keys.SetCreated(v, append(ours, id))
			if err := r.Checkpoint(); err != nil {
				return err
			}
			if id == s.p.Keys.Delivered() {
				return nil
			}
			return s.waitWorks(ctx, r, id, string(s.p.Keys.Secret(id)))
		}
	}
	keys.SetCreated(v, ours)
	return s.create(ctx, r, v, known, ours)
}

func (s *accessKeyStep) delete(ctx context.Context, id string) error {
	_, err := s.c.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(s.p.Names.User), AccessKeyId: aws.String(id)})
	if err != nil && !isNotFound(err) {
		return s.c.wrap("iam:DeleteAccessKey "+id, err)
	}
	return nil
}

// create makes the key. The intent is saved before the call, the secret
// and the id right after the answer, and only then does byob wait for the
// key to work.
func (s *accessKeyStep) create(ctx context.Context, r *runenv.Run, v *providers.Values, known, ours []string) error {
	in, err := keys.Begin(r, v, known)
	if err != nil {
		return err
	}
	var out *iam.CreateAccessKeyOutput
	err = s.p.Propagation.Poll(ctx, r, "waiting for the new IAM user to become visible", func(ctx context.Context) error {
		err := s.createOnce(ctx, in, &out)
		if isNotFound(err) {
			return fmt.Errorf("%w: %v", runenv.ErrNotYet, err)
		}
		return err
	})
	if err != nil {
		return err
	}
	id, secret := aws.ToString(out.AccessKey.AccessKeyId), aws.ToString(out.AccessKey.SecretAccessKey)
	if err := s.p.Keys.Keep(id, []byte(secret)); err != nil {
		// A key whose secret cannot be kept can never be delivered.
		_ = s.delete(ctx, id)
		return fmt.Errorf("keep the new access key's secret: %w", err)
	}
	v.Set(AccessKeyID, id)
	keys.SetCreated(v, append(ours, id))
	keys.End(v)
	if err := r.Checkpoint(); err != nil {
		return err
	}
	return s.waitWorks(ctx, r, id, secret)
}

// createOnce calls CreateAccessKey without the SDK's retries: a blind
// retry of a call whose answer was lost would leave a key whose secret
// nobody has. Instead byob deletes the keys the lost call made, then
// tries again.
func (s *accessKeyStep) createOnce(ctx context.Context, in providers.Intent, out **iam.CreateAccessKeyOutput) error {
	user := s.p.Names.User
	err := providers.RetryLost(ctx, maybeApplied, func(ctx context.Context) (err error) {
		*out, err = s.c.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)}, noRetry)
		return err
	}, func(ctx context.Context) (bool, error) {
		list, err := listKeys(ctx, s.c, user)
		if err != nil {
			return false, err
		}
		for _, k := range list {
			if id := aws.ToString(k.AccessKeyId); in.Made(id, aws.ToTime(k.CreateDate)) && !providers.Holds(s.p.Keys, id) {
				if err := s.delete(ctx, id); err != nil {
					return false, err
				}
			}
		}
		return false, nil
	})
	if errorCode(err) == "LimitExceeded" {
		keys, _ := listKeys(ctx, s.c, user)
		return fmt.Errorf("iam:CreateAccessKey %s: %s: %w", user, s.full(keys), err)
	}
	return s.c.wrap("iam:CreateAccessKey "+user, err)
}

// maybeApplied reports whether a failed call may still have changed
// something: its answer was lost (no answer, or a 5xx).
func maybeApplied(err error) bool {
	var ae smithy.APIError
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if errors.As(err, &ae) {
		return httpStatus(err) >= 500
	}
	return true
}

// maxKeys is IAM's limit of access keys per user.
const maxKeys = 2

// full explains IAM's limit of two keys per user, naming the keys that
// fill it. byob never deletes a key it did not create.
func (s *accessKeyStep) full(keys []types.AccessKeyMetadata) string {
	user := s.p.Names.User
	var names []string
	for _, k := range keys {
		names = append(names, fmt.Sprintf("%s (%s, %s old)", aws.ToString(k.AccessKeyId), k.Status, age(time.Now(), aws.ToTime(k.CreateDate))))
	}
	return fmt.Sprintf("user %s already has the %d access keys IAM allows: %s. byob never deletes a key it did not create: "+
		"free a slot with `aws iam delete-access-key --user-name %s --access-key-id <the key nobody uses>` and re-run",
		user, maxKeys, strings.Join(names, ", "), user)
}

// Gate implements providers.Gate: a new key is needed but the user
// already has the keys IAM allows, none of them byob's to delete.
func (s *accessKeyStep) Gate(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	list, err := s.read.Get(ctx, r, s.keys)
	if err != nil {
		return err
	}
	ks := s.keySet(v, list)
	if ks.Works(s.p.Keys.Pending()) || ks.Works(s.p.Keys.Delivered()) || ks.Adopted(v, s.p.Adopt) != "" || len(list)-len(ks.Unwanted()) < maxKeys {
		return nil
	}
	return errors.New(s.full(list))
}

// waitWorks waits until STS accepts the new key.
func (s *accessKeyStep) waitWorks(ctx context.Context, r *runenv.Run, id, secret string) error {
	if s.c.KeySTS == nil || secret == "" {
		return nil
	}
	keySTS := s.c.KeySTS(id, secret)
	return s.p.Propagation.Poll(ctx, r, "waiting for the new access key to work (IAM takes up to a minute)", func(ctx context.Context) error {
		_, err := keySTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		switch errorCode(err) {
		case "InvalidAccessKeyId", "InvalidClientTokenId", "SignatureDoesNotMatch":
			return fmt.Errorf("%w: %s", runenv.ErrNotYet, errorCode(err))
		}
		return s.c.wrap("sts:GetCallerIdentity with the new access key", err)
	})
}

// age is how long ago created was, in whole days: "1 day".
func age(now, created time.Time) string {
	return prose.Count(int(now.Sub(created).Hours()/24), "day")
}
