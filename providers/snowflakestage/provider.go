package snowflakestage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/bundlefile"
	"github.com/growthloop/byob/snowflake"
)

// Name selects Snowflake: --warehouse snowflake.
const Name = "snowflake"

// Provider is the Snowflake warehouse.
type Provider struct{}

// Name implements providers.Provider.
func (Provider) Name() string { return Name }

// Title implements providers.Provider.
func (Provider) Title() string { return "Snowflake" }

// IdentityStep implements providers.Warehouse: DESC INTEGRATION names the
// IAM user or service account Snowflake reaches the bucket as.
func (Provider) IdentityStep() string { return StepIntegration }

// Default implements providers.Provider: the integration is named after
// the bucket's cloud, as GrowthLoop's guide names it (FLYWHEEL_APP_AWS).
func (Provider) Default(c *providers.Config, _ providers.Env) {
	if b := c.BucketProvider(); b != nil && SettingsOf(c).Integration == "" && c.Warehouse == Name {
		providers.UpdateSection(c, func(s *Settings) { s.Integration = "FLYWHEEL_APP_" + b.Storage(c).Tag })
	}
}

// Validate implements providers.Provider: Snowflake's unquoted identifier
// syntax, and the connection settings.
func (Provider) Validate(c *providers.Config) []providers.InvalidValue {
	var bad []providers.InvalidValue
	check := func(flag, value string, err error) {
		if err != nil {
			bad = append(bad, providers.Invalid(flag, value, err))
		}
	}
	set := SettingsOf(c)
	for _, id := range []struct{ flag, value string }{
		{"--snowflake-database", set.Database},
		{"--snowflake-schema", set.Schema},
		{"--integration", set.Integration},
		{"--stage", set.Stage},
		{"--growthloop-role", set.GrowthLoopRole},
	} {
		if id.value != "" {
			check(id.flag, id.value, snowflake.ValidateIdentifier(id.value))
		}
	}
	sc := set.Connection
	if sc.Port < 0 || sc.Port > 65535 {
		check("--snowflake-port", fmt.Sprint(sc.Port), fmt.Errorf("must be a port number 1-65535"))
	}
	switch sc.Protocol {
	case "", "http", "https":
	default:
		check("--snowflake-protocol", sc.Protocol, fmt.Errorf(`must be "https" or "http"`))
	}
	switch strings.ToLower(sc.Authenticator) {
	case "", "snowflake", "externalbrowser", "snowflake_jwt", "oauth":
	default:
		check("--snowflake-authenticator", sc.Authenticator, fmt.Errorf("must be snowflake, externalbrowser, snowflake_jwt or oauth"))
	}
	return bad
}

// options are the driver's connection options of a setup.
func options(c *providers.Config, env providers.Env) snowflake.ConnOptions {
	sc := SettingsOf(c).Connection
	return snowflake.ConnOptions{
		Connection: sc.Name, Account: sc.Account, User: sc.User, Role: sc.Role, Warehouse: sc.Warehouse,
		Authenticator: sc.Authenticator, PrivateKeyFile: sc.PrivateKeyFile, Host: sc.Host, Port: sc.Port, Protocol: sc.Protocol,
		LookupEnv: env.LookupEnv, LoginTimeout: env.SnowflakeTimeout,
	}
}

// conn is a Snowflake session pool for one run, and the role its
// sessions act as once Preflight read it (errors name it).
type conn struct {
	snowflake.DB
	reaching    string
	sessionRole atomic.Pointer[string]
}

// NewConn is a connection through db (tests reach the fake so).
func NewConn(db snowflake.DB) providers.Conn { return &conn{DB: db, reaching: "Snowflake"} }

// role is the sessions' role, as Preflight found it.
func (c *conn) role() string {
	if r := c.sessionRole.Load(); r != nil {
		return *r
	}
	return "the session's role"
}

// explain is snowflake.Explain, naming the sessions' role.
func (c *conn) explain(what string, err error) error { return snowflake.Explain(c.role(), what, err) }

// Reaching implements providers.Reacher.
func (c *conn) Reaching() string { return c.reaching }

func (c *conn) Close() {
	if closer, ok := c.DB.(interface{ Close() }); ok {
		closer.Close()
	}
}

// db is a setup's connection; nil in a dry run.
func db(s providers.Setup) *conn {
	c, _ := s.Conn.(*conn)
	return c
}

// Connect implements providers.Provider.
func (Provider) Connect(ctx context.Context, c *providers.Config, env providers.Env) (providers.Conn, error) {
	o := options(c, env)
	cfg, err := o.Config()
	if err != nil {
		return nil, providers.Usagef("%v", err)
	}
	return &conn{DB: snowflake.Open(ctx, cfg, snowflake.Sessions, o.LoginWait(cfg)), reaching: fmt.Sprintf("Snowflake account %s as %s", cfg.Account, cmp.Or(cfg.User, "(browser sign-in)"))}, nil
}

// Account is the Snowflake account (CURRENT_ACCOUNT()) a setup was made
// in: a later run that reaches another account is refused.
var Account = providers.Key{Name: "snowflake.account"}

