package providers

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/growthloop/byob/internal/prose"
)

// Config is what the user asked for: a setup's inputs, and how byob
// reaches the clouds (never a secret). It holds the inputs of every setup;
// each provider's own are its section (Section). Fields describes each of
// them: its flag, default and when it is required.
type Config struct {
	Provider  string
	Bucket    string
	Prefix    string
	OrgID     string
	TTLDays   int
	Warehouse string
	Name      string
	Bundle    string
	State     string

	// AllowUnknownRegion lets through a region or location of the right
	// shape that byob's list does not hold (one newer than byob), with a
	// warning (--allow-unknown-region).
	AllowUnknownRegion bool

	// sections are the providers' own inputs, by section type (see
	// Section); replaced, never changed in place, when one is set.
	sections map[reflect.Type]any
}

// AllowUnknownRegionFlag is the flag that sets AllowUnknownRegion.
const AllowUnknownRegionFlag = "--allow-unknown-region"

// WarehouseNone is --warehouse's value for a setup without one.
const WarehouseNone = "none"

// Defaults of the common inputs.
const (
	DefaultPrefix  = "exports/"
	DefaultTTLDays = 7
	DefaultName    = "growthloop"
	DefaultBundle  = "growthloop-byob-bundle.json"
	DefaultState   = "byob-state.json"
	MaxTTLDays     = 3650

	maxOrgIDLength  = 64
	maxPrefixLength = 512
	maxNameLength   = 20
)

// BucketProvider is the provider holding the bucket, nil when --provider
// names none.
func (c *Config) BucketProvider() BucketProvider {
	p, _ := lookup(c.Provider).(BucketProvider)
	return p
}

// WarehouseProvider is the warehouse that unloads into the bucket, nil
// without one.
func (c *Config) WarehouseProvider() Warehouse {
	p, _ := lookup(c.Warehouse).(Warehouse)
	return p
}

// Active are the setup's providers: the bucket's, then the warehouse.
func (c *Config) Active() []Provider {
	var out []Provider
	if p := c.BucketProvider(); p != nil {
		out = append(out, p)
	}
	if w := c.WarehouseProvider(); w != nil {
		out = append(out, w)
	}
	return out
}

// active reports whether the provider named is one of the setup's.
func (c *Config) active(name string) bool { return name == c.Provider || name == c.Warehouse }

// Applies reports whether a field applies to the setup: a field of every
// setup, or of one of its providers.
func (c *Config) Applies(f Field) bool { return f.Owner == "" || c.active(f.Owner) }

// ApplyDefaults fills what a user may leave out (Defaults without an
// environment to read).
func (c *Config) ApplyDefaults() { Defaults(c, Env{}) }

// Defaults fills what a user may leave out: the common inputs, then each
// provider's (a provider's defaults may depend on the bucket's cloud, such
// as the integration's name). TTLDays is not defaulted: a zero there is
// the user's and is refused by Validate.
func Defaults(c *Config, env Env) {
	for _, f := range Fields {
		if f.Owner != "" && !c.active(f.Owner) {
			continue
		}
		if !f.IsNumber() && f.String(c) == "" && f.Default != "" {
			f.Put(c, f.Default)
		}
	}
	for _, p := range c.Active() {
		p.Default(c, env)
	}
}

// Missing lists the flags a complete setup still needs, in flag order.
func (c *Config) Missing() []string {
	m, _ := c.missing()
	return m
}

// missing lists the flags a complete setup still needs, and for those
// another value requires, which.
func (c *Config) missing() (flags []string, because map[string]string) {
	because = map[string]string{}
	for _, f := range Fields {
		if f.Owner != "" && !c.active(f.Owner) || f.Required == nil {
			continue
		}
		if f.Required(c) && f.empty(c) {
			flags = append(flags, "--"+f.Flag)
			if why := f.requiredBy(c); why != "" {
				because["--"+f.Flag] = why
			}
		}
	}
	return flags, because
}

// requiredBy names the value that makes f required ("--warehouse
// snowflake"); "" when a setup always needs it.
func (f Field) requiredBy(c *Config) string {
	switch {
	case f.Because != nil:
		return f.Because(c)
	case f.Owner == "":
		return ""
	}
	if _, ok := lookup(f.Owner).(Warehouse); ok {
		return "--warehouse " + f.Owner
	}
	return "--provider " + f.Owner
}

