package s3bucket

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/growthloop/byob/internal/prose"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/templates"
)

// Step IDs of the IAM steps.
const (
	StepPolicy          = "iam-policy"
	StepSnowflakePolicy = "iam-snowflake-policy"
	StepRole            = "iam-role"
	StepRolePolicy      = "iam-role-policy"
	StepUser            = "iam-user"
	StepUserPolicy      = "iam-user-policy"
	StepAccessKey       = "iam-access-key"
)

// Tags mark what byob created, so people can tell it apart in the console.
func Tags() map[string]string { return map[string]string{"created-by": "byob"} }

// tag is Tags as IAM takes them.
var tag = []types.Tag{{Key: aws.String("created-by"), Value: aws.String(Tags()["created-by"])}}

// Descriptions are the descriptions of the IAM policies and role byob
// creates for a bucket and prefix, by step.
func Descriptions(bucket, prefix string) map[string]string {
	return map[string]string{
		StepPolicy:          "byob: GrowthLoop exports to s3://" + bucket + "/" + prefix,
		StepSnowflakePolicy: "byob: Snowflake unloads to s3://" + bucket + "/" + prefix,
		StepRole:            "byob: assumed by Snowflake's storage integration",
	}
}

// decodeDocument undoes IAM's URL encoding of policy documents.
func decodeDocument(doc string) string {
	if d, err := url.PathUnescape(doc); err == nil {
		return d
	}
	return doc
}

// policyStep keeps a customer managed policy at its document.
type policyStep struct {
	providers.Basic
	p    Params
	c    *Clients
	name string
	doc  templates.Policy
	// holder says whether the identity the policy is for (the user, the
	// role) exists: read beside the preflight, it spares the gate the
	// policy's own read when there is none.
	holder func(context.Context, *runenv.Run) (bool, error)
}

// policyDocument is a policy's default version's document; ok is false
// when the policy does not exist.
type policyDocument struct {
	doc string
	ok  bool
}

// read is the policy's default document, as the run read it.
func (s *policyStep) read(ctx context.Context, r *runenv.Run, v *providers.Values) (policyDocument, error) {
	arn := s.p.PolicyARN(v, s.name)
	return runenv.Read(ctx, r, "iam:GetPolicyVersion "+arn, func(ctx context.Context) (policyDocument, error) {
		doc, ok, err := s.defaultDocument(ctx, arn)
		return policyDocument{doc, ok}, err
	})
}

// ReadsEarly implements providers.ReadsEarly, once the account is known
// (a re-run).
func (s *policyStep) ReadsEarly(v *providers.Values) bool { return v.Get(AccountID) != "" }

func (s *policyStep) document() string { return s.doc.JSON() }

func (s *policyStep) Artifacts(*providers.Values) []providers.Artifact {
	return []providers.Artifact{{Name: "IAM policy " + s.name, Format: providers.FormatJSON, Content: s.document(), Value: s.doc}}
}

// defaultDocument reads the policy's default version; ok is false when
// the policy does not exist.
func (s *policyStep) defaultDocument(ctx context.Context, arn string) (doc string, ok bool, err error) {
	out, err := s.c.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if isNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, s.c.wrap("iam:GetPolicy "+arn, err)
	}
	ver, err := s.c.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: out.Policy.DefaultVersionId})
	if err != nil {
		return "", false, s.c.wrap("iam:GetPolicyVersion "+arn, err)
	}
	return decodeDocument(aws.ToString(ver.PolicyVersion.Document)), true, nil
}

// kept are the statements of the customer's own in the policy as it is
// (have), which byob keeps unless --prune.
func (s *policyStep) kept(have string) []any {
	if s.p.Prune {
		return nil
	}
	return templates.CustomerStatements(have, s.document())
}

// expected is the document the policy gets: byob's, and the customer's
// own statements.
func (s *policyStep) expected(have string) string {
	return templates.WithStatements(s.document(), s.kept(have))
}

