package providers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/growthloop/byob/providers/bundlefile"
	"github.com/growthloop/byob/providers/runenv"
)

// Provider is a cloud byob puts the bucket in (a BucketProvider), or a
// warehouse that unloads into it (a Warehouse). Each registers itself by
// its name, the value of --provider or --warehouse that selects it; the
// engine loops over the setup's providers and never names one.
type Provider interface {
	Name() string
	// Title names it for people ("Amazon S3").
	Title() string
	// Fields are its inputs (flags), each with Owner its name; they live
	// in its own section of Config (providers.Section). Register adds
	// them to Fields.
	Fields() []Field
	// Default fills the defaults of its inputs that are not fixed (derived
	// from other inputs or the environment). It runs for every registered
	// provider, so it checks whether it is the setup's.
	Default(c *Config, env Env)
	// Validate checks its inputs and the names derived from them. It runs
	// only for the setup's providers.
	Validate(c *Config) []InvalidValue
	// Connect opens what a run needs. A dry run never connects.
	Connect(ctx context.Context, c *Config, env Env) (Conn, error)
	// Steps are its part of the plan; s.Conn is nil in a dry run.
	Steps(s Setup) []Step
	// Probes are the health checks verify runs besides its steps' own.
	Probes(s Setup) []Probe
	// Bundle fills its fields of the bundle and reports whether they are
	// complete (a key whose secret byob holds).
	Bundle(s Setup, b *bundlefile.Bundle) bool
}

// BucketProvider holds the bucket.
type BucketProvider interface {
	Provider
	// Location is the flag that says where the bucket goes, LocationKey
	// the value that records it for the steps and the bundle.
	Location() string
	LocationKey() Key
	// Storage is what a warehouse needs to reach the bucket.
	Storage(c *Config) Storage
	// Keys is where the secrets of GrowthLoop's keys live.
	Keys(c *Config) KeyStore
	// KeyID is the id of GrowthLoop's key the values record, BundledKey
	// the one a bundle names; "" for none.
	KeyID(v *Values) string
	BundledKey(b *bundlefile.Bundle) string
	// Describe says what bucket goes where, for the plan's first line.
	Describe(c *Config) string
	// Permissions lists what the setup grants each identity, in its
	// documents' order.
	Permissions(c *Config) []Grantee
}

// KeyRotator is a bucket provider that rotates GrowthLoop's key: a new
// key first, proved, then (once GrowthLoop has it) the old one retired.
type KeyRotator interface {
	// NewKey gives GrowthLoop's identity a new key besides the current
	// one, as init makes one: its secret goes to s.Keys and its id to
	// s.Values before any wait. It first deletes the keys an earlier
	// rotation retired, and reuses a new key a stopped run made.
	NewKey(ctx context.Context, r *runenv.Run, s Setup) (id string, err error)
	// ProveKey checks that key id, whose secret s.Keys holds, writes,
	// reads and lists under the prefix.
	ProveKey(ctx context.Context, r *runenv.Run, s Setup, id string) error
	// RetireKey deactivates key id and, unless keep, deletes it.
	RetireKey(ctx context.Context, r *runenv.Run, s Setup, id string, keep bool) error
}

// Rotation values: the key a rotation replaces, and when it started;
// once it finished, the key it retired.
var (
	RotationOldKey  = Key{Name: "rotation.old_key"}
	RotationStarted = Key{Name: "rotation.started"}
	RotationRetired = Key{Name: "rotation.retired_key"}
)

// Grantee is an identity and the permissions a setup grants it.
type Grantee struct {
	Who         string
	Permissions []string
}

// Warehouse unloads into the bucket.
type Warehouse interface {
	Provider
	// IdentityStep is the step after which the identity the warehouse
	// reaches the bucket with is known (WarehouseUserARN,
	// WarehouseServiceAccount).
	IdentityStep() string
}

// Asker is a provider that offers choices or a starting value for its
// fields in the form.
type Asker interface {
	// Choices are the options of a field asked as a select; none, or an
	// error, asks for free text.
	Choices(flag string, c *Config, env Env) ([]Choice, error)
	// Suggest is a starting value for an empty field; "" for none.
	Suggest(flag string, c *Config, env Env) string
}

