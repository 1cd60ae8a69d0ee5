package gcsbucket

import "github.com/growthloop/byob/providers"

// KeyID is the key file's service account key, kept in the state file.
var KeyID = providers.Key{Name: "gcp.key_id", Placeholder: "<key-id: created at apply>"}
