package s3bucket

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/growthloop/byob/internal/prose"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/keys"
	"github.com/growthloop/byob/providers/runenv"
)

// Check IDs of the probes.
const (
	CheckKeyWorks      = "s3-key-works"
	CheckKeyConfined   = "s3-key-confined"
	CheckKeyHygiene    = "iam-key-hygiene"
	ProbeOutsidePrefix = "byob-verify-outside-prefix/"
	maxKeyAge          = 90 * 24 * time.Hour
)

// Probes prove what the bundle's access key can do: write, read and list
// under the prefix, and nothing outside it; and warn about stale or extra
// keys. The probe object stays under the prefix, so the TTL removes it
// when the cleanup cannot.
// reRun is the byob init command that restores the setup.
func Probes(p Params, c *Clients, v *providers.Values, keyID, secret string, now time.Time, reRun string) []providers.Check {
	if keyID == "" && secret == "" {
		// A setup taken over keeps the key GrowthLoop holds, whose secret
		// byob never saw: its age and state can be checked, not its use.
		keyID = v.Get(providers.GrowthLoopsKey)
	}
	// Several checks read the user's keys: one call serves them all. It
	// runs on its own (runenv.Shared), so a check that stops waiting,
	// or whose context ends, stops no other check's read.
	userKeys := func(ctx context.Context, r *runenv.Run) ([]types.AccessKeyMetadata, error) {
		return runenv.Shared(ctx, r, "iam:ListAccessKeys "+p.Names.User, func(ctx context.Context) ([]types.AccessKeyMetadata, error) { return listKeys(ctx, c, p.Names.User) })
	}
	// The listing says why a refused key does not work.
	unusable := func(ctx context.Context, r *runenv.Run) *providers.CheckResult {
		return keyState(ctx, r, p, keyID, reRun, userKeys)
	}
	checks := []providers.Check{
		{ID: CheckKeyWorks, Title: "GrowthLoop's key can write, read and list under " + p.Prefix, Run: func(ctx context.Context, r *runenv.Run) providers.CheckResult {
			if res := heldByGrowthLoop(ctx, r, keyID, secret, unusable); res != nil {
				return *res
			}
			return keyWorks(ctx, r, p, c, v, keyID, secret, reRun, unusable)
		}},
		{ID: CheckKeyConfined, Title: "GrowthLoop's key is denied outside " + p.Prefix, Run: func(ctx context.Context, r *runenv.Run) providers.CheckResult {
			if res := heldByGrowthLoop(ctx, r, keyID, secret, unusable); res != nil {
				return *res
			}
			return keyConfined(ctx, r, p, c, v, keyID, secret, reRun, unusable)
		}},
		{ID: CheckKeyHygiene, Title: "GrowthLoop's user has one recent access key", Run: func(ctx context.Context, r *runenv.Run) providers.CheckResult {
			return keyHygiene(ctx, r, p, keyID, now, v.Get(providers.RotationOldKey) != "", reRun, userKeys)
		}},
	}
	// The key's probes need only the bucket's region: known, they start
	// beside the preflight.
	if v.Get(BucketRegion) != "" {
		for i := range checks {
			checks[i] = checks[i].Early()
		}
	}
	return checks
}

// heldByGrowthLoop is the result of a key probe for a key known by its id
// alone (taken over, or --access-key-id): it must exist and be active; its
// use cannot be proved without the secret, which only GrowthLoop holds.
// nil when the secret is known.
func heldByGrowthLoop(ctx context.Context, r *runenv.Run, keyID, secret string, unusable func(context.Context, *runenv.Run) *providers.CheckResult) *providers.CheckResult {
	if keyID == "" || secret != "" {
		return nil
	}
	if res := unusable(ctx, r); res != nil {
		return res
	}
	res := providers.Warned("byob rotate-keys (makes a key byob holds too, and proves it)",
		"access key %s is active; its secret is GrowthLoop's alone, so byob cannot prove what it can do", keyID)
	return &res
}

func keyWorks(ctx context.Context, r *runenv.Run, p Params, c *Clients, v *providers.Values, keyID, secret, reRun string, unusable func(context.Context, *runenv.Run) *providers.CheckResult) providers.CheckResult {
	if keyID == "" || secret == "" {
		return providers.Failed(reRun+" (it writes a new key to the bundle)", "the bundle holds no access key")
	}
	go unusable(ctx, r) // the listing goes beside the first use
	return useKey(ctx, r, p, c, v, keyID, secret, reRun, unusable)
}