// AnswerChecker is an Asker that checks an answer as it is given, against
// the world (an environment variable the choice needs), beyond the
// field's own rules.
type AnswerChecker interface {
	CheckAnswer(flag, value string, c *Config, env Env) error
}

// Choice is one option of a select.
type Choice struct{ Label, Value string }

// Env is what providers may read of the world byob runs in.
type Env struct {
	LookupEnv func(string) (string, bool)
	// DryRun: nothing may be reached, not even to find credentials.
	DryRun bool
	// ConnectTimeout bounds a cloud's preflight (--connect-timeout),
	// SnowflakeTimeout the Snowflake login (--snowflake-timeout); 0: the
	// default.
	ConnectTimeout, SnowflakeTimeout time.Duration
	// Log receives the SDKs' own log lines (--verbose); nil drops them.
	Log io.Writer
}

// DefaultConnectTimeout is --connect-timeout's default.
const DefaultConnectTimeout = 30 * time.Second

// Bounded runs fn, the first calls to a cloud, for at most d (0: no
// bound); when the time runs out it says so, with where to look.
func Bounded(ctx context.Context, d time.Duration, cloud string, fn func(context.Context) error) error {
	if d <= 0 {
		return fn(ctx)
	}
	bctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	err := fn(bctx)
	if err != nil && ctx.Err() == nil && errors.Is(bctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no answer from %s within %s (--connect-timeout): check the network, any proxy (HTTPS_PROXY) and the credentials' endpoint: %w", cloud, d, err)
	}
	return err
}

// Get returns the environment variable k, "" when unset.
func (e Env) Get(k string) string {
	if e.LookupEnv == nil {
		return ""
	}
	v, _ := e.LookupEnv(k)
	return v
}

// Conn is a provider's connection for one run.
type Conn interface {
	// Preflight checks the connection works and who it acts as (the
	// connection keeps it, for errors that name a denied caller), and
	// records what the plan needs (the account id) in s.Values. It
	// changes nothing.
	Preflight(ctx context.Context, s Setup, access Access) (Identity, error)
	Close()
}

// Warner is a Provider that warns about inputs that are valid but likely
// wrong (a region the SDK does not know), before any cloud call.
type Warner interface {
	Warnings(c *Config) []string
}

// EnvChecker is a Provider whose connection depends on the environment in
// a way that can be checked before any provider connects (a credentials
// file a variable names).
type EnvChecker interface {
	CheckEnv(env Env) []InvalidValue
}

// Reacher is a Conn that says what it reaches ("Snowflake account xy12345
// as ALICE"), for the line shown while the first answers are awaited.
type Reacher interface {
	Reaching() string
}

// Access is what a run needs to be allowed to do.
type Access int

// Accesses a preflight checks for.
const (
	ChangeAccess Access = iota // init: create and change
	ReadAccess                 // verify: read only
	RotateAccess               // rotate-keys: make, retire and delete keys
	RemoveAccess               // destroy: delete
)

// Identity is who a connection acts as, as preflight found it.
type Identity struct {
	// Summary is one line for people; Fields the same for --output json.
	Summary string
	Fields  map[string]string
	// Region is where a warehouse runs, as it names it; RegionIn names
	// the same region in a bucket's cloud (false: another cloud).
	Region   string
	RegionIn func(cloud string) (string, bool)
	Warnings []string
}

