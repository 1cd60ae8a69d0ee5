//go:build live

package live

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"google.golang.org/api/iterator"

	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/snowflakestage"
	"github.com/growthloop/byob/snowflake"
)

// What a run names: the bucket byob-live-<id>-<cloud>, IAM and Google
// names from --name lv<id>, Snowflake objects BYOB_LIVE_<...>.
var (
	liveIAM     = regexp.MustCompile(`^lv[0-9a-f]{6}-byob-|^byob-live-[0-9a-f]{6}-`)
	liveGCP     = regexp.MustCompile(`^lv[0-9a-f]{6}[-_]byob`)
	liveBucket  = regexp.MustCompile(`^byob-live-[0-9a-f]{6}-`)
	liveSQLName = regexp.MustCompile(`^BYOB_LIVE_`)
)

// sweepAge is how old a leftover must be before the sweeper deletes it,
// so that it never takes a running suite's resources
// (BYOB_LIVE_SWEEP_AGE, default 1h).
func sweepAge(t *testing.T) time.Duration {
	if s := os.Getenv("BYOB_LIVE_SWEEP_AGE"); s != "" {
		d, err := time.ParseDuration(s)
		must(t, err, "BYOB_LIVE_SWEEP_AGE")
		return d
	}
	return time.Hour
}

// TestSweep deletes what interrupted runs left behind: every resource
// named as the suite names them and older than the sweep age, in each
// cloud whose credentials are present.
func TestSweep(t *testing.T) {
	age := sweepAge(t)
	t.Run("aws", func(t *testing.T) { sweepAWS(t, newRun(t, "aws"), age) })
	t.Run("gcp", func(t *testing.T) { sweepGCP(t, newRun(t, "gcp"), age) })
	t.Run("snowflake", func(t *testing.T) { sweepSnowflake(t, newRun(t, "snowflake"), age) })
}

func old(created *time.Time, age time.Duration) bool {
	return created != nil && time.Since(*created) >= age
}

// sweepAWS removes users (their keys and attachments first), roles,
// policies (their versions first) and buckets (their objects first).
func sweepAWS(t *testing.T, r *run, age time.Duration) {
	ctx := context.Background()
	c := iam.NewFromConfig(r.aws)
	users, err := c.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(1000)})
	must(t, err, "ListUsers")
	for _, u := range users.Users {
		name := aws.ToString(u.UserName)
		if !liveIAM.MatchString(name) || !old(u.CreateDate, age) {
			continue
		}
		if keys, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: u.UserName}); err == nil {
			for _, k := range keys.AccessKeyMetadata {
				_, _ = c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: u.UserName, AccessKeyId: k.AccessKeyId})
			}
		}
		if att, err := c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: u.UserName}); err == nil {
			for _, p := range att.AttachedPolicies {
				_, _ = c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: u.UserName, PolicyArn: p.PolicyArn})
			}
		}
		_, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: u.UserName})
		report(t, "IAM user "+name, err)
	}
	roles, err := c.ListRoles(ctx, &iam.ListRolesInput{MaxItems: aws.Int32(1000)})
	must(t, err, "ListRoles")
	for _, ro := range roles.Roles {
		name := aws.ToString(ro.RoleName)
		if !liveIAM.MatchString(name) || !old(ro.CreateDate, age) {
			continue
		}
		if att, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: ro.RoleName}); err == nil {
			for _, p := range att.AttachedPolicies {
				_, _ = c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: ro.RoleName, PolicyArn: p.PolicyArn})
			}
		}
		_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: ro.RoleName})
		report(t, "IAM role "+name, err)
	}
	policies, err := c.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: "Local", MaxItems: aws.Int32(1000)})
	must(t, err, "ListPolicies")
	for _, p := range policies.Policies {
		name := aws.ToString(p.PolicyName)
		if !liveIAM.MatchString(name) || !old(p.CreateDate, age) {
			continue
		}
		if vers, err := c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: p.Arn}); err == nil {
			for _, v := range vers.Versions {
				if !v.IsDefaultVersion {
					_, _ = c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: p.Arn, VersionId: v.VersionId})
				}
			}
		}
		_, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: p.Arn})
		report(t, "IAM policy "+name, err)
	}
	s3c := s3.NewFromConfig(r.aws, func(o *s3.Options) { o.UsePathStyle = r.emulated })
	buckets, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{})
	must(t, err, "ListBuckets")
	for _, b := range buckets.Buckets {
		name := aws.ToString(b.Name)
		if !liveBucket.MatchString(name) || !old(b.CreationDate, age) {
			continue
		}
		loc, err := s3c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: b.Name})
		region := "us-east-1"
		if err == nil && loc.LocationConstraint != "" {
			region = string(loc.LocationConstraint)
		}
		in := func(o *s3.Options) { o.Region = region }
		versions, err := s3c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: b.Name}, in)
		if err == nil {
			var ids []s3types.ObjectIdentifier
			for _, v := range versions.Versions {
				ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
			}
			for _, m := range versions.DeleteMarkers {
				ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
			}
			for _, id := range ids {
				_, _ = s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b.Name, Key: id.Key, VersionId: id.VersionId}, in)
			}
		}
		_, err = s3c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: b.Name}, in)
		report(t, "bucket "+name, err)
	}
}