// Gate implements providers.Gate: a policy of this name that another byob
// setup of the same --name wrote (byob's statements on another bucket or
// prefix) is not taken over without --adopt, which rewrites it for this
// setup and so ends the other one.
func (s *policyStep) Gate(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	if s.p.Adopt || providers.Owned(v, s.ID()) || providers.Adopted(v, s.ID()) {
		return nil
	}
	// Another setup of this name made its user or role too: without one,
	// there is nothing of another setup's to take over.
	if s.holder != nil {
		if ok, err := s.holder(ctx, r); err != nil || !ok {
			return err
		}
	}
	got, err := s.read(ctx, r, v)
	if err != nil || !got.ok {
		return err
	}
	other := templates.OtherResources(got.doc, s.document())
	if len(other) == 0 {
		return nil
	}
	return providers.Usagef("IAM policy %s is another byob setup's: its statements grant %s, not s3://%s/%s. "+
		"Pass --name with another name to make a separate setup (its own user, role and policies), "+
		"or --adopt to take this one over for s3://%s/%s (the other setup then stops working)",
		s.name, strings.Join(other, ", "), s.p.Bucket, s.p.Prefix, s.p.Bucket, s.p.Prefix)
}

func (s *policyStep) Check(ctx context.Context, r *runenv.Run, v *providers.Values) (providers.Observation, error) {
	got, err := s.read(ctx, r, v)
	have := got.doc
	switch {
	case err != nil:
		return providers.Observation{}, err
	case !got.ok:
		return providers.Observation{Status: providers.Missing}, nil
	case templates.SameDocument(have, s.expected(have)) && !templates.Allows(s.kept(have)):
		return providers.Observation{Status: providers.Done}, nil // a Deny of the customer's only narrows
	}
	reasons := append(templates.PolicyMistakes(have), "policy "+s.name+" differs from the expected document: "+templates.DiffStatements(have, s.document()))
	if kept := s.kept(have); len(kept) > 0 {
		b, _ := json.Marshal(kept)
		reasons = append(reasons, fmt.Sprintf("%s of your own kept (byob never removes them; init --prune does): %s", prose.Count(len(kept), "statement"), b))
	}
	return providers.Observation{Status: providers.Drifted, Reason: strings.Join(reasons, "; "),
		Fix: []providers.Artifact{{Name: "the policy's new default version", Format: providers.FormatJSON, Content: s.expected(have)}}}, nil
}

func (s *policyStep) Apply(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	// What Check read says whether the policy exists: then it gets a new
	// version, and no CreatePolicy is tried.
	seen, seenErr := s.read(ctx, r, v)
	arn := s.p.PolicyARN(v, s.name)
	if seenErr != nil || !seen.ok {
		_, err := s.c.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{
			PolicyName:     aws.String(s.name),
			PolicyDocument: aws.String(s.document()),
			Description:    aws.String(Descriptions(s.p.Bucket, s.p.Prefix)[s.ID()]),
			Tags:           tag,
		})
		if errorCode(err) != "EntityAlreadyExists" {
			return s.c.wrap("iam:CreatePolicy "+s.name, err)
		}
	}
	// It exists: drifted, or made by a CreatePolicy whose first answer was
	// lost and which the SDK retried (IAM, eventually consistent, may then
	// not show it yet). The customer's own statements stay.
	var have string
	err := s.p.Propagation.Poll(ctx, r, "waiting for IAM to show policy "+s.name, func(ctx context.Context) error {
		var ok bool
		var err error
		if have, ok, err = s.defaultDocument(ctx, arn); err == nil && !ok {
			return fmt.Errorf("%w: IAM says policy %s exists but does not show it yet", runenv.ErrNotYet, arn)
		}
		return err
	})
	if err != nil {
		return err
	}
	want := s.expected(have)
	current := func() (bool, error) {
		have, _, err := s.defaultDocument(ctx, arn)
		return templates.SameDocument(have, want), err
	}
	if templates.SameDocument(have, want) {
		return nil
	}
	// Make the expected document the default version, removing the oldest
	// non-default version when IAM's limit of five is reached.
	vers, err := s.c.IAM.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return s.c.wrap("iam:ListPolicyVersions "+arn, err)
	}
	if len(vers.Versions) >= 5 {
		old := slices.DeleteFunc(slices.Clone(vers.Versions), func(pv types.PolicyVersion) bool { return pv.IsDefaultVersion })
		slices.SortFunc(old, func(a, b types.PolicyVersion) int { return aws.ToTime(a.CreateDate).Compare(aws.ToTime(b.CreateDate)) })
		if _, err := s.c.IAM.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: old[0].VersionId}); err != nil && !isNotFound(err) {
			return s.c.wrap("iam:DeletePolicyVersion "+arn, err)
		}
	}
	// Each retry of a lost answer would add a version: check instead.
	err = runenv.RetryLost(ctx, maybeApplied, func(ctx context.Context) error {
		_, err := s.c.IAM.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{
			PolicyArn: aws.String(arn), PolicyDocument: aws.String(want), SetAsDefault: true,
		}, noRetry)
		return err
	}, func(context.Context) (bool, error) { return current() })
	return s.c.wrap("iam:CreatePolicyVersion "+arn, err)
}

