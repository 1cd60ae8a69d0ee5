package snowflakestage

import "github.com/growthloop/byob/providers"

// Settings are Snowflake's inputs: the objects byob makes and how it
// reaches the account (never a secret). Fields says which flag sets each.
type Settings struct {
	Database, Schema, Integration, Stage string
	// GrowthLoopRole is the role GrowthLoop queries with.
	GrowthLoopRole string
	Connection     Connection
}

// Connection says how to reach Snowflake: a named connection of
// connections.toml (Name), overridden field by field.
type Connection struct {
	Name, Account, User, Role, Warehouse, Authenticator, PrivateKeyFile, Host string
	Port                                                                      int
	Protocol                                                                  string
}

// SettingsOf is c's Snowflake section.
func SettingsOf(c *providers.Config) Settings { return providers.Section[Settings](c) }

// noConnection: the account is asked for when no connection was chosen
// and no account given.
func noConnection(c *providers.Config) bool {
	sc := SettingsOf(c).Connection
	return sc.Name == "" && sc.Account == ""
}

// Fields implements providers.Provider: Snowflake's flags, the objects'
// first, then the connection's in the order the form asks them.
func (Provider) Fields() []providers.Field {
	return []providers.Field{
		{Flag: "snowflake-database", State: "snowflake_database", Owner: Name, Usage: "existing database holding the stage (snowflake)", Slot: providers.SectionText(func(s *Settings) *string { return &s.Database }), Required: providers.Always,
			Ask: &providers.Question{Page: providers.PageWarehouseObjects, Title: "Snowflake database for the stage", Description: "It must exist."}},
		{Flag: "snowflake-schema", State: "snowflake_schema", Owner: Name, Default: "FLYWHEEL_SYSTEM", Usage: "existing schema holding the stage (snowflake)", Slot: providers.SectionText(func(s *Settings) *string { return &s.Schema }),
			Ask: &providers.Question{Page: providers.PageWarehouseObjects, Title: "Schema for the stage", Description: "It must exist: byob creates the stage in it, not the schema."}},
		{Flag: "integration", State: "integration", Owner: Name, Usage: "storage integration name (default FLYWHEEL_APP_AWS for s3, FLYWHEEL_APP_GCS for gcs)", Slot: providers.SectionText(func(s *Settings) *string { return &s.Integration })},
		{Flag: "stage", State: "stage", Owner: Name, Default: "FLYWHEEL_EXTERNAL_STAGE", Usage: "stage name (snowflake)", Slot: providers.SectionText(func(s *Settings) *string { return &s.Stage })},
		{Flag: "growthloop-role", State: "growthloop_role", Owner: Name, Usage: "Snowflake role GrowthLoop queries with (snowflake)", Slot: providers.SectionText(func(s *Settings) *string { return &s.GrowthLoopRole }), Required: providers.Always,
			Ask: &providers.Question{Page: providers.PageWarehouseObjects, Title: "Snowflake role GrowthLoop queries with", Description: "It gets USAGE on the integration and the stage."}},
		{Flag: "snowflake-connection", State: "connection.snowflake_connection", Owner: Name, Kind: providers.ConnectionField, Usage: "connection name in ~/.snowflake/connections.toml (default: SNOWFLAKE_DEFAULT_CONNECTION_NAME or default)", Slot: providers.SectionText(func(s *Settings) *string { return &s.Connection.Name }),
			Ask: &providers.Question{Page: providers.PageConnection, Title: "Which Snowflake connection?", Description: "From connections.toml. byob needs a role that can create integrations (ACCOUNTADMIN).",
				ChoicesOnly: true, When: func(c *providers.Config) bool { return SettingsOf(c).Connection.Account == "" }}},
		{Flag: "snowflake-account", State: "connection.snowflake_account", Owner: Name, Kind: providers.ConnectionField, Usage: "Snowflake account identifier (orgname-accountname)", Slot: providers.SectionText(func(s *Settings) *string { return &s.Connection.Account }),
			Ask: &providers.Question{Page: providers.PageAccount, Title: "Snowflake account identifier", Description: "orgname-accountname", When: noConnection}},
		{Flag: "snowflake-user", State: "connection.snowflake_user", Owner: Name, Kind: providers.ConnectionField, Usage: "Snowflake user (its password only from SNOWFLAKE_PASSWORD)", Slot: providers.SectionText(func(s *Settings) *string { return &s.Connection.User }),
			Ask: &providers.Question{Page: providers.PageAccount, Title: "Snowflake user", When: noConnection}},
		{Flag: "snowflake-role", State: "connection.snowflake_role", Owner: Name, Kind: providers.ConnectionField, Usage: "Snowflake role byob runs as (creating integrations needs ACCOUNTADMIN or CREATE INTEGRATION)", Help: map[providers.Use]string{providers.Reads: "Snowflake role byob runs as"}, Slot: providers.SectionText(func(s *Settings) *string { return &s.Connection.Role }),
			Ask: &providers.Question{Page: providers.PageAccount, Title: "Snowflake role byob runs as", Description: "It creates the integration: ACCOUNTADMIN or a role with CREATE INTEGRATION.", When: noConnection}},
		{Flag: "snowflake-warehouse", State: "connection.snowflake_warehouse", Owner: Name, Kind: providers.ConnectionField, Usage: "Snowflake warehouse for the session", Slot: providers.SectionText(func(s *Settings) *string { return &s.Connection.Warehouse })},
		{Flag: "snowflake-authenticator", State: "connection.snowflake_authenticator", Owner: Name, Kind: providers.ConnectionField, Usage: "snowflake (password), externalbrowser (SSO), snowflake_jwt (key pair) or oauth (SNOWFLAKE_TOKEN) (default: the connection's, else snowflake)", Slot: providers.SectionText(func(s *Settings) *string { return &s.Connection.Authenticator }),
			Ask: &providers.Question{Page: providers.PageAccount, Title: "How do you sign in?", When: noConnection}},
		{Flag: "snowflake-private-key-file", State: "connection.snowflake_private_key_file", Owner: Name, Kind: providers.ConnectionField, ReadsFile: true, Usage: "unencrypted PKCS#8 key for snowflake_jwt", Slot: providers.SectionText(func(s *Settings) *string { return &s.Connection.PrivateKeyFile }),
			Ask: &providers.Question{Page: providers.PageKeyFile, Title: "Private key file (unencrypted PKCS#8)", When: func(c *providers.Config) bool { return SettingsOf(c).Connection.Authenticator == "snowflake_jwt" }}},
		{Flag: "snowflake-host", State: "connection.snowflake_host", Owner: Name, Kind: providers.ConnectionField, Usage: "Snowflake host, for private link (default <account>.snowflakecomputing.com)", Slot: providers.SectionText(func(s *Settings) *string { return &s.Connection.Host })},
		{Flag: "snowflake-port", State: "connection.snowflake_port", Owner: Name, Kind: providers.ConnectionField, Usage: "Snowflake port (default 443)", Slot: providers.SectionNumber(func(s *Settings) *int { return &s.Connection.Port })},
		{Flag: "snowflake-protocol", State: "connection.snowflake_protocol", Owner: Name, Kind: providers.ConnectionField, Usage: "https (default) or http", Slot: providers.SectionText(func(s *Settings) *string { return &s.Connection.Protocol })},
	}
}
