package wizard_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	s3controltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
	iamapi "google.golang.org/api/iam/v1"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/gcsbucket/gcptest"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/s3bucket/awstest"
	"github.com/growthloop/byob/providers/snowflakestage"
	"github.com/growthloop/byob/wizard"
)

// TestVerifyFindsWhoElseCanReachTheBucket plants one exposure at a time
// on a healthy S3 setup: each is a failure (the account's public access
// block a warning) with the exact fix, and nothing else is flagged.
func TestVerifyFindsWhoElseCanReachTheBucket(t *testing.T) {
	ctx := context.Background()
	policy := func(t *testing.T, e *env, cfg wizard.Config, statement string) {
		inRegion := func(o *s3.Options) { o.Region = s3bucket.SettingsOf(&cfg).Region }
		out, err := e.admin.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(cfg.Bucket)}, inRegion)
		must(t, err)
		var p map[string]any
		must(t, json.Unmarshal([]byte(aws.ToString(out.Policy)), &p))
		var st any
		must(t, json.Unmarshal([]byte(statement), &st))
		p["Statement"] = append(p["Statement"].([]any), st)
		b, _ := json.Marshal(p)
		_, err = e.admin.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(cfg.Bucket), Policy: aws.String(string(b))}, inRegion)
		must(t, err)
	}
	ownership := func(t *testing.T, e *env, cfg wizard.Config, o s3types.ObjectOwnership) {
		_, err := e.admin.S3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String(cfg.Bucket),
			OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: o}}}}, func(o *s3.Options) { o.Region = s3bucket.SettingsOf(&cfg).Region })
		must(t, err)
	}
	cases := []struct {
		name    string
		plant   func(t *testing.T, e *env, cfg wizard.Config)
		failing []string // the checks that fail; the first with detail and remedy
		warn    string   // or the check that warns
		detail  string
		remedy  string
	}{
		{"a public statement", func(t *testing.T, e *env, cfg wizard.Config) {
			policy(t, e, cfg, `{"Sid":"Anyone","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::`+cfg.Bucket+`/*"}`)
		}, []string{s3bucket.CheckPolicyPrivate}, "", "statement Anyone allows anyone (*)", "aws s3api put-bucket-policy --bucket " + "acme-exports-"},
		{"another account", func(t *testing.T, e *env, cfg wizard.Config) {
			policy(t, e, cfg, `{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::`+cfg.Bucket+`/*"}`)
		}, []string{s3bucket.CheckPolicyPrivate}, "", "statement Partner allows AWS account 444455556666", `DenyInsecureTransport`},
		{"another account's role on other keys", func(t *testing.T, e *env, cfg wizard.Config) {
			policy(t, e, cfg, `{"Sid":"Reports","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/reader"},"Action":["s3:GetObject","s3:ListBucket"],`+
				`"Resource":["arn:aws:s3:::`+cfg.Bucket+`/reports/*","arn:aws:s3:::`+cfg.Bucket+`"],"Condition":{"StringLike":{"s3:prefix":"reports/*"}}}`)
		}, nil, s3bucket.CheckPolicyPrivate, "statement Reports allows AWS account 444455556666, on keys outside exports/ only", "if they need no access: aws s3api put-bucket-policy"},
		{"another account's role through a wildcard", func(t *testing.T, e *env, cfg wizard.Config) {
			policy(t, e, cfg, `{"Sid":"Reports","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/reader"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::`+cfg.Bucket+`/*ports/*"}`)
		}, []string{s3bucket.CheckPolicyPrivate}, "", "statement Reports allows AWS account 444455556666, reaching the exports under exports/", "DenyInsecureTransport"},
		{"ACLs on", func(t *testing.T, e *env, cfg wizard.Config) {
			ownership(t, e, cfg, s3types.ObjectOwnershipObjectWriter)
		}, []string{s3bucket.StepObjectOwnership}, "", "ACLs are on (Object Ownership ObjectWriter)", "byob init"},
		{"a public ACL", func(t *testing.T, e *env, cfg wizard.Config) {
			ownership(t, e, cfg, s3types.ObjectOwnershipBucketOwnerPreferred)
			_, err := e.admin.S3.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(cfg.Bucket), ACL: s3types.BucketCannedACLPublicRead},
				func(o *s3.Options) { o.Region = s3bucket.SettingsOf(&cfg).Region })
			must(t, err)
		}, []string{s3bucket.CheckACLPrivate, s3bucket.StepObjectOwnership}, "", "the ACL grants READ to AllUsers (anyone)", "aws s3api put-bucket-acl --bucket acme-exports-"},
		{"the account's public access block off", func(t *testing.T, e *env, cfg wizard.Config) {
			_, err := s3Control(e).DeletePublicAccessBlock(ctx, &s3control.DeletePublicAccessBlockInput{AccountId: aws.String(awstest.AccountID)})
			must(t, err)
		}, nil, s3bucket.CheckAccountPublicAccess, "account " + awstest.AccountID + " has no public access block", "aws s3control put-public-access-block --account-id " + awstest.AccountID},
		{"two of the account's settings off", func(t *testing.T, e *env, cfg wizard.Config) {
			pab := s3controlPublicAccessBlock()
			pab.BlockPublicPolicy, pab.RestrictPublicBuckets = aws.Bool(false), aws.Bool(false)
			_, err := s3Control(e).PutPublicAccessBlock(ctx, &s3control.PutPublicAccessBlockInput{AccountId: aws.String(awstest.AccountID), PublicAccessBlockConfiguration: &pab})
			must(t, err)
		}, nil, s3bucket.CheckAccountPublicAccess, "account " + awstest.AccountID + " has BlockPublicPolicy, RestrictPublicBuckets off", "BlockPublicPolicy=true"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, cfg := healthyS3(t)
			tc.plant(t, e, cfg)
			t.Cleanup(func() { // the account's setting outlives the test
				_, _ = s3Control(e).PutPublicAccessBlock(ctx, &s3control.PutPublicAccessBlockInput{AccountId: aws.String(awstest.AccountID),
					PublicAccessBlockConfiguration: &s3controlPAB})
			})
			rep := verify(t, cfg, e.deps, wizard.VerifyOptions{})
			bad := failing(rep)
			var ids []string
			for id := range bad {
				ids = append(ids, id)
			}
			if !slices.Equal(slices.Sorted(slices.Values(ids)), slices.Sorted(slices.Values(tc.failing))) || rep.OK != (len(tc.failing) == 0) {
				t.Fatalf("failing %v, want %v (ok %v)", ids, tc.failing, rep.OK)
			}
			id := tc.warn
			if id == "" {
				id = tc.failing[0]
			}
			got := find(rep, id)
			if tc.warn != "" && got.Status != providers.Warn {
				t.Errorf("%s: %s, want a warning", id, got.Status)
			}
			if !strings.Contains(got.Detail, tc.detail) || !strings.Contains(got.Remedy, tc.remedy) {
				t.Errorf("%s: detail %q remedy %q; want %q and %q", id, got.Detail, got.Remedy, tc.detail, tc.remedy)
			}
		})
	}
}