// noRetry turns the SDK's retries off for one call that is not idempotent.
func noRetry(o *iam.Options) { o.Retryer = aws.NopRetryer{} }

type roleStep struct {
	providers.Basic
	p Params
	c *Clients
}

// get reads the role; nil when there is none.
func (s *roleStep) get(ctx context.Context) (*types.Role, error) {
	out, err := s.c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(s.p.Names.Role)})
	switch {
	case isNotFound(err):
		return nil, nil
	case err != nil:
		return nil, s.c.wrap("iam:GetRole "+s.p.Names.Role, err)
	}
	return out.Role, nil
}

// ReadsEarly implements providers.ReadsEarly: the role is read beside
// the preflight; its trust is compared once the integration is known.
func (*roleStep) ReadsEarly(*providers.Values) bool { return true }

// read is the role as the run read it; nil when there is none.
func (s *roleStep) read(ctx context.Context, r *runenv.Run) (*types.Role, error) {
	return runenv.Read(ctx, r, "iam:GetRole "+s.p.Names.Role, s.get)
}

// has says whether the role exists, from the role step's read: r may be
// another step's run.
func (s *roleStep) has(ctx context.Context, r *runenv.Run) (bool, error) {
	role, err := s.read(ctx, r.Of(s.ID()))
	return role != nil, err
}

func (s *roleStep) trust(v *providers.Values) string { return s.trustPolicy(v).JSON() }

func (s *roleStep) trustPolicy(v *providers.Values) templates.Policy {
	return templates.SnowflakeTrust(v.Ref(providers.WarehouseUserARN), v.Ref(providers.ExternalID))
}

func (s *roleStep) Artifacts(v *providers.Values) []providers.Artifact {
	return []providers.Artifact{{Name: "trust policy of IAM role " + s.p.Names.Role, Format: providers.FormatJSON, Content: s.trust(v), Value: s.trustPolicy(v)}}
}

func (s *roleStep) Check(ctx context.Context, r *runenv.Run, v *providers.Values) (providers.Observation, error) {
	role, err := s.read(ctx, r)
	switch {
	case err != nil:
		return providers.Observation{}, err
	case role == nil:
		return providers.Observation{Status: providers.Missing}, nil
	}
	have := decodeDocument(aws.ToString(role.AssumeRolePolicyDocument))
	if templates.SameDocument(have, s.trust(v)) {
		return providers.Observation{Status: providers.Done}, nil
	}
	reasons := append(templates.TrustMistakes(have, v.Ref(providers.WarehouseUserARN), v.Ref(providers.ExternalID)),
		"the trust policy of role "+s.p.Names.Role+" does not name the integration's IAM user "+v.Ref(providers.WarehouseUserARN)+
			" and external ID "+v.Ref(providers.ExternalID)+": "+templates.DiffStatements(have, s.trust(v)))
	return providers.Observation{Status: providers.Drifted, Reason: strings.Join(reasons, "; "),
		Fix: []providers.Artifact{{Name: "UpdateAssumeRolePolicy " + s.p.Names.Role, Format: providers.FormatJSON, Content: s.trust(v)}}}, nil
}

// invalidPrincipal is how IAM answers a trust policy naming a principal it
// cannot see yet.
func invalidPrincipal(err error) bool {
	return errorCode(err) == "MalformedPolicyDocument" && strings.Contains(strings.ToLower(err.Error()), "invalid principal")
}

