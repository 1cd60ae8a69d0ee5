package providers

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// FieldKind says what a field is about.
type FieldKind int

// Field kinds.
const (
	// SetupField describes the setup: it is kept in the state file and
	// spelled out in the command that makes the setup again.
	SetupField FieldKind = iota
	// ConnectionField says how byob reaches a cloud.
	ConnectionField
)

// Field is one input: its flag (also the environment variable BYOB_<FLAG>
// and the config file key), where its value lives in Config, when it is
// required, and how the form asks for it. Fields is the one table that
// drives the flags, their environment and config-file binding, the form,
// Missing, and the command line that makes a setup again.
type Field struct {
	Flag string
	// Usage is the flag's help for init; Help, for the commands that mean
	// something else by it (see Use).
	Usage string
	Help  map[Use]string
	// Default is the flag's default; "" when it has none or a provider
	// derives it (the integration's name from the bucket's cloud).
	Default string
	// Owner is the provider the field belongs to: it applies only to
	// setups with it. "" for every setup.
	Owner string
	Kind  FieldKind
	// Slot is where the value lives in a Config: a field of Config
	// (Text, Number) or of a provider's section (SectionText).
	Slot Slot
	// Unit is what a number counts ("days"), for its errors.
	Unit string
	// Required says when a complete setup needs a value; nil: never.
	Required func(c *Config) bool
	// Because names the value that makes it required, when that is not
	// its owner ("--warehouse snowflake"); nil otherwise.
	Because func(c *Config) string
	// Hint says where else a missing value can come from.
	Hint string
	// HoldsKey: it names a local file GrowthLoop's key is written to
	// (the bundle, a key file). byob render writes no key; a later run
	// may find the file moved.
	HoldsKey bool
	// ReadsFile: it names a local file byob reads (a private key).
	ReadsFile bool
	// Ask is how the form asks for it; nil when the form does not.
	Ask *Question
	// State is its key in the state file's inputs, which never changes
	// with the flag's name: "bucket", or "group.key" inside an object of
	// the inputs ("connection.aws_profile"). "" for a field the state
	// file does not keep.
	State string
}

// Use is what a command does with the fields: their help says what each
// means to it.
type Use int

// The commands' uses of the fields.
const (
	Creates Use = iota // init: makes or repairs the setup
	Plans              // plan: prints init's plan, reaching nothing
	Renders            // render: writes the setup as code, reaching nothing
	Reads              // verify, destroy, rotate-keys: a setup init made, from its state file
)

// UsageFor is the field's help for a command of use u.
func (f Field) UsageFor(u Use) string {
	if h, ok := f.Help[u]; ok {
		return h
	}
	return f.Usage
}

// Question is how the form asks for a field. Choices and suggestions come
// from the field's owner (see Asker).
type Question struct {
	Page        Page
	Title       string
	Description string
	// When, if set, says whether to ask, given the answers so far.
	When func(c *Config) bool
	// ChoicesOnly asks only when there are choices, never as free text.
	ChoicesOnly bool
	// Other, when set, is the last choice of a select, which asks for the
	// value as text ("Another region (type it)").
	Other string
}

// Page is one page of the form; pages are asked in order.
type Page int

// The form's pages.
const (
	PageCloud Page = iota + 1
	PageGrowthLoop
	PageConnection
	PageAccount
	PageKeyFile
	PageWhere
	PageBucket
	PageWarehouseObjects
	PageFiles
)

// String is the field's value as text ("" when empty).
func (f Field) String(c *Config) string {
	switch v := f.Get(c).(type) {
	case string:
		return v
	case int:
		if v == 0 {
			return ""
		}
		return strconv.Itoa(v)
	}
	return ""
}

// Set parses s into the field.
func (f Field) Set(c *Config, s string) error {
	if !f.Slot.number {
		f.Slot.set(c, s)
		return nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return errors.New(f.NumberRule())
	}
	f.Slot.set(c, n)
	return nil
}

// Get is the field's value: a string, or an int for a number.
func (f Field) Get(c *Config) any { return f.Slot.get(c) }

// Put sets the field to v, a string, or an int for a number (any other
// type is a programming error, and panics).
func (f Field) Put(c *Config, v any) { f.Slot.set(c, v) }

// Shown is the field's value as a flag or the form shows it: a number
// even when 0.
func (f Field) Shown(c *Config) string {
	if f.IsNumber() {
		return strconv.Itoa(f.Get(c).(int))
	}
	return f.String(c)
}

// IsNumber reports whether the field holds an int.
func (f Field) IsNumber() bool { return f.Slot.number }

// RequiredHelp says, for --help, when a setup needs the field:
// "required", "required with --warehouse snowflake"; "" when never.
func (f Field) RequiredHelp() string {
	if f.Required == nil {
		return ""
	}
	// A setup of the field's owner; a warehouse for an owner-less field
	// that a warehouse requires (--org-id).
	example := &Config{Provider: f.Owner, Warehouse: f.Owner}
	if ws := warehouses(); f.Owner == "" && len(ws) > 0 {
		example.Warehouse = ws[0].Name()
	}
	if why := f.requiredBy(example); why != "" {
		return "required with " + why
	}
	return "required"
}

