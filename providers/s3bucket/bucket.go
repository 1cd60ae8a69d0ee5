package s3bucket

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/growthloop/byob/internal/prose"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/templates"
)

// Step IDs of the bucket steps.
const (
	StepBucket            = "s3-bucket"
	StepPublicAccessBlock = "s3-public-access-block"
	StepEncryption        = "s3-encryption"
	StepBucketPolicy      = "s3-bucket-policy"
	StepLifecycle         = "s3-lifecycle"
)

// createBucketRequest is CreateBucket's input as the API documents it.
type createBucketRequest struct {
	Bucket                    string `json:"Bucket"`
	CreateBucketConfiguration *struct {
		LocationConstraint string `json:"LocationConstraint"`
	} `json:"CreateBucketConfiguration,omitempty"`
}

// us-east-1 rejects a LocationConstraint; every other region needs one.
func locationConstraint(region string) string {
	if region == "us-east-1" {
		return ""
	}
	return region
}

type bucketStep struct {
	providers.Basic
	p Params
	c *Clients
}

// sighting is HeadBucket without an expected owner, in a region that may
// not be the bucket's, and whether the caller's own bucket list names the
// bucket: together they tell, without the account id, whether the bucket
// is missing, another account's, or the caller's and in which region.
type sighting struct {
	status int    // HeadBucket's HTTP status
	region string // where it answers: the region asked (200) or the 301's x-amz-bucket-region
	listed bool
	// decided is false when either read failed otherwise (a refused
	// listing, another partition): Check then asks as the owner.
	decided bool
}

// sight reads the sighting of the bucket, asking in region (us-east-1
// while the region is still unknown).
func (s *bucketStep) sight(region string) func(context.Context) (sighting, error) {
	region = cmp.Or(region, "us-east-1")
	return func(ctx context.Context) (sighting, error) {
		var sg sighting
		var headErr, listErr error
		var wg sync.WaitGroup
		wg.Go(func() {
			_, headErr = s.c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.p.Bucket)}, func(o *s3.Options) { o.Region = region })
		})
		wg.Go(func() {
			out, err := s.c.S3.ListBuckets(ctx, &s3.ListBucketsInput{Prefix: aws.String(s.p.Bucket)}, func(o *s3.Options) { o.Region = region })
			if listErr = err; err == nil {
				sg.listed = slices.ContainsFunc(out.Buckets, func(b types.Bucket) bool { return aws.ToString(b.Name) == s.p.Bucket })
			}
		})
		wg.Wait()
		switch sg.status = httpStatus(headErr); {
		case headErr == nil:
			sg.status, sg.region = http.StatusOK, region
		case sg.status == http.StatusMovedPermanently:
			sg.region = bucketRegionHeader(headErr)
		}
		known := sg.status == http.StatusOK || sg.status == http.StatusMovedPermanently || sg.status == http.StatusForbidden || isNotFound(headErr)
		sg.decided = listErr == nil && known && (sg.status != http.StatusMovedPermanently || sg.region != "")
		return sg, nil
	}
}

// request is the CreateBucket the step sends and shows.
func (s *bucketStep) request(region string) createBucketRequest {
	req := createBucketRequest{Bucket: s.p.Bucket}
	if lc := locationConstraint(region); lc != "" {
		req.CreateBucketConfiguration = &struct {
			LocationConstraint string `json:"LocationConstraint"`
		}{lc}
	}
	return req
}

func (s *bucketStep) Artifacts(v *providers.Values) []providers.Artifact {
	return []providers.Artifact{providers.JSONArtifact("CreateBucket (adopted instead when you already own the bucket)", s.request(v.Ref(BucketRegion)))}
}

// readHead is HeadBucket as the bucket's owner expects it.
func (s *bucketStep) readHead(v *providers.Values) func(context.Context) (struct{}, error) {
	return func(ctx context.Context) (struct{}, error) {
		_, err := s.c.S3.HeadBucket(ctx, &s3.HeadBucketInput{
			Bucket:              aws.String(s.p.Bucket),
			ExpectedBucketOwner: aws.String(v.Get(AccountID)),
		}, inRegion(v))
		return struct{}{}, err
	}
}

// readRegion is the bucket's region, as GetBucketLocation names it.
func (s *bucketStep) readRegion(v *providers.Values) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		loc, err := s.c.S3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(s.p.Bucket)}, inRegion(v))
		if err != nil {
			return "", err
		}
		return regionOf(string(loc.LocationConstraint)), nil
	}
}

