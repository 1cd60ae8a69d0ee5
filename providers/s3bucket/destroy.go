package s3bucket

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/growthloop/byob/internal/prose"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/templates"
)

// What byob destroy does on AWS: it removes what byob created, in the
// reverse order of the plan, and leaves what it found in place. The bucket
// goes only with --delete-bucket, and one holding objects only with
// --delete-objects as well; the settings byob put on a bucket that stays
// (public access block, encryption, the TLS-only statement, the lifecycle
// rule) stay with it.

func (s *bucketStep) Teardown(ctx context.Context, v *providers.Values) (providers.Teardown, error) {
	kept := "private and encrypted, exports under " + s.p.Prefix + " still expiring after " + prose.Count(s.p.TTLDays, "day")
	if s.c == nil {
		return providers.BucketTeardown(v, StepBucket, s.p.Bucket, s.p.Destroy, kept, nil)
	}
	return providers.BucketTeardown(v, StepBucket, s.p.Bucket, s.p.Destroy, kept, func() (int, bool, error) {
		out, err := s.c.S3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(s.p.Bucket)}, inRegion(v))
		switch {
		case isNotFound(err):
			return 0, false, providers.ErrGone
		case err != nil:
			return 0, false, s.c.wrap("s3:ListBucketVersions "+s.p.Bucket, err)
		}
		return len(out.Versions) + len(out.DeleteMarkers), aws.ToBool(out.IsTruncated), nil
	})
}

func (s *bucketStep) Destroy(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	if s.p.Destroy.DeleteObjects {
		if err := s.empty(ctx, r, v); err != nil {
			return err
		}
	}
	_, err := s.c.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(s.p.Bucket)}, inRegion(v))
	switch {
	case err == nil || isNotFound(err):
		return nil
	case errorCode(err) == "BucketNotEmpty":
		return fmt.Errorf("bucket %s is not empty (objects were written since byob looked): pass --delete-objects to delete them too, or leave out --delete-bucket: %w", s.p.Bucket, err)
	}
	return s.c.wrap("s3:DeleteBucket "+s.p.Bucket, err)
}

// maxDelete is how many objects one DeleteObjects call takes.
const maxDelete = 1000

// empty deletes every object version and delete marker, a thousand per
// call, counting them first so progress has a total, then aborts the
// multipart uploads left incomplete.
func (s *bucketStep) empty(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	total := 0
	err := s.eachVersionPage(ctx, v, func(ids []types.ObjectIdentifier) error { total += len(ids); return nil })
	if err != nil {
		return err
	}
	done := 0
	r.Count("objects deleted", 0, total)
	err = s.eachVersionPage(ctx, v, func(ids []types.ObjectIdentifier) error {
		out, err := s.c.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(s.p.Bucket),
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}}, inRegion(v))
		if err != nil {
			return s.c.wrap("s3:DeleteObject (DeleteObjects in "+s.p.Bucket+")", err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("s3:DeleteObject %s in %s: %s: %s (%d more failed)", aws.ToString(e.Key), s.p.Bucket, aws.ToString(e.Code), aws.ToString(e.Message), len(out.Errors)-1)
		}
		done += len(ids)
		r.Count("objects deleted", done, max(total, done))
		return nil
	})
	if err != nil {
		return err
	}
	uploads := s3.NewListMultipartUploadsPaginator(s.c.S3, &s3.ListMultipartUploadsInput{Bucket: aws.String(s.p.Bucket)})
	for uploads.HasMorePages() {
		page, err := uploads.NextPage(ctx, inRegion(v))
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return s.c.wrap("s3:ListBucketMultipartUploads "+s.p.Bucket, err)
		}
		for _, u := range page.Uploads {
			_, err := s.c.S3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(s.p.Bucket), Key: u.Key, UploadId: u.UploadId}, inRegion(v))
			if err != nil && errorCode(err) != "NoSuchUpload" {
				return s.c.wrap("s3:AbortMultipartUpload "+aws.ToString(u.Key), err)
			}
		}
	}
	return nil
}

