package s3bucket_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/keys"
	"github.com/growthloop/byob/providers/s3bucket"
)

// destroy destroys each step of a new run in the plan's reverse order,
// but the bucket.
func (f *fixture) destroy() {
	f.t.Helper()
	for _, s := range slices.Backward((s3bucket.Provider{}).Steps(f.setup)) {
		if s.ID() == s3bucket.StepBucket {
			continue
		}
		if err := s.Destroy(context.Background(), f.run(), f.setup.Values); err != nil {
			f.t.Fatalf("destroy %s: %v", s.ID(), err)
		}
	}
}

func (f *fixture) bucketExists() bool {
	_, err := f.c.S3.HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String(f.setup.Config.Bucket)}, inRegion)
	return err == nil
}

// TestDestroyRemovesWhatByobMade: each step says what destroy removes;
// destroying in the plan's reverse order removes byob's key, attachments,
// user, role and policies (every version), keeps the bucket (no
// --delete-bucket) with its settings, and forgets the key. Done twice is
// done.
func TestDestroyRemovesWhatByobMade(t *testing.T) {
	f := newFixture(t)
	f.converge()
	f.deliver()
	v, n := f.setup.Values, f.names
	key := v.Get(s3bucket.AccessKeyID)
	// A drifted policy has versions besides the default.
	f.srv.SetPolicyDocument(f.policyARN(n.Policy), `{"Version":"2012-10-17","Statement":[]}`)
	want := map[string]providers.Teardown{
		s3bucket.StepBucket:          {Keep: "bucket " + f.setup.Config.Bucket + " and its objects are kept, private and encrypted, exports under exports/ still expiring after 7 days (--delete-bucket deletes it)"},
		s3bucket.StepPolicy:          {Remove: "delete IAM policy " + n.Policy + " (all its versions)"},
		s3bucket.StepSnowflakePolicy: {Remove: "delete IAM policy " + n.SnowflakePolicy + " (all its versions)"},
		s3bucket.StepRole:            {Remove: "delete IAM role " + n.Role},
		s3bucket.StepRolePolicy:      {Remove: "detach policy " + n.SnowflakePolicy + " from role " + n.Role},
		s3bucket.StepUser:            {Remove: "delete IAM user " + n.User},
		s3bucket.StepUserPolicy:      {Remove: "detach policy " + n.Policy + " from user " + n.User},
		s3bucket.StepAccessKey:       {Remove: "delete access key " + key + " of user " + n.User + " (GrowthLoop's exports stop)"},
	}
	for _, s := range (s3bucket.Provider{}).Steps(f.setup) {
		// The bucket's settings go with it, or stay with it.
		td, err := s.Teardown(context.Background(), v)
		if err != nil || td != want[s.ID()] {
			t.Errorf("%s: teardown %+v %v, want %+v", s.ID(), td, err, want[s.ID()])
		}
	}
	f.destroy()
	ctx := context.Background()
	if _, err := f.c.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(n.User)}); err == nil {
		t.Error("the user is left")
	}
	if _, err := f.c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(n.Role)}); err == nil {
		t.Error("the role is left")
	}
	for _, p := range []string{n.Policy, n.SnowflakePolicy} {
		if _, err := f.c.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(f.policyARN(p))}); err == nil {
			t.Errorf("policy %s is left", p)
		}
	}
	if !f.bucketExists() || f.bucketPolicy() == "" {
		t.Error("the bucket, or its TLS-only policy, is gone")
	}
	if v.Get(s3bucket.AccessKeyID) != "" || len(s3bucket.CreatedKeys(v)) != 0 {
		t.Errorf("the key is remembered: %v", v.Map())
	}
	f.destroy()
}