var s3controlPAB = s3controlPublicAccessBlock()

// TestInitTurnsACLsOffAsConfirmedDrift: an adopted bucket with ACLs on is
// reconciled (drift, so a person is asked first); one whose ACL grants
// others is left, with the command that removes the grants.
func TestInitTurnsACLsOffAsConfirmedDrift(t *testing.T) {
	ctx := context.Background()
	e, cfg := healthyS3(t)
	inRegion := func(o *s3.Options) { o.Region = s3bucket.SettingsOf(&cfg).Region }
	_, err := e.admin.S3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String(cfg.Bucket),
		OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipObjectWriter}}}}, inRegion)
	must(t, err)
	_, err = e.admin.S3.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(cfg.Bucket), ACL: s3types.BucketCannedACLAuthenticatedRead}, inRegion)
	must(t, err)
	_, err = e.apply(cfg)
	if err == nil || !strings.Contains(err.Error(), "aws s3api put-bucket-acl --bucket "+cfg.Bucket+" --acl private") {
		t.Fatalf("apply over an ACL that grants others: %v", err)
	}
	drifted := slices.ContainsFunc(e.events, func(ev wizard.Event) bool {
		return ev.Step == s3bucket.StepObjectOwnership && ev.Kind == wizard.EventDrift
	})
	if !drifted {
		t.Error("turning ACLs off must be shown as drift first")
	}
	_, err = e.admin.S3.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(cfg.Bucket), ACL: s3types.BucketCannedACLPrivate}, inRegion)
	must(t, err)
	e.mustApply(cfg)
	out, err := e.admin.S3.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(cfg.Bucket)}, inRegion)
	if err != nil || out.OwnershipControls.Rules[0].ObjectOwnership != s3types.ObjectOwnershipBucketOwnerEnforced {
		t.Errorf("ownership %+v %v", out, err)
	}
}

