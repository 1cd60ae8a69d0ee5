package wizard

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/growthloop/byob/internal/securefile"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/bundlefile"
)

// Bundle is the file the user uploads to GrowthLoop.
type Bundle = bundlefile.Bundle

// ReadBundle reads a bundle file; (nil, nil) when there is none.
func ReadBundle(path string) (*Bundle, error) { return bundlefile.Read(path) }

// checkTargets refuses, before any change, to overwrite a bundle (or a
// provider's key file) that is not this setup's: it may hold the only copy
// of another key.
func checkTargets(cfg Config, values *providers.Values) error {
	if existing, err := ReadBundle(cfg.Bundle); err != nil || existing != nil && !ownBundle(cfg, values, existing) {
		return providers.Usagef("bundle %s already exists and is not this setup's: pass --force to overwrite it, or another --bundle", cfg.Bundle)
	}
	for _, p := range cfg.Active() {
		if t, ok := p.(interface{ CheckTargets(*Config) error }); ok {
			if err := t.CheckTargets(&cfg); err != nil {
				return err
			}
		}
	}
	return nil
}

// ownBundle reports whether an existing bundle is this setup's: the same
// bucket, and the key the state file knows (any key, when the state file
// was lost: the key step then checks it exists on byob's identity).
func ownBundle(cfg Config, v *providers.Values, b *Bundle) bool {
	bp := cfg.BucketProvider()
	id := bp.KeyID(v)
	return b.Provider == cfg.Provider && b.Bucket == cfg.Bucket && (id == "" || id == bp.BundledKey(b))
}

// newBundle is the bundle of the setup, each provider filling its part; ok
// is false while the setup has no key to deliver.
func newBundle(cfg Config, v *providers.Values, deps Deps) (b *Bundle, ok bool) {
	b = &Bundle{Version: bundlefile.Version, Provider: cfg.Provider, Bucket: cfg.Bucket, Prefix: cfg.Prefix, OrgID: cfg.OrgID}
	ss := setups(&cfg, v, deps)
	ok = true
	for _, p := range cfg.Active() {
		ok = p.Bundle(ss[p.Name()], b) && ok
	}
	return b, ok
}

// writeBundle writes b to path atomically with mode 0600.
func writeBundle(path string, b *Bundle) error {
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	if err := securefile.Write(path, append(data, '\n')); err != nil {
		return fmt.Errorf("write bundle %s: %w", path, err)
	}
	return nil
}

// deliver writes the bundle of a finished run, with the key the run
// settled on, then lets the key store drop the pending secret. It writes
// nothing when the bundle already says the same.
func deliver(cfg Config, v *providers.Values, deps Deps) (bool, error) {
	b, ok := newBundle(cfg, v, deps)
	if !ok {
		return false, nil
	}
	written := false
	if existing, _ := ReadBundle(cfg.Bundle); existing == nil || !reflect.DeepEqual(existing, b) {
		if err := writeBundle(cfg.Bundle, b); err != nil {
			return false, err
		}
		written = true
	}
	keys := deps.Keys
	if keys == nil {
		keys = cfg.BucketProvider().Keys(&cfg)
	}
	return written, keys.Settle()
}