// keyState says, from the user's listing, why the key keyID is refused:
// nil when it is there and active (it may still be propagating).
func keyState(ctx context.Context, r *runenv.Run, p Params, keyID, reRun string, userKeys func(context.Context, *runenv.Run) ([]types.AccessKeyMetadata, error)) *providers.CheckResult {
	keys, err := userKeys(ctx, r)
	if err != nil && !isNotFound(err) {
		res := providers.CannotRun(err, "grant iam:ListAccessKeys and re-run byob verify")
		return &res
	}
	i := slices.IndexFunc(keys, func(k types.AccessKeyMetadata) bool { return aws.ToString(k.AccessKeyId) == keyID })
	var res providers.CheckResult
	switch {
	case i < 0:
		res = providers.Failed(reRun+" (it makes a new key; upload the new bundle to GrowthLoop)", "access key %s of the bundle no longer exists on user %s", keyID, p.Names.User)
	case keys[i].Status != types.StatusTypeActive:
		res = providers.Failed("aws iam update-access-key --user-name "+p.Names.User+" --access-key-id "+keyID+" --status Active", "access key %s is %s", keyID, keys[i].Status)
	default:
		return nil
	}
	return &res
}

// useKey writes, reads and lists a probe object with the key; the read
// and the list go at once, the probe object is deleted in the background.
// unusable, asked when the key is refused, says whether it is missing or
// inactive (nil: it may still be propagating).
func useKey(ctx context.Context, r *runenv.Run, p Params, c *Clients, v *providers.Values, keyID, secret, reRun string, unusable func(context.Context, *runenv.Run) *providers.CheckResult) providers.CheckResult {
	ks := c.KeyS3(keyID, secret)
	key := providers.ProbeName(p.Prefix + providers.ProbeDir)
	body := providers.ProbeBody
	var refused *providers.CheckResult
	err := p.Propagation.Poll(ctx, r, "waiting for the access key to work (new keys take up to a minute)", func(ctx context.Context) error {
		_, err := ks.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(key), Body: bytes.NewReader(body)}, inRegion(v))
		switch errorCode(err) {
		case "InvalidAccessKeyId", "SignatureDoesNotMatch":
			if unusable != nil {
				if refused = unusable(ctx, r); refused != nil {
					return err
				}
			}
			return fmt.Errorf("%w: %s", runenv.ErrNotYet, errorCode(err))
		}
		return err
	})
	remove := deleteProbe(p, c, v, key)
	if refused != nil {
		return *refused
	}
	if err != nil {
		if mayHaveLanded(err) {
			r.Cleanup(ctx, remove)
		}
		return providers.Failed(reRun+" (restores the policy and its attachments)", "PutObject %s with key %s: %v", key, keyID, err)
	}
	var (
		read    []byte
		readErr error
		list    *s3.ListObjectsV2Output
		listErr error
		wg      sync.WaitGroup
	)
	wg.Go(func() {
		got, err := ks.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(key)}, inRegion(v))
		if err != nil {
			readErr = err
			return
		}
		defer got.Body.Close()
		read, readErr = io.ReadAll(got.Body)
	})
	wg.Go(func() {
		list, listErr = ks.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(p.Bucket), Prefix: aws.String(p.Prefix + providers.ProbeDir)}, inRegion(v))
	})
	wg.Wait()
	// The probe object goes once read and listed, in the background.
	r.Cleanup(ctx, remove)
	var res providers.CheckResult
	switch {
	case readErr != nil:
		res = providers.Failed(reRun, "GetObject %s with key %s: %v", key, keyID, readErr)
	case !bytes.Equal(read, body):
		res = providers.Failed(reRun, "GetObject %s returned other content", key)
	case listErr != nil:
		res = providers.Failed(reRun, "ListObjectsV2 %s with key %s: %v", p.Prefix, keyID, listErr)
	case !slices.ContainsFunc(list.Contents, func(o s3types.Object) bool { return aws.ToString(o.Key) == key }):
		res = providers.Failed(reRun, "ListObjectsV2 %s does not show the probe object", p.Prefix)
	default:
		return providers.Passed("wrote, read and listed %s", key)
	}
	// The key writes under the prefix: whether it is denied outside it
	// still says something.
	res.Stands = true
	return res
}

