package form

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/huh"

	"github.com/growthloop/byob/wizard"
)

// AWSRegions are offered for the bucket; --region takes any other.
var AWSRegions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1",
	"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1",
	"ap-south-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"sa-east-1", "me-central-1", "af-south-1",
}

// GCSLocations are offered for the bucket; --location takes any other.
var GCSLocations = []string{
	"US", "EU", "ASIA", "us-central1", "us-east1", "us-east4", "us-west1", "us-west2",
	"northamerica-northeast1", "europe-west1", "europe-west2", "europe-west3", "europe-west4",
	"asia-northeast1", "asia-southeast1", "australia-southeast1", "southamerica-east1",
}

// sameAsSnowflake is the region choice that lets preflight take the
// Snowflake account's region.
const sameAsSnowflake = ""

// keep is a string accessor on which an empty answer keeps the value
// shown: a field cleared and submitted means its default, as in huh's
// accessible prompts.
type keep struct{ p *string }

func (k keep) Get() string { return *k.p }
func (k keep) Set(s string) {
	if s = strings.TrimSpace(s); s != "" {
		*k.p = s
	}
}

// days is an int accessor for the TTL; the validator has refused what is
// not a number.
type days struct{ p *int }

func (d days) Get() string { return strconv.Itoa(*d.p) }
func (d days) Set(s string) {
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
		*d.p = n
	}
}

// input is a text field for a flag, showing (and defaulting to) its value.
func input(a Answers, flag, title, description string) *huh.Input {
	p := stringField(a.Config, flag)
	return huh.NewInput().Title(title).Description(description).Placeholder(*p).
		Accessor(keep{p}).Validate(validator(a, flag, *p))
}

// required refuses an empty answer.
func required(s string) error {
	if strings.TrimSpace(s) == "" {
		return errRequired
	}
	return nil
}

// form is a one-page form of the fields asked, nil when none is.
func form(fields ...huh.Field) *huh.Form {
	var asked []huh.Field
	for _, f := range fields {
		if f != nil {
			asked = append(asked, f)
		}
	}
	if len(asked) == 0 {
		return nil
	}
	return huh.NewForm(huh.NewGroup(asked...))
}

// Cloud asks for the bucket's cloud and the warehouse.
func Cloud(a Answers) *huh.Form {
	var provider, warehouse huh.Field
	if a.ask("provider") {
		if a.Config.Provider == "" {
			a.Config.Provider = wizard.ProviderS3
		}
		provider = huh.NewSelect[string]().Title("Where should the export bucket live?").
			Options(huh.NewOption("Amazon S3", wizard.ProviderS3), huh.NewOption("Google Cloud Storage", wizard.ProviderGCS)).
			Value(&a.Config.Provider)
	}
	if a.ask("warehouse") {
		if a.Config.Warehouse == "" {
			a.Config.Warehouse = wizard.WarehouseNone
		}
		warehouse = huh.NewSelect[string]().Title("Does a warehouse unload into the bucket?").
			Description("With Snowflake, byob also creates the storage integration, the stage and the grants.").
			Options(huh.NewOption("No, GrowthLoop only", wizard.WarehouseNone), huh.NewOption("Snowflake", wizard.WarehouseSnowflake)).
			Value(&a.Config.Warehouse)
	}
	return form(provider, warehouse)
}

// GrowthLoop asks for the organisation id (required with Snowflake: it
// ends the stage URL) and the setup name IAM names derive from.
func GrowthLoop(a Answers) *huh.Form {
	var org, name huh.Field
	if a.ask("org-id") {
		desc := "Your Solutions Architect gives it to you; it suggests the bucket name."
		if a.Config.Snowflake() {
			desc = "Your Solutions Architect gives it to you; the stage URL ends with it."
		}
		org = input(a, "--org-id", "GrowthLoop organisation id", desc)
	}
	if a.ask("name") {
		name = input(a, "--name", "Setup name", "IAM and service-account names derive from it (2-20 of a-z 0-9 -).")
	}
	return form(org, name)
}

// enterDetails is the connection choice that asks for the account.
const enterDetails = "\x00enter"

// SnowflakeConnection offers the connections of connections.toml; nil
// when there are none (SnowflakeAccount asks for the account instead).
func SnowflakeConnection(a Answers, names []string) *huh.Form {
	sc := &a.Conn.Snowflake
	if len(names) == 0 || !a.ask("snowflake-connection") || !a.ask("snowflake-account") {
		return nil
	}
	opts := make([]huh.Option[string], 0, len(names)+1)
	for _, n := range names {
		opts = append(opts, huh.NewOption(n, n))
	}
	opts = append(opts, huh.NewOption("Another account (enter its details)", enterDetails))
	if sc.Connection == "" {
		sc.Connection = names[0]
	}
	return form(huh.NewSelect[string]().Title("Which Snowflake connection?").
		Description("From connections.toml. byob needs a role that can create integrations (ACCOUNTADMIN).").
		Options(opts...).Value(&sc.Connection))
}

// SnowflakeAccount asks for the account when no connection was chosen.
func SnowflakeAccount(a Answers) *huh.Form {
	sc := &a.Conn.Snowflake
	if sc.Connection == enterDetails {
		sc.Connection = ""
	}
	if sc.Connection != "" || !a.ask("snowflake-account") {
		return nil
	}
	if sc.Authenticator == "" {
		sc.Authenticator = "externalbrowser"
	}
	var fields []huh.Field
	fields = append(fields,
		huh.NewInput().Title("Snowflake account identifier").Description("orgname-accountname").Value(&sc.Account).Validate(required),
		huh.NewInput().Title("Snowflake user").Value(&sc.User).Validate(required),
		huh.NewInput().Title("Snowflake role byob runs as").Description("It creates the integration: ACCOUNTADMIN or a role with CREATE INTEGRATION.").Placeholder("ACCOUNTADMIN").Value(&sc.Role))
	if a.ask("snowflake-authenticator") {
		fields = append(fields, huh.NewSelect[string]().Title("How do you sign in?").Options(
			huh.NewOption("Single sign-on in the browser", "externalbrowser"),
			huh.NewOption("Password from SNOWFLAKE_PASSWORD", "snowflake"),
			huh.NewOption("Key pair (private key file)", "snowflake_jwt"),
		).Value(&sc.Authenticator))
	}
	return form(fields...)
}

