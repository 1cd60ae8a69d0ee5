package s3bucket

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/templates"
)

// Who else can reach the bucket: verify's exposure checks, and the step
// that turns ACLs off.

// Check IDs of the exposure probes.
const (
	CheckPolicyPrivate       = "s3-bucket-policy-private"
	CheckACLPrivate          = "s3-acl-private"
	CheckAccountPublicAccess = "s3-account-public-access-block"
)

// StepObjectOwnership disables ACLs (Object Ownership BucketOwnerEnforced,
// Security Hub S3.12): only the bucket policy and IAM decide access.
const StepObjectOwnership = "s3-object-ownership"

// ownerEnforced is the Object Ownership that disables ACLs.
const ownerEnforced = types.ObjectOwnershipBucketOwnerEnforced

type objectOwnershipStep struct {
	providers.Basic
	p Params
	c *Clients
	setting
}

// get reads the bucket's Object Ownership; "" when it has none set.
func (s *objectOwnershipStep) get(v *providers.Values) func(context.Context) (types.ObjectOwnership, error) {
	return func(ctx context.Context) (types.ObjectOwnership, error) {
		out, err := s.c.S3.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(s.p.Bucket)}, inRegion(v))
		switch {
		case errorCode(err) == "OwnershipControlsNotFoundError", isNotFound(err):
			return "", nil
		case err != nil:
			return "", s.c.wrap("s3:GetBucketOwnershipControls "+s.p.Bucket, err)
		case out.OwnershipControls == nil || len(out.OwnershipControls.Rules) == 0:
			return "", nil
		}
		return out.OwnershipControls.Rules[0].ObjectOwnership, nil
	}
}

func (s *objectOwnershipStep) Artifacts(*providers.Values) []providers.Artifact {
	return []providers.Artifact{providers.JSONArtifact("PutBucketOwnershipControls", map[string]any{
		"Rules": []map[string]string{{"ObjectOwnership": string(ownerEnforced)}}})}
}

func (s *objectOwnershipStep) Check(ctx context.Context, r *runenv.Run, v *providers.Values) (providers.Observation, error) {
	o, err := bucketRead(ctx, r, v, "s3:GetBucketOwnershipControls", s.get(v))
	switch {
	case err != nil:
		return providers.Observation{}, err
	case o == "":
		return providers.Observation{Status: providers.Missing}, nil
	case o == ownerEnforced:
		return providers.Observation{Status: providers.Done}, nil
	}
	// Turning ACLs off changes access: asked as drift.
	return providers.Observation{Status: providers.Drifted, Reason: fmt.Sprintf("ACLs are on (Object Ownership %s): turning them off (BucketOwnerEnforced) "+
		"makes the bucket owner own every object and stops any ACL grant from applying; only the bucket policy and IAM decide access", o)}, nil
}

func (s *objectOwnershipStep) Apply(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	_, err := s.c.S3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String(s.p.Bucket),
		OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: ownerEnforced}}}}, inRegion(v))
	if errorCode(err) == "InvalidBucketAclWithObjectOwnership" {
		return fmt.Errorf("the ACL of bucket %s grants access to others, so ACLs cannot be turned off: remove those grants "+
			"(aws s3api put-bucket-acl --bucket %s --acl private) if nobody needs them, and re-run: %w", s.p.Bucket, s.p.Bucket, err)
	}
	return s.c.wrap("s3:PutBucketOwnershipControls "+s.p.Bucket, err)
}

func (s *objectOwnershipStep) Teardown(_ context.Context, v *providers.Values) (providers.Teardown, error) {
	return s.p.stays(v, StepObjectOwnership, "ACLs stay off"), nil
}

func (s *objectOwnershipStep) Destroy(context.Context, *runenv.Run, *providers.Values) error {
	return nil
}

// exposureProbes are verify's answers to "who else can reach the bucket":
// its policy and its ACL let no one outside the account in (failures),
// and the account's public access block is on (a warning: byob does not
// own the account's setting, but it backs the bucket's).
func exposureProbes(p Params, c *Clients, v *providers.Values) []providers.Check {
	return []providers.Check{
		{ID: CheckPolicyPrivate, Title: "The bucket policy lets no one outside the account in", Run: func(ctx context.Context, _ *runenv.Run) providers.CheckResult {
			return policyPrivate(ctx, p, c, v)
		}},
		{ID: CheckACLPrivate, Title: "The bucket's ACL grants nothing to AllUsers or AuthenticatedUsers", Run: func(ctx context.Context, _ *runenv.Run) providers.CheckResult {
			return aclPrivate(ctx, p, c, v)
		}},
		{ID: CheckAccountPublicAccess, Title: "The account blocks public access", Run: func(ctx context.Context, _ *runenv.Run) providers.CheckResult {
			return accountBlocksPublicAccess(ctx, c, v)
		}},
	}
}