// eachVersionPage calls f with each page of the bucket's object versions
// and delete markers.
func (s *bucketStep) eachVersionPage(ctx context.Context, v *providers.Values, f func([]types.ObjectIdentifier) error) error {
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(s.p.Bucket), MaxKeys: aws.Int32(maxDelete)}
	for {
		out, err := s.c.S3.ListObjectVersions(ctx, in, inRegion(v))
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return s.c.wrap("s3:ListBucketVersions "+s.p.Bucket, err)
		}
		var ids []types.ObjectIdentifier
		for _, o := range out.Versions {
			ids = append(ids, types.ObjectIdentifier{Key: o.Key, VersionId: o.VersionId})
		}
		for _, m := range out.DeleteMarkers {
			ids = append(ids, types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		if len(ids) > 0 {
			if err := f(ids); err != nil {
				return err
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return nil
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
}

// stays is the teardown of a setting byob put on the bucket: on byob's
// bucket it goes with the bucket or stays with it (the bucket says so); on
// a bucket byob adopted it stays, and what says so. A deleted bucket's
// settings neither stay nor go.
func (p Params) stays(v *providers.Values, step, what string) providers.Teardown {
	if !providers.Adopted(v, StepBucket) || !providers.Owned(v, step) {
		return providers.Teardown{}
	}
	return providers.Teardown{Keep: what}
}

// bucketSettings are the steps whose settings live on the bucket.
var bucketSettings = []string{StepPublicAccessBlock, StepEncryption, StepBucketPolicy, StepObjectOwnership, StepLifecycle}

// Holds implements providers.Holder: the settings go with the bucket.
func (s *bucketStep) Holds() []string { return bucketSettings }

func (s *publicAccessBlockStep) Teardown(_ context.Context, v *providers.Values) (providers.Teardown, error) {
	return s.p.stays(v, StepPublicAccessBlock, "the public access block stays on: the bucket remains private"), nil
}

func (s *encryptionStep) Teardown(_ context.Context, v *providers.Values) (providers.Teardown, error) {
	return s.p.stays(v, StepEncryption, "default encryption stays on"), nil
}

func (s *bucketPolicyStep) Teardown(_ context.Context, v *providers.Values) (providers.Teardown, error) {
	return s.p.stays(v, StepBucketPolicy, "the bucket policy's TLS-only statement stays: it only denies insecure requests"), nil
}

func (s *lifecycleStep) Teardown(_ context.Context, v *providers.Values) (providers.Teardown, error) {
	return s.p.stays(v, StepLifecycle, fmt.Sprintf("lifecycle rule %s stays: objects under %s keep expiring after %s (delete the rule to keep them)",
		templates.ExpireRuleID, s.p.Prefix, prose.Count(s.p.TTLDays, "day"))), nil
}

// A setting that stays is never removed.
func (s *publicAccessBlockStep) Destroy(context.Context, *runenv.Run, *providers.Values) error {
	return nil
}
func (s *encryptionStep) Destroy(context.Context, *runenv.Run, *providers.Values) error {
	return nil
}
func (s *bucketPolicyStep) Destroy(context.Context, *runenv.Run, *providers.Values) error {
	return nil
}
func (s *lifecycleStep) Destroy(context.Context, *runenv.Run, *providers.Values) error { return nil }

func (s *policyStep) Teardown(_ context.Context, v *providers.Values) (providers.Teardown, error) {
	return providers.TeardownOf(v, s.ID(), "delete IAM policy "+s.name+" (all its versions)", "IAM policy "+s.name), nil
}

func (s *policyStep) Destroy(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	arn := s.p.PolicyARN(v, s.name)
	vers, err := s.c.IAM.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return s.c.wrap("iam:ListPolicyVersions "+arn, err)
	}
	for _, pv := range vers.Versions {
		if !pv.IsDefaultVersion {
			_, err := s.c.IAM.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: pv.VersionId})
			if err != nil && !isNotFound(err) {
				return s.c.wrap("iam:DeletePolicyVersion "+arn, err)
			}
		}
	}
	_, err = s.c.IAM.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	switch {
	case isNotFound(err):
		return nil
	case errorCode(err) == "DeleteConflict":
		return providers.Keepf("IAM policy %s is attached to something byob did not attach it to (%s)", s.name, serverMessage(err))
	}
	return s.c.wrap("iam:DeletePolicy "+arn, err)
}

func (s *roleStep) Teardown(_ context.Context, v *providers.Values) (providers.Teardown, error) {
	return providers.TeardownOf(v, StepRole, "delete IAM role "+s.p.Names.Role, "IAM role "+s.p.Names.Role), nil
}