// ReadsEarly implements providers.ReadsEarly: on a re-run, the bucket's
// region and owner are known; a first run knows neither the account nor,
// with a warehouse, the region yet, and asks what needs neither (the
// sighting) beside the preflight.
func (*bucketStep) ReadsEarly(*providers.Values) bool { return true }

// sighted is the request of the sighting.
const sighted = "sighting (s3:HeadBucket, s3:ListAllMyBuckets)"

// Gate implements providers.Gate: a bucket or integration byob cannot
// use (another account's or provider's, in another place) stops the run
// before any change.
func (s *bucketStep) Gate(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	_, err := s.Check(ctx, r, v)
	return err
}

func (s *bucketStep) Check(ctx context.Context, r *runenv.Run, v *providers.Values) (providers.Observation, error) {
	// What the look ahead saw of the bucket, if it asked; ahead of the
	// preflight, with no account yet, it asks what needs none.
	sg, ok, _ := runenv.Held[sighting](ctx, r, sighted)
	if v.Get(AccountID) == "" {
		sg, _ = runenv.Read(ctx, r, sighted, s.sight(v.Get(BucketRegion)))
		ok = true
	}
	if ok && sg.decided {
		switch {
		case !sg.listed && sg.status == http.StatusNotFound:
			return providers.Observation{Status: providers.Missing}, nil
		case !sg.listed:
			return providers.Observation{}, s.takenError()
		case sg.status != http.StatusForbidden && sg.region != v.Get(BucketRegion):
			return providers.Observation{}, s.elsewhere(sg.region, v)
		case sg.status != http.StatusForbidden:
			return s.found(v), nil
		}
		// The caller's own bucket refused HeadBucket: asked as its owner
		// below, which says what permission is missing.
	}
	if v.Get(AccountID) == "" {
		return providers.Observation{}, errors.New("bucket " + s.p.Bucket + " is asked as its owner once the account is known")
	}
	in := " " + s.p.Bucket + " in " + v.Get(BucketRegion) + " as " + v.Get(AccountID)
	runenv.Start(ctx, r, "s3:GetBucketLocation"+in, s.readRegion(v))
	_, err := runenv.Read(ctx, r, "s3:HeadBucket"+in, s.readHead(v))
	switch {
	case isNotFound(err):
		return providers.Observation{Status: providers.Missing}, nil
	case httpStatus(err) == http.StatusMovedPermanently:
		// S3 answers a bucket asked in another region with 301, naming its
		// region in x-amz-bucket-region.
		return providers.Observation{}, s.elsewhere(cmp.Or(bucketRegionHeader(err), "another region"), v)
	case httpStatus(err) == http.StatusForbidden:
		return providers.Observation{}, s.forbidden(ctx, r)
	case err != nil:
		return providers.Observation{}, s.c.wrap("s3:ListBucket (HeadBucket "+s.p.Bucket+")", err)
	}
	region, err := runenv.Read(ctx, r, "s3:GetBucketLocation"+in, s.readRegion(v))
	if err != nil {
		return providers.Observation{}, s.c.wrap("s3:GetBucketLocation "+s.p.Bucket, err)
	}
	if region != v.Get(BucketRegion) {
		return providers.Observation{}, s.elsewhere(region, v)
	}
	return s.found(v), nil
}

// found is the observation of the caller's bucket in its region.
func (s *bucketStep) found(v *providers.Values) providers.Observation {
	obs := providers.Observation{Status: providers.Done}
	if !providers.Owned(v, StepBucket) {
		obs.Reason = "adopted the existing bucket " + s.p.Bucket + " you own; its settings are reconciled, its objects left alone"
	}
	return obs
}

func (s *bucketStep) elsewhere(region string, v *providers.Values) error {
	return providers.Mismatchf("bucket %s is in %s, not %s: re-run with --region %s or choose another --bucket", s.p.Bucket, region, v.Get(BucketRegion), region)
}

func (s *bucketStep) takenError() error {
	return providers.Mismatchf("bucket name %q belongs to another AWS account: choose another --bucket", s.p.Bucket)
}