func policyPrivate(ctx context.Context, p Params, c *Clients, v *providers.Values) providers.CheckResult {
	out, err := c.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(p.Bucket)}, inRegion(v))
	switch {
	case errorCode(err) == "NoSuchBucketPolicy":
		return providers.Passed("no bucket policy")
	case err != nil:
		return providers.CannotRun(c.wrap("s3:GetBucketPolicy "+p.Bucket, err), "grant s3:GetBucketPolicy and re-run byob verify")
	}
	doc := aws.ToString(out.Policy)
	found := templates.ForeignStatements(doc, v.Get(AccountID), p.S3Bucket(), p.Prefix)
	if len(found) == 0 {
		return providers.Passed("every statement that allows names this account's principals")
	}
	// What lets someone else reach the exports fails; a grant on other
	// keys of the bucket only warns.
	var reach, other []string
	var drop []int
	for _, f := range found {
		if f.Reaches {
			reach, drop = append(reach, f.Says), append(drop, f.Index)
		} else {
			other = append(other, f.Says)
		}
	}
	fix := func(drop []int) string {
		if rest := templates.WithoutStatements(doc, drop); rest != "" {
			return "aws s3api put-bucket-policy --bucket " + p.Bucket + " --policy " + shellQuote(rest)
		}
		return "aws s3api delete-bucket-policy --bucket " + p.Bucket
	}
	if len(reach) == 0 {
		for _, f := range found {
			drop = append(drop, f.Index)
		}
		return providers.Warned("if they need no access: "+fix(drop),
			"%s, on keys outside %s only: GrowthLoop's exports are not reachable through it", strings.Join(other, "; "), p.Prefix)
	}
	detail := fmt.Sprintf("%s, reaching the exports under %s", strings.Join(reach, "; "), p.Prefix)
	if len(other) > 0 {
		detail += fmt.Sprintf(" (and, on other keys only: %s)", strings.Join(other, "; "))
	}
	return providers.Failed(fix(drop), "%s", detail)
}

func aclPrivate(ctx context.Context, p Params, c *Clients, v *providers.Values) providers.CheckResult {
	out, err := c.S3.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(p.Bucket)}, inRegion(v))
	if err != nil {
		return providers.CannotRun(c.wrap("s3:GetBucketAcl "+p.Bucket, err), "grant s3:GetBucketAcl and re-run byob verify")
	}
	var open []string
	for _, g := range out.Grants {
		if g.Grantee == nil {
			continue
		}
		switch uri := aws.ToString(g.Grantee.URI); {
		case strings.HasSuffix(uri, "/global/AllUsers"):
			open = append(open, string(g.Permission)+" to AllUsers (anyone)")
		case strings.HasSuffix(uri, "/global/AuthenticatedUsers"):
			open = append(open, string(g.Permission)+" to AuthenticatedUsers (any AWS account)")
		}
	}
	if len(open) == 0 {
		return providers.Passed("only the owner has a grant")
	}
	return providers.Failed("aws s3api put-bucket-acl --bucket "+p.Bucket+" --acl private", "the ACL grants %s", strings.Join(open, ", "))
}

func accountBlocksPublicAccess(ctx context.Context, c *Clients, v *providers.Values) providers.CheckResult {
	account := v.Get(AccountID)
	remedy := "aws s3control put-public-access-block --account-id " + account +
		" --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true"
	b, err := c.accountPublicAccessBlock(ctx, account)
	switch {
	case errorCode(err) == "NoSuchPublicAccessBlockConfiguration":
		return providers.Warned(remedy, "account %s has no public access block: the bucket's own settings are all that keep it private", account)
	case err != nil:
		return providers.CannotRun(c.wrap("s3:GetAccountPublicAccessBlock "+account, err), "grant s3:GetAccountPublicAccessBlock and re-run byob verify")
	}
	var off []string
	for name, on := range map[string]bool{"BlockPublicAcls": b.BlockPublicAcls, "IgnorePublicAcls": b.IgnorePublicAcls,
		"BlockPublicPolicy": b.BlockPublicPolicy, "RestrictPublicBuckets": b.RestrictPublicBuckets} {
		if !on {
			off = append(off, name)
		}
	}
	if len(off) == 0 {
		return providers.Passed("all four settings are on for account %s", account)
	}
	slices.Sort(off)
	return providers.Warned(remedy, "account %s has %s off: the bucket's own settings are all that keep it private", account, strings.Join(off, ", "))
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
