package s3bucket_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	s3controltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"

	"github.com/growthloop/byob/internal/testsupport/providertest"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/bundlefile"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/s3bucket/awstest"
)

// verified is a setup made and delivered, its bundle what verify proves;
// the emulator denies GrowthLoop's key what byob's policy denies it.
func verified(t *testing.T) *fixture {
	f := newFixture(t)
	f.converge()
	f.deliver()
	b, err := bundlefile.Read(f.setup.Config.Bundle)
	if err != nil || b == nil {
		t.Fatal(b, err)
	}
	f.setup.Bundle = b
	f.srv.ConfineKeysTo("exports/")
	return f
}

// probe runs the setup's probe id (providertest.Probe).
func (f *fixture) probe(id string) providers.CheckResult {
	f.t.Helper()
	return providertest.Probe(f.t, (s3bucket.Provider{}).Probes(f.setup), id)
}

// objects are the keys in the bucket.
func (f *fixture) objects() []string {
	f.t.Helper()
	out, err := f.c.S3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(f.setup.Config.Bucket)}, inRegion)
	if err != nil {
		f.t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// TestProbesWaitForWhatTheyCheck: the key's proof waits for the bucket
// and the user, its confinement for the proof too, hygiene for the user
// alone; the exposure checks wait for the bucket, the account's for
// nothing, and with the region and account known they start beside the
// preflight.
func TestProbesWaitForWhatTheyCheck(t *testing.T) {
	f := newFixture(t)
	f.setup.Bundle = &bundlefile.Bundle{}
	needs := map[string][]string{}
	for _, p := range (s3bucket.Provider{}).Probes(f.setup) {
		needs[p.ID] = p.Needs
		if p.KeyProof != (p.ID == s3bucket.CheckKeyWorks) {
			t.Errorf("%s: key proof %v", p.ID, p.KeyProof)
		}
	}
	for id, want := range map[string][]string{
		s3bucket.CheckKeyWorks:            {s3bucket.StepBucket, s3bucket.StepUser},
		s3bucket.CheckKeyConfined:         {s3bucket.StepBucket, s3bucket.StepUser, s3bucket.CheckKeyWorks},
		s3bucket.CheckKeyHygiene:          {s3bucket.StepUser},
		s3bucket.CheckPolicyPrivate:       {s3bucket.StepBucket},
		s3bucket.CheckACLPrivate:          {s3bucket.StepBucket},
		s3bucket.CheckAccountPublicAccess: nil,
	} {
		if !slices.Equal(needs[id], want) {
			t.Errorf("%s needs %q, want %q", id, needs[id], want)
		}
	}
}

// TestKeyProbes: the bundle's key writes, reads and lists a probe object
// under the prefix, which is then deleted, and is denied outside it; each
// way the key can be wrong fails saying what is wrong and what fixes it.
func TestKeyProbes(t *testing.T) {
	f := verified(t)
	key := f.setup.Bundle.AWSAccessKeyID
	res := f.probe(s3bucket.CheckKeyWorks)
	if res.Status != providers.Pass || !strings.HasPrefix(res.Detail, "wrote, read and listed exports/byob-verify/") {
		t.Errorf("works: %+v", res)
	}
	if res := f.probe(s3bucket.CheckKeyConfined); res.Status != providers.Pass || !strings.HasPrefix(res.Detail, "writing byob-verify-outside-prefix/") {
		t.Errorf("confined: %+v", res)
	}
	if got := f.objects(); len(got) != 0 {
		t.Errorf("the probe objects stay: %q", got)
	}

	// A policy that lets the key out of the prefix.
	f.srv.ConfineKeysTo("")
	res = f.probe(s3bucket.CheckKeyConfined)
	if res.Status != providers.Fail || !strings.Contains(res.Detail, "policy too broad: key "+key+" could write byob-verify-outside-prefix/") ||
		res.Remedy != "byob init --provider s3 (restores the policy document scoped to exports/)" {
		t.Errorf("too broad: %+v", res)
	}
	if got := f.objects(); len(got) != 0 {
		t.Errorf("the probe object outside the prefix stays: %q", got)
	}

	// Inactive, then deleted.
	ctx := context.Background()
	if _, err := f.c.IAM.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(f.names.User), AccessKeyId: aws.String(key), Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	res = f.probe(s3bucket.CheckKeyWorks)
	if res.Status != providers.Fail || res.Detail != "access key "+key+" is Inactive" ||
		res.Remedy != "aws iam update-access-key --user-name "+f.names.User+" --access-key-id "+key+" --status Active" {
		t.Errorf("inactive: %+v", res)
	}
	if _, err := f.c.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(f.names.User), AccessKeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	res = f.probe(s3bucket.CheckKeyWorks)
	if res.Status != providers.Fail || res.Detail != "access key "+key+" of the bundle no longer exists on user "+f.names.User {
		t.Errorf("deleted: %+v", res)
	}

	// No key in the bundle; GrowthLoop's own key, whose secret byob never
	// saw.
	f.setup.Bundle = &bundlefile.Bundle{}
	if res := f.probe(s3bucket.CheckKeyWorks); res.Status != providers.Fail || res.Detail != "the bundle holds no access key" {
		t.Errorf("no key: %+v", res)
	}
	theirs := f.makeKey()
	f.setup.Values.Set(providers.GrowthLoopsKey, theirs)
	for _, id := range []string{s3bucket.CheckKeyWorks, s3bucket.CheckKeyConfined} {
		res := f.probe(id)
		if res.Status != providers.Warn || res.Detail != "access key "+theirs+" is active; its secret is GrowthLoop's alone, so byob cannot prove what it can do" {
			t.Errorf("%s of GrowthLoop's key: %+v", id, res)
		}
	}
}

// TestKeyHygiene: one recent key passes; two outside a rotation, or an
// old one (CIS 1.14: 90 days), warn; none active, or no user, fails.
func TestKeyHygiene(t *testing.T) {
	f := newFixture(t)
	f.setup.Bundle = &bundlefile.Bundle{}
	if res := f.probe(s3bucket.CheckKeyHygiene); res.Status != providers.Fail || res.Detail != "user "+f.names.User+" does not exist" {
		t.Errorf("no user: %+v", res)
	}
	f = verified(t)
	key := f.setup.Bundle.AWSAccessKeyID
	if res := f.probe(s3bucket.CheckKeyHygiene); res.Status != providers.Pass || res.Detail != "1 active access key, none older than 90 days" {
		t.Errorf("one key: %+v", res)
	}
	f.setup.Now = time.Now().Add(100 * 24 * time.Hour)
	if res := f.probe(s3bucket.CheckKeyHygiene); res.Status != providers.Warn || res.Detail != "access key "+key+" is 100 days old" || !strings.Contains(res.Remedy, "byob rotate-keys") {
		t.Errorf("old key: %+v", res)
	}
	f.setup.Now = time.Now()
	f.makeKey()
	if res := f.probe(s3bucket.CheckKeyHygiene); res.Status != providers.Warn || res.Detail != "user "+f.names.User+" has 2 active access keys" {
		t.Errorf("two keys: %+v", res)
	}
	f.setup.Values.Set(providers.RotationOldKey, key)
	if res := f.probe(s3bucket.CheckKeyHygiene); res.Status != providers.Pass || !strings.Contains(res.Detail, "while a rotation is under way") {
		t.Errorf("two keys while rotating: %+v", res)
	}
	f.setup.Values.Delete(providers.RotationOldKey)
	for id := range f.keys() {
		if _, err := f.c.IAM.UpdateAccessKey(context.Background(), &iam.UpdateAccessKeyInput{UserName: aws.String(f.names.User), AccessKeyId: aws.String(id), Status: iamtypes.StatusTypeInactive}); err != nil {
			t.Fatal(err)
		}
	}
	if res := f.probe(s3bucket.CheckKeyHygiene); res.Status != providers.Fail || res.Detail != "user "+f.names.User+" has no active access key" {
		t.Errorf("no active key: %+v", res)
	}
}

// TestExposureChecks: byob's bucket is private; a policy statement
// letting another account at the exports fails, one on other keys only
// warns; an ACL grant to everyone fails; the account's public access
// block, off or partly off, warns.
func TestExposureChecks(t *testing.T) {
	f := verified(t)
	ctx, bucket := context.Background(), f.setup.Config.Bucket
	for _, id := range []string{s3bucket.CheckPolicyPrivate, s3bucket.CheckACLPrivate, s3bucket.CheckAccountPublicAccess} {
		if res := f.probe(id); res.Status != providers.Pass {
			t.Errorf("%s: %+v", id, res)
		}
	}

	statement := func(resource string) string {
		return `{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::` + bucket + `/` + resource + `"}`
	}
	for _, tc := range []struct {
		resource string
		status   providers.CheckStatus
	}{{"exports/*", providers.Fail}, {"logs/*", providers.Warn}} {
		doc := `{"Version":"2012-10-17","Statement":[` + statement(tc.resource) + `]}`
		if _, err := f.c.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(doc)}, inRegion); err != nil {
			t.Fatal(err)
		}
		res := f.probe(s3bucket.CheckPolicyPrivate)
		if res.Status != tc.status || !strings.Contains(res.Detail, "210987654321") || !strings.Contains(res.Remedy, "aws s3api delete-bucket-policy --bucket "+bucket) {
			t.Errorf("a grant on %s: %+v", tc.resource, res)
		}
	}

	if _, err := f.c.S3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String(bucket),
		OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipObjectWriter}}}}, inRegion); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.S3.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(bucket), ACL: s3types.BucketCannedACLPublicRead}, inRegion); err != nil {
		t.Fatal(err)
	}
	if res := f.probe(s3bucket.CheckACLPrivate); res.Status != providers.Fail || res.Detail != "the ACL grants READ to AllUsers (anyone)" ||
		res.Remedy != "aws s3api put-bucket-acl --bucket "+bucket+" --acl private" {
		t.Errorf("public ACL: %+v", res)
	}
	// With that grant, ACLs cannot be turned off: the step says how.
	s := f.steps()[s3bucket.StepObjectOwnership]
	if obs := f.check(s); obs.Status != providers.Drifted || !strings.HasPrefix(obs.Reason, "ACLs are on (Object Ownership ObjectWriter)") {
		t.Errorf("ownership %+v", obs)
	}
	err := s.Apply(ctx, f.run(), f.setup.Values)
	if err == nil || !strings.Contains(err.Error(), "the ACL of bucket "+bucket+" grants access to others") || !strings.Contains(err.Error(), "--acl private") {
		t.Errorf("turn ACLs off = %v", err)
	}

	account := aws.String(awstest.AccountID)
	if _, err := f.c.S3Control.PutPublicAccessBlock(ctx, &s3control.PutPublicAccessBlockInput{AccountId: account,
		PublicAccessBlockConfiguration: &s3controltypes.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	if res := f.probe(s3bucket.CheckAccountPublicAccess); res.Status != providers.Warn ||
		res.Detail != "account "+awstest.AccountID+" has BlockPublicPolicy, RestrictPublicBuckets off: the bucket's own settings are all that keep it private" {
		t.Errorf("partly off: %+v", res)
	}
	if _, err := f.c.S3Control.DeletePublicAccessBlock(ctx, &s3control.DeletePublicAccessBlockInput{AccountId: account}); err != nil {
		t.Fatal(err)
	}
	if res := f.probe(s3bucket.CheckAccountPublicAccess); res.Status != providers.Warn || !strings.Contains(res.Detail, "has no public access block") ||
		!strings.HasPrefix(res.Remedy, "aws s3control put-public-access-block --account-id "+awstest.AccountID) {
		t.Errorf("none: %+v", res)
	}
}

// TestRotation: a new key is made beside the current one and held as the
// pending key, proved by use, and the old one retired: deleted, or made
// inactive and remembered. Retiring a key that is gone is done.
func TestRotation(t *testing.T) {
	for _, keep := range []bool{false, true} {
		f := verified(t)
		p, s, v := s3bucket.Provider{}, f.setup, f.setup.Values
		old := f.setup.Bundle.AWSAccessKeyID
		if err := s.Keys.Retain(old); err != nil {
			t.Fatal(err)
		}
		id, err := p.NewKey(context.Background(), f.run(), s)
		if err != nil {
			t.Fatal(err)
		}
		if id == old || s.Keys.Pending() != id || s.Keys.Previous() != old || v.Get(s3bucket.AccessKeyID) != id {
			t.Errorf("new %s, old %s: pending %s, previous %s", id, old, s.Keys.Pending(), s.Keys.Previous())
		}
		if keys := f.keys(); len(keys) != 2 || keys[id] != iamtypes.StatusTypeActive || keys[old] != iamtypes.StatusTypeActive {
			t.Errorf("keys %v", keys)
		}
		if s.Keys.PendingFile() != s3bucket.PendingPath(f.setup.Config.Bundle) || p.KeyID(v) != id || p.BundledKey(f.setup.Bundle) != old {
			t.Errorf("pending file %q, the setup's key %s, the bundle's %s", s.Keys.PendingFile(), p.KeyID(v), p.BundledKey(f.setup.Bundle))
		}
		// Asked again before the rotation finished: the same key.
		if again, err := p.NewKey(context.Background(), f.run(), s); err != nil || again != id {
			t.Errorf("new key again: %s %v, want %s", again, err, id)
		}
		if err := p.ProveKey(context.Background(), f.run(), s, id); err != nil {
			t.Fatalf("prove: %v", err)
		}
		if err := p.RetireKey(context.Background(), f.run(), s, old, keep); err != nil {
			t.Fatal(err)
		}
		switch keys := f.keys(); {
		case !keep && (len(keys) != 1 || !slices.Equal(s3bucket.CreatedKeys(v), []string{id})):
			t.Errorf("retired and deleted: keys %v, byob's %q", keys, s3bucket.CreatedKeys(v))
		case keep && (len(keys) != 2 || keys[old] != iamtypes.StatusTypeInactive || v.Get(providers.Key{Name: "aws.retired_keys"}) != old):
			t.Errorf("retired and kept: keys %v, values %v", keys, v.Map())
		}
		if keep {
			// The key retired is refused, and says why at once.
			err := p.ProveKey(context.Background(), f.run(), s, old)
			if err == nil || err.Error() != "access key "+old+" is Inactive" {
				t.Errorf("proving the retired key: %v", err)
			}
		}
		// The rotation finished: the previous bundle goes.
		if err := s.Keys.Release(); err != nil || s.Keys.Previous() != "" || fileExists(s.Keys.PreviousFiles()[0]) {
			t.Errorf("release: %v, previous %q", err, s.Keys.Previous())
		}
		// Kept, it goes now; else it is gone already.
		_, _ = f.c.IAM.DeleteAccessKey(context.Background(), &iam.DeleteAccessKeyInput{UserName: aws.String(f.names.User), AccessKeyId: aws.String(old)})
		if err := p.RetireKey(context.Background(), f.run(), s, old, keep); err != nil {
			t.Errorf("retire a deleted key: %v", err)
		}
		if retired := v.Get(providers.Key{Name: "aws.retired_keys"}); retired != "" || slices.Contains(s3bucket.CreatedKeys(v), old) {
			t.Errorf("a deleted key is remembered: retired %q, byob's %q", retired, s3bucket.CreatedKeys(v))
		}
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