// forbidden tells apart the two reasons S3 refuses HeadBucket: the bucket
// is another account's, or the caller may not list its own. The account's
// bucket list (s3:ListAllMyBuckets, a read of the run) says which; without
// it, both are named.
func (s *bucketStep) forbidden(ctx context.Context, r *runenv.Run) error {
	listed, err := runenv.Read(ctx, r, "s3:ListAllMyBuckets "+s.p.Bucket, s.listed)
	switch {
	case err != nil:
		return providers.Mismatchf("bucket %s refused s3:ListBucket (HeadBucket): either it belongs to another AWS account (choose another --bucket), "+
			"or %s lacks s3:ListBucket on it (grant it); s3:ListAllMyBuckets, also refused, would tell which", s.p.Bucket, s.c.caller())
	case listed:
		return &AccessDeniedError{Action: "s3:ListBucket (HeadBucket " + s.p.Bucket + ")", Caller: s.c.caller(),
			Err: fmt.Errorf("bucket %s is this account's", s.p.Bucket)}
	}
	return s.takenError()
}

// listed reports whether the caller's own bucket list names the bucket.
func (s *bucketStep) listed(ctx context.Context) (bool, error) {
	p := s3.NewListBucketsPaginator(s.c.S3, &s3.ListBucketsInput{Prefix: aws.String(s.p.Bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return false, err
		}
		if slices.ContainsFunc(page.Buckets, func(b types.Bucket) bool { return aws.ToString(b.Name) == s.p.Bucket }) {
			return true, nil
		}
	}
	return false, nil
}

// regionOf is the region of a bucket whose GetBucketLocation answered
// constraint: none is us-east-1, and the legacy EU is eu-west-1.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html
func regionOf(constraint string) string {
	switch constraint {
	case "":
		return "us-east-1"
	case "EU":
		return "eu-west-1"
	}
	return constraint
}

// bucketRegionHeader is the region S3 names in a 301's x-amz-bucket-region,
// "" when it names none.
func bucketRegionHeader(err error) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.Header.Get("x-amz-bucket-region")
	}
	return ""
}

func (s *bucketStep) Apply(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	req := s.request(v.Get(BucketRegion))
	in := &s3.CreateBucketInput{Bucket: aws.String(req.Bucket)}
	if c := req.CreateBucketConfiguration; c != nil {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(c.LocationConstraint)}
	}
	_, err := s.c.S3.CreateBucket(ctx, in, inRegion(v))
	switch errorCode(err) {
	case "BucketAlreadyOwnedByYou":
		// Check found no bucket a moment ago: this is the answer to the
		// SDK's retry of a CreateBucket whose first answer was lost.
		return nil
	case "BucketAlreadyExists":
		return s.takenError()
	}
	return s.c.wrap("s3:CreateBucket "+s.p.Bucket, err)
}

// setting is a step that keeps a setting of the bucket: its read goes
// ahead once the bucket's region is known (a bucket not there yet has no
// settings).
type setting struct{}

// ReadsEarly implements providers.ReadsEarly.
func (setting) ReadsEarly(v *providers.Values) bool { return v.Get(BucketRegion) != "" }

// bucketRead is the run's answer to the read what of the bucket's
// settings, in the bucket's region.
func bucketRead[T any](ctx context.Context, r *runenv.Run, v *providers.Values, what string, read func(context.Context) (T, error)) (T, error) {
	return runenv.Read(ctx, r, what+" in "+v.Get(BucketRegion), read)
}

type publicAccessBlockStep struct {
	providers.Basic
	p Params
	c *Clients
	setting
}

// get reads the public access block; nil when there is none.
func (s *publicAccessBlockStep) get(v *providers.Values) func(context.Context) (*types.PublicAccessBlockConfiguration, error) {
	return func(ctx context.Context) (*types.PublicAccessBlockConfiguration, error) {
		out, err := s.c.S3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(s.p.Bucket)}, inRegion(v))
		switch {
		case errorCode(err) == "NoSuchPublicAccessBlockConfiguration", isNotFound(err):
			return nil, nil
		case err != nil:
			return nil, s.c.wrap("s3:GetBucketPublicAccessBlock "+s.p.Bucket, err)
		}
		return out.PublicAccessBlockConfiguration, nil
	}
}

func (s *publicAccessBlockStep) Artifacts(*providers.Values) []providers.Artifact {
	return []providers.Artifact{providers.JSONArtifact("PutPublicAccessBlock", templates.BlockAllPublicAccess())}
}

