package snowflake

import (
	"cmp"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
	sf "github.com/snowflakedb/gosnowflake/v2"
	"golang.org/x/sync/errgroup"

	"github.com/growthloop/byob/internal/netfail"
)

// ConnOptions say how to reach Snowflake: a named connection of
// connections.toml, overridden field by field by flags. Empty fields are
// not set.
type ConnOptions struct {
	Connection     string // name in connections.toml; "" = default
	Account        string
	User           string
	Role           string
	Warehouse      string
	Authenticator  string // snowflake, externalbrowser, snowflake_jwt, oauth
	PrivateKeyFile string
	Host           string
	Port           int
	Protocol       string // https (default) or http
	// LoginTimeout bounds the login, retries included; 0 is
	// DefaultLoginTimeout.
	LoginTimeout time.Duration
	// LookupEnv reads SNOWFLAKE_PASSWORD, SNOWFLAKE_TOKEN, SNOWFLAKE_HOME,
	// SNOWFLAKE_DEFAULT_CONNECTION_NAME and HOME.
	LookupEnv func(string) (string, bool)
}

func (o ConnOptions) env(k string) string {
	if o.LookupEnv == nil {
		return ""
	}
	v, _ := o.LookupEnv(k)
	return v
}

// tomlConnection is one [name] table of connections.toml, with the keys
// the Snowflake CLI and drivers use.
type tomlConnection struct {
	Account        string `toml:"account"`
	User           string `toml:"user"`
	Password       string `toml:"password"`
	Role           string `toml:"role"`
	Warehouse      string `toml:"warehouse"`
	Authenticator  string `toml:"authenticator"`
	PrivateKeyFile string `toml:"private_key_file"`
	PrivateKeyPath string `toml:"private_key_path"`
	Token          string `toml:"token"`
	Host           string `toml:"host"`
	Port           int    `toml:"port"`
	Protocol       string `toml:"protocol"`
}

// connectionsFile is $SNOWFLAKE_HOME/connections.toml, else
// ~/.snowflake/connections.toml.
func (o ConnOptions) connectionsFile() string {
	if h := o.env("SNOWFLAKE_HOME"); h != "" {
		return filepath.Join(h, "connections.toml")
	}
	return filepath.Join(o.env("HOME"), ".snowflake", "connections.toml")
}

// loadConnection reads the named connection. A missing file is fine when
// no name was asked for.
func (o ConnOptions) loadConnection() (tomlConnection, error) {
	name := o.Connection
	if name == "" {
		name = o.env("SNOWFLAKE_DEFAULT_CONNECTION_NAME")
	}
	path := o.connectionsFile()
	var all map[string]tomlConnection
	if _, err := toml.DecodeFile(path, &all); err != nil {
		switch {
		case errors.Is(err, os.ErrNotExist) && name == "":
			return tomlConnection{}, nil
		case errors.Is(err, os.ErrNotExist):
			return tomlConnection{}, fmt.Errorf("connection %q needs %s, which does not exist: create it with a [%s] section "+
				"(account, user, authenticator), set SNOWFLAKE_HOME to its directory, or pass --snowflake-account and --snowflake-user instead", name, path, name)
		}
		return tomlConnection{}, fmt.Errorf("read %s: %w", path, err)
	}
	if name == "" {
		name = "default"
		if _, ok := all[name]; !ok {
			return tomlConnection{}, nil
		}
	}
	c, ok := all[name]
	if !ok {
		return tomlConnection{}, fmt.Errorf("%s has no connection [%s]", path, name)
	}
	return c, nil
}

// MaxRetries is how often the driver tries a request again.
const MaxRetries = 10

// DefaultLoginTimeout bounds connecting, retries included, unless
// ConnOptions.LoginTimeout says otherwise.
const DefaultLoginTimeout = 30 * time.Second

// browserLogin is the least time a login through the browser (SSO) gets:
// the user has to act. It is the driver's own default for it.
const browserLogin = 120 * time.Second

// LoginWait is how long the login of cfg (o's) may take: --snowflake-
// timeout, and at least the driver's own wait for a browser sign-in.
func (o ConnOptions) LoginWait(cfg *sf.Config) time.Duration {
	wait := cmp.Or(o.LoginTimeout, DefaultLoginTimeout)
	if cfg.Authenticator == sf.AuthTypeExternalBrowser {
		wait = max(wait, browserLogin)
	}
	return wait
}