// TestDestroyLeavesWhatByobFound: an adopted bucket stays with the
// settings byob put on it, each saying so; a user byob did not make is
// left alone; byob's policy attached elsewhere by someone is kept,
// saying why.
func TestDestroyLeavesWhatByobFound(t *testing.T) {
	f := newFixture(t)
	f.createBucket(f.setup.Config.Bucket, region)
	if _, err := f.c.IAM.CreateUser(context.Background(), &iam.CreateUserInput{UserName: aws.String(f.names.User)}); err != nil {
		t.Fatal(err)
	}
	seen := f.converge()
	v := f.setup.Values
	for _, id := range []string{s3bucket.StepBucket, s3bucket.StepUser} {
		if seen[id].Status != providers.Done {
			t.Fatalf("%s: %+v", id, seen[id])
		}
		v.Set(providers.AdoptedKey(id), "true")
	}
	f.setup.Destroy = providers.DestroyOptions{DeleteBucket: true}
	steps := f.steps()
	for id, keep := range map[string]string{
		s3bucket.StepBucket:            "bucket " + f.setup.Config.Bucket + ", with its objects, was there before byob: left alone",
		s3bucket.StepUser:              "IAM user " + f.names.User + " was there before byob: left alone",
		s3bucket.StepPublicAccessBlock: "the public access block stays on: the bucket remains private",
		s3bucket.StepEncryption:        "default encryption stays on",
		s3bucket.StepBucketPolicy:      "the bucket policy's TLS-only statement stays: it only denies insecure requests",
		s3bucket.StepObjectOwnership:   "",
		s3bucket.StepLifecycle:         "lifecycle rule byob-expire-exports stays: objects under exports/ keep expiring after 7 days (delete the rule to keep them)",
	} {
		// ACLs were already off on the found bucket: byob put nothing there.
		if td, err := steps[id].Teardown(context.Background(), v); err != nil || td != (providers.Teardown{Keep: keep}) {
			t.Errorf("%s: %+v %v, want kept: %q", id, td, err, keep)
		}
	}

	// Someone attached GrowthLoop's policy to their own user.
	other := "dev-" + f.names.User
	ctx := context.Background()
	if _, err := f.c.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(other)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(other), PolicyArn: aws.String(f.policyARN(f.names.Policy))}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{s3bucket.StepAccessKey, s3bucket.StepUserPolicy} {
		if err := steps[id].Destroy(ctx, f.run(), v); err != nil {
			t.Fatalf("destroy %s: %v", id, err)
		}
	}
	err := steps[s3bucket.StepPolicy].Destroy(ctx, f.run(), v)
	var kept *providers.Kept
	if !errors.As(err, &kept) || !strings.Contains(err.Error(), "IAM policy "+f.names.Policy+" is attached to something byob did not attach it to") {
		t.Errorf("destroy of a policy attached elsewhere = %v", err)
	}
}

// TestDestroyBucket: the bucket byob made goes only with --delete-bucket,
// and one holding objects only with --delete-objects too; then every
// object is deleted, with progress, and the bucket.
func TestDestroyBucket(t *testing.T) {
	f := newFixture(t)
	f.converge()
	ctx, bucket := context.Background(), f.setup.Config.Bucket
	for _, k := range []string{"exports/a.csv", "exports/b.csv", "logs/x"} {
		if _, err := f.c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader("1")}, inRegion); err != nil {
			t.Fatal(err)
		}
	}
	teardown := func(o providers.DestroyOptions) (providers.Teardown, error) {
		f.setup.Destroy = o
		return f.steps()[s3bucket.StepBucket].Teardown(ctx, f.setup.Values)
	}
	_, err := teardown(providers.DestroyOptions{DeleteBucket: true})
	var ue *providers.UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "bucket "+bucket+" holds 3 objects (versions included): pass --delete-objects") {
		t.Errorf("teardown with --delete-bucket = %v", err)
	}
	// Written after the plan: the delete is refused, and says so.
	err = f.steps()[s3bucket.StepBucket].Destroy(ctx, f.run(), f.setup.Values)
	if err == nil || !strings.Contains(err.Error(), "bucket "+bucket+" is not empty") || !strings.Contains(err.Error(), "--delete-objects") {
		t.Errorf("destroy without --delete-objects = %v", err)
	}
	if td, err := teardown(providers.DestroyOptions{DeleteBucket: true, DeleteObjects: true}); err != nil || td.Remove != "delete the 3 objects (versions included) in bucket "+bucket+", then the bucket" {
		t.Errorf("teardown %+v %v", td, err)
	}
	if err := f.steps()[s3bucket.StepBucket].Destroy(ctx, f.run(), f.setup.Values); err != nil {
		t.Fatal(err)
	}
	if f.bucketExists() {
		t.Error("the bucket is left")
	}
	if len(f.rec.Counted()) == 0 || f.rec.Counted()[len(f.rec.Counted())-1] != [2]int{3, 3} {
		t.Errorf("progress %v, want it to end at 3 of 3", f.rec.Counted())
	}
	if td, err := teardown(providers.DestroyOptions{DeleteBucket: true}); err != nil || td.Remove != "forget bucket "+bucket+" (already deleted)" {
		t.Errorf("teardown of a deleted bucket %+v %v", td, err)
	}
	if err := f.steps()[s3bucket.StepBucket].Destroy(ctx, f.run(), f.setup.Values); err != nil {
		t.Errorf("destroy of a deleted bucket: %v", err)
	}
}