var (
	orgIDPattern = Pattern(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)
	namePattern  = Pattern(`^[a-z][a-z0-9-]*[a-z0-9]$`)
)

// Validate checks every value that is set and returns one *UsageError
// listing every problem (missing flags first), or nil.
func (c *Config) Validate() error {
	ue := &UsageError{}
	ue.Missing, ue.Because = c.missing()
	for _, m := range ue.Missing {
		if f, _ := Lookup(strings.TrimPrefix(m, "--")); f.Hint != "" {
			ue.Hints = append(ue.Hints, m+" can also come from "+f.Hint)
		}
	}
	bad := func(flag, value string, err error) {
		if err != nil {
			ue.Invalid = append(ue.Invalid, InvalidValue{Flag: flag, Value: value, Rule: err.Error()})
		}
	}
	if c.Provider != "" && c.BucketProvider() == nil {
		bad("--provider", c.Provider, fmt.Errorf("must be %s", quotedOr(names(bucketProviders()))))
	}
	if c.Warehouse != WarehouseNone && c.WarehouseProvider() == nil {
		bad("--warehouse", c.Warehouse, fmt.Errorf("must be %s", quotedOr(append([]string{WarehouseNone}, names(warehouses())...))))
	}
	// A setup input of a provider the setup does not have is a mistake
	// (--region with gcs, --snowflake-database without a warehouse).
	knownWarehouse := c.Warehouse == WarehouseNone || c.WarehouseProvider() != nil
	for _, f := range Fields {
		if f.Owner == "" || c.active(f.Owner) || f.Kind != SetupField || f.empty(c) || f.String(c) == f.Default || c.BucketProvider() == nil || !knownWarehouse {
			continue
		}
		bad("--"+f.Flag, f.String(c), fmt.Errorf("%s", c.appliesTo(f)))
	}
	bad("--prefix", c.Prefix, ValidatePrefix(c.Prefix))
	if c.OrgID != "" {
		bad("--org-id", c.OrgID, ValidateOrgID(c.OrgID))
	}
	if c.TTLDays < 1 || c.TTLDays > MaxTTLDays {
		bad("--ttl-days", fmt.Sprint(c.TTLDays), fmt.Errorf("must be between 1 and %d days", MaxTTLDays))
	}
	nameOK := ValidateName(c.Name)
	bad("--name", c.Name, nameOK)
	for _, p := range registered() {
		for _, iv := range p.Validate(c) {
			f, _ := Lookup(strings.TrimPrefix(iv.Flag, "--"))
			switch {
			case iv.Flag == "--name" && nameOK != nil:
				continue // the derived names follow from a name already refused
			case !c.active(p.Name()) && f.Kind != ConnectionField:
				continue // a connection setting is checked even when unused
			}
			ue.Invalid = append(ue.Invalid, iv)
		}
	}
	if c.Bundle == c.State {
		bad("--state", c.State, fmt.Errorf("must differ from --bundle"))
	}
	if len(ue.Missing) == 0 && len(ue.Invalid) == 0 {
		return nil
	}
	return ue
}

// Warnings are what the setup's providers find likely wrong in valid
// inputs; the run goes on.
func (c *Config) Warnings() []string {
	var out []string
	for _, p := range c.Active() {
		if w, ok := p.(Warner); ok {
			out = append(out, w.Warnings(c)...)
		}
	}
	return out
}

// appliesTo says which setups a field applies to.
func (c *Config) appliesTo(f Field) string {
	flag := "--warehouse"
	if _, ok := lookup(f.Owner).(BucketProvider); ok {
		flag = "--provider"
	}
	rule := "applies to " + flag + " " + f.Owner + " only"
	if bp, owner := c.BucketProvider(), lookup(f.Owner); bp != nil && owner != nil {
		if ob, ok := owner.(BucketProvider); ok && ob.Location() == f.Flag {
			rule += "; use --" + bp.Location() + " for " + c.Provider
		}
	}
	return rule
}

