package wizard

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/growthloop/byob/providers"
)

// StateInputs are a setup's inputs as the state file keeps them: its own
// names, so renaming a flag never changes the file. How byob reached the
// clouds is kept too (never a secret), so later runs need no flags.
type StateInputs struct {
	Provider          string `json:"provider"`
	Bucket            string `json:"bucket"`
	Region            string `json:"region,omitempty"`
	GCPProject        string `json:"gcp_project,omitempty"`
	Location          string `json:"location,omitempty"`
	Prefix            string `json:"prefix"`
	OrgID             string `json:"org_id,omitempty"`
	TTLDays           int    `json:"ttl_days"`
	Warehouse         string `json:"warehouse"`
	Name              string `json:"name"`
	SnowflakeDatabase string `json:"snowflake_database,omitempty"`
	SnowflakeSchema   string `json:"snowflake_schema,omitempty"`
	Integration       string `json:"integration,omitempty"`
	Stage             string `json:"stage,omitempty"`
	GrowthLoopRole    string `json:"growthloop_role,omitempty"`
	KeyFile           string `json:"key_file,omitempty"`
	Bundle            string `json:"bundle"`
	// Names given instead of the derived ones (a setup made by hand).
	Names      *StateNames      `json:"names,omitempty"`
	Connection *StateConnection `json:"connection,omitempty"`
}

// StateNames are the names of a setup byob took over, where they are not
// the ones it derives.
type StateNames struct {
	AWSPolicy         string `json:"aws_policy,omitempty"`
	AWSRole           string `json:"aws_role,omitempty"`
	AWSUser           string `json:"aws_user,omitempty"`
	GCPServiceAccount string `json:"gcp_service_account,omitempty"`
	GCPWriterRole     string `json:"gcp_writer_role,omitempty"`
	GCPSnowflakeRole  string `json:"gcp_snowflake_role,omitempty"`
}

// StateConnection is how byob reached the clouds.
type StateConnection struct {
	AWSProfile              string `json:"aws_profile,omitempty"`
	SnowflakeConnection     string `json:"snowflake_connection,omitempty"`
	SnowflakeAccount        string `json:"snowflake_account,omitempty"`
	SnowflakeUser           string `json:"snowflake_user,omitempty"`
	SnowflakeRole           string `json:"snowflake_role,omitempty"`
	SnowflakeWarehouse      string `json:"snowflake_warehouse,omitempty"`
	SnowflakeAuthenticator  string `json:"snowflake_authenticator,omitempty"`
	SnowflakePrivateKeyFile string `json:"snowflake_private_key_file,omitempty"`
	SnowflakeHost           string `json:"snowflake_host,omitempty"`
	SnowflakePort           int    `json:"snowflake_port,omitempty"`
	SnowflakeProtocol       string `json:"snowflake_protocol,omitempty"`
}

// InputsOf is what the state file keeps of cfg.
func InputsOf(cfg Config) *StateInputs {
	sc := cfg.Snowflake
	conn := &StateConnection{
		AWSProfile: cfg.Profile, SnowflakeConnection: sc.Connection, SnowflakeAccount: sc.Account, SnowflakeUser: sc.User,
		SnowflakeRole: sc.Role, SnowflakeWarehouse: sc.Warehouse, SnowflakeAuthenticator: sc.Authenticator,
		SnowflakePrivateKeyFile: sc.PrivateKeyFile, SnowflakeHost: sc.Host, SnowflakePort: sc.Port, SnowflakeProtocol: sc.Protocol,
	}
	if *conn == (StateConnection{}) {
		conn = nil
	}
	names := &StateNames{AWSPolicy: cfg.PolicyName, AWSRole: cfg.RoleName, AWSUser: cfg.UserName,
		GCPServiceAccount: cfg.ServiceAccount, GCPWriterRole: cfg.WriterRole, GCPSnowflakeRole: cfg.SnowflakeRoleGCP}
	if *names == (StateNames{}) {
		names = nil
	}
	return &StateInputs{
		Names: names, Provider: cfg.Provider, Bucket: cfg.Bucket, Region: cfg.Region, GCPProject: cfg.GCPProject, Location: cfg.Location,
		Prefix: cfg.Prefix, OrgID: cfg.OrgID, TTLDays: cfg.TTLDays, Warehouse: cfg.Warehouse, Name: cfg.Name,
		SnowflakeDatabase: cfg.SnowflakeDatabase, SnowflakeSchema: cfg.SnowflakeSchema, Integration: cfg.Integration,
		Stage: cfg.Stage, GrowthLoopRole: cfg.GrowthLoopRole, KeyFile: cfg.KeyFile, Bundle: cfg.Bundle, Connection: conn,
	}
}

// Config is the setup the inputs describe; state names the state file.
func (in *StateInputs) Config(state string) Config {
	c := Config{
		Provider: in.Provider, Bucket: in.Bucket, Region: in.Region, GCPProject: in.GCPProject, Location: in.Location,
		Prefix: in.Prefix, OrgID: in.OrgID, TTLDays: in.TTLDays, Warehouse: in.Warehouse, Name: in.Name,
		SnowflakeDatabase: in.SnowflakeDatabase, SnowflakeSchema: in.SnowflakeSchema, Integration: in.Integration,
		Stage: in.Stage, GrowthLoopRole: in.GrowthLoopRole, KeyFile: in.KeyFile, Bundle: in.Bundle, State: state,
	}
	if n := in.Names; n != nil {
		c.PolicyName, c.RoleName, c.UserName = n.AWSPolicy, n.AWSRole, n.AWSUser
		c.ServiceAccount, c.WriterRole, c.SnowflakeRoleGCP = n.GCPServiceAccount, n.GCPWriterRole, n.GCPSnowflakeRole
	}
	if cn := in.Connection; cn != nil {
		c.Profile = cn.AWSProfile
		c.Snowflake = providers.SnowflakeConnection{
			Connection: cn.SnowflakeConnection, Account: cn.SnowflakeAccount, User: cn.SnowflakeUser, Role: cn.SnowflakeRole,
			Warehouse: cn.SnowflakeWarehouse, Authenticator: cn.SnowflakeAuthenticator, PrivateKeyFile: cn.SnowflakePrivateKeyFile,
			Host: cn.SnowflakeHost, Port: cn.SnowflakePort, Protocol: cn.SnowflakeProtocol,
		}
	}
	return c
}

// inputsV1 reads a version 1 file's inputs: the setup flags, keyed by
// flag name.
func inputsV1(raw json.RawMessage) (*StateInputs, error) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	var c Config
	for flag, v := range m {
		f, ok := providers.Lookup(flag)
		if !ok || f.Kind != providers.SetupField {
			return nil, fmt.Errorf("unknown input %q", flag)
		}
		if err := f.Set(&c, fmt.Sprint(v)); err != nil {
			return nil, fmt.Errorf("input %q: %v", flag, err)
		}
	}
	return InputsOf(c), nil
}
