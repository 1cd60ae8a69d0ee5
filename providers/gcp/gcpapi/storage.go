package gcpapi

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
)

// Storage is the Cloud Storage JSON API.
// https://cloud.google.com/storage/docs/json_api/v1
type Storage struct {
	Buckets *Buckets
	Objects *Objects
}

// NewStorage calls the API at endpoint ("" for Google's) through hc.
func NewStorage(hc *http.Client, endpoint string) *Storage {
	c := &client{hc: hc, base: base(endpoint, StorageEndpoint)}
	// Uploads go to /upload/storage/v1/ beside /storage/v1/.
	up := &client{hc: hc, base: strings.Replace(c.base, "/storage/v1/", "/upload/storage/v1/", 1)}
	return &Storage{Buckets: &Buckets{c}, Objects: &Objects{c: c, upload: up}}
}

// Bucket is a bucket resource: the fields byob reads or sets.
// https://cloud.google.com/storage/docs/json_api/v1/buckets#resource
type Bucket struct {
	Name             string            `json:"name,omitempty"`
	Location         string            `json:"location,omitempty"`
	Metageneration   int64             `json:"metageneration,omitempty,string"`
	TimeCreated      string            `json:"timeCreated,omitempty"`
	Labels           map[string]string `json:"labels,omitempty"`
	IamConfiguration *IamConfiguration `json:"iamConfiguration,omitempty"`
	Lifecycle        *Lifecycle        `json:"lifecycle,omitempty"`
}

// IamConfiguration is a bucket's uniform bucket-level access and public
// access prevention.
type IamConfiguration struct {
	UniformBucketLevelAccess *UniformBucketLevelAccess `json:"uniformBucketLevelAccess,omitempty"`
	PublicAccessPrevention   string                    `json:"publicAccessPrevention,omitempty"`
}

// UniformBucketLevelAccess turns object ACLs off.
type UniformBucketLevelAccess struct {
	Enabled bool `json:"enabled"`
}

// Lifecycle is a bucket's lifecycle configuration.
type Lifecycle struct {
	Rule []*LifecycleRule `json:"rule"`
}

// LifecycleRule is an action and its condition. Every documented field is
// here: a rule byob keeps is sent back whole.
type LifecycleRule struct {
	Action    *RuleAction    `json:"action,omitempty"`
	Condition *RuleCondition `json:"condition,omitempty"`
}

// RuleAction is what a lifecycle rule does.
type RuleAction struct {
	Type         string `json:"type,omitempty"`
	StorageClass string `json:"storageClass,omitempty"`
}

// RuleCondition is when a lifecycle rule acts.
type RuleCondition struct {
	Age                     *int64   `json:"age,omitempty"`
	CreatedBefore           string   `json:"createdBefore,omitempty"`
	CustomTimeBefore        string   `json:"customTimeBefore,omitempty"`
	DaysSinceCustomTime     int64    `json:"daysSinceCustomTime,omitempty"`
	DaysSinceNoncurrentTime int64    `json:"daysSinceNoncurrentTime,omitempty"`
	IsLive                  *bool    `json:"isLive,omitempty"`
	MatchesPrefix           []string `json:"matchesPrefix,omitempty"`
	MatchesSuffix           []string `json:"matchesSuffix,omitempty"`
	MatchesStorageClass     []string `json:"matchesStorageClass,omitempty"`
	NoncurrentTimeBefore    string   `json:"noncurrentTimeBefore,omitempty"`
	NumNewerVersions        int64    `json:"numNewerVersions,omitempty"`
}

// BucketList is a page of buckets.
type BucketList struct {
	Items         []*Bucket `json:"items"`
	NextPageToken string    `json:"nextPageToken"`
}

// Buckets are the bucket methods.
type Buckets struct{ c *client }

// Get reads a bucket.
func (r *Buckets) Get(bucket string) *Call[*Bucket] {
	return newCall[*Bucket](r.c, http.MethodGet, "b/"+segment(bucket), nil)
}