func (s *publicAccessBlockStep) Check(ctx context.Context, r *runenv.Run, v *providers.Values) (providers.Observation, error) {
	c, err := bucketRead(ctx, r, v, "s3:GetPublicAccessBlock", s.get(v))
	if err != nil {
		return providers.Observation{}, err
	}
	if c == nil {
		return providers.Observation{Status: providers.Missing}, nil
	}
	var off []string
	for name, on := range map[string]*bool{"BlockPublicAcls": c.BlockPublicAcls, "IgnorePublicAcls": c.IgnorePublicAcls,
		"BlockPublicPolicy": c.BlockPublicPolicy, "RestrictPublicBuckets": c.RestrictPublicBuckets} {
		if !aws.ToBool(on) {
			off = append(off, name)
		}
	}
	if len(off) == 0 {
		return providers.Observation{Status: providers.Done}, nil
	}
	slices.Sort(off)
	what := "setting " + off[0] + " is"
	if len(off) > 1 {
		what = "settings " + prose.And(off) + " are"
	}
	return providers.Observation{Status: providers.Drifted, Reason: "public access block " + what + " off: all four are turned on"}, nil
}

func (s *publicAccessBlockStep) Apply(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	b := templates.BlockAllPublicAccess()
	_, err := s.c.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
		Bucket: aws.String(s.p.Bucket),
		PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(b.BlockPublicAcls), IgnorePublicAcls: aws.Bool(b.IgnorePublicAcls),
			BlockPublicPolicy: aws.Bool(b.BlockPublicPolicy), RestrictPublicBuckets: aws.Bool(b.RestrictPublicBuckets),
		},
	}, inRegion(v))
	return s.c.wrap("s3:PutBucketPublicAccessBlock "+s.p.Bucket, err)
}

type encryptionStep struct {
	providers.Basic
	p Params
	c *Clients
	setting
}

// get reads the default encryption; nil when there is none.
func (s *encryptionStep) get(v *providers.Values) func(context.Context) (*types.ServerSideEncryptionConfiguration, error) {
	return func(ctx context.Context) (*types.ServerSideEncryptionConfiguration, error) {
		out, err := s.c.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(s.p.Bucket)}, inRegion(v))
		switch {
		case errorCode(err) == "ServerSideEncryptionConfigurationNotFoundError", isNotFound(err):
			return nil, nil
		case err != nil:
			return nil, s.c.wrap("s3:GetEncryptionConfiguration "+s.p.Bucket, err)
		}
		return out.ServerSideEncryptionConfiguration, nil
	}
}

func (s *encryptionStep) Artifacts(*providers.Values) []providers.Artifact {
	return []providers.Artifact{providers.JSONArtifact("PutBucketEncryption", templates.DefaultEncryption())}
}

// Check accepts SSE-S3 or a stronger KMS default that is already there.
func (s *encryptionStep) Check(ctx context.Context, r *runenv.Run, v *providers.Values) (providers.Observation, error) {
	c, err := bucketRead(ctx, r, v, "s3:GetBucketEncryption", s.get(v))
	if err != nil {
		return providers.Observation{}, err
	}
	if c != nil {
		for _, r := range c.Rules {
			if d := r.ApplyServerSideEncryptionByDefault; d != nil && d.SSEAlgorithm != "" {
				return providers.Observation{Status: providers.Done}, nil
			}
		}
	}
	return providers.Observation{Status: providers.Missing}, nil
}

func (s *encryptionStep) Apply(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	var rules []types.ServerSideEncryptionRule
	for _, r := range templates.DefaultEncryption().Rules {
		rules = append(rules, types.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{
			SSEAlgorithm: types.ServerSideEncryption(r.ApplyServerSideEncryptionByDefault.SSEAlgorithm)}})
	}
	_, err := s.c.S3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
		Bucket:                            aws.String(s.p.Bucket),
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: rules},
	}, inRegion(v))
	return s.c.wrap("s3:PutEncryptionConfiguration "+s.p.Bucket, err)
}

type bucketPolicyStep struct {
	providers.Basic
	p Params
	c *Clients
	setting
}

func (s *bucketPolicyStep) Artifacts(*providers.Values) []providers.Artifact {
	return []providers.Artifact{{Name: "PutBucketPolicy (statement merged into an existing policy)", Format: providers.FormatJSON, Content: templates.TLSOnlyBucketPolicy(s.p.S3Bucket()).JSON(),
		Value: templates.TLSOnlyBucketPolicy(s.p.S3Bucket())}}
}

