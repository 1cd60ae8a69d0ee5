package gcpapi

import "net/http"

// IAM is the IAM API, v1: custom roles, service accounts and their keys.
// https://cloud.google.com/iam/docs/reference/rest
type IAM struct {
	Roles           *Roles
	ServiceAccounts *ServiceAccounts
	Keys            *Keys
}

// NewIAM calls the API at endpoint ("" for Google's) through hc.
func NewIAM(hc *http.Client, endpoint string) *IAM {
	c := &client{hc: hc, base: base(endpoint, IAMEndpoint)}
	return &IAM{Roles: &Roles{c}, ServiceAccounts: &ServiceAccounts{c}, Keys: &Keys{c}}
}

// Role is a custom role.
// https://cloud.google.com/iam/docs/reference/rest/v1/organizations.roles#Role
type Role struct {
	Name                string   `json:"name,omitempty"`
	Title               string   `json:"title,omitempty"`
	Description         string   `json:"description,omitempty"`
	IncludedPermissions []string `json:"includedPermissions,omitempty"`
	Stage               string   `json:"stage,omitempty"`
	Etag                string   `json:"etag,omitempty"`
	Deleted             bool     `json:"deleted,omitempty"`
}

// CreateRoleRequest is projects.roles.create's body.
type CreateRoleRequest struct {
	RoleID string `json:"roleId,omitempty"`
	Role   *Role  `json:"role,omitempty"`
}

// RoleList is a page of roles.
type RoleList struct {
	Roles         []*Role `json:"roles"`
	NextPageToken string  `json:"nextPageToken"`
}

// Roles are the custom role methods; a role is named by its resource
// name (projects/P/roles/R or organizations/O/roles/R).
type Roles struct{ c *client }

// Get reads a role.
func (r *Roles) Get(name string) *Call[*Role] {
	return newCall[*Role](r.c, http.MethodGet, "v1/"+resource(name), nil)
}

// Create creates a role in parent (projects/P).
func (r *Roles) Create(parent string, req *CreateRoleRequest) *Call[*Role] {
	return newCall[*Role](r.c, http.MethodPost, "v1/"+resource(parent)+"/roles", req)
}

// Patch changes the fields updateMask names.
func (r *Roles) Patch(name string, role *Role, updateMask string) *Call[*Role] {
	return newCall[*Role](r.c, http.MethodPatch, "v1/"+resource(name), role).Query("updateMask", updateMask)
}

// Undelete restores a deleted role (within 7 days of its deletion).
func (r *Roles) Undelete(name, etag string) *Call[*Role] {
	return newCall[*Role](r.c, http.MethodPost, "v1/"+resource(name)+":undelete", map[string]string{"etag": etag})
}

// Delete deletes a role (it can be undeleted for 7 days).
func (r *Roles) Delete(name string) *Call[*Role] {
	return newCall[*Role](r.c, http.MethodDelete, "v1/"+resource(name), nil)
}

// List lists parent's custom roles.
func (r *Roles) List(parent string) *Call[*RoleList] {
	return newCall[*RoleList](r.c, http.MethodGet, "v1/"+resource(parent)+"/roles", nil)
}

// ServiceAccount is a service account.
// https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts#ServiceAccount
type ServiceAccount struct {
	Name        string `json:"name,omitempty"`
	Email       string `json:"email,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	Description string `json:"description,omitempty"`
	Disabled    bool   `json:"disabled,omitempty"`
}

// CreateServiceAccountRequest is projects.serviceAccounts.create's body.
type CreateServiceAccountRequest struct {
	AccountID      string          `json:"accountId,omitempty"`
	ServiceAccount *ServiceAccount `json:"serviceAccount,omitempty"`
}

// ServiceAccountList is a page of service accounts.
type ServiceAccountList struct {
	Accounts      []*ServiceAccount `json:"accounts"`
	NextPageToken string            `json:"nextPageToken"`
}

// ServiceAccounts are the service account methods; an account is named
// projects/P/serviceAccounts/EMAIL.
type ServiceAccounts struct{ c *client }

// Get reads a service account.
func (r *ServiceAccounts) Get(name string) *Call[*ServiceAccount] {
	return newCall[*ServiceAccount](r.c, http.MethodGet, "v1/"+resource(name), nil)
}

// Create creates a service account in project (projects/P).
func (r *ServiceAccounts) Create(project string, req *CreateServiceAccountRequest) *Call[*ServiceAccount] {
	return newCall[*ServiceAccount](r.c, http.MethodPost, "v1/"+resource(project)+"/serviceAccounts", req)
}

// Delete deletes a service account.
func (r *ServiceAccounts) Delete(name string) *Call[Empty] {
	return newCall[Empty](r.c, http.MethodDelete, "v1/"+resource(name), nil)
}

// List lists a project's service accounts.
func (r *ServiceAccounts) List(project string) *Call[*ServiceAccountList] {
	return newCall[*ServiceAccountList](r.c, http.MethodGet, "v1/"+resource(project)+"/serviceAccounts", nil)
}

// ServiceAccountKey is a service account key; PrivateKeyData only in
// keys.create's answer.
// https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts.keys#ServiceAccountKey
type ServiceAccountKey struct {
	Name            string `json:"name,omitempty"`
	PrivateKeyType  string `json:"privateKeyType,omitempty"`
	KeyAlgorithm    string `json:"keyAlgorithm,omitempty"`
	PrivateKeyData  string `json:"privateKeyData,omitempty"`
	ValidAfterTime  string `json:"validAfterTime,omitempty"`
	ValidBeforeTime string `json:"validBeforeTime,omitempty"`
	KeyOrigin       string `json:"keyOrigin,omitempty"`
	KeyType         string `json:"keyType,omitempty"`
	Disabled        bool   `json:"disabled,omitempty"`
}

// CreateKeyRequest is keys.create's body.
type CreateKeyRequest struct {
	PrivateKeyType string `json:"privateKeyType,omitempty"`
	KeyAlgorithm   string `json:"keyAlgorithm,omitempty"`
}

// KeyList is keys.list's answer.
type KeyList struct {
	Keys []*ServiceAccountKey `json:"keys"`
}

// Keys are the service account key methods.
type Keys struct{ c *client }

// List lists the keys of account (projects/P/serviceAccounts/EMAIL); with
// keyTypes=USER_MANAGED only those made by someone.
func (r *Keys) List(account string) *Call[*KeyList] {
	return newCall[*KeyList](r.c, http.MethodGet, "v1/"+resource(account)+"/keys", nil)
}

// Create makes a key of account. Not idempotent: every call makes a key.
func (r *Keys) Create(account string, req *CreateKeyRequest) *Call[*ServiceAccountKey] {
	return newCall[*ServiceAccountKey](r.c, http.MethodPost, "v1/"+resource(account)+"/keys", req)
}

// Disable disables a key (name: its account's name/keys/ID).
func (r *Keys) Disable(name string) *Call[Empty] {
	return newCall[Empty](r.c, http.MethodPost, "v1/"+resource(name)+":disable", map[string]string{})
}

// Delete deletes a key.
func (r *Keys) Delete(name string) *Call[Empty] {
	return newCall[Empty](r.c, http.MethodDelete, "v1/"+resource(name), nil)
}
