package gcsbucket

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	crm "google.golang.org/api/cloudresourcemanager/v1"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
)

// StepProjectGrants takes GrowthLoop's service account off the project's
// IAM policy (init --prune): a setup made by hand often grants its role on
// the whole project instead of on the bucket.
const StepProjectGrants = "gcp-project-grants"

// projectGrantStep removes GrowthLoop's service account from every
// project-level binding; byob adds it only with --prune, so that a grant
// the customer made is never removed unasked.
type projectGrantStep struct {
	providers.Basic
	p Params
	c *Clients
}

func (s *projectGrantStep) member() string { return "serviceAccount:" + s.p.ServiceAccountEmail() }

// held reads the project's policy and the roles the member holds in it.
func (s *projectGrantStep) held(ctx context.Context) (*crm.Policy, []string, error) {
	// Version 3: a policy with conditions is refused in an older one.
	// https://cloud.google.com/resource-manager/reference/rest/v1/projects/getIamPolicy
	pol, err := do(ctx, s.c, s.c.CRM.Projects.GetIamPolicy(s.p.Project, &crm.GetIamPolicyRequest{Options: &crm.GetPolicyOptions{RequestedPolicyVersion: 3}}).Context(ctx))
	if err != nil {
		return nil, nil, fmt.Errorf("get IAM policy of project %s: %w", s.p.Project, err)
	}
	var roles []string
	for _, b := range pol.Bindings {
		if slices.Contains(b.Members, s.member()) {
			roles = append(roles, b.Role)
		}
	}
	return pol, roles, nil
}

// removeCommands are the gcloud commands that remove the grants by hand.
func (s *projectGrantStep) removeCommands(roles []string) string {
	cmds := make([]string, len(roles))
	for i, r := range roles {
		cmds[i] = fmt.Sprintf("gcloud projects remove-iam-policy-binding %s --member=%s --role=%s", s.p.Project, s.member(), r)
	}
	return strings.Join(cmds, " && ")
}

func (s *projectGrantStep) Artifacts(*providers.Values) []providers.Artifact {
	return []providers.Artifact{{Name: "project IAM policy", Format: providers.FormatText,
		Content: "remove " + s.member() + " from every binding of project " + s.p.Project + " (read-modify-write with its etag); it keeps its roles on the bucket"}}
}

func (s *projectGrantStep) Check(ctx context.Context, r *runenv.Run, _ *providers.Values) (providers.Observation, error) {
	_, roles, err := s.held(ctx)
	if err != nil || len(roles) == 0 {
		return providers.Observation{Status: providers.Done}, err
	}
	return providers.Observation{Status: providers.Drifted,
		Reason: fmt.Sprintf("%s holds %s on the whole project %s, not only on the bucket: removed (--prune)", s.p.ServiceAccountEmail(), strings.Join(roles, ", "), s.p.Project),
		Fix:    []providers.Artifact{{Name: "the same by hand", Format: providers.FormatText, Content: s.removeCommands(roles)}}}, nil
}

// Apply takes the member out of each binding, keeping every other member
// and binding; a concurrent change (409) makes it read again.
func (s *projectGrantStep) Apply(ctx context.Context, r *runenv.Run, _ *providers.Values) error {
	return s.p.Propagation.Poll(ctx, r, "waiting for the project's IAM policy to stop changing", func(ctx context.Context) error {
		pol, roles, err := s.held(ctx)
		if err != nil || len(roles) == 0 {
			return err
		}
		var kept []*crm.Binding
		for _, b := range pol.Bindings {
			b.Members = slices.DeleteFunc(b.Members, func(m string) bool { return m == s.member() })
			if len(b.Members) > 0 {
				kept = append(kept, b)
			}
		}
		pol.Bindings = kept
		_, err = do(ctx, s.c, s.c.CRM.Projects.SetIamPolicy(s.p.Project, &crm.SetIamPolicyRequest{Policy: pol}).Context(ctx))
		if code(err) == http.StatusConflict {
			return fmt.Errorf("%w: %v", runenv.ErrNotYet, err)
		}
		if err != nil {
			return fmt.Errorf("set IAM policy of project %s: %w", s.p.Project, err)
		}
		return nil
	})
}

// Teardown implements providers.Step: nothing to undo, the grant was the
// customer's.
func (s *projectGrantStep) Teardown(context.Context, *providers.Values) (providers.Teardown, error) {
	return providers.Teardown{}, nil
}

func (s *projectGrantStep) Destroy(context.Context, *runenv.Run, *providers.Values) error {
	return nil
}