func (s *roleStep) Apply(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	// A role Check found gets its trust updated; no CreateRole is tried.
	seen, seenErr := s.read(ctx, r)
	exists := seenErr == nil && seen != nil
	trust := s.trust(v)
	return s.p.Propagation.Poll(ctx, r, "waiting for IAM to accept Snowflake's user in the trust policy", func(ctx context.Context) error {
		var err error
		if !exists {
			_, err = s.c.IAM.CreateRole(ctx, &iam.CreateRoleInput{
				RoleName:                 aws.String(s.p.Names.Role),
				AssumeRolePolicyDocument: aws.String(trust),
				Description:              aws.String(Descriptions(s.p.Bucket, s.p.Prefix)[StepRole]),
				Tags:                     tag,
			})
		}
		if exists || errorCode(err) == "EntityAlreadyExists" {
			_, err = s.c.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{
				RoleName: aws.String(s.p.Names.Role), PolicyDocument: aws.String(trust),
			})
		}
		if invalidPrincipal(err) {
			return fmt.Errorf("%w: %v", runenv.ErrNotYet, err)
		}
		return s.c.wrap("iam:CreateRole/UpdateAssumeRolePolicy "+s.p.Names.Role, err)
	})
}

// attachStep attaches a policy to the role or the user, and detaches the
// policy it replaces (the role had GrowthLoop's policy before Snowflake
// had its own).
type attachStep struct {
	providers.Basic
	p        Params
	c        *Clients
	toRole   bool
	policy   string
	replaces string // "" for none
}

// ReadsEarly implements providers.ReadsEarly: an identity not there yet
// has no policy attached.
func (*attachStep) ReadsEarly(*providers.Values) bool { return true }

// read is the policies attached, as the run read them.
func (s *attachStep) read(ctx context.Context, r *runenv.Run) ([]string, error) {
	kind, name := s.target()
	return runenv.Read(ctx, r, "iam:ListAttached policies of "+kind+" "+name, s.attached)
}

func (s *attachStep) target() (kind, name string) {
	if s.toRole {
		return "role", s.p.Names.Role
	}
	return "user", s.p.Names.User
}

func (s *attachStep) Artifacts(v *providers.Values) []providers.Artifact {
	kind, name := s.target()
	return []providers.Artifact{{Name: "attachment", Format: providers.FormatText,
		Content: fmt.Sprintf("attach policy %s to %s %s", s.p.PolicyARN(v, s.policy), kind, name)}}
}

// attached lists the ARNs of the policies attached to the target; none
// when it does not exist.
func (s *attachStep) attached(ctx context.Context) ([]string, error) {
	arns, err := s.list(ctx)
	if isNotFound(err) {
		return nil, nil
	}
	return arns, err
}

func (s *attachStep) list(ctx context.Context) ([]string, error) {
	_, name := s.target()
	var arns []string
	if s.toRole {
		p := iam.NewListAttachedRolePoliciesPaginator(s.c.IAM, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, s.c.wrap("iam:ListAttachedRolePolicies "+name, err)
			}
			for _, a := range out.AttachedPolicies {
				arns = append(arns, aws.ToString(a.PolicyArn))
			}
		}
		return arns, nil
	}
	p := iam.NewListAttachedUserPoliciesPaginator(s.c.IAM, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(name)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, s.c.wrap("iam:ListAttachedUserPolicies "+name, err)
		}
		for _, a := range out.AttachedPolicies {
			arns = append(arns, aws.ToString(a.PolicyArn))
		}
	}
	return arns, nil
}

// replaced reports whether the policy this one replaces is attached.
func (s *attachStep) replaced(v *providers.Values, arns []string) bool {
	return s.replaces != "" && slices.Contains(arns, s.p.PolicyARN(v, s.replaces))
}

func (s *attachStep) Check(ctx context.Context, r *runenv.Run, v *providers.Values) (providers.Observation, error) {
	arns, err := s.read(ctx, r)
	switch {
	case err != nil:
		return providers.Observation{}, err
	case !slices.Contains(arns, s.p.PolicyARN(v, s.policy)):
		return providers.Observation{Status: providers.Missing}, nil
	case s.replaced(v, arns):
		kind, name := s.target()
		return providers.Observation{Status: providers.Drifted, Reason: fmt.Sprintf("%s %s also has policy %s, which it no longer needs: it is detached", kind, name, s.replaces)}, nil
	}
	if others := s.others(v, arns); len(others) > 0 {
		kind, name := s.target()
		w := fmt.Sprintf("%s %s also has %s attached, which byob did not attach: it may allow more than byob's policy (left in place)", kind, name, prose.And(others))
		return providers.Observation{Status: providers.Done, Reason: w, Warning: w}, nil
	}
	return providers.Observation{Status: providers.Done}, nil
}

