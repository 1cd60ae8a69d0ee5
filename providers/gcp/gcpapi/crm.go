package gcpapi

import "net/http"

// CRM is the Resource Manager API, v1: a project's IAM policy and the
// caller's permissions on it.
// https://cloud.google.com/resource-manager/reference/rest/v1/projects
type CRM struct{ c *client }

// NewCRM calls the API at endpoint ("" for Google's) through hc.
func NewCRM(hc *http.Client, endpoint string) *CRM {
	return &CRM{&client{hc: hc, base: base(endpoint, CRMEndpoint)}}
}

// path is the address of a method on a project.
func path(project, method string) string { return "v1/projects/" + segment(project) + ":" + method }

// GetIamPolicy reads a project's IAM policy.
func (r *CRM) GetIamPolicy(project string) *Call[*Policy] {
	return newCall[*Policy](r.c, http.MethodPost, path(project, "getIamPolicy"), map[string]any{})
}

// SetIamPolicy writes a project's IAM policy's bindings; its etag makes it
// a compare-and-swap.
func (r *CRM) SetIamPolicy(project string, p *Policy) *Call[*Policy] {
	return newCall[*Policy](r.c, http.MethodPost, path(project, "setIamPolicy"), map[string]any{"policy": p})
}

// Permissions is testIamPermissions's answer: those the caller holds.
type Permissions struct {
	Permissions []string `json:"permissions"`
}

// TestIamPermissions answers which of permissions the caller holds on the
// project.
func (r *CRM) TestIamPermissions(project string, permissions []string) *Call[*Permissions] {
	return newCall[*Permissions](r.c, http.MethodPost, path(project, "testIamPermissions"), map[string]any{"permissions": permissions})
}