// s3Control is an S3 Control client of the fake, to plant the account's
// settings: the SDK puts the account id in front of a configured
// endpoint's host, which the fake's address has not.
func s3Control(e *env) *s3control.Client {
	return s3control.NewFromConfig(e.aws.Config(), func(o *s3control.Options) { o.EndpointResolverV2 = givenEndpoint{o.EndpointResolverV2} })
}

type givenEndpoint struct{ s3control.EndpointResolverV2 }

func (r givenEndpoint) ResolveEndpoint(ctx context.Context, p s3control.EndpointParameters) (smithyendpoints.Endpoint, error) {
	e, err := r.EndpointResolverV2.ResolveEndpoint(ctx, p)
	if err == nil && p.AccountId != nil {
		e.URI.Host = strings.TrimPrefix(e.URI.Host, *p.AccountId+".")
	}
	return e, err
}

func s3controlPublicAccessBlock() s3controltypes.PublicAccessBlockConfiguration {
	on := aws.Bool(true)
	return s3controltypes.PublicAccessBlockConfiguration{BlockPublicAcls: on, IgnorePublicAcls: on, BlockPublicPolicy: on, RestrictPublicBuckets: on}
}

// TestVerifyFindsWhoElseCanReachTheGCSBucket: allUsers on the bucket is a
// failure with the command that removes it; another principal reading the
// objects (directly, or through a custom role) is a warning that names it
// and its role; the project's own owners and viewers are not.
func TestVerifyFindsWhoElseCanReachTheGCSBucket(t *testing.T) {
	e := newGCSEnv(t)
	cfg := e.config(snowflakestage.Name)
	e.mustApply(cfg)
	healthy := e.gcp.Bindings(cfg.Bucket)
	with := func(extra ...gcptest.Binding) {
		e.gcp.SetBindings(cfg.Bucket, append(slices.Clone(healthy), extra...))
	}
	with(gcptest.Binding{Role: "roles/storage.legacyBucketReader", Members: []string{"projectViewer:" + gcptest.Project}})
	if rep := verify(t, cfg, e.deps, wizard.VerifyOptions{}); !rep.OK || find(rep, gcsbucket.CheckOtherReaders).Status != providers.Pass || find(rep, gcsbucket.CheckNoPublicAccess).Status != providers.Pass {
		t.Fatalf("healthy: %+v %+v", find(rep, gcsbucket.CheckOtherReaders), failing(rep))
	}

	with(gcptest.Binding{Role: "roles/storage.objectViewer", Members: []string{"allUsers"}})
	rep := verify(t, cfg, e.deps, wizard.VerifyOptions{})
	c := find(rep, gcsbucket.CheckNoPublicAccess)
	if rep.OK || c.Status != providers.Fail || !strings.Contains(c.Detail, "allUsers holds roles/storage.objectViewer") ||
		c.Remedy != "gcloud storage buckets remove-iam-policy-binding gs://"+cfg.Bucket+" --member=allUsers --role=roles/storage.objectViewer" {
		t.Errorf("allUsers: %+v", c)
	}
	if bad := failing(rep); len(bad) != 1 {
		t.Errorf("only the public binding fails: %v", bad)
	}

	// Conditions on the resource name narrow a binding to other objects:
	// public access there warns, another reader there passes.
	reports := &gcptest.Condition{Title: "reports only", Expression: `resource.name.startsWith("projects/_/buckets/` + cfg.Bucket + `/objects/reports/")`}
	with(gcptest.Binding{Role: "roles/storage.objectViewer", Members: []string{"allUsers"}, Condition: reports},
		gcptest.Binding{Role: "roles/storage.objectViewer", Members: []string{"user:reporter@acme.com"}, Condition: reports})
	rep = verify(t, cfg, e.deps, wizard.VerifyOptions{})
	if c := find(rep, gcsbucket.CheckNoPublicAccess); !rep.OK || c.Status != providers.Warn || !strings.Contains(c.Detail, "allUsers holds roles/storage.objectViewer where resource.name.startsWith") ||
		!strings.Contains(c.Detail, "outside exports/ only") {
		t.Errorf("allUsers on other objects: %+v", c)
	}
	if c := find(rep, gcsbucket.CheckOtherReaders); c.Status != providers.Pass || !strings.Contains(c.Detail, "user:reporter@acme.com (roles/storage.objectViewer) read only objects outside exports/") {
		t.Errorf("a reader of other objects: %+v", c)
	}
	exports := &gcptest.Condition{Title: "exports", Expression: `resource.name.startsWith("projects/_/buckets/` + cfg.Bucket + `/objects/exp")`}
	with(gcptest.Binding{Role: "roles/storage.objectViewer", Members: []string{"allUsers"}, Condition: exports})
	if c := find(verify(t, cfg, e.deps, wizard.VerifyOptions{}), gcsbucket.CheckNoPublicAccess); c.Status != providers.Fail {
		t.Errorf("allUsers on a prefix that takes in the exports: %+v", c)
	}

	_, err := e.admin.IAM.Projects.Roles.Create("projects/"+gcptest.Project, &iamapi.CreateRoleRequest{RoleId: "auditor",
		Role: &iamapi.Role{IncludedPermissions: []string{"storage.objects.list"}}}).Do()
	must(t, err)
	with(gcptest.Binding{Role: "roles/storage.objectViewer", Members: []string{"user:alice@acme.com"}},
		gcptest.Binding{Role: "projects/" + gcptest.Project + "/roles/auditor", Members: []string{"group:audit@acme.com"}},
		gcptest.Binding{Role: "roles/storage.objectCreator", Members: []string{"user:uploader@acme.com"}})
	rep = verify(t, cfg, e.deps, wizard.VerifyOptions{})
	c = find(rep, gcsbucket.CheckOtherReaders)
	if !rep.OK || c.Status != providers.Warn || !strings.Contains(c.Detail, "user:alice@acme.com (roles/storage.objectViewer)") ||
		!strings.Contains(c.Detail, "group:audit@acme.com (projects/"+gcptest.Project+"/roles/auditor)") || strings.Contains(c.Detail, "uploader") ||
		!strings.Contains(c.Remedy, "--member=user:alice@acme.com --role=roles/storage.objectViewer") {
		t.Errorf("other readers: %+v", c)
	}
}

