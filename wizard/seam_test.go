package wizard_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/bundlefile"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/wizard"
)

// A bucket provider defined in this file only, registered by its test: the
// engine plans, applies, re-runs, verifies and destroys its setup knowing
// nothing of it but the contract. Adding a cloud touches its own package
// and the registry.

// memCloud keeps its buckets in memory.
type memCloud struct {
	mu      sync.Mutex
	buckets map[string]bool
	calls   []string
}

func (m *memCloud) do(call string, f func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, call)
	f()
}

var memAccount = providers.Key{Name: "mem.account", Placeholder: "<mem-account>"}

type memProvider struct{ cloud *memCloud }

func (memProvider) Name() string  { return "mem" }
func (memProvider) Title() string { return "Memory Cloud" }

// memSettings is the provider's own section of Config, and the row of its
// one flag is all it takes to add it: the flag, its state file key, the
// check that a setup has it.
type memSettings struct{ Zone string }

func (memProvider) Fields() []providers.Field {
	return []providers.Field{{Flag: "mem-zone", State: "mem_zone", Owner: "mem", Usage: "zone of the memory bucket", Required: providers.Always,
		Slot: providers.SectionText(func(s *memSettings) *string { return &s.Zone })}}
}

func (memProvider) Default(*providers.Config, providers.Env)            {}
func (memProvider) Validate(*providers.Config) []providers.InvalidValue { return nil }
func (p memProvider) Connect(context.Context, *providers.Config, providers.Env) (providers.Conn, error) {
	return memConn{}, nil
}
func (memProvider) Location() string           { return "bucket" }
func (memProvider) LocationKey() providers.Key { return providers.Key{Name: "mem.bucket"} }
func (memProvider) Storage(*providers.Config) providers.Storage {
	return providers.Storage{Cloud: "mem", Service: "MEM", Scheme: "mem://"}
}
func (memProvider) Keys(*providers.Config) providers.KeyStore { return noKeys{} }
func (memProvider) KeyID(*providers.Values) string            { return "" }
func (memProvider) BundledKey(*bundlefile.Bundle) string      { return "" }
func (memProvider) Describe(c *providers.Config) string {
	return "memory bucket " + c.Bucket + " in " + providers.Section[memSettings](c).Zone
}
func (memProvider) Permissions(*providers.Config) []providers.Grantee { return nil }
func (memProvider) Bundle(providers.Setup, *bundlefile.Bundle) bool   { return true }
func (p memProvider) Steps(s providers.Setup) []providers.Step {
	return []providers.Step{memBucket{p.cloud, s.Config.Bucket}}
}
func (p memProvider) Probes(s providers.Setup) []providers.Probe {
	return []providers.Probe{{Check: providers.Check{ID: "mem-account", Title: "the account is known", Run: func(context.Context, *runenv.Run) providers.CheckResult {
		if s.Values.Get(memAccount) == "" {
			return providers.Failed("re-run byob init", "no account recorded")
		}
		return providers.Passed("account %s", s.Values.Get(memAccount))
	}}}}
}

type memConn struct{}

func (memConn) Preflight(_ context.Context, s providers.Setup, _ providers.Access) (providers.Identity, error) {
	s.Values.Set(memAccount, "m-1")
	return providers.Identity{Summary: "memory account m-1"}, nil
}
func (memConn) Close() {}

// memBucket is the provider's one step.
type memBucket struct {
	cloud *memCloud
	name  string
}

func (b memBucket) ID() string                                       { return "mem-bucket" }
func (b memBucket) Title() string                                    { return "Create memory bucket " + b.name }
func (b memBucket) Needs() []string                                  { return nil }
func (b memBucket) Reads() []providers.Key                           { return []providers.Key{memAccount} }
func (b memBucket) Writes() []providers.Key                          { return nil }
func (b memBucket) Artifacts(*providers.Values) []providers.Artifact { return nil }
func (b memBucket) Check(context.Context, *runenv.Run, *providers.Values) (providers.Observation, error) {
	var there bool
	b.cloud.do("get "+b.name, func() { there = b.cloud.buckets[b.name] })
	if there {
		return providers.Observation{Status: providers.Done}, nil
	}
	return providers.Observation{Status: providers.Missing}, nil
}
func (b memBucket) Apply(context.Context, *runenv.Run, *providers.Values) error {
	b.cloud.do("create "+b.name, func() { b.cloud.buckets[b.name] = true })
	return nil
}
func (b memBucket) Teardown(_ context.Context, v *providers.Values) (providers.Teardown, error) {
	return providers.TeardownOf(v, b.ID(), "delete memory bucket "+b.name, "memory bucket "+b.name), nil
}
func (b memBucket) Destroy(context.Context, *runenv.Run, *providers.Values) error {
	b.cloud.do("delete "+b.name, func() { delete(b.cloud.buckets, b.name) })
	return nil
}