// get reads the bucket policy; "" when there is none.
func (s *bucketPolicyStep) get(v *providers.Values) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		out, err := s.c.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(s.p.Bucket)}, inRegion(v))
		switch {
		case errorCode(err) == "NoSuchBucketPolicy", isNotFound(err):
			return "", nil
		case err != nil:
			return "", s.c.wrap("s3:GetBucketPolicy "+s.p.Bucket, err)
		}
		return aws.ToString(out.Policy), nil
	}
}

func (s *bucketPolicyStep) Check(ctx context.Context, r *runenv.Run, v *providers.Values) (providers.Observation, error) {
	cur, err := bucketRead(ctx, r, v, "s3:GetBucketPolicy", s.get(v))
	if err != nil {
		return providers.Observation{}, err
	}
	if cur == "" {
		return providers.Observation{Status: providers.Missing}, nil
	}
	if _, has := templates.MergeStatement(cur, templates.TLSOnlyBucketPolicy(s.p.S3Bucket()).Statement[0]); has {
		return providers.Observation{Status: providers.Done}, nil
	}
	return providers.Observation{Status: providers.Drifted, Reason: "the bucket policy does not deny requests without TLS"}, nil
}

func (s *bucketPolicyStep) Apply(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	cur, err := bucketRead(ctx, r, v, "s3:GetBucketPolicy", s.get(v))
	if err != nil {
		return err
	}
	doc := templates.TLSOnlyBucketPolicy(s.p.S3Bucket()).JSON()
	if cur != "" {
		merged, _ := templates.MergeStatement(cur, templates.TLSOnlyBucketPolicy(s.p.S3Bucket()).Statement[0])
		if merged == "" {
			return fmt.Errorf("bucket %s has a policy byob cannot read as JSON; add the statement shown by --dry-run by hand", s.p.Bucket)
		}
		doc = merged
	}
	_, err = s.c.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(s.p.Bucket), Policy: aws.String(doc)}, inRegion(v))
	return s.c.wrap("s3:PutBucketPolicy "+s.p.Bucket, err)
}

type lifecycleStep struct {
	providers.Basic
	p Params
	c *Clients
	setting
}

func (s *lifecycleStep) rule() templates.LifecycleRule {
	return templates.ExpirePrefix(s.p.Prefix, s.p.TTLDays)
}

func (s *lifecycleStep) Artifacts(*providers.Values) []providers.Artifact {
	return []providers.Artifact{providers.JSONArtifact("PutBucketLifecycleConfiguration (rule merged with existing rules)",
		templates.Lifecycle{Rules: []templates.LifecycleRule{s.rule()}})}
}

// rules reads the bucket's lifecycle rules.
func (s *lifecycleStep) rules(v *providers.Values) func(context.Context) ([]types.LifecycleRule, error) {
	return func(ctx context.Context) ([]types.LifecycleRule, error) {
		out, err := s.c.S3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(s.p.Bucket)}, inRegion(v))
		switch {
		case errorCode(err) == "NoSuchLifecycleConfiguration", isNotFound(err):
			return nil, nil
		case err != nil:
			return nil, s.c.wrap("s3:GetLifecycleConfiguration "+s.p.Bucket, err)
		}
		return out.Rules, nil
	}
}

func (s *lifecycleStep) Check(ctx context.Context, r *runenv.Run, v *providers.Values) (providers.Observation, error) {
	rules, err := bucketRead(ctx, r, v, "s3:GetBucketLifecycleConfiguration", s.rules(v))
	if err != nil {
		return providers.Observation{}, err
	}
	i := slices.IndexFunc(rules, func(r types.LifecycleRule) bool { return aws.ToString(r.ID) == templates.ExpireRuleID })
	if i < 0 {
		return providers.Observation{Status: providers.Missing}, nil
	}
	if s.matches(rules[i]) {
		return providers.Observation{Status: providers.Done}, nil
	}
	return providers.Observation{Status: providers.Drifted, Reason: fmt.Sprintf("lifecycle rule %s %s; byob's expires %s and its noncurrent versions after %s and aborts incomplete uploads after %s",
		templates.ExpireRuleID, describeRule(rules[i]), s.p.Prefix, prose.Count(s.p.TTLDays, "day"), prose.Count(templates.AbortUploadDays, "day"))}, nil
}