// NumberRule is the rule a number field's value breaks when it is not a
// number.
func (f Field) NumberRule() string {
	if f.Unit != "" {
		return "must be a whole number of " + f.Unit
	}
	return "must be a whole number"
}

func (f Field) empty(c *Config) bool { return f.String(c) == "" }

// Lookup returns the field of a flag.
func Lookup(flag string) (Field, bool) {
	for _, f := range Fields {
		if f.Flag == flag {
			return f, true
		}
	}
	return Field{}, false
}

// Always is a Required that always holds.
func Always(*Config) bool { return true }

// WithoutWarehouse is a Required for where the bucket goes: a
// warehouse's region is the default otherwise.
func WithoutWarehouse(c *Config) bool { return c.Warehouse == WarehouseNone }

// withWarehouse: a warehouse byob knows (an unknown one is refused, and
// requires nothing).
func withWarehouse(c *Config) bool { return c.WarehouseProvider() != nil }

func warehouse(c *Config) string { return "--warehouse " + c.Warehouse }

// NoWarehouse is the Because of WithoutWarehouse.
func NoWarehouse(c *Config) string { return "--provider " + c.Provider + " and --warehouse none" }

// Fields are every input: those of every setup, and before --bundle
// each registered provider's own (Register adds them), in the order of
// the plan document's "inputs".
var Fields = []Field{
	{Flag: "provider", State: "provider", Usage: "cloud of the bucket: s3 or gcs", Slot: Text(func(c *Config) *string { return &c.Provider }), Required: Always,
		Ask: &Question{Page: PageCloud, Title: "Where should the export bucket live?"}},
	{Flag: "bucket", State: "bucket", Usage: "bucket name (created, or adopted when you already own it)", Help: map[Use]string{Renders: "bucket name", Reads: "bucket name"}, Slot: Text(func(c *Config) *string { return &c.Bucket }), Required: Always,
		Ask: &Question{Page: PageBucket, Title: "Bucket name", Description: "Created, or adopted when you already own it. Names are global: make it yours."}},
	{Flag: "prefix", State: "prefix", Default: DefaultPrefix, Usage: "object key prefix exports are written under; ends with /", Slot: Text(func(c *Config) *string { return &c.Prefix }),
		Ask: &Question{Page: PageBucket, Title: "Prefix exports are written under", Description: "Ends with /."}},
	{Flag: "org-id", State: "org_id", Usage: "GrowthLoop organisation id (ask your Solutions Architect); the stage URL ends <prefix><org-id>/", Slot: Text(func(c *Config) *string { return &c.OrgID }), Required: withWarehouse, Because: warehouse,
		Ask: &Question{Page: PageGrowthLoop, Title: "GrowthLoop organisation id", Description: "Your Solutions Architect gives it to you; the bucket name is suggested from it, and a warehouse's stage URL ends with it."}},
	{Flag: "ttl-days", State: "ttl_days", Default: strconv.Itoa(DefaultTTLDays), Usage: fmt.Sprintf("days after which exported objects expire (1..%d)", MaxTTLDays), Slot: Number(func(c *Config) *int { return &c.TTLDays }), Unit: "days",
		Ask: &Question{Page: PageBucket, Title: "Days before exported objects expire"}},
	{Flag: "warehouse", State: "warehouse", Default: WarehouseNone, Usage: "warehouse that unloads to the bucket: none or snowflake", Slot: Text(func(c *Config) *string { return &c.Warehouse }),
		Ask: &Question{Page: PageCloud, Title: "Does a warehouse unload into the bucket?", Description: "With Snowflake, byob also creates the storage integration, the stage and the grants."}},
	{Flag: "name", State: "name", Default: DefaultName, Usage: "short setup name IAM and service-account names are derived from", Slot: Text(func(c *Config) *string { return &c.Name }),
		Ask: &Question{Page: PageGrowthLoop, Title: "Setup name", Description: "IAM and service-account names derive from it (2-20 of a-z 0-9 -)."}},
	{Flag: "bundle", State: "bundle", Default: DefaultBundle, HoldsKey: true, Usage: "credentials bundle file to upload to GrowthLoop",
		Help: map[Use]string{Plans: "credentials bundle file byob init writes, to upload to GrowthLoop", Reads: "credentials bundle file byob init wrote"}, Slot: Text(func(c *Config) *string { return &c.Bundle }),
		Ask: &Question{Page: PageFiles, Title: "Bundle file to upload to GrowthLoop", Description: "Holds the key: written with mode 0600."}},
	{Flag: "state", Default: DefaultState, Usage: "state file that makes re-runs resume (no secrets in it)",
		Help: map[Use]string{Plans: "state file of earlier byob init runs: the plan starts from what they made", Renders: "state file of a setup byob init made: when it exists, render starts from it", Reads: "state file byob init wrote; the setup is read from it"}, Slot: Text(func(c *Config) *string { return &c.State }),
		Ask: &Question{Page: PageFiles, Title: "State file", Description: "Lets a re-run resume; holds no secret."}},
}