// deleteProbe is a probe's clean-up: it deletes key with the caller's
// credentials.
func deleteProbe(p Params, c *Clients, v *providers.Values, key string) func(context.Context) {
	return func(ctx context.Context) {
		_, _ = c.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(key)}, inRegion(v))
	}
}

// keyConfined runs only once keyWorks passed: the key exists and works.
func keyConfined(ctx context.Context, r *runenv.Run, p Params, c *Clients, v *providers.Values, keyID, secret, reRun string, unusable func(context.Context, *runenv.Run) *providers.CheckResult) providers.CheckResult {
	key := providers.ProbeName(ProbeOutsidePrefix)
	var err error
	// A new key is refused as unknown until it propagates; a key that does
	// not exist fails keyWorks, which this check waits for.
	_ = p.Propagation.Poll(ctx, r, "waiting for the access key to work (new keys take up to a minute)", func(ctx context.Context) error {
		_, err = c.KeyS3(keyID, secret).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(key), Body: bytes.NewReader([]byte("x"))}, inRegion(v))
		switch errorCode(err) {
		case "InvalidAccessKeyId", "SignatureDoesNotMatch":
			if unusable(ctx, r) == nil {
				return runenv.ErrNotYet
			}
		}
		return nil
	})
	remove := deleteProbe(p, c, v, key)
	switch {
	case err == nil:
		r.Cleanup(ctx, remove)
		return providers.Failed(reRun+" (restores the policy document scoped to "+p.Prefix+")",
			"policy too broad: key %s could write %s, outside %s", keyID, key, p.Prefix)
	case errorCode(err) == "AccessDenied":
		return providers.Passed("writing %s was denied", key)
	case mayHaveLanded(err):
		r.Cleanup(ctx, remove)
	}
	return providers.CannotRun(err, "check the key in the bundle and re-run byob verify")
}

// keyHygiene fails when the user has no active key, and warns of the
// bundle's key older than 90 days and of more than one active key outside
// a rotation.
func keyHygiene(ctx context.Context, r *runenv.Run, p Params, keyID string, now time.Time, rotating bool, reRun string,
	userKeys func(context.Context, *runenv.Run) ([]types.AccessKeyMetadata, error)) providers.CheckResult {
	list, err := userKeys(ctx, r)
	if isNotFound(err) {
		return providers.Failed(reRun+" (it makes the user and a new key)", "user %s does not exist", p.Names.User)
	}
	if err != nil {
		return providers.CannotRun(err, "grant iam:ListAccessKeys and re-run byob verify")
	}
	var active []types.AccessKeyMetadata
	for _, k := range list {
		if k.Status == types.StatusTypeActive {
			active = append(active, k)
		}
	}
	if len(active) == 0 {
		// No key: GrowthLoop cannot export, whatever else holds.
		return providers.Failed(reRun+" (it makes a new key; upload the new bundle to GrowthLoop)", "user %s has no active access key", p.Names.User)
	}
	rotate := "rotate the key (Security Hub IAM.3, CIS 1.14): byob rotate-keys, upload the new bundle in GrowthLoop, then byob rotate-keys --finish"
	if rotating && len(active) == 2 {
		return providers.Passed("2 active access keys while a rotation is under way (see key-rotation)")
	}
	if len(active) > 1 {
		return providers.Warned("delete the keys GrowthLoop does not use: aws iam delete-access-key --user-name "+p.Names.User+" --access-key-id <id>",
			"user %s has %d active access keys", p.Names.User, len(active))
	}
	for _, k := range active {
		if aws.ToString(k.AccessKeyId) == keyID && now.Sub(aws.ToTime(k.CreateDate)) > maxKeyAge {
			return providers.Warned(rotate, "access key %s is %s old", keyID, keys.Age(now, aws.ToTime(k.CreateDate)))
		}
	}
	return providers.Passed("%s, none older than %d days", prose.Count(len(active), "active access key"), int(maxKeyAge.Hours()/24))
}