// describeRule says what a lifecycle rule does now.
func describeRule(r types.LifecycleRule) string {
	if r.Status != types.ExpirationStatusEnabled {
		return "is " + strings.ToLower(string(r.Status))
	}
	//lint:ignore SA1019 the deprecated top-level filter, which old rules still carry
	prefix := aws.ToString(r.Prefix)
	if f := r.Filter; f != nil && f.Prefix != nil {
		prefix = *f.Prefix
	} else if f != nil && f.And != nil && f.And.Prefix != nil {
		prefix = *f.And.Prefix + " (and tags)"
	} else if f != nil && (f.Tag != nil || f.And != nil || f.ObjectSizeGreaterThan != nil || f.ObjectSizeLessThan != nil) {
		prefix = "objects of some tags or sizes"
	}
	if prefix == "" {
		prefix = "the whole bucket"
	}
	var does []string
	switch e := r.Expiration; {
	case e != nil && e.Days != nil:
		does = append(does, "objects after "+prose.Count(int(*e.Days), "day"))
	case e != nil && e.Date != nil:
		does = append(does, "objects on "+e.Date.Format(time.DateOnly))
	case e != nil && aws.ToBool(e.ExpiredObjectDeleteMarker):
		does = append(does, "expired delete markers")
	}
	if r.NoncurrentVersionExpiration != nil && r.NoncurrentVersionExpiration.NoncurrentDays != nil {
		does = append(does, "noncurrent versions after "+prose.Count(int(*r.NoncurrentVersionExpiration.NoncurrentDays), "day"))
	}
	if r.AbortIncompleteMultipartUpload != nil && r.AbortIncompleteMultipartUpload.DaysAfterInitiation != nil {
		does = append(does, "incomplete uploads after "+prose.Count(int(*r.AbortIncompleteMultipartUpload.DaysAfterInitiation), "day"))
	}
	if len(does) == 0 {
		return "on " + prefix + " expires nothing"
	}
	return "on " + prefix + " expires " + prose.And(does)
}

func (s *lifecycleStep) matches(r types.LifecycleRule) bool {
	want := s.rule()
	prefix := ""
	if r.Filter != nil && r.Filter.Prefix != nil {
		prefix = aws.ToString(r.Filter.Prefix)
	}
	return string(r.Status) == want.Status && prefix == want.Filter.Prefix &&
		r.Expiration != nil && aws.ToInt32(r.Expiration.Days) == int32(want.Expiration.Days) &&
		r.NoncurrentVersionExpiration != nil && aws.ToInt32(r.NoncurrentVersionExpiration.NoncurrentDays) == int32(want.NoncurrentVersionExpiration.NoncurrentDays) &&
		r.AbortIncompleteMultipartUpload != nil && aws.ToInt32(r.AbortIncompleteMultipartUpload.DaysAfterInitiation) == int32(want.AbortIncompleteMultipartUpload.DaysAfterInitiation)
}

func (s *lifecycleStep) Apply(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	rules, err := bucketRead(ctx, r, v, "s3:GetBucketLifecycleConfiguration", s.rules(v))
	if err != nil {
		return err
	}
	want := s.rule()
	rules = slices.DeleteFunc(slices.Clone(rules), func(old types.LifecycleRule) bool { return aws.ToString(old.ID) == want.ID }) // the read is shared
	rules = append(rules, types.LifecycleRule{
		ID:         aws.String(want.ID),
		Status:     types.ExpirationStatus(want.Status),
		Filter:     &types.LifecycleRuleFilter{Prefix: aws.String(want.Filter.Prefix)},
		Expiration: &types.LifecycleExpiration{Days: aws.Int32(int32(want.Expiration.Days))},
		NoncurrentVersionExpiration: &types.NoncurrentVersionExpiration{
			NoncurrentDays: aws.Int32(int32(want.NoncurrentVersionExpiration.NoncurrentDays))},
		AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{
			DaysAfterInitiation: aws.Int32(int32(want.AbortIncompleteMultipartUpload.DaysAfterInitiation))},
	})
	_, err = s.c.S3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket:                 aws.String(s.p.Bucket),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: rules},
	}, inRegion(v))
	return s.c.wrap("s3:PutLifecycleConfiguration "+s.p.Bucket, err)
}

// inRegion sends an S3 call to the bucket's region.
func inRegion(v *providers.Values) func(*s3.Options) {
	region := v.Get(BucketRegion)
	return func(o *s3.Options) {
		if region != "" {
			o.Region = region
		}
	}
}