// quotedOr is `"a", "b" or "c"`.
func quotedOr(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	return prose.Or(q)
}

func names[P Provider](ps []P) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name())
	}
	return out
}

// ValidatePrefix checks the object key prefix exports are written under,
// telling every rule it breaks and, when one exists, a prefix that passes.
func ValidatePrefix(p string) error {
	if p == "" {
		return fmt.Errorf("must not be empty")
	}
	var b Broken
	b.If(len(p) > maxPrefixLength, "must be at most %d characters", maxPrefixLength)
	b.If(strings.HasPrefix(p, "/"), `must not start with "/" (S3 and GCS keys have no leading slash)`)
	b.If(!strings.HasSuffix(p, "/"), `must end with "/"`)
	b.If(strings.Contains(p, "//"), `must not contain "//"`)
	var odd []string
	for _, r := range p {
		if !prefixRune(r) && !slices.Contains(odd, string(r)) {
			odd = append(odd, string(r))
		}
	}
	// S3's safe key characters, less * and ' (an IAM wildcard and a SQL
	// quote).
	b.If(len(odd) > 0, "may contain only letters, digits and / ! - _ . ( ), not %s", quotedOr(odd))
	if len(b) == 0 {
		return nil
	}
	if fix := fixPrefix(p); fix != "" && ValidatePrefix(fix) == nil {
		b = append(b, fmt.Sprintf("for example %q", fix))
	}
	return b.Err()
}

// ValidateNew is Validate with the rules byob added after setups were
// made without them: init, plan and render apply them to what they make;
// verify, destroy and rotate-keys still reach a setup made before.
func (c *Config) ValidateNew() error {
	err := c.Validate()
	// A client or proxy that cleans up paths (RFC 3986) would send a key
	// under a "." or ".." segment somewhere else.
	if !slices.ContainsFunc(strings.Split(c.Prefix, "/"), func(s string) bool { return s == "." || s == ".." }) {
		return err
	}
	dots := InvalidValue{Flag: "--prefix", Value: c.Prefix, Rule: `must not have "." or ".." as a segment`}
	if fix := fixPrefix(c.Prefix); fix != "" && ValidatePrefix(fix) == nil {
		dots.Rule += fmt.Sprintf("; for example %q", fix)
	}
	ue, _ := err.(*UsageError) // Validate's only error
	if ue == nil {
		ue = &UsageError{}
	}
	ue.Invalid = append(ue.Invalid, dots)
	return ue
}

func prefixRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/!-_.()", r)
}

// fixPrefix is p with what breaks a rule taken out; "" when nothing is
// left.
func fixPrefix(p string) string {
	var parts []string
	for _, part := range strings.Split(p, "/") {
		part = strings.Map(func(r rune) rune {
			if prefixRune(r) {
				return r
			}
			return -1
		}, part)
		if part != "" && part != "." && part != ".." {
			parts = append(parts, part)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	fix := strings.Join(parts, "/") + "/"
	if len(fix) > maxPrefixLength {
		return ""
	}
	return fix
}

// ValidateOrgID checks a GrowthLoop organisation id: it ends the stage URL.
func ValidateOrgID(id string) error {
	if len(id) > maxOrgIDLength || !orgIDPattern().MatchString(id) {
		return fmt.Errorf("must be 1-%d letters, digits, hyphens or underscores, starting with a letter or digit (ask your GrowthLoop Solutions Architect for it)", maxOrgIDLength)
	}
	return nil
}

// ValidateName checks the setup name IAM and service-account names are
// derived from.
func ValidateName(n string) error {
	if len(n) < 2 || len(n) > maxNameLength || !namePattern().MatchString(n) {
		return fmt.Errorf("must be 2-%d lowercase letters, digits or hyphens, starting with a letter and ending with a letter or digit", maxNameLength)
	}
	return nil
}

// Pattern compiles a regular expression the first time it is used, not
// when byob starts (every start, --help included, would pay for it).
func Pattern(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}

// DottedQuad matches a name in the shape of an IPv4 address, whether or
// not its numbers make one (999.999.999.999, 01.02.03.04): S3 and Cloud
// Storage refuse bucket names of that shape.
var DottedQuad = Pattern(`^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$`)