// SnowflakeKeyFile asks for the private key of key-pair sign-in.
func SnowflakeKeyFile(a Answers) *huh.Form {
	sc := &a.Conn.Snowflake
	if sc.Authenticator != "snowflake_jwt" || sc.PrivateKeyFile != "" || !a.ask("snowflake-private-key-file") {
		return nil
	}
	return form(huh.NewInput().Title("Private key file (unencrypted PKCS#8)").Value(&sc.PrivateKeyFile).Validate(required))
}

// Where asks how to reach AWS (a profile) or which GCP project, and the
// bucket's region or location: with Snowflake, the account's own region
// comes first.
func Where(a Answers, profiles []string, suggestedProject string) *huh.Form {
	c := a.Config
	var who, where huh.Field
	switch c.Provider {
	case wizard.ProviderS3:
		if !a.DryRun && a.ask("profile") {
			if len(profiles) > 0 {
				opts := []huh.Option[string]{huh.NewOption("Default credentials (environment, AWS_PROFILE, SSO, instance role)", "")}
				for _, p := range profiles {
					opts = append(opts, huh.NewOption(p, p))
				}
				who = huh.NewSelect[string]().Title("Which AWS profile?").Options(opts...).Value(&a.Conn.AWSProfile)
			} else {
				who = huh.NewInput().Title("AWS profile").Description("Leave empty for the default credentials.").Value(&a.Conn.AWSProfile)
			}
		}
		if a.ask("region") {
			where = huh.NewSelect[string]().Title("Bucket region").Options(regionOptions(c, AWSRegions)...).Height(8).Value(&c.Region)
		}
	case wizard.ProviderGCS:
		if a.ask("gcp-project") {
			if c.GCPProject == "" {
				c.GCPProject = suggestedProject
			}
			who = input(a, "--gcp-project", "Google Cloud project id", "The project the bucket and service account are created in.")
		}
		if a.ask("location") {
			where = huh.NewSelect[string]().Title("Bucket location").Options(regionOptions(c, GCSLocations)...).Height(8).Value(&c.Location)
		}
	}
	return form(who, where)
}

func regionOptions(c *wizard.Config, list []string) []huh.Option[string] {
	var opts []huh.Option[string]
	if c.Snowflake() {
		opts = append(opts, huh.NewOption("The Snowflake account's region (recommended: no transfer cost)", sameAsSnowflake))
	}
	for _, r := range list {
		opts = append(opts, huh.NewOption(r, r))
	}
	return opts
}

// SuggestBucket is a bucket name from the org id and setup name.
func SuggestBucket(orgID, name string) string {
	org := strings.Trim(strings.ReplaceAll(strings.ToLower(orgID), "_", "-"), "-")
	if org == "" {
		return name + "-exports"
	}
	return name + "-" + org + "-exports"
}

// Bucket asks for the bucket name (suggested), the prefix and the TTL.
func Bucket(a Answers) *huh.Form {
	c := a.Config
	var bucket, prefix, ttl huh.Field
	if a.ask("bucket") {
		if c.Bucket == "" {
			c.Bucket = SuggestBucket(c.OrgID, c.Name)
		}
		bucket = input(a, "--bucket", "Bucket name", "Created, or adopted when you already own it. Names are global: make it yours.")
	}
	if a.ask("prefix") {
		prefix = input(a, "--prefix", "Prefix exports are written under", "Ends with /.")
	}
	if a.ask("ttl-days") {
		ttl = huh.NewInput().Title("Days before exported objects expire").Placeholder(strconv.Itoa(c.TTLDays)).
			Accessor(days{&c.TTLDays}).Validate(validator(a, "--ttl-days", strconv.Itoa(c.TTLDays)))
	}
	return form(bucket, prefix, ttl)
}

// SnowflakeObjects asks where the stage goes and which role GrowthLoop
// uses; nil without Snowflake.
func SnowflakeObjects(a Answers) *huh.Form {
	if !a.Config.Snowflake() {
		return nil
	}
	var db, schema, role huh.Field
	if a.ask("snowflake-database") {
		db = input(a, "--snowflake-database", "Snowflake database for the stage", "It must exist.")
	}
	if a.ask("snowflake-schema") {
		schema = input(a, "--snowflake-schema", "Schema for the stage", "Created when missing.")
	}
	if a.ask("growthloop-role") {
		role = input(a, "--growthloop-role", "Snowflake role GrowthLoop queries with", "It gets USAGE on the integration and the stage.")
	}
	return form(db, schema, role)
}

// Files asks where the bundle, the state file and (GCS) the key go.
func Files(a Answers) *huh.Form {
	var bundle, state, keyFile huh.Field
	if a.ask("bundle") {
		bundle = input(a, "--bundle", "Bundle file to upload to GrowthLoop", "Holds the key: written with mode 0600.")
	}
	if a.ask("state") {
		state = input(a, "--state", "State file", "Lets a re-run resume; holds no secret.")
	}
	if a.Config.Provider == wizard.ProviderGCS && a.ask("key-file") {
		keyFile = input(a, "--key-file", "Service account key file", "Written with mode 0600.")
	}
	return form(bundle, state, keyFile)
}
