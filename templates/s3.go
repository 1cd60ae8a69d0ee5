package templates

// The S3 bucket settings, in the shapes of the S3 API (and of
// `aws s3api put-bucket-*`), so a reviewer can apply them by hand.

// PublicAccessBlock is PutPublicAccessBlock's configuration.
type PublicAccessBlock struct {
	BlockPublicAcls       bool `json:"BlockPublicAcls"`
	IgnorePublicAcls      bool `json:"IgnorePublicAcls"`
	BlockPublicPolicy     bool `json:"BlockPublicPolicy"`
	RestrictPublicBuckets bool `json:"RestrictPublicBuckets"`
}

// BlockAllPublicAccess turns on all four settings.
func BlockAllPublicAccess() PublicAccessBlock {
	return PublicAccessBlock{true, true, true, true}
}

// Encryption is PutBucketEncryption's configuration.
type Encryption struct {
	Rules []EncryptionRule `json:"Rules"`
}

// EncryptionRule is one server-side encryption rule.
type EncryptionRule struct {
	ApplyServerSideEncryptionByDefault struct {
		SSEAlgorithm string `json:"SSEAlgorithm"`
	} `json:"ApplyServerSideEncryptionByDefault"`
}

// SSEAlgorithmS3 is SSE-S3 (AES256 with S3-managed keys).
const SSEAlgorithmS3 = "AES256"

// DefaultEncryption is SSE-S3.
func DefaultEncryption() Encryption {
	var r EncryptionRule
	r.ApplyServerSideEncryptionByDefault.SSEAlgorithm = SSEAlgorithmS3
	return Encryption{Rules: []EncryptionRule{r}}
}

// Lifecycle is PutBucketLifecycleConfiguration's configuration.
type Lifecycle struct {
	Rules []LifecycleRule `json:"Rules"`
}

// LifecycleRule expires objects under a prefix: current ones at the TTL,
// noncurrent versions (a versioned bucket keeps them) the TTL after they
// became noncurrent, and multipart uploads left incomplete after a day.
type LifecycleRule struct {
	ID     string `json:"ID"`
	Status string `json:"Status"`
	Filter struct {
		Prefix string `json:"Prefix"`
	} `json:"Filter"`
	Expiration struct {
		Days int `json:"Days"`
	} `json:"Expiration"`
	NoncurrentVersionExpiration struct {
		NoncurrentDays int `json:"NoncurrentDays"`
	} `json:"NoncurrentVersionExpiration"`
	AbortIncompleteMultipartUpload struct {
		DaysAfterInitiation int `json:"DaysAfterInitiation"`
	} `json:"AbortIncompleteMultipartUpload"`
}

// ExpireRuleID names the lifecycle rule byob owns; other rules on an adopted
// bucket are kept.
const ExpireRuleID = "byob-expire-exports"

// AbortUploadDays is how long an incomplete multipart upload under the
// prefix is kept (Snowflake unloads large files in parts).
const AbortUploadDays = 1

// ExpirePrefix expires objects and their old versions under prefix after
// days days, and aborts incomplete uploads.
func ExpirePrefix(prefix string, days int) LifecycleRule {
	r := LifecycleRule{ID: ExpireRuleID, Status: "Enabled"}
	r.Filter.Prefix = prefix
	r.Expiration.Days = days
	r.NoncurrentVersionExpiration.NoncurrentDays = days
	r.AbortIncompleteMultipartUpload.DaysAfterInitiation = AbortUploadDays
	return r
}