// TestVerifyFindsWhoElseCanReachTheSnowflakeObjects: an integration
// allowed beyond the bucket's prefix fails with the ALTER that narrows it;
// another role using the integration or the stage is a warning naming the
// REVOKE; GrowthLoop's role and the owner are not flagged.
func TestVerifyFindsWhoElseCanReachTheSnowflakeObjects(t *testing.T) {
	for _, broader := range []string{"*", "s3://"} {
		e, cfg := healthyS3(t)
		in := e.sf.Integration(snowflakestage.SettingsOf(&cfg).Integration)
		in.AllowedLocations = []string{broader + map[string]string{"*": "", "s3://": cfg.Bucket + "/"}[broader]}
		e.sf.SetIntegration(snowflakestage.SettingsOf(&cfg).Integration, *in)
		rep := verify(t, cfg, e.deps, wizard.VerifyOptions{})
		c := find(rep, snowflakestage.StepIntegration)
		if rep.OK || c.Status != providers.Fail || !strings.Contains(c.Detail, "STORAGE_ALLOWED_LOCATIONS") ||
			!strings.Contains(c.Remedy, "STORAGE_ALLOWED_LOCATIONS = ('s3://"+cfg.Bucket+"/"+cfg.Prefix+"')") {
			t.Errorf("allowed %s: %+v", in.AllowedLocations, c)
		}
	}

	e, cfg := healthyS3(t)
	if c := find(verify(t, cfg, e.deps, wizard.VerifyOptions{}), snowflakestage.CheckOtherGrants); c.Status != providers.Pass {
		t.Fatalf("healthy: %+v", c)
	}
	e.sf.Grant("ANALYST", "USAGE", "INTEGRATION", snowflakestage.SettingsOf(&cfg).Integration)
	e.sf.Grant("ANALYST", "USAGE", "STAGE", "ANALYTICS.FLYWHEEL_SYSTEM.FLYWHEEL_EXTERNAL_STAGE")
	rep := verify(t, cfg, e.deps, wizard.VerifyOptions{})
	c := find(rep, snowflakestage.CheckOtherGrants)
	if !rep.OK || c.Status != providers.Warn ||
		!strings.Contains(c.Detail, "role ANALYST has USAGE on integration "+snowflakestage.SettingsOf(&cfg).Integration) ||
		!strings.Contains(c.Detail, "role ANALYST has USAGE on stage ANALYTICS.FLYWHEEL_SYSTEM.FLYWHEEL_EXTERNAL_STAGE") ||
		!strings.Contains(c.Remedy, `REVOKE USAGE ON INTEGRATION "`+snowflakestage.SettingsOf(&cfg).Integration+`" FROM ROLE "ANALYST"`) {
		t.Errorf("another role: %+v", c)
	}
}