// Config builds the driver configuration. The password comes only from
// SNOWFLAKE_PASSWORD or connections.toml, never from a flag.
func (o ConnOptions) Config() (*sf.Config, error) {
	t, err := o.loadConnection()
	if err != nil {
		return nil, err
	}
	pick := func(flag, file string) string {
		if flag != "" {
			return flag
		}
		return file
	}
	cfg := &sf.Config{
		Account:   pick(o.Account, t.Account),
		User:      pick(o.User, t.User),
		Role:      pick(o.Role, t.Role),
		Warehouse: pick(o.Warehouse, t.Warehouse),
		Host:      pick(o.Host, t.Host),
		Protocol:  pick(o.Protocol, t.Protocol),
		Port:      o.Port,
		Password:  pick(o.env("SNOWFLAKE_PASSWORD"), t.Password),
		Token:     pick(o.env("SNOWFLAKE_TOKEN"), t.Token),
		Params:    map[string]*string{},
		// The driver retries 5xx, 429 and lost connections itself (every
		// query carries a request ID that Snowflake runs once); byob
		// asks for more attempts than its default 7. Open bounds the login.
		MaxRetryCount: MaxRetries,
	}
	if cfg.Port == 0 {
		cfg.Port = t.Port
	}
	if cfg.Account == "" {
		return nil, errors.New("no Snowflake account: pass --snowflake-account or --snowflake-connection (a [name] in " + o.connectionsFile() + ")")
	}
	auth := strings.ToLower(pick(o.Authenticator, t.Authenticator))
	switch auth {
	case "", "snowflake":
		cfg.Authenticator = sf.AuthTypeSnowflake
		if cfg.Password == "" {
			return nil, errors.New("no Snowflake password: set SNOWFLAKE_PASSWORD, or use --snowflake-authenticator externalbrowser or snowflake_jwt")
		}
	case "externalbrowser":
		cfg.Authenticator = sf.AuthTypeExternalBrowser
	case "oauth":
		cfg.Authenticator = sf.AuthTypeOAuth
		if cfg.Token == "" {
			return nil, errors.New("oauth needs a token: set SNOWFLAKE_TOKEN")
		}
	case "snowflake_jwt":
		cfg.Authenticator = sf.AuthTypeJwt
		keyFile := pick(o.PrivateKeyFile, pick(t.PrivateKeyFile, t.PrivateKeyPath))
		if keyFile == "" {
			return nil, errors.New("snowflake_jwt needs --snowflake-private-key-file")
		}
		if cfg.PrivateKey, err = readPrivateKey(keyFile); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown Snowflake authenticator %q: use snowflake, externalbrowser, snowflake_jwt or oauth", auth)
	}
	return cfg, nil
}

// readPrivateKey reads an unencrypted PKCS#8 or PKCS#1 RSA key. Errors
// never include the key's bytes.
func readPrivateKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read private key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("private key %s is not PEM", path)
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, fmt.Errorf("private key %s is encrypted: decrypt it (openssl pkcs8 -in %s -out key.p8 -nocrypt) and keep the copy private", path, path)
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if rk, ok := k.(*rsa.PrivateKey); ok {
			return rk, nil
		}
		return nil, fmt.Errorf("private key %s is not an RSA key", path)
	}
	if rk, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return rk, nil
	}
	return nil, fmt.Errorf("private key %s is neither PKCS#8 nor PKCS#1 RSA", path)
}

// Sessions is how many sessions Open logs in at once: as many as a run
// queries at the same time (the preflight, DESC INTEGRATION, SHOW STAGES,
// SHOW GRANTS and LIST @stage; then the grants), so no login waits
// mid-run.
const Sessions = 5

// Pool is a set of sessions logged in at once (each login is a round
// trip; at once they cost one), in the background: Open returns at once,
// and each query waits for the logins (Ready).
type Pool struct {
	db    *sql.DB
	ready chan struct{}
	err   error
}

