// Package wizard is byob's engine: it turns validated inputs (Config) into a
// plan of steps, runs the plan with state and resume, and writes the bundle.
// It never prints or prompts; it reports progress as events.
package wizard

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/growthloop/byob/providers/aws"
	"github.com/growthloop/byob/providers/gcp"
	"github.com/growthloop/byob/snowflake"
)

// Providers and warehouses.
const (
	ProviderS3         = "s3"
	ProviderGCS        = "gcs"
	WarehouseNone      = "none"
	WarehouseSnowflake = "snowflake"
)

// Defaults for the flags that have one.
const (
	DefaultPrefix         = "exports/"
	DefaultTTLDays        = 7
	DefaultName           = "growthloop"
	DefaultSchema         = "FLYWHEEL_SYSTEM"
	DefaultIntegrationS3  = "FLYWHEEL_APP_AWS"
	DefaultIntegrationGCS = "FLYWHEEL_APP_GCS"
	DefaultStage          = "FLYWHEEL_EXTERNAL_STAGE"
	DefaultBundle         = "growthloop-byob-bundle.json"
	DefaultState          = "byob-state.json"
	DefaultKeyFile        = "credentials.json"
	MaxTTLDays            = 3650
	maxOrgIDLength        = 64
	maxPrefixLength       = 512
	maxNameLength         = 20
)

// Config is what the user asked for. Fields are named after the flags;
// the json names are the flag names and the state file's "inputs".
type Config struct {
	Provider          string `json:"provider"`
	Bucket            string `json:"bucket"`
	Region            string `json:"region,omitempty"`
	GCPProject        string `json:"gcp-project,omitempty"`
	Location          string `json:"location,omitempty"`
	Prefix            string `json:"prefix"`
	OrgID             string `json:"org-id,omitempty"`
	TTLDays           int    `json:"ttl-days"`
	Warehouse         string `json:"warehouse"`
	Name              string `json:"name"`
	SnowflakeDatabase string `json:"snowflake-database,omitempty"`
	SnowflakeSchema   string `json:"snowflake-schema,omitempty"`
	Integration       string `json:"integration,omitempty"`
	Stage             string `json:"stage,omitempty"`
	GrowthLoopRole    string `json:"growthloop-role,omitempty"`
	KeyFile           string `json:"key-file,omitempty"`
	Bundle            string `json:"bundle"`
	State             string `json:"state"`
}

// ApplyDefaults fills the string values a user may leave out.
// Integration's default depends on the provider. TTLDays is not defaulted:
// a zero there is the user's and is refused by Validate.
func (c *Config) ApplyDefaults() {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&c.Prefix, DefaultPrefix)
	def(&c.Warehouse, WarehouseNone)
	def(&c.Name, DefaultName)
	def(&c.SnowflakeSchema, DefaultSchema)
	def(&c.Stage, DefaultStage)
	def(&c.Bundle, DefaultBundle)
	def(&c.State, DefaultState)
	switch c.Provider {
	case ProviderS3:
		def(&c.Integration, DefaultIntegrationS3)
	case ProviderGCS:
		def(&c.Integration, DefaultIntegrationGCS)
		def(&c.KeyFile, DefaultKeyFile)
	}
}

// Snowflake reports whether the setup includes a Snowflake warehouse.
func (c *Config) Snowflake() bool { return c.Warehouse == WarehouseSnowflake }

// Missing lists the flags a complete setup still needs, in flag order.
// --region (s3) and --location (gcs) may be left out with a Snowflake
// warehouse: they then default to the Snowflake account's region.
// --gcp-project defaults (in cmd) from CLOUDSDK_CORE_PROJECT or the
// Application Default Credentials before this is asked.
func (c *Config) Missing() []string {
	var m []string
	need := func(v, flag string) {
		if v == "" {
			m = append(m, flag)
		}
	}
	need(c.Provider, "--provider")
	need(c.Bucket, "--bucket")
	switch c.Provider {
	case ProviderS3:
		if !c.Snowflake() {
			need(c.Region, "--region")
		}
	case ProviderGCS:
		need(c.GCPProject, "--gcp-project")
		if !c.Snowflake() {
			need(c.Location, "--location")
		}
	}
	if c.Snowflake() {
		need(c.OrgID, "--org-id")
		need(c.SnowflakeDatabase, "--snowflake-database")
		need(c.GrowthLoopRole, "--growthloop-role")
	}
	return m
}

var (
	orgIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)
	namePattern  = regexp.MustCompile(`^[a-z][a-z0-9-]*[a-z0-9]$`)
)