// sweepGCP removes service accounts, custom roles and buckets (objects
// first).
func sweepGCP(t *testing.T, r *run, age time.Duration) {
	ctx := context.Background()
	c, _, err := gcsbucket.Connect(ctx, r.env.LookupEnv)
	must(t, err, "connect to Google Cloud")
	project := "projects/" + r.gcpProject
	accounts, err := c.IAM.Projects.ServiceAccounts.List(project).Context(ctx).Do()
	must(t, err, "list service accounts")
	for _, sa := range accounts.Accounts {
		id := strings.SplitN(sa.Email, "@", 2)[0]
		// A service account has no creation time; its keys' say when it
		// was last used by a run.
		if !liveGCP.MatchString(id) || !gcpOld(c, sa.Name, age) {
			continue
		}
		_, err := c.IAM.Projects.ServiceAccounts.Delete(sa.Name).Context(ctx).Do()
		report(t, "service account "+sa.Email, err)
	}
	roles, err := c.IAM.Projects.Roles.List(project).Context(ctx).Do()
	must(t, err, "list custom roles")
	for _, ro := range roles.Roles {
		id := ro.Name[strings.LastIndex(ro.Name, "/")+1:]
		if !liveGCP.MatchString(id) || ro.Deleted {
			continue
		}
		_, err := c.IAM.Projects.Roles.Delete(ro.Name).Context(ctx).Do()
		report(t, "custom role "+id, err)
	}
	buckets := c.Storage.Buckets(ctx, r.gcpProject)
	for {
		b, err := buckets.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		must(t, err, "list buckets")
		if !liveBucket.MatchString(b.Name) || !b.Created.IsZero() && !old(&b.Created, age) {
			continue
		}
		objs := c.Storage.Bucket(b.Name).Objects(ctx, &storage.Query{Versions: true})
		for o, err := objs.Next(); err == nil; o, err = objs.Next() {
			_ = c.Storage.Bucket(b.Name).Object(o.Name).Generation(o.Generation).Delete(ctx)
		}
		report(t, "bucket "+b.Name, c.Storage.Bucket(b.Name).Delete(ctx))
	}
}

// gcpOld reports whether a service account's newest key is older than
// age (an account with no key counts as old).
func gcpOld(c *gcsbucket.Clients, name string, age time.Duration) bool {
	keys, err := c.IAM.Projects.ServiceAccounts.Keys.List(name).Do()
	if err != nil {
		return false
	}
	for _, k := range keys.Keys {
		if at, err := time.Parse(time.RFC3339, k.ValidAfterTime); err == nil && time.Since(at) < age {
			return false
		}
	}
	return true
}