// Open starts logging in sessions at once and keeps them in the pool. The
// driver's own logging and telemetry are off: byob reports errors itself,
// without secrets, and sends nothing else.
func Open(ctx context.Context, cfg *sf.Config, sessions int, wait time.Duration) *Pool {
	quietDriver()
	c := *cfg
	c.Transporter = transport(cfg.Transporter)
	// Telemetry is a session parameter: the server answers the login with
	// the value the session asked for, and the driver sends telemetry only
	// when that is true (its default on the server).
	c.Params = maps.Clone(cfg.Params)
	if c.Params == nil {
		c.Params = map[string]*string{}
	}
	off := "false"
	c.Params["client_telemetry_enabled"] = &off
	// A login that cannot succeed (no such host, nothing listening, an
	// untrusted certificate) stops at once: the driver would retry it
	// until the timeout.
	loginCtx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	c.Transporter = lastingStops{c.Transporter, cancel}
	p := &Pool{db: sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, c)), ready: make(chan struct{})}
	// A session opened beyond them is kept too: the pool would log it out
	// when it is released, in the query's own time.
	p.db.SetMaxIdleConns(2 * sessions)
	go func() {
		defer close(p.ready)
		ctx, stop := context.WithTimeout(loginCtx, wait)
		defer stop()
		conns := make([]*sql.Conn, sessions)
		g, gctx := errgroup.WithContext(ctx)
		for i := range conns {
			g.Go(func() (err error) {
				conns[i], err = p.db.Conn(gctx)
				return err
			})
		}
		err := g.Wait()
		for _, c := range conns {
			if c != nil {
				c.Close() // back to the pool, logged in
			}
		}
		switch cause := context.Cause(loginCtx); {
		case err == nil:
		case cause != nil:
			if why, ok := netfail.Unreachable(cause); ok {
				p.err = fmt.Errorf("connect to Snowflake account %s as %s: cannot reach Snowflake: %s; check the account identifier (--snowflake-host for private link), the network and any proxy (HTTPS_PROXY, NO_PROXY): %w",
					cfg.Account, cfg.User, why, cause)
				break
			}
			p.err = fmt.Errorf("connect to Snowflake account %s as %s: %w", cfg.Account, cfg.User, cause)
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			p.err = fmt.Errorf("connect to Snowflake account %s as %s: no answer within %s (--snowflake-timeout): check the account identifier, the network and any proxy (HTTPS_PROXY): %w",
				cfg.Account, cfg.User, wait, err)
		default:
			p.err = fmt.Errorf("connect to Snowflake account %s as %s: %w", cfg.Account, cfg.User, err)
		}
	}()
	return p
}

// quietDriver turns the driver's logging off, once per process: its
// logger is global, and changing it races with sessions still closing.
var quietDriver = sync.OnceFunc(func() {
	logger := sf.GetLogger()
	_ = logger.SetLogLevel("OFF")
	logger.SetOutput(io.Discard)
	disablePlatformDetection()
})

// lastingStops cancels the login, with the error as its cause, when a
// request fails in a way no retry fixes.
type lastingStops struct {
	base   http.RoundTripper
	cancel context.CancelCauseFunc
}

func (l lastingStops) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.base.RoundTrip(req)
	if netfail.Lasting(err) {
		l.cancel(err)
	}
	return resp, err
}

// Ready waits for the logins and says why they failed.
func (p *Pool) Ready(ctx context.Context) error {
	select {
	case <-p.ready:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// QueryContext runs a query once the sessions are logged in.
func (p *Pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := p.Ready(ctx); err != nil {
		return nil, err
	}
	return p.db.QueryContext(ctx, query, args...)
}

// ExecContext runs a statement once the sessions are logged in.
func (p *Pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := p.Ready(ctx); err != nil {
		return nil, err
	}
	return p.db.ExecContext(ctx, query, args...)
}

// Close logs the sessions out without waiting for Snowflake's answers: a
// session that does not hear its logout expires by itself.
func (p *Pool) Close() {
	go func() {
		<-p.ready
		p.db.Close()
	}()
}

// Session is who runs byob's SQL and where the account is.
type Session struct {
	Role, Region, Account string
}

// CurrentSession runs the preflight query.
func CurrentSession(ctx context.Context, db DB) (Session, error) {
	rows, err := db.QueryContext(ctx, SessionInfo)
	if err != nil {
		return Session{}, fmt.Errorf("read the Snowflake session: %w", err)
	}
	defer rows.Close()
	var s Session
	if !rows.Next() {
		return Session{}, errors.New("read the Snowflake session: no row")
	}
	var role, region, account sql.NullString
	if err := rows.Scan(&role, &region, &account); err != nil {
		return Session{}, fmt.Errorf("read the Snowflake session: %w", err)
	}
	s.Role, s.Region, s.Account = role.String, region.String, account.String
	return s, rows.Err()
}

// ConnectionNames lists the connections of connections.toml, sorted; none
// when there is no file.
// HasPassword reports whether a password sign-in has a password:
// SNOWFLAKE_PASSWORD, or the connection's own.
func (o ConnOptions) HasPassword() bool {
	if o.env("SNOWFLAKE_PASSWORD") != "" {
		return true
	}
	t, err := o.loadConnection()
	return err == nil && t.Password != ""
}

func (o ConnOptions) ConnectionNames() ([]string, error) {
	var all map[string]tomlConnection
	if _, err := toml.DecodeFile(o.connectionsFile(), &all); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read %s: %w", o.connectionsFile(), err)
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}