// Validate checks every value that is set and returns one *UsageError
// listing every problem (missing flags first), or nil.
func (c *Config) Validate() error {
	ue := &UsageError{Missing: c.Missing()}
	bad := func(flag, value string, err error) {
		if err != nil {
			ue.Invalid = append(ue.Invalid, InvalidValue{Flag: flag, Value: value, Rule: err.Error()})
		}
	}
	switch c.Provider {
	case "", ProviderS3, ProviderGCS:
	default:
		bad("--provider", c.Provider, fmt.Errorf("must be %q or %q", ProviderS3, ProviderGCS))
	}
	switch c.Warehouse {
	case WarehouseNone, WarehouseSnowflake:
	default:
		bad("--warehouse", c.Warehouse, fmt.Errorf("must be %q or %q", WarehouseNone, WarehouseSnowflake))
	}
	if c.Bucket != "" {
		switch c.Provider {
		case ProviderS3:
			bad("--bucket", c.Bucket, aws.ValidateBucketName(c.Bucket))
		case ProviderGCS:
			bad("--bucket", c.Bucket, gcp.ValidateBucketName(c.Bucket))
		}
	}
	if c.Region != "" {
		if c.Provider == ProviderGCS {
			bad("--region", c.Region, fmt.Errorf("applies to --provider %s only; use --location for %s", ProviderS3, ProviderGCS))
		} else {
			bad("--region", c.Region, aws.ValidateRegion(c.Region))
		}
	}
	if c.Provider == ProviderS3 {
		if c.GCPProject != "" {
			bad("--gcp-project", c.GCPProject, fmt.Errorf("applies to --provider %s only", ProviderGCS))
		}
		if c.Location != "" {
			bad("--location", c.Location, fmt.Errorf("applies to --provider %s only; use --region for %s", ProviderGCS, ProviderS3))
		}
	}
	if c.Provider == ProviderGCS {
		if c.GCPProject != "" {
			bad("--gcp-project", c.GCPProject, gcp.ValidateProjectID(c.GCPProject))
		}
		if c.Location != "" {
			bad("--location", c.Location, gcp.ValidateLocation(c.Location))
		}
	}
	bad("--prefix", c.Prefix, ValidatePrefix(c.Prefix))
	if c.OrgID != "" {
		bad("--org-id", c.OrgID, ValidateOrgID(c.OrgID))
	}
	if c.TTLDays < 1 || c.TTLDays > MaxTTLDays {
		bad("--ttl-days", fmt.Sprint(c.TTLDays), fmt.Errorf("must be between 1 and %d days", MaxTTLDays))
	}
	if err := ValidateName(c.Name); err != nil {
		bad("--name", c.Name, err)
	} else {
		bad("--name", c.Name, c.derivedNamesError())
	}
	if c.Snowflake() {
		for _, id := range []struct{ flag, value string }{
			{"--snowflake-database", c.SnowflakeDatabase},
			{"--snowflake-schema", c.SnowflakeSchema},
			{"--integration", c.Integration},
			{"--stage", c.Stage},
			{"--growthloop-role", c.GrowthLoopRole},
		} {
			if id.value != "" {
				bad(id.flag, id.value, snowflake.ValidateIdentifier(id.value))
			}
		}
	}
	if c.Bundle == c.State {
		bad("--state", c.State, fmt.Errorf("must differ from --bundle"))
	}
	if c.KeyFile != "" && c.Provider == ProviderS3 {
		bad("--key-file", c.KeyFile, fmt.Errorf("applies to --provider %s only", ProviderGCS))
	}
	if c.KeyFile != "" && (c.KeyFile == c.Bundle || c.KeyFile == c.State) {
		bad("--key-file", c.KeyFile, fmt.Errorf("must differ from --bundle and --state"))
	}
	if len(ue.Missing) == 0 && len(ue.Invalid) == 0 {
		return nil
	}
	return ue
}

// ValidatePrefix checks the object key prefix exports are written under.
func ValidatePrefix(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("must not be empty")
	case len(p) > maxPrefixLength:
		return fmt.Errorf("must be at most %d characters", maxPrefixLength)
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf(`must not start with "/" (S3 and GCS keys have no leading slash)`)
	case !strings.HasSuffix(p, "/"):
		return fmt.Errorf(`must end with "/" (for example %q)`, strings.TrimRight(p, "/")+"/")
	case strings.Contains(p, "//"):
		return fmt.Errorf(`must not contain "//"`)
	}
	// S3's safe key characters, less * and ' (an IAM wildcard and a SQL
	// quote).
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/!-_.()", r)) {
			return fmt.Errorf("may contain only letters, digits and / ! - _ . ( ), not %q", r)
		}
	}
	return nil
}

// ValidateOrgID checks a GrowthLoop organisation id: it ends the stage URL.
func ValidateOrgID(id string) error {
	if len(id) > maxOrgIDLength || !orgIDPattern.MatchString(id) {
		return fmt.Errorf("must be 1-%d letters, digits, hyphens or underscores, starting with a letter or digit (ask your GrowthLoop Solutions Architect for it)", maxOrgIDLength)
	}
	return nil
}

// ValidateName checks the setup name IAM and service-account names are
// derived from.
func ValidateName(n string) error {
	if len(n) < 2 || len(n) > maxNameLength || !namePattern.MatchString(n) {
		return fmt.Errorf("must be 2-%d lowercase letters, digits or hyphens, starting with a letter and ending with a letter or digit", maxNameLength)
	}
	return nil
}

func (c *Config) derivedNamesError() error {
	switch c.Provider {
	case ProviderS3:
		return aws.NamesFor(c.Name).Validate()
	case ProviderGCS:
		return gcp.NamesFor(c.Name).Validate()
	}
	return nil
}