// sweepSnowflake drops stages (in the suite's schema) and integrations
// named BYOB_LIVE_*.
func sweepSnowflake(t *testing.T, r *run, age time.Duration) {
	ctx := context.Background()
	db := r.snowflakeDB(t)
	stages, err := snowflake.Query(ctx, db, "SHOW STAGES LIKE 'BYOB_LIVE_%' IN SCHEMA "+snowflake.Ident(r.database).SQL()+"."+snowflake.Ident(liveSchema).SQL())
	must(t, err, "SHOW STAGES")
	for _, s := range stages {
		if !liveSQLName.MatchString(s["name"]) || !sqlOld(s["created_on"], age) {
			continue
		}
		name := snowflake.Name{Database: snowflake.Ident(s["database_name"]), Schema: snowflake.Ident(s["schema_name"]), Object: snowflake.Ident(s["name"])}
		_, err := db.ExecContext(ctx, "DROP STAGE IF EXISTS "+name.SQL())
		report(t, "stage "+name.String(), err)
	}
	ints, err := snowflake.Query(ctx, db, "SHOW INTEGRATIONS LIKE 'BYOB_LIVE_%'")
	must(t, err, "SHOW INTEGRATIONS")
	for _, in := range ints {
		if !liveSQLName.MatchString(in["name"]) || !sqlOld(in["created_on"], age) {
			continue
		}
		_, err := db.ExecContext(ctx, "DROP STORAGE INTEGRATION IF EXISTS "+snowflake.Ident(in["name"]).SQL())
		report(t, "integration "+in["name"], err)
	}
}

// liveSchema is where the suite's stages are: byob's default schema.
const liveSchema = "FLYWHEEL_SYSTEM"

// sqlOld reads SHOW's created_on; one it cannot read counts as old.
func sqlOld(created string, age time.Duration) bool {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999 -0700", "2006-01-02 15:04:05.999 -0700"} {
		if at, err := time.Parse(layout, created); err == nil {
			return time.Since(at) >= age
		}
	}
	return true
}

func report(t *testing.T, what string, err error) {
	t.Helper()
	var nf interface{ ErrorCode() string }
	switch {
	case err == nil:
		t.Logf("swept %s", what)
	case errors.As(err, &nf) && strings.Contains(nf.ErrorCode(), "NoSuch"):
	default:
		t.Errorf("sweep %s: %v", what, err)
	}
}

// TestSweepRemovesWhatARunLeft: a run killed after init leaves a setup;
// the sweeper finds it by its names and removes all of it.
func TestSweepRemovesWhatARunLeft(t *testing.T) {
	r := newRun(t, "aws", "snowflake")
	if !r.emulated {
		t.Skip("sweeps a leftover made on purpose: run it with BYOB_LIVE=emulators")
	}
	cfg := r.config(t, s3bucket.Name, snowflakestage.Name)
	deps := r.connect(t, cfg)
	apply(t, r, cfg, deps, nil) // and no destroy: as a killed run
	sweepAWS(t, r, 0)
	sweepSnowflake(t, r, 0)
	names, c := s3bucket.NamesOf(&cfg), iam.NewFromConfig(r.aws)
	if _, err := c.GetUser(context.Background(), &iam.GetUserInput{UserName: aws.String(names.User)}); err == nil {
		t.Error("the user is still there")
	}
	if _, err := c.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String(names.Role)}); err == nil {
		t.Error("the role is still there")
	}
	rows, _ := snowflake.Query(context.Background(), r.snowflakeDB(t), "SHOW INTEGRATIONS LIKE '"+snowflakestage.SettingsOf(&cfg).Integration+"'")
	if len(rows) > 0 {
		t.Errorf("integration %s is still there", snowflakestage.SettingsOf(&cfg).Integration)
	}
}
