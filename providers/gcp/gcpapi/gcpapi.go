// Package gcpapi calls the parts of Google Cloud's REST APIs byob uses: the
// Cloud Storage JSON API, IAM v1 and Resource Manager v1, over an
// authorised http.Client, in the shape of Google's generated clients
// (resource.Method(args).Context(ctx).Do()). Errors are Google's
// *googleapi.Error.
//
// byob does not use the generated clients: their package initialisation
// (gRPC, S2A, protobuf, the enterprise certificate proxy) alone took longer
// than everything else byob starts with (see docs/design-notes.md).
package gcpapi

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"google.golang.org/api/googleapi"
)

// Default endpoints.
const (
	StorageEndpoint = "https://storage.googleapis.com/storage/v1/"
	IAMEndpoint     = "https://iam.googleapis.com/"
	CRMEndpoint     = "https://cloudresourcemanager.googleapis.com/"
)

// userAgent names byob to Google.
const userAgent = "byob (+https://github.com/growthloop/byob)"

// client sends the calls of one API.
type client struct {
	hc   *http.Client
	base string // ends in /
}

// Empty is the answer of a call that answers nothing.
type Empty struct{}

// Call is one API request; Do sends it. A call can be sent again.
type Call[T any] struct {
	c       *client
	method  string
	url     string // without the query
	query   url.Values
	body    any    // sent as JSON, unless nil
	raw     []byte // sent as it is, with rawType, unless nil (an upload)
	rawType string
	ctx     context.Context
}

func newCall[T any](c *client, method, path string, body any) *Call[T] {
	return &Call[T]{c: c, method: method, url: c.base + path, query: url.Values{}, body: body}
}

// Context sets the call's context.
func (c *Call[T]) Context(ctx context.Context) *Call[T] {
	c.ctx = ctx
	return c
}

// Query sets a query parameter (fields, pageToken, keyTypes, ...); an
// empty value removes it.
func (c *Call[T]) Query(name, value string) *Call[T] {
	if value == "" {
		c.query.Del(name)
	} else {
		c.query.Set(name, value)
	}
	return c
}

// Do sends the call and decodes its answer.
func (c *Call[T]) Do() (T, error) {
	var out T
	resp, err := c.send()
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil && !errors.Is(err, io.EOF) {
		return out, err
	}
	return out, nil
}

// Download sends the call for the object's data (alt=media); the caller
// closes the answer's body.
func (c *Call[T]) Download() (*http.Response, error) {
	c.query.Set("alt", "media")
	return c.send()
}

func (c *Call[T]) send() (*http.Response, error) {
	var body io.Reader
	ctype := ""
	switch {
	case c.raw != nil:
		body, ctype = bytes.NewReader(c.raw), c.rawType
	case c.body != nil:
		b, err := json.Marshal(c.body)
		if err != nil {
			return nil, err
		}
		body, ctype = bytes.NewReader(b), "application/json"
	}
	q := url.Values{"alt": {"json"}, "prettyPrint": {"false"}} // as Google's generated clients send
	for k, v := range c.query {
		q[k] = v
	}
	req, err := http.NewRequestWithContext(cmp.Or[context.Context](c.ctx, context.Background()), c.method, c.url+"?"+q.Encode(), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", userAgent)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if err := googleapi.CheckResponse(resp); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

// segment escapes one path segment ({bucket}, {object}).
func segment(s string) string { return url.PathEscape(s) }

// resource escapes a resource name (projects/p/roles/r), keeping its
// slashes, as the APIs' {+name} templates do.
func resource(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// base is an endpoint ending in a slash.
func base(endpoint, fallback string) string {
	e := cmp.Or(endpoint, fallback)
	if !strings.HasSuffix(e, "/") {
		e += "/"
	}
	return e
}

// Expr is a condition on a binding.
type Expr struct {
	Expression  string `json:"expression,omitempty"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Location    string `json:"location,omitempty"`
}

// Binding binds members to a role, under an optional condition.
type Binding struct {
	Role      string   `json:"role,omitempty"`
	Members   []string `json:"members,omitempty"`
	Condition *Expr    `json:"condition,omitempty"`
}

// Policy is an IAM policy, of a bucket or a project. What byob does not
// read (a project's audit configs) is sent back as it came.
type Policy struct {
	Bindings     []*Binding      `json:"bindings,omitempty"`
	Etag         string          `json:"etag,omitempty"`
	Version      int64           `json:"version,omitempty"`
	AuditConfigs json.RawMessage `json:"auditConfigs,omitempty"`
	Kind         string          `json:"kind,omitempty"`
	ResourceID   string          `json:"resourceId,omitempty"`
}