// Region is the Snowflake account's region ID (CURRENT_REGION()).
var Region = providers.Key{Name: "snowflake.region"}

// Preflight reads who runs the SQL (c keeps the role for its errors) and
// where the account is, and refuses a state file of another account.
func (c *conn) Preflight(ctx context.Context, setup providers.Setup, _ providers.Access) (providers.Identity, error) {
	if p, ok := c.DB.(*snowflake.Pool); ok {
		if err := p.Ready(ctx); err != nil {
			return providers.Identity{}, err
		}
	}
	s, err := snowflake.CurrentSession(ctx, c.DB)
	if err != nil {
		return providers.Identity{}, err
	}
	if s.Role != "" {
		c.sessionRole.Store(&s.Role)
	}
	setup.Values.Set(Region, s.Region)
	switch recorded := setup.Values.Get(Account); {
	case recorded == "":
		setup.Values.Set(Account, s.Account)
	case !strings.EqualFold(recorded, s.Account):
		return providers.Identity{}, providers.Usagef("%s records a setup in Snowflake account %s, but the connection reaches account %s: connect to account %s (--snowflake-connection or --snowflake-account), or pass another --state",
			setup.Config.State, recorded, s.Account, recorded)
	}
	return providers.Identity{
		Summary:  fmt.Sprintf("Snowflake: account %s in %s, role %s", s.Account, s.Region, s.Role),
		Fields:   map[string]string{"snowflake_role": s.Role, "snowflake_region": s.Region},
		Region:   s.Region,
		RegionIn: func(cloud string) (string, bool) { return snowflake.CloudRegion(s.Region, cloud) },
	}, nil
}

// Steps implements providers.Provider.
func (Provider) Steps(s providers.Setup) []providers.Step { return steps(s, db(s)) }

// Probes implements providers.Provider: Snowflake itself lists the bucket
// through the stage.
func (Provider) Probes(s providers.Setup) []providers.Probe {
	o := objectsOf(s.Config, s.Storage)
	// It needs only a session: it starts beside the preflight.
	reachable := providers.Probe{Check: StageReachable(db(s), o.Stage, s.ReRun, s.Propagation, assumeRoleCauses(s)).Early(),
		Needs: []string{StepIntegration, StepStage}, Proof: true}
	if s.Storage.TrustStep != "" {
		reachable.Needs = append(reachable.Needs, s.Storage.TrustStep)
	}
	return []providers.Probe{
		reachable,
		{Check: OtherGrants(db(s), o).Early(), Needs: []string{StepIntegration, StepStage}},
	}
}

// Bundle implements providers.Provider: the integration and stage, and
// the identity the bucket trusts.
func (Provider) Bundle(s providers.Setup, b *bundlefile.Bundle) bool {
	o := objectsOf(s.Config, s.Storage)
	b.Snowflake = &bundlefile.Snowflake{Integration: string(o.Integration.Name), Stage: o.Stage.Name.String()}
	if s.Storage.Role != nil {
		b.Snowflake.RoleARN = s.Storage.Role(s.Values)
		b.Snowflake.ExternalID = s.Values.Get(providers.ExternalID)
	} else {
		b.Snowflake.GCPServiceAccount = s.Values.Get(providers.WarehouseServiceAccount)
	}
	return true
}

// anotherAccount is the connection choice that asks for the account.
const anotherAccount = ""

// Choices implements providers.Asker: the connections of connections.toml,
// and the ways to sign in.
func (Provider) Choices(flag string, c *providers.Config, env providers.Env) ([]providers.Choice, error) {
	switch flag {
	case "snowflake-connection":
		names, err := options(c, env).ConnectionNames()
		if err != nil || len(names) == 0 {
			return nil, err
		}
		var out []providers.Choice
		for _, n := range names {
			out = append(out, providers.Choice{Label: n, Value: n})
		}
		return append(out, providers.Choice{Label: "Another account (enter its details)", Value: anotherAccount}), nil
	case "snowflake-authenticator":
		return []providers.Choice{
			{Label: "Single sign-on in the browser", Value: "externalbrowser"},
			{Label: "Password from SNOWFLAKE_PASSWORD", Value: "snowflake"},
			{Label: "Key pair (private key file)", Value: "snowflake_jwt"},
		}, nil
	}
	return nil, nil
}

// CheckAnswer implements providers.AnswerChecker: a password sign-in needs
// the password before the user answers every other question.
func (Provider) CheckAnswer(flag, value string, c *providers.Config, env providers.Env) error {
	if flag != "snowflake-authenticator" || value != "snowflake" || options(c, env).HasPassword() {
		return nil
	}
	return errors.New("SNOWFLAKE_PASSWORD is not set (nor a password in the connection): choose single sign-on or a key pair, or quit, set it and start again")
}

// Suggest implements providers.Asker.
func (Provider) Suggest(flag string, _ *providers.Config, _ providers.Env) string {
	switch flag {
	case "snowflake-role":
		return "ACCOUNTADMIN"
	case "snowflake-authenticator":
		return "externalbrowser"
	}
	return ""
}
