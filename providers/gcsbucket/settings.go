package gcsbucket

import "github.com/growthloop/byob/providers"

// Settings are Google Cloud's inputs: where the bucket goes, the names of
// what byob manages when a setup made by hand has its own, and the key
// file. Fields says which flag sets each.
type Settings struct {
	Project, Location string
	// ServiceAccount, WriterRole and SnowflakeRole name what byob manages
	// when they are not derived from the setup's name; "" derives them.
	ServiceAccount, WriterRole, SnowflakeRole string
	// KeyFile is where the service account key is written.
	KeyFile string
}

// SettingsOf is c's Google Cloud section.
func SettingsOf(c *providers.Config) Settings { return providers.Section[Settings](c) }

// projectOffline is --gcp-project's help for a command that reaches no
// cloud, and so never reads the credentials' project.
const projectOffline = "Google Cloud project id (gcs; default CLOUDSDK_CORE_PROJECT or gcloud's project)"

// Fields implements providers.Provider: Google Cloud's flags.
func (Provider) Fields() []providers.Field {
	return []providers.Field{
		{Flag: "gcp-project", State: "gcp_project", Owner: Name, Usage: "Google Cloud project id (gcs; default CLOUDSDK_CORE_PROJECT, gcloud's project, or the credentials')",
			Help: map[providers.Use]string{providers.Plans: projectOffline, providers.Renders: projectOffline}, Slot: providers.SectionText(func(s *Settings) *string { return &s.Project }), Required: providers.Always,
			Hint: "CLOUDSDK_CORE_PROJECT or `gcloud config set project PROJECT_ID`",
			Ask:  &providers.Question{Page: providers.PageWhere, Title: "Google Cloud project id", Description: "The project the bucket and service account are created in."}},
		{Flag: "location", State: "location", Owner: Name, Usage: "Cloud Storage location, such as US or us-central1 (gcs; defaults to the Snowflake account's region)",
			Help: map[providers.Use]string{providers.Renders: "Cloud Storage location, such as US or us-central1 (gcs)", providers.Reads: "Cloud Storage location, such as US or us-central1 (gcs)"}, Slot: providers.SectionText(func(s *Settings) *string { return &s.Location }), Required: providers.WithoutWarehouse, Because: providers.NoWarehouse,
			Ask: &providers.Question{Page: providers.PageWhere, Title: "Bucket location", Other: "Another location (type its name)"}},
		{Flag: "service-account", State: "names.gcp_service_account", Owner: Name, Usage: "account id of GrowthLoop's service account (before the @), when it is not <name>-byob", Slot: providers.SectionText(func(s *Settings) *string { return &s.ServiceAccount })},
		{Flag: "writer-role", State: "names.gcp_writer_role", Owner: Name, Usage: "id of GrowthLoop's custom role, when it is not <name>_byob_writer", Slot: providers.SectionText(func(s *Settings) *string { return &s.WriterRole })},
		{Flag: "snowflake-role-gcp", State: "names.gcp_snowflake_role", Owner: Name, Usage: "id of the custom role of Snowflake's service account, when it is not <name>_byob_snowflake", Slot: providers.SectionText(func(s *Settings) *string { return &s.SnowflakeRole })},
		{Flag: "key-file", State: "key_file", Owner: Name, HoldsKey: true, Usage: "where the service account key is written (gcs; default credentials.json)",
			Help: map[providers.Use]string{providers.Plans: "where byob init writes the service account key (gcs; default credentials.json)", providers.Reads: "service account key file byob init wrote (gcs; default credentials.json)"}, Slot: providers.SectionText(func(s *Settings) *string { return &s.KeyFile }),
			Ask: &providers.Question{Page: providers.PageFiles, Title: "Service account key file", Description: "Written with mode 0600."}},
	}
}
