package s3bucket_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/s3bucket/awstest"
)

// probeSetup makes a bucket and a user with one key on the emulator, and
// the verify probes of that key.
func probeSetup(t *testing.T, srv *awstest.Server) map[string]providers.Check {
	t.Helper()
	ctx := context.Background()
	c := s3bucket.NewClients(srv.Config())
	id := awstest.Unique()
	part, _ := s3bucket.PartitionOf("us-east-1")
	p := s3bucket.Params{Partition: part, Bucket: "probe-" + id, Prefix: "exports/", TTLDays: 7, Names: s3bucket.NamesFor("p" + id),
		Propagation: runenv.Propagation{Timeout: 2 * time.Second, Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}}
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(p.Bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(p.Names.User)}); err != nil {
		t.Fatal(err)
	}
	key, err := c.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(p.Names.User)})
	if err != nil {
		t.Fatal(err)
	}
	v := providers.NewValues(map[string]string{s3bucket.BucketRegion.Name: "us-east-1", s3bucket.AccountID.Name: awstest.AccountID})
	checks := map[string]providers.Check{}
	for _, ch := range s3bucket.Probes(p, c, v, aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), time.Now(), "byob init") {
		checks[ch.ID] = ch
	}
	return checks
}

// TestSharedKeyListingOutlivesItsFirstCaller: the user's key listing is
// shared by the probes. The key probe asks for it first and, refused,
// returns before the listing answers; its context then ends (as an early
// probe's does). The hygiene check must still get the listing, not that
// probe's cancellation.
func TestSharedKeyListingOutlivesItsFirstCaller(t *testing.T) {
	srv := awstest.New()
	defer srv.Close()
	srv.Deny("PUT object")                                 // the key probe fails at once
	srv.SlowAnswer("ListAccessKeys", 200*time.Millisecond) // before the listing answers
	checks := probeSetup(t, srv)

	bg := runenv.NewBackground()
	defer bg.End()
	run := runenv.NewRun(bg, runenv.Hooks{})
	ctx, cancel := context.WithCancel(context.Background())
	if r := checks[s3bucket.CheckKeyWorks].Run(ctx, run); r.Status != providers.Fail {
		t.Fatalf("key probe: %s %s, want a failure", r.Status, r.Detail)
	}
	cancel()
	r := checks[s3bucket.CheckKeyHygiene].Run(context.Background(), run)
	if r.Status != providers.Pass || strings.Contains(r.Detail, "canceled") {
		t.Errorf("hygiene: %s %s", r.Status, r.Detail)
	}
}