// Setup is what a provider builds its steps, probes and bundle fields
// from.
type Setup struct {
	Config      *Config
	Values      *Values
	Conn        Conn // this provider's; nil in a dry run
	Keys        KeyStore
	Propagation runenv.Propagation
	// Storage is the bucket's, for the warehouse.
	Storage Storage
	// WarehouseStep is the warehouse's IdentityStep, for the bucket's
	// provider; "" without a warehouse.
	WarehouseStep string
	// NewExternalID makes the external ID of a new trust.
	NewExternalID func() (string, error)
	// ResetExternalID gives an existing trust a new external ID.
	ResetExternalID bool
	// Adopt takes over a setup made by hand (init --adopt): a key already
	// on GrowthLoop's user is GrowthLoop's, and no other is made.
	Adopt bool
	// Prune removes what a setup made by hand holds beyond byob's
	// documents (the customer's own policy statements, project-level
	// grants); without it they are reported and kept.
	Prune bool
	// Destroy is what byob destroy removes besides byob's own objects.
	Destroy DestroyOptions
	// Bundle is what verify proves the keys of (never nil in verify).
	Bundle *bundlefile.Bundle
	// Now is when verify measures key ages.
	Now time.Time
	// ReRun is the byob init command that restores the setup.
	ReRun string
}

// Storage is what a warehouse needs to reach the bucket.
type Storage struct {
	Cloud   string // "aws", "gcp": where a warehouse's region is looked up
	Service string // "S3", "GCS"
	Scheme  string // of URLs: "s3://"
	// Tag names the integration byob makes by default: FLYWHEEL_APP_<Tag>.
	Tag string
	// Role is the role the warehouse assumes to reach the bucket, known
	// before it exists; nil when the warehouse uses its own identity.
	Role func(v *Values) string
	// RoleReads are the values Role reads (the account id): the steps
	// that name the role read them through it.
	RoleReads []Key
	// TrustStep is the last step that lets the warehouse's identity in
	// (the policy attached to the role it is trusted by, the bucket
	// binding): the warehouse's probe of the bucket needs it.
	TrustStep string
}

// Probe is a health check and the steps or checks it waits for.
type Probe struct {
	Check
	Needs []string
	// Proof makes byob init run it too, once the bundle is written: it
	// proves the setup works (waiting for propagation), and a failure
	// fails the run.
	Proof bool
	// KeyProof marks the probe that proves the bundle's key can use the
	// bucket: byob bundle runs it before writing a bundle from another
	// tool's outputs.
	KeyProof bool
}

// Placer is a bucket provider that checks, once the bucket's location is
// settled and before any change, that its cloud can serve the setup there
// (the credentials' partition, a warehouse that can reach the bucket). wh
// is the warehouse's identity, nil without one; whTitle names it.
type Placer interface {
	CheckPlacement(c *Config, v *Values, wh *Identity, whTitle string) error
}

// ProvedByUse marks a step that verify checks by using what it made (a
// key), through probes, rather than by its Check.
type ProvedByUse interface {
	ProvedByUse() bool
}

// Holder marks a step whose object holds what other steps made (a bucket,
// the settings on it): when destroy removes it, those steps are gone with
// it, and the state says so.
type Holder interface {
	Holds() []string
}

var registry []Provider

// Register makes a provider selectable by its name, and its fields
// flags.
func Register(p Provider) {
	for _, f := range p.Fields() {
		if _, taken := Lookup(f.Flag); taken {
			panic("providers: " + p.Name() + " registers --" + f.Flag + ", which is taken")
		}
	}
	registry = append(registry, p)
	// Its fields go before the files (--bundle, --state).
	at := slices.IndexFunc(Fields, func(f Field) bool { return f.Flag == "bundle" })
	Fields = slices.Insert(Fields, at, p.Fields()...)
}

func lookup(name string) Provider {
	for _, p := range registry {
		if p.Name() == name {
			return p
		}
	}
	return nil
}

func registered() []Provider { return registry }

func bucketProviders() []BucketProvider {
	var out []BucketProvider
	for _, p := range registry {
		if b, ok := p.(BucketProvider); ok {
			out = append(out, b)
		}
	}
	return out
}

func warehouses() []Warehouse {
	var out []Warehouse
	for _, p := range registry {
		if w, ok := p.(Warehouse); ok {
			out = append(out, w)
		}
	}
	return out
}

// BucketProviders are the registered clouds, in registration order.
func BucketProviders() []BucketProvider { return bucketProviders() }

// Warehouses are the registered warehouses, in registration order.
func Warehouses() []Warehouse { return warehouses() }

// Owner is the provider of a field, nil for a field of every setup.
func Owner(f Field) Provider { return lookup(f.Owner) }
