package s3bucket_test

import (
	"context"
	"testing"

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