// noKeys is the key store of a provider whose setup holds no key.
type noKeys struct{}

func (noKeys) Delivered() string         { return "" }
func (noKeys) Pending() string           { return "" }
func (noKeys) Secret(string) []byte      { return nil }
func (noKeys) Keep(string, []byte) error { return errors.New("no keys") }
func (noKeys) Settle() error             { return nil }
func (noKeys) Files() []string           { return nil }
func (noKeys) PendingFile() string       { return "" }
func (noKeys) Retain(string) error       { return nil }
func (noKeys) Previous() string          { return "" }
func (noKeys) PreviousFiles() []string   { return nil }
func (noKeys) Release() error            { return nil }

var memRegistered = sync.OnceValue(func() *memCloud {
	c := &memCloud{buckets: map[string]bool{}}
	providers.Register(memProvider{c})
	return c
})

// TestABucketProviderKnownOnlyToItsOwnPackage: a provider the engine has
// never heard of goes through init, a re-run, verify and destroy.
func TestABucketProviderKnownOnlyToItsOwnPackage(t *testing.T) {
	cloud := memRegistered() // stays registered for the binary's later tests: none lists the providers
	cloud.mu.Lock()
	cloud.buckets, cloud.calls = map[string]bool{}, nil // a run before this one (-count)
	cloud.mu.Unlock()
	dir := t.TempDir()
	cfg := wizard.Config{Provider: "mem", Warehouse: providers.WarehouseNone, Bucket: "mem-exports", OrgID: "1234", TTLDays: 7,
		Bundle: filepath.Join(dir, "bundle.json"), State: filepath.Join(dir, "state.json")}
	cfg.ApplyDefaults()
	// The provider's flag, declared by its row only.
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "--mem-zone") {
		t.Fatalf("Validate without the provider's own flag: %v", err)
	}
	zone, ok := providers.Lookup("mem-zone")
	if !ok || zone.Set(&cfg, "z1") != nil {
		t.Fatal("the provider's row is not a flag")
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	deps := wizard.Deps{Conns: map[string]providers.Conn{"mem": memConn{}}}
	apply := func() wizard.Outcome {
		t.Helper()
		state, values, err := wizard.Prepare(cfg)
		if err != nil {
			t.Fatal(err)
		}
		out, err := wizard.Apply(context.Background(), cfg, deps, state, values, wizard.ApplyOptions{})
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
		return out
	}
	if out := apply(); !slices.Equal(out.Applied, []string{"mem-bucket"}) || !out.BundleWritten {
		t.Errorf("first run: %+v", out)
	}
	if out := apply(); len(out.Applied) != 0 || !slices.Equal(out.InPlace, []string{"mem-bucket"}) {
		t.Errorf("re-run changed something: %+v", out)
	}
	// The state file keeps the flag under the row's key, and gives it back.
	st, err := wizard.LoadState(cfg.State)
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(cfg.State); !strings.Contains(string(raw), `"mem_zone": "z1"`) {
		t.Errorf("state file without the provider's input: %s", raw)
	}
	if got := st.Inputs.Config(cfg.State); providers.Section[memSettings](&got).Zone != "z1" || !got.Equal(&cfg) {
		t.Errorf("inputs read back: %+v", got)
	}
	b, err := wizard.ReadBundle(cfg.Bundle)
	if err != nil || b == nil || b.Provider != "mem" || b.Bucket != "mem-exports" {
		t.Errorf("bundle %+v, %v", b, err)
	}

	_, values, err := wizard.Prepare(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := wizard.Verify(context.Background(), cfg, deps, values, b, wizard.VerifyOptions{})
	if err != nil || !rep.OK || len(rep.Checks) != 2 {
		t.Errorf("verify: %+v, %v", rep, err)
	}

	state, values, err := wizard.Prepare(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, err := wizard.Destroy(context.Background(), cfg, deps, state, values, wizard.DestroyOptions{})
	if err != nil || !slices.Equal(out.Removed, []string{"mem-bucket"}) {
		t.Errorf("destroy: %+v, %v", out, err)
	}
	cloud.mu.Lock()
	defer cloud.mu.Unlock()
	if cloud.buckets["mem-exports"] {
		t.Error("destroy left the bucket")
	}
	if want := []string{"get mem-exports", "create mem-exports", "get mem-exports", "get mem-exports", "delete mem-exports"}; !slices.Equal(cloud.calls, want) {
		t.Errorf("calls %q, want %q", cloud.calls, want)
	}
}
