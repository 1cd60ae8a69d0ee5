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

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/keys"
	"github.com/growthloop/byob/providers/runenv"
)

// ledger records the access keys byob made on GrowthLoop's user.
var ledger = keys.NewLedger("aws")

// CreatedKeys returns the ids of the access keys byob made.
func CreatedKeys(v *providers.Values) []string { return ledger.Created(v) }

// accessKeyStep gives GrowthLoop's user exactly one access key whose
// secret byob holds. The secret goes straight to the key store (a 0600
// file) and its id to the state file, before byob waits for it to work.
type accessKeyStep struct {
	providers.Basic
	p Params
	c *Clients
}

// keys is the lifecycle of the user's access keys.
func (s *accessKeyStep) keys() keys.Lifecycle[types.AccessKeyMetadata] {
	user := s.p.Names.User
	return keys.Lifecycle[types.AccessKeyMetadata]{
		Cloud: keys.Cloud[types.AccessKeyMetadata]{
			View:   keyView,
			State:  func(k types.AccessKeyMetadata) string { return string(k.Status) },
			Noun:   "access key",
			Owner:  "user " + user,
			Holder: "the bundle",
			File:   "bundle",
			List:   func(ctx context.Context) ([]types.AccessKeyMetadata, error) { return listKeys(ctx, s.c, user) },
			Create: s.createOnce,
			Delete: func(ctx context.Context, id string) error {
				_, err := s.c.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(id)})
				return s.c.wrap("iam:DeleteAccessKey "+id, err)
			},
			Disable: func(ctx context.Context, id string) error {
				_, err := s.c.IAM.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(id), Status: types.StatusTypeInactive})
				return s.c.wrap("iam:UpdateAccessKey "+id, err)
			},
			Gone:         isNotFound,
			MaybeApplied: maybeApplied,
			Waiting:      "waiting for the new IAM user to become visible",
			Works:        s.waitWorks,
		},
		Ledger:      ledger,
		Store:       s.p.Keys,
		Value:       AccessKeyID,
		Propagation: s.p.Propagation,
	}
}

// ReadsEarly implements providers.ReadsEarly: the keys are listed beside
// the preflight.
func (*accessKeyStep) ReadsEarly(*providers.Values) bool { return true }

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
var keyView = keys.View[types.AccessKeyMetadata]{
	ID:      func(k types.AccessKeyMetadata) string { return aws.ToString(k.AccessKeyId) },
	Active:  func(k types.AccessKeyMetadata) bool { return k.Status == types.StatusTypeActive },
	Created: func(k types.AccessKeyMetadata) time.Time { return aws.ToTime(k.CreateDate) },
}

func (s *accessKeyStep) Check(ctx context.Context, r *runenv.Run, v *providers.Values) (providers.Observation, error) {
	return s.keys().Observe(ctx, r, v, s.p.Adopt)
}

func (s *accessKeyStep) Apply(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	return s.keys().Converge(ctx, r, v)
}

// createOnce calls CreateAccessKey once, without the SDK's retries (the
// lifecycle never retries it blindly).
func (s *accessKeyStep) createOnce(ctx context.Context) (string, []byte, error) {
	user := s.p.Names.User
	out, err := s.c.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)}, noRetry)
	if errorCode(err) == "LimitExceeded" {
		list, _ := listKeys(ctx, s.c, user)
		return "", nil, fmt.Errorf("iam:CreateAccessKey %s: %s: %w", user, s.full(list), err)
	}
	if err != nil {
		return "", nil, s.c.wrap("iam:CreateAccessKey "+user, err)
	}
	return aws.ToString(out.AccessKey.AccessKeyId), []byte(aws.ToString(out.AccessKey.SecretAccessKey)), nil
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
func (s *accessKeyStep) full(list []types.AccessKeyMetadata) string {
	user, life := s.p.Names.User, s.keys()
	var names []string
	for _, k := range list {
		names = append(names, life.Describe(k, time.Now()))
	}
	return fmt.Sprintf("user %s already has the %d access keys IAM allows: %s. byob never deletes a key it did not create: "+
		"free a slot with `aws iam delete-access-key --user-name %s --access-key-id <the key nobody uses>` and re-run",
		user, maxKeys, strings.Join(names, ", "), user)
}

// Gate implements providers.Gate: a new key is needed but the user
// already has the keys IAM allows, none of them byob's to delete.
func (s *accessKeyStep) Gate(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	k := s.keys()
	list, err := k.Listed(ctx, r)
	if err != nil {
		return err
	}
	ks := k.Set(v, list)
	if ks.Works(s.p.Keys.Pending()) || ks.Works(s.p.Keys.Delivered()) || ks.Adopted(v, s.p.Adopt) != "" || len(list)-len(ks.Unwanted()) < maxKeys {
		return nil
	}
	return errors.New(s.full(list))
}

// waitWorks waits until STS accepts the new key.
func (s *accessKeyStep) waitWorks(ctx context.Context, r *runenv.Run, id string, secret []byte) error {
	if s.c.KeySTS == nil {
		return nil
	}
	keySTS := s.c.KeySTS(id, string(secret))
	return s.p.Propagation.Poll(ctx, r, "waiting for the new access key to work (IAM takes up to a minute)", func(ctx context.Context) error {
		_, err := keySTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		switch errorCode(err) {
		case "InvalidAccessKeyId", "InvalidClientTokenId", "SignatureDoesNotMatch":
			return fmt.Errorf("%w: %s", runenv.ErrNotYet, errorCode(err))
		}
		return s.c.wrap("sts:GetCallerIdentity with the new access key", err)
	})
}
