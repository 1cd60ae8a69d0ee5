package templates

// The Google Cloud documents, in the shapes of the Cloud Storage JSON API
// and the IAM API, so a reviewer can apply them by hand.

// GCSBucket is the bucket resource byob creates or reconciles.
type GCSBucket struct {
	Name             string       `json:"name"`
	Location         string       `json:"location"`
	IAMConfiguration GCSIAMConfig `json:"iamConfiguration"`
	Lifecycle        GCSLifecycle `json:"lifecycle"`
}

// GCSIAMConfig holds uniform bucket-level access and public access
// prevention.
type GCSIAMConfig struct {
	UniformBucketLevelAccess struct {
		Enabled bool `json:"enabled"`
	} `json:"uniformBucketLevelAccess"`
	PublicAccessPrevention string `json:"publicAccessPrevention"`
}

// GCSLifecycle is the bucket's lifecycle configuration.
type GCSLifecycle struct {
	Rule []GCSLifecycleRule `json:"rule"`
}

// GCSLifecycleRule deletes objects matching its condition.
type GCSLifecycleRule struct {
	Action struct {
		Type string `json:"type"`
	} `json:"action"`
	Condition struct {
		Age                     int      `json:"age,omitempty"`
		DaysSinceNoncurrentTime int      `json:"daysSinceNoncurrentTime,omitempty"`
		MatchesPrefix           []string `json:"matchesPrefix"`
	} `json:"condition"`
}

// NewGCSBucket is a private bucket whose objects under prefix are deleted
// at age days, and their noncurrent versions days after they became
// noncurrent (a bucket with versioning keeps them).
func NewGCSBucket(name, location, prefix string, days int) GCSBucket {
	b := GCSBucket{Name: name, Location: location}
	b.IAMConfiguration.UniformBucketLevelAccess.Enabled = true
	b.IAMConfiguration.PublicAccessPrevention = "enforced"
	var live, old GCSLifecycleRule
	live.Action.Type, old.Action.Type = "Delete", "Delete"
	live.Condition.Age = days
	old.Condition.DaysSinceNoncurrentTime = days
	live.Condition.MatchesPrefix, old.Condition.MatchesPrefix = []string{prefix}, []string{prefix}
	b.Lifecycle.Rule = []GCSLifecycleRule{live, old}
	return b
}

// GCPRole is a custom role as the IAM API's projects.roles.create takes it.
type GCPRole struct {
	RoleID string `json:"roleId"`
	Role   struct {
		Title               string   `json:"title"`
		Description         string   `json:"description"`
		IncludedPermissions []string `json:"includedPermissions"`
		Stage               string   `json:"stage"`
	} `json:"role"`
}

// NewGCPRole builds a GA custom role.
func NewGCPRole(id, title, description string, permissions []string) GCPRole {
	var r GCPRole
	r.RoleID = id
	r.Role.Title = title
	r.Role.Description = description
	r.Role.IncludedPermissions = permissions
	r.Role.Stage = "GA"
	return r
}

// GCSWriterPermissions are GrowthLoop's documented permissions for its
// service account.
var GCSWriterPermissions = []string{
	"storage.buckets.get",
	"storage.objects.create",
	"storage.objects.get",
	"storage.objects.list",
}

// GCSSnowflakePermissions are what Snowflake's service account needs to
// unload into and list the bucket.
var GCSSnowflakePermissions = []string{
	"storage.buckets.get",
	"storage.objects.create",
	"storage.objects.delete",
	"storage.objects.get",
	"storage.objects.list",
}

// GCPServiceAccount is projects.serviceAccounts.create's request.
type GCPServiceAccount struct {
	AccountID      string `json:"accountId"`
	ServiceAccount struct {
		DisplayName string `json:"displayName"`
		Description string `json:"description"`
	} `json:"serviceAccount"`
}

// NewGCPServiceAccount builds a service account request.
func NewGCPServiceAccount(id, displayName, description string) GCPServiceAccount {
	var s GCPServiceAccount
	s.AccountID = id
	s.ServiceAccount.DisplayName = displayName
	s.ServiceAccount.Description = description
	return s
}

// GCSBinding is one binding added to the bucket's IAM policy.
type GCSBinding struct {
	Bucket  string   `json:"bucket"`
	Role    string   `json:"role"`
	Members []string `json:"members"`
}

// GCPKeyRequest is projects.serviceAccounts.keys.create's request.
type GCPKeyRequest struct {
	ServiceAccount string `json:"serviceAccount"`
	PrivateKeyType string `json:"privateKeyType"`
	KeyAlgorithm   string `json:"keyAlgorithm"`
	WrittenTo      string `json:"writtenTo"`
}