// TestDryRunTeardown: with no connection, destroy's plan decides from the
// state alone.
func TestDryRunTeardown(t *testing.T) {
	f := newFixture(t)
	before := len(f.srv.Calls())
	f.setup.Conn = nil
	v := providers.NewValues(map[string]string{providers.CreatedKey(s3bucket.StepBucket).Name: "true"})
	for o, want := range map[providers.DestroyOptions]string{
		{DeleteBucket: true}:                      "delete bucket " + f.setup.Config.Bucket + " if it is empty (--delete-objects deletes its objects too)",
		{DeleteBucket: true, DeleteObjects: true}: "delete every object (all versions) in bucket " + f.setup.Config.Bucket + ", then the bucket",
	} {
		f.setup.Destroy = o
		if td, _ := f.steps()[s3bucket.StepBucket].Teardown(context.Background(), v); td.Remove != want {
			t.Errorf("%+v: %+v", o, td)
		}
	}
	if td, _ := f.steps()[s3bucket.StepAccessKey].Teardown(context.Background(), v); td != (providers.Teardown{}) {
		t.Errorf("no key made: %+v", td)
	}
	if calls := f.srv.Calls()[before:]; len(calls) != 0 {
		t.Errorf("a dry run reached AWS: %+v", calls)
	}
}

// TestDestroyDeletesTheKeyOfAStoppedRun: a run killed after
// CreateAccessKey was sent, before it recorded the key, leaves only its
// intent in the state file; destroy deletes the key that run made, and
// leaves a key that was there before.
func TestDestroyDeletesTheKeyOfAStoppedRun(t *testing.T) {
	f := newFixture(t)
	f.converge()
	ledger := keys.NewLedger("aws") // the package's, as the state file names it
	v := f.setup.Values
	before := ledger.Created(v)
	ledger.SetCreated(v, nil) // the key there before is not byob's
	if _, err := ledger.Begin(f.run(), v, before); err != nil {
		t.Fatal(err)
	}
	made := f.makeKey() // the stopped run's CreateAccessKey
	step := f.steps()[s3bucket.StepAccessKey]
	td, err := step.Teardown(context.Background(), v)
	if err != nil || td.Remove != "delete any access key a stopped run made of user "+f.names.User+" (GrowthLoop's exports stop)" {
		t.Errorf("teardown %+v, %v", td, err)
	}
	if err := step.Destroy(context.Background(), f.run(), v); err != nil {
		t.Fatal(err)
	}
	keys := f.keys()
	if _, ok := keys[made]; ok || len(keys) != 1 {
		t.Errorf("keys left %v: want only %v", keys, before)
	}
	if _, stopped := ledger.Intent(v); stopped {
		t.Error("the intent stays")
	}
}

// TestABucketDeletedByHandIsGone: a bucket byob made and someone deleted
// is gone, with --delete-bucket or without: destroy forgets it and calls
// no Destroy (wizard's TestABucketDeletedByHandIsOnlyForgotten).
func TestABucketDeletedByHandIsGone(t *testing.T) {
	f := newFixture(t)
	f.converge()
	ctx, bucket := context.Background(), f.setup.Config.Bucket
	if _, err := f.c.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)}, inRegion); err != nil {
		t.Fatal(err)
	}
	for _, o := range []providers.DestroyOptions{{}, {DeleteBucket: true}} {
		f.setup.Destroy = o
		td, err := f.steps()[s3bucket.StepBucket].Teardown(ctx, f.setup.Values)
		if err != nil || !td.Gone || td.Remove != "forget bucket "+bucket+" (already deleted)" {
			t.Errorf("%+v: teardown %+v %v", o, td, err)
		}
	}
}
