package providers

import (
	"maps"
	"sync"
)

// Key names a value steps share (an account id, an ARN read from Snowflake)
// and how to show it before it is known.
type Key struct {
	Name        string
	Placeholder string
}

// Values shared between steps, kept in the state file. Never a secret.
var (
	ExternalID = Key{"snowflake.external_id", "<external-id: generated at apply>"}
	// The identity a warehouse reaches the bucket with, which the bucket's
	// trust and bindings name (the state file keeps Snowflake's names).
	WarehouseUserARN        = Key{"snowflake.iam_user_arn", "<STORAGE_AWS_IAM_USER_ARN from DESC INTEGRATION>"}
	WarehouseServiceAccount = Key{"snowflake.gcp_service_account", "<STORAGE_GCP_SERVICE_ACCOUNT from DESC INTEGRATION>"}
	// GrowthLoopsKey is GrowthLoop's key (an access key, a service
	// account key) on a setup taken over (init --adopt) or named by
	// verify --access-key-id: its secret is GrowthLoop's alone.
	GrowthLoopsKey = Key{"growthloop.held_key", ""}
)

// Values is a concurrency-safe map of shared values.
type Values struct {
	mu sync.Mutex
	m  map[string]string
}

// NewValues starts from a copy of m (nil for none).
func NewValues(m map[string]string) *Values {
	v := &Values{m: map[string]string{}}
	maps.Copy(v.m, m)
	return v
}

// Get returns the value of k, "" when unknown.
func (v *Values) Get(k Key) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.m[k.Name]
}

// Ref returns the value of k, or its placeholder when unknown.
func (v *Values) Ref(k Key) string {
	if s := v.Get(k); s != "" {
		return s
	}
	return k.Placeholder
}

// Set records the value of k.
func (v *Values) Set(k Key, s string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.m[k.Name] = s
}

// Delete forgets k.
func (v *Values) Delete(k Key) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.m, k.Name)
}

// Map returns a copy of every value.
func (v *Values) Map() map[string]string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return maps.Clone(v.m)
}
