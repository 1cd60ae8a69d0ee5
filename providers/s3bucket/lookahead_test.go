package s3bucket_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/growthloop/byob/internal/testsupport/providertest"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/s3bucket"
)

// TestLookAheadOfARefusedHeadListsOnce: on a re-run (the account known),
// the caller's own bucket refusing HeadBucket is asked, ahead and at the
// gate, with one s3:ListAllMyBuckets: the look ahead's Check makes no
// request the gate then makes again.
func TestLookAheadOfARefusedHeadListsOnce(t *testing.T) {
	f := newFixture(t)
	f.createBucket(f.setup.Config.Bucket, region)
	f.srv.Deny("HEAD bucket")
	s := f.steps()[s3bucket.StepBucket]
	run := f.run()
	before := len(f.srv.Calls())
	providertest.Prefetch(run, []providers.Step{s}, f.setup.Values)
	if err := s.(providers.Gate).Gate(context.Background(), run.Of(s.ID()), f.setup.Values); err == nil {
		t.Fatal("gate passed")
	}
	n := 0
	for _, c := range f.srv.Calls()[before:] {
		if c.Action == "GET /" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("ListBuckets sent %d times, want 1 (the old Prefetch sent none ahead)", n)
	}
}

// TestAForgottenBucketIsNotDeletedWithoutTheFlag: without --delete-bucket,
// a bucket the plan found deleted by hand is only forgotten: one made
// again (empty) before the removal runs is not deleted.
func TestAForgottenBucketIsNotDeletedWithoutTheFlag(t *testing.T) {
	f := newFixture(t)
	f.converge()
	ctx, bucket := context.Background(), f.setup.Config.Bucket
	if _, err := f.c.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)}, inRegion); err != nil {
		t.Fatal(err)
	}
	f.setup.Destroy = providers.DestroyOptions{}
	td, err := f.steps()[s3bucket.StepBucket].Teardown(ctx, f.setup.Values)
	if err != nil || td.Remove == "" {
		t.Fatalf("teardown %+v %v", td, err)
	}
	f.createBucket(bucket, region) // made again, e.g. while destroy asked to confirm
	if err := f.steps()[s3bucket.StepBucket].Destroy(ctx, f.run(), f.setup.Values); err != nil {
		t.Fatal(err)
	}
	if !f.bucketExists() {
		t.Error("destroy without --delete-bucket deleted the bucket")
	}
}