// others names the policies attached besides byob's (and the one it
// replaces, which Apply detaches).
func (s *attachStep) others(v *providers.Values, arns []string) []string {
	var out []string
	for _, arn := range arns {
		if arn != s.p.PolicyARN(v, s.policy) && (s.replaces == "" || arn != s.p.PolicyARN(v, s.replaces)) {
			out = append(out, "policy "+arn[strings.LastIndex(arn, "/")+1:])
		}
	}
	return out
}

func (s *attachStep) Apply(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	kind, name := s.target()
	arns, err := s.read(ctx, r)
	if err != nil {
		return err
	}
	if !slices.Contains(arns, s.p.PolicyARN(v, s.policy)) {
		err := s.p.Propagation.Poll(ctx, r, "waiting for the new IAM "+kind+" and policy to become visible", func(ctx context.Context) error {
			err := s.attach(ctx, v)
			if isNotFound(err) || errorCode(err) == "ConcurrentModification" {
				return fmt.Errorf("%w: %v", runenv.ErrNotYet, err)
			}
			return s.c.wrap("iam:Attach"+strings.ToUpper(kind[:1])+kind[1:]+"Policy "+name, err)
		})
		if err != nil {
			return err
		}
	}
	if s.replaced(v, arns) {
		return s.detach(ctx, v, s.replaces)
	}
	return nil
}

func (s *attachStep) attach(ctx context.Context, v *providers.Values) error {
	_, name := s.target()
	arn := aws.String(s.p.PolicyARN(v, s.policy))
	if s.toRole {
		_, err := s.c.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: arn})
		return err
	}
	_, err := s.c.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(name), PolicyArn: arn})
	return err
}

func (s *attachStep) detach(ctx context.Context, v *providers.Values, policy string) error {
	_, name := s.target()
	arn := aws.String(s.p.PolicyARN(v, policy))
	var err error
	if s.toRole {
		_, err = s.c.IAM.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(name), PolicyArn: arn})
	} else {
		_, err = s.c.IAM.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String(name), PolicyArn: arn})
	}
	if isNotFound(err) {
		return nil
	}
	return s.c.wrap("iam:Detach policy "+policy+" from "+name, err)
}

type userStep struct {
	providers.Basic
	p Params
	c *Clients
}

// exists reads whether the user exists.
func (s *userStep) exists(ctx context.Context) (bool, error) {
	_, err := s.c.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(s.p.Names.User)})
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, s.c.wrap("iam:GetUser "+s.p.Names.User, err)
}

// ReadsEarly implements providers.ReadsEarly.
func (*userStep) ReadsEarly(*providers.Values) bool { return true }

// has says whether the user exists, from the user step's read: r may be
// another step's run.
func (s *userStep) has(ctx context.Context, r *runenv.Run) (bool, error) {
	return runenv.Read(ctx, r.Of(s.ID()), "iam:GetUser "+s.p.Names.User, s.exists)
}

func (s *userStep) Artifacts(*providers.Values) []providers.Artifact {
	return []providers.Artifact{{Name: "IAM user", Format: providers.FormatText,
		Content: "create IAM user " + s.p.Names.User + " for GrowthLoop's export service (no console password)"}}
}

func (s *userStep) Check(ctx context.Context, r *runenv.Run, _ *providers.Values) (providers.Observation, error) {
	ok, err := s.has(ctx, r)
	switch {
	case err != nil:
		return providers.Observation{}, err
	case !ok:
		return providers.Observation{Status: providers.Missing}, nil
	}
	return providers.Observation{Status: providers.Done}, nil
}

func (s *userStep) Apply(ctx context.Context, r *runenv.Run, _ *providers.Values) error {
	_, err := s.c.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(s.p.Names.User), Tags: tag})
	if errorCode(err) == "EntityAlreadyExists" {
		return nil
	}
	return s.c.wrap("iam:CreateUser "+s.p.Names.User, err)
}