// Insert creates a bucket in project.
func (r *Buckets) Insert(project string, b *Bucket) *Call[*Bucket] {
	return newCall[*Bucket](r.c, http.MethodPost, "b", b).Query("project", project)
}

// Patch changes the fields b sets (ifMetagenerationMatch makes it a
// compare-and-swap).
func (r *Buckets) Patch(bucket string, b *Bucket) *Call[*Bucket] {
	return newCall[*Bucket](r.c, http.MethodPatch, "b/"+segment(bucket), b)
}

// Delete deletes an empty bucket.
func (r *Buckets) Delete(bucket string) *Call[Empty] {
	return newCall[Empty](r.c, http.MethodDelete, "b/"+segment(bucket), nil)
}

// List lists a project's buckets.
func (r *Buckets) List(project string) *Call[*BucketList] {
	return newCall[*BucketList](r.c, http.MethodGet, "b", nil).Query("project", project)
}

// GetIamPolicy reads a bucket's IAM policy.
func (r *Buckets) GetIamPolicy(bucket string) *Call[*Policy] {
	return newCall[*Policy](r.c, http.MethodGet, "b/"+segment(bucket)+"/iam", nil)
}

// SetIamPolicy writes a bucket's IAM policy; its etag makes it a
// compare-and-swap.
func (r *Buckets) SetIamPolicy(bucket string, p *Policy) *Call[*Policy] {
	return newCall[*Policy](r.c, http.MethodPut, "b/"+segment(bucket)+"/iam", p)
}

// Object is an object resource: the fields byob reads.
// https://cloud.google.com/storage/docs/json_api/v1/objects#resource
type Object struct {
	Name       string `json:"name,omitempty"`
	Bucket     string `json:"bucket,omitempty"`
	Generation int64  `json:"generation,omitempty,string"`
	Size       uint64 `json:"size,omitempty,string"`
}

// ObjectList is a page of objects.
type ObjectList struct {
	Items         []*Object `json:"items"`
	NextPageToken string    `json:"nextPageToken"`
}

// Objects are the object methods.
type Objects struct{ c, upload *client }

func (r *Objects) path(bucket, name string) string {
	return "b/" + segment(bucket) + "/o/" + segment(name)
}

// Insert uploads data as the object name in one request, its metadata and
// data as the two parts of a multipart/related body, as Google's client
// libraries send a small object.
// https://cloud.google.com/storage/docs/uploading-objects#uploading-an-object
func (r *Objects) Insert(bucket, name string, data []byte) *Call[*Object] {
	c := newCall[*Object](r.upload, http.MethodPost, "b/"+segment(bucket)+"/o", nil).Query("uploadType", "multipart")
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	meta, _ := json.Marshal(Object{Name: name})
	for _, part := range []struct {
		ctype string
		data  []byte
	}{{"application/json; charset=UTF-8", meta}, {"application/octet-stream", data}} {
		pw, _ := w.CreatePart(textproto.MIMEHeader{"Content-Type": {part.ctype}}) // a bytes.Buffer never fails
		_, _ = pw.Write(part.data)
	}
	_ = w.Close()
	c.raw, c.rawType = body.Bytes(), "multipart/related; boundary="+w.Boundary()
	return c
}

// Get reads an object's metadata, or with Download its data.
func (r *Objects) Get(bucket, name string) *Call[*Object] {
	return newCall[*Object](r.c, http.MethodGet, r.path(bucket, name), nil)
}

// List lists a bucket's objects (prefix, versions, pageToken, fields).
func (r *Objects) List(bucket string) *Call[*ObjectList] {
	return newCall[*ObjectList](r.c, http.MethodGet, "b/"+segment(bucket)+"/o", nil)
}

// Delete deletes an object (or, with generation, one of its versions).
func (r *Objects) Delete(bucket, name string) *Call[Empty] {
	return newCall[Empty](r.c, http.MethodDelete, r.path(bucket, name), nil)
}