func (s *roleStep) Destroy(ctx context.Context, r *runenv.Run, _ *providers.Values) error {
	_, err := s.c.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(s.p.Names.Role)})
	switch {
	case isNotFound(err):
		return nil
	case errorCode(err) == "DeleteConflict":
		return providers.Keepf("IAM role %s still has policies byob did not attach (%s)", s.p.Names.Role, serverMessage(err))
	}
	return s.c.wrap("iam:DeleteRole "+s.p.Names.Role, err)
}

func (s *attachStep) Teardown(_ context.Context, v *providers.Values) (providers.Teardown, error) {
	kind, name := s.target()
	return providers.TeardownOf(v, s.ID(), fmt.Sprintf("detach policy %s from %s %s", s.policy, kind, name),
		fmt.Sprintf("the attachment of policy %s to %s %s", s.policy, kind, name)), nil
}

func (s *attachStep) Destroy(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	return s.detach(ctx, v, s.policy)
}

func (s *userStep) Teardown(_ context.Context, v *providers.Values) (providers.Teardown, error) {
	return providers.TeardownOf(v, StepUser, "delete IAM user "+s.p.Names.User, "IAM user "+s.p.Names.User), nil
}

func (s *userStep) Destroy(ctx context.Context, r *runenv.Run, _ *providers.Values) error {
	_, err := s.c.IAM.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String(s.p.Names.User)})
	switch {
	case isNotFound(err):
		return nil
	case errorCode(err) == "DeleteConflict":
		// IAM's message says what it found first; held names what byob
		// can list (keys, policies, groups).
		held := s.held(ctx)
		if held == "" {
			held = "access keys or policies byob did not create"
		}
		return providers.Keepf("IAM user %s still has %s (%s)", s.p.Names.User, held, serverMessage(err))
	}
	return s.c.wrap("iam:DeleteUser "+s.p.Names.User, err)
}

// held names what the user holds that byob did not make, of what IAM
// refuses to delete a user with (keys, policies, groups, a password, MFA
// devices, SSH keys, certificates); "" when none can be read.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_users_remove.html#id_users_deleting_cli
func (s *userStep) held(ctx context.Context) string {
	user := aws.String(s.p.Names.User)
	var what []string
	if list, err := listKeys(ctx, s.c, s.p.Names.User); err == nil {
		for _, k := range list {
			what = append(what, "access key "+aws.ToString(k.AccessKeyId))
		}
	}
	if out, err := s.c.IAM.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: user}); err == nil {
		for _, p := range out.AttachedPolicies {
			what = append(what, "attached policy "+aws.ToString(p.PolicyName))
		}
	}
	if out, err := s.c.IAM.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: user}); err == nil {
		for _, name := range out.PolicyNames {
			what = append(what, "inline policy "+name)
		}
	}
	if out, err := s.c.IAM.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: user}); err == nil {
		for _, g := range out.Groups {
			what = append(what, "group "+aws.ToString(g.GroupName))
		}
	}
	if _, err := s.c.IAM.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: user}); err == nil {
		what = append(what, "a console password")
	}
	if out, err := s.c.IAM.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: user}); err == nil {
		for _, d := range out.MFADevices {
			what = append(what, "MFA device "+aws.ToString(d.SerialNumber))
		}
	}
	if out, err := s.c.IAM.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{UserName: user}); err == nil {
		for _, k := range out.SSHPublicKeys {
			what = append(what, "SSH public key "+aws.ToString(k.SSHPublicKeyId))
		}
	}
	if out, err := s.c.IAM.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{UserName: user}); err == nil {
		for _, c := range out.Certificates {
			what = append(what, "signing certificate "+aws.ToString(c.CertificateId))
		}
	}
	if len(what) == 0 {
		return ""
	}
	return prose.And(what) + ", which byob did not create"
}

func (s *accessKeyStep) Teardown(_ context.Context, v *providers.Values) (providers.Teardown, error) {
	return s.keys().Teardown(v, StepAccessKey), nil
}

// Destroy deletes the keys byob made, those of a stopped run included.
func (s *accessKeyStep) Destroy(ctx context.Context, _ *runenv.Run, v *providers.Values) error {
	return s.keys().Destroy(ctx, v)
}

// serverMessage is the message of an AWS error, made safe by the caller's
// printing.
func serverMessage(err error) string {
	if m := errorMessage(err); m != "" {
		return m
	}
	return errorCode(err)
}
