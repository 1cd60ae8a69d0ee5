package providers

// KeyStore is where the secrets of GrowthLoop's keys live: files of mode
// 0600, never the state file, output, logs or errors. A key step asks it
// which keys' secrets byob holds (a key whose secret byob does not hold can
// never be delivered) and hands it a new key's secret the moment the cloud
// answers, before anything else happens.
type KeyStore interface {
	// Delivered is the id of the key in the bundle (the key GrowthLoop
	// has, or gets with this bundle), "" when none.
	Delivered() string
	// Pending is the id of a key made by a run that has not finished, kept
	// until the bundle holds it; "" when none.
	Pending() string
	// Secret is the secret of a key byob holds; nil when it holds none.
	Secret(id string) []byte
	// Keep writes a new key's secret (atomically, mode 0600) and makes it
	// the pending key.
	Keep(id string, secret []byte) error
	// Settle drops the pending secret once the bundle holds the key the
	// run settled on (a pending key that is not it was deleted).
	Settle() error
	// Files are the files it writes a secret to besides the bundle.
	Files() []string
	// PendingFile is the file the pending key's secret waits in; "" when
	// there is no pending key.
	PendingFile() string
}

// Holds reports whether ks holds the secret of the key id.
func Holds(ks KeyStore, id string) bool {
	return id != "" && (ks.Delivered() == id || ks.Pending() == id)
}
