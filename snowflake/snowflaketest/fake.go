// Package snowflaketest is a fake Snowflake that speaks the wire protocol
// gosnowflake uses (login-request, query-request, JSON rowsets) over plain
// HTTP. It models storage integrations, databases, schemas, stages and
// grants well enough for byob's statements, answers DESC INTEGRATION with
// Snowflake's columns, and returns Snowflake's error numbers for missing
// objects and privileges. It records every statement.
package snowflaketest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/growthloop/byob/internal/testsupport/fault"
	"github.com/growthloop/byob/snowflake"
)

// Error numbers the fake returns.
const (
	ErrDoesNotExist          = 2003
	ErrInsufficientPrivilege = 3001
	ErrAssumeRole            = 3167
	ErrStageArea             = 91003
	ErrInjected              = 100999
)

// IAMUserARN is the IAM user Snowflake uses for every S3 integration of
// the fake account (in a GovCloud or China region, of that partition);
// GCPServiceAccount the GCS one.
const (
	IAMUserARN        = "arn:aws:iam::999999999999:user/sfc-fake-user"
	GCPServiceAccount = "sfc-fake@sfc-prod.iam.gserviceaccount.com"
)

// Integration is a modelled storage integration.
type Integration struct {
	Provider         string
	Enabled          bool
	RoleARN          string
	ExternalID       string
	AllowedLocations []string
}

// Stage is a modelled external stage.
type Stage struct {
	URL, Integration string
}

// Server is the fake.
type Server struct {
	URL      string
	Host     string
	Port     int
	User     string
	Password string

	// The knobs a test turns, through the methods below.
	region, account string
	unreachable     string
	assumeRoleFails int

	faults  atomic.Pointer[fault.Injector]
	latency atomic.Int64 // added to every request, in nanoseconds
	srv     *httptest.Server
	mu      sync.Mutex

	integrations map[string]*Integration
	schemas      map[string]bool // DB.SCHEMA; a database exists when one of its schemas does
	stages       map[string]*Stage
	grants       map[string]map[string]bool // role -> "PRIVILEGE|TYPE|NAME"
	owners       map[string]string          // "TYPE|NAME" -> the role that created it
	adminRoles   map[string]bool
	absentRoles  map[string]bool
	statements   []string
	requests     []Request
	sessions     map[string]string // token -> role
	answered     map[string][]byte // requestId -> answer
	failAt       int               // fail the failAt-th mutating statement (1-based); 0: never
	failMsg      string
	mutations    int
}

// New starts a fake with user "byob", password "secret-pw", region
// AWS_US_WEST_2, database ANALYTICS with schema FLYWHEEL_SYSTEM, and
// ACCOUNTADMIN as the role that may create integrations.
func New() *Server {
	s := &Server{
		User: "byob", Password: "secret-pw", region: "AWS_US_WEST_2", account: "FAKE12345",
		integrations: map[string]*Integration{},
		schemas:      map[string]bool{"ANALYTICS.FLYWHEEL_SYSTEM": true},
		stages:       map[string]*Stage{},
		grants:       map[string]map[string]bool{}, owners: map[string]string{},
		adminRoles: map[string]bool{"ACCOUNTADMIN": true}, absentRoles: map[string]bool{},
		sessions: map[string]string{},
		answered: map[string][]byte{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	u, _ := url.Parse(s.srv.URL)
	s.URL, s.Host = s.srv.URL, u.Hostname()
	s.Port, _ = strconv.Atoi(u.Port())
	return s
}

// A test turns the knobs below while byob may still have requests in
// flight (a detached read outlives the call that started it), so each
// takes the lock the handler reads them under.

// SetRegion sets CURRENT_REGION().
func (s *Server) SetRegion(region string) { s.set(func() { s.region = region }) }

// SetAccount sets CURRENT_ACCOUNT(), the account locator.
func (s *Server) SetAccount(locator string) { s.set(func() { s.account = locator }) }

// Unreachable, when message is not "", makes LIST @stage answer it
// (091003, "Failure using stage area": the bucket is gone, access
// denied ...).
func (s *Server) Unreachable(message string) { s.set(func() { s.unreachable = message }) }

// AssumeRoleFails makes the next n LISTs of a stage on an S3 integration
// answer 003167 "Error assuming AWS_ROLE", as Snowflake does until IAM
// propagates the role's trust (or for ever, when the trust or STS is
// wrong).
func (s *Server) AssumeRoleFails(n int) { s.set(func() { s.assumeRoleFails = n }) }

func (s *Server) set(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

// SetLatency adds d to every request (a handler serving another process
// must see it without a data race).
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

// SetFaults makes f fail a share of all answers (and kill a client after a
// chosen change); nil injects nothing.
func (s *Server) SetFaults(f *fault.Injector) { s.faults.Store(f) }

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// Request is one request the fake answered.
type Request struct {
	At           time.Time // when it arrived, before the added latency
	Method, Path string
	SQL          string // of a query
}

// Requests returns every request so far: logins, queries, telemetry and
// logouts.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Statements returns every statement run so far.
func (s *Server) Statements() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.statements)
}

// Mutations counts the statements that changed something (not SELECT,
// SHOW or DESC).
func (s *Server) Mutations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mutations
}

// FailMutation makes the k-th mutating statement from now fail (k >= 1).
func (s *Server) FailMutation(k int) { s.FailMutationWith(k, "injected failure") }

// FailMutationWith makes the k-th mutating statement from now fail with
// the message msg.
func (s *Server) FailMutationWith(k int, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failAt, s.failMsg = s.mutations+k, msg
}

// Integration returns a copy of the named integration, nil when absent.
func (s *Server) Integration(name string) *Integration {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.integrations[name]
	if !ok {
		return nil
	}
	c := *in
	c.AllowedLocations = slices.Clone(in.AllowedLocations)
	return &c
}

// DropRole makes a role absent: granting to it, or showing its grants,
// answers 002003 "Role '...' does not exist or not authorized."
func (s *Server) DropRole(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.absentRoles[name] = true
}

// SetOwner makes role the owner of an object ("INTEGRATION", name).
func (s *Server) SetOwner(typ, name, role string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.owners[typ+"|"+name] = role
}

// canSee says whether role may see an integration: DESCRIBE and ALTER
// need OWNERSHIP or USAGE on it, and answer 002003 "does not exist or not
// authorized" otherwise. The admin roles see what admin roles own.
// https://docs.snowflake.com/en/sql-reference/sql/desc-integration
func (s *Server) canSee(role, name string) bool {
	owner := s.owners["INTEGRATION|"+name]
	if owner == role || s.adminRoles[role] && (owner == "" || s.adminRoles[owner]) {
		return true
	}
	for k := range s.grants[role] {
		if strings.HasSuffix(k, "|INTEGRATION|"+name) {
			return true
		}
	}
	return false
}

// SetIntegration creates or replaces an integration (for drift tests).
func (s *Server) SetIntegration(name string, in Integration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.integrations[name] = &in
}

// Stage returns a copy of the named stage (DB.SCHEMA.STAGE), nil when
// absent.
func (s *Server) Stage(name string) *Stage {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.stages[name]
	if !ok {
		return nil
	}
	c := *st
	return &c
}

// SetStage creates or replaces a stage (for drift tests).
func (s *Server) SetStage(name string, st Stage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stages[name] = &st
}

// HasGrant reports whether role holds privilege on the object.
func (s *Server) HasGrant(role, privilege, objectType, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grants[role][privilege+"|"+objectType+"|"+name]
}

// Grants lists what role holds, as "PRIVILEGE|TYPE|NAME", sorted.
func (s *Server) Grants(role string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for g, ok := range s.grants[role] {
		if ok {
			out = append(out, g)
		}
	}
	slices.Sort(out)
	return out
}

// Grant adds a grant, as another administrator would.
func (s *Server) Grant(role, privilege, objectType, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.grants[role] == nil {
		s.grants[role] = map[string]bool{}
	}
	s.grants[role][privilege+"|"+objectType+"|"+name] = true
}

// dropGrants removes the grants on a dropped object: Snowflake drops them
// with it.
func (s *Server) dropGrants(objectType, name string) {
	for _, g := range s.grants {
		for k := range g {
			if strings.HasSuffix(k, "|"+objectType+"|"+name) {
				delete(g, k)
			}
		}
	}
}

// Revoke removes a grant (for drift tests).
func (s *Server) Revoke(role, privilege, objectType, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.grants[role], privilege+"|"+objectType+"|"+name)
}

// DropSchema removes a schema (for missing-schema tests).
func (s *Server) DropSchema(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.schemas, name)
}

type response struct {
	Data    any    `json:"data"`
	Message string `json:"message,omitempty"`
	Code    string `json:"code,omitempty"`
	Success bool   `json:"success"`
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	time.Sleep(time.Duration(s.latency.Load()))
	body, _ := io.ReadAll(r.Body)
	var q struct {
		SQLText string `json:"sqlText"`
	}
	_ = json.Unmarshal(body, &q)
	s.mu.Lock()
	s.requests = append(s.requests, Request{At: at, Method: r.Method, Path: r.URL.Path, SQL: q.SQLText})
	s.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	mutating := r.URL.Path == "/queries/v1/query-request" && !readOnlyPrefix.MatchString(strings.TrimSpace(q.SQLText))
	s.faults.Load().Serve(w, mutating, func(w http.ResponseWriter) {
		switch r.URL.Path {
		case "/session/v1/login-request":
			s.login(w, r)
		case "/queries/v1/query-request":
			s.query(w, r)
		default: // session delete, heartbeat, telemetry
			writeJSON(w, response{Success: true, Data: map[string]any{}})
		}
	}, func(w http.ResponseWriter, status int) {
		// The driver retries any 5xx (gosnowflake retry.go,
		// isRetryableStatus).
		http.Error(w, http.StatusText(status), status)
	})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Data struct {
			LoginName         string         `json:"LOGIN_NAME"`
			Password          string         `json:"PASSWORD"`
			SessionParameters map[string]any `json:"SESSION_PARAMETERS"`
		} `json:"data"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	if req.Data.LoginName != s.User || req.Data.Password != s.Password {
		writeJSON(w, response{Success: false, Code: "390100", Message: "Incorrect username or password was specified."})
		return
	}
	role := strings.ToUpper(r.URL.Query().Get("roleName"))
	if role == "" {
		role = "SYSADMIN"
	}
	token := fmt.Sprintf("token-%d", time.Now().UnixNano())
	s.mu.Lock()
	s.sessions[token] = role
	s.mu.Unlock()
	// The answer lists the session's parameters, those the login asked
	// for applied: here in-band telemetry, on by default.
	// https://docs.snowflake.com/en/sql-reference/parameters#client-telemetry-enabled
	telemetry := any(true)
	if v, ok := req.Data.SessionParameters["CLIENT_TELEMETRY_ENABLED"]; ok {
		telemetry = v
	}
	writeJSON(w, response{Success: true, Data: map[string]any{
		"token": token, "masterToken": "master-" + token, "validityInSeconds": 3600, "masterValidityInSeconds": 14400,
		"sessionId": 1, "serverVersion": "9.0.0", "displayUserName": s.User,
		"sessionInfo": map[string]string{"roleName": role},
		"parameters":  []map[string]any{{"name": "CLIENT_TELEMETRY_ENABLED", "value": telemetry}},
	}})
}

func (s *Server) sessionRole(r *http.Request) (string, bool) {
	auth := r.Header.Get("Authorization")
	i := strings.Index(auth, `Token="`)
	if i < 0 {
		return "", false
	}
	token := strings.TrimSuffix(auth[i+len(`Token="`):], `"`)
	s.mu.Lock()
	defer s.mu.Unlock()
	role, ok := s.sessions[token]
	return role, ok
}

// sqlError is a Snowflake error answer.
type sqlError struct {
	number int
	msg    string
}

func (e *sqlError) Error() string { return e.msg }

func notExist(kind, name string) error {
	return &sqlError{ErrDoesNotExist, fmt.Sprintf("SQL compilation error:\n%s '%s' does not exist or not authorized.", kind, name)}
}

// query runs a statement. A request that repeats the requestId of one
// already answered (the driver retrying after a lost answer) gets that
// answer again and runs nothing: Snowflake runs a request ID once ("If you
// send the same request again with retry=true, Snowflake does not execute
// the statement again", docs.snowflake.com/en/developer-guide/sql-api/reference).
func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	role, ok := s.sessionRole(r)
	if !ok {
		writeJSON(w, response{Success: false, Code: "390104", Message: "Authentication token has expired."})
		return
	}
	id := r.URL.Query().Get("requestId")
	s.mu.Lock()
	answer, seen := s.answered[id]
	s.mu.Unlock()
	if !seen || id == "" {
		var req struct {
			SQLText string `json:"sqlText"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		answer, _ = json.Marshal(s.answer(role, strings.TrimSpace(req.SQLText)))
		s.mu.Lock()
		s.answered[id] = answer
		s.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(answer)
}

func (s *Server) answer(role, q string) response {
	cols, rows, err := s.run(role, q)
	if err != nil {
		se, ok := err.(*sqlError)
		if !ok {
			se = &sqlError{1003, err.Error()}
		}
		return response{Success: false, Code: fmt.Sprintf("%06d", se.number), Message: se.msg,
			Data: map[string]any{"sqlState": "42000", "queryId": "fake-query"}}
	}
	rowtype := make([]map[string]any, len(cols))
	for i, c := range cols {
		rowtype[i] = map[string]any{"name": c, "type": "text", "nullable": true, "length": 1024}
	}
	if rows == nil {
		rows = [][]*string{}
	}
	return response{Success: true, Data: map[string]any{
		"rowtype": rowtype, "rowset": rows, "total": len(rows), "returned": len(rows),
		"queryId": "fake-query", "queryResultFormat": "json",
	}}
}

var (
	reSession      = regexp.MustCompile(`(?is)^SELECT CURRENT_ROLE\(\), CURRENT_REGION\(\), CURRENT_ACCOUNT\(\)$`)
	reCreateInt    = regexp.MustCompile(`(?is)^CREATE STORAGE INTEGRATION IF NOT EXISTS ("(?:[^"]|"")+")\s+(.*)$`)
	reAlterInt     = regexp.MustCompile(`(?is)^ALTER STORAGE INTEGRATION ("(?:[^"]|"")+") SET\s+(.*)$`)
	reDescInt      = regexp.MustCompile(`(?is)^DESC INTEGRATION ("(?:[^"]|"")+")$`)
	reDropInt      = regexp.MustCompile(`(?is)^DROP STORAGE INTEGRATION IF EXISTS ("(?:[^"]|"")+")$`)
	reGrant        = regexp.MustCompile(`(?is)^(GRANT|REVOKE) (\w+) ON (INTEGRATION|DATABASE|SCHEMA|STAGE) (\S+) (?:TO|FROM) ROLE ("(?:[^"]|"")+")$`)
	reShowGrants   = regexp.MustCompile(`(?is)^SHOW GRANTS TO ROLE ("(?:[^"]|"")+")$`)
	reShowGrantsOn = regexp.MustCompile(`(?is)^SHOW GRANTS ON (INTEGRATION|STAGE) (\S+)$`)
	reShowStages   = regexp.MustCompile(`(?is)^SHOW STAGES LIKE '([^']*)' IN SCHEMA (\S+)$`)
	reShowInts     = regexp.MustCompile(`(?is)^SHOW INTEGRATIONS LIKE '([^']*)'$`)
	reCreateStage  = regexp.MustCompile(`(?is)^CREATE STAGE IF NOT EXISTS (\S+)\s+URL = ('(?:[^'\\]|''|\\.)*')\s+STORAGE_INTEGRATION = ("(?:[^"]|"")+")$`)
	reAlterStage   = regexp.MustCompile(`(?is)^ALTER STAGE (\S+) SET\s+URL = ('(?:[^'\\]|''|\\.)*')\s+STORAGE_INTEGRATION = ("(?:[^"]|"")+")$`)
	reDropStage    = regexp.MustCompile(`(?is)^DROP STAGE IF EXISTS (\S+)$`)
	reProperty     = regexp.MustCompile(`(?is)(\w+)\s*=\s*(\((?:\s*'(?:[^'\\]|''|\\.)*'\s*,?)*\)|'(?:[^'\\]|''|\\.)*'|\w+)`)
	reLiteral      = regexp.MustCompile(`'(?:[^'\\]|''|\\.)*'`)
	reList         = regexp.MustCompile(`(?is)^LIST @(\S+)$`)
	readOnlyPrefix = regexp.MustCompile(`(?i)^(SELECT|SHOW|DESC|LIST)\b`)
)

// likePattern is SQL LIKE's pattern as a case-insensitive expression.
func likePattern(like string) *regexp.Regexp {
	return regexp.MustCompile("(?i)^" + strings.NewReplacer("_", ".", "%", ".*").Replace(regexp.QuoteMeta(like)) + "$")
}

// ident decodes a quoted identifier or a dotted name of them.
func ident(s string) string {
	var parts []string
	for _, p := range splitName(s) {
		parts = append(parts, strings.ReplaceAll(strings.Trim(p, `"`), `""`, `"`))
	}
	return strings.Join(parts, ".")
}

// splitName splits "A"."B"."C" at the dots outside quotes.
func splitName(s string) []string {
	var parts []string
	in, start := false, 0
	for i, c := range s {
		switch {
		case c == '"':
			in = !in
		case c == '.' && !in:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// literal decodes a single-quoted literal.
func literal(s string) string {
	s = s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case s[i] == '\'' && i+1 < len(s) && s[i+1] == '\'':
			i++
			b.WriteByte('\'')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func properties(text string) map[string]string {
	m := map[string]string{}
	for _, p := range reProperty.FindAllStringSubmatch(text, -1) {
		m[strings.ToUpper(p[1])] = p[2]
	}
	return m
}

func locations(v string) []string {
	var out []string
	for _, l := range reLiteral.FindAllString(v, -1) {
		out = append(out, literal(l))
	}
	return out
}

func str(s string) *string { return &s }

func (s *Server) run(role, q string) (cols []string, rows [][]*string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statements = append(s.statements, q)
	if !readOnlyPrefix.MatchString(q) {
		s.mutations++
		if s.failAt != 0 && s.mutations == s.failAt {
			s.failAt = 0
			return nil, nil, &sqlError{ErrInjected, s.failMsg}
		}
	}
	ok := []string{"status"}
	okRow := [][]*string{{str("Statement executed successfully.")}}
	switch {
	case strings.EqualFold(q, "SELECT 1"): // the driver's ping
		return []string{"1"}, [][]*string{{str("1")}}, nil
	case reSession.MatchString(q):
		return []string{"CURRENT_ROLE()", "CURRENT_REGION()", "CURRENT_ACCOUNT()"}, [][]*string{{str(role), str(s.region), str(s.account)}}, nil
	case reCreateInt.MatchString(q):
		m := reCreateInt.FindStringSubmatch(q)
		if !s.adminRoles[role] {
			return nil, nil, &sqlError{ErrInsufficientPrivilege, "SQL access control error:\nInsufficient privileges to operate on account '" + s.account + "'"}
		}
		name := ident(m[1])
		if _, exists := s.integrations[name]; exists {
			return ok, [][]*string{{str(name + " already exists, statement succeeded.")}}, nil
		}
		in := &Integration{}
		s.setIntegration(in, properties(m[2]))
		s.integrations[name] = in
		s.owners["INTEGRATION|"+name] = role
		return ok, [][]*string{{str("Integration " + name + " successfully created.")}}, nil
	case reAlterInt.MatchString(q):
		m := reAlterInt.FindStringSubmatch(q)
		if !s.adminRoles[role] {
			return nil, nil, &sqlError{ErrInsufficientPrivilege, "SQL access control error:\nInsufficient privileges to operate on integration"}
		}
		in, exists := s.integrations[ident(m[1])]
		if !exists || !s.canSee(role, ident(m[1])) {
			return nil, nil, notExist("Integration", ident(m[1]))
		}
		s.setIntegration(in, properties(m[2]))
		return ok, okRow, nil
	case reDescInt.MatchString(q):
		name := ident(reDescInt.FindStringSubmatch(q)[1])
		in, exists := s.integrations[name]
		if !exists || !s.canSee(role, name) {
			return nil, nil, notExist("Integration", name)
		}
		return []string{"property", "property_type", "property_value", "property_default"}, describe(in, s.iamUserARN()), nil
	case reShowInts.MatchString(q):
		// SHOW INTEGRATIONS: name, type, category, enabled, comment,
		// created_on (https://docs.snowflake.com/en/sql-reference/sql/show-integrations).
		like := likePattern(reShowInts.FindStringSubmatch(q)[1])
		for name, in := range s.integrations {
			if like.MatchString(name) && s.canSee(role, name) {
				rows = append(rows, []*string{str(name), str("EXTERNAL_STAGE"), str("STORAGE"), str(strings.ToLower(fmt.Sprint(in.Enabled))), str(""), str("2026-01-01 00:00:00.000 -0800")})
			}
		}
		return []string{"name", "type", "category", "enabled", "comment", "created_on"}, rows, nil
	case reDropInt.MatchString(q):
		name := ident(reDropInt.FindStringSubmatch(q)[1])
		delete(s.integrations, name)
		s.dropGrants("INTEGRATION", name)
		return ok, okRow, nil
	case reGrant.MatchString(q):
		m := reGrant.FindStringSubmatch(q)
		typ, name, grantee := strings.ToUpper(m[3]), ident(m[4]), ident(m[5])
		if err := s.exists(typ, name); err != nil {
			return nil, nil, err
		}
		if s.absentRoles[grantee] {
			return nil, nil, notExist("Role", grantee)
		}
		key := strings.ToUpper(m[2]) + "|" + typ + "|" + name
		if strings.EqualFold(m[1], "GRANT") {
			if s.grants[grantee] == nil {
				s.grants[grantee] = map[string]bool{}
			}
			s.grants[grantee][key] = true
		} else {
			delete(s.grants[grantee], key)
		}
		return ok, okRow, nil
	case reShowGrantsOn.MatchString(q):
		// https://docs.snowflake.com/en/sql-reference/sql/show-grants
		m := reShowGrantsOn.FindStringSubmatch(q)
		typ, name := strings.ToUpper(m[1]), ident(m[2])
		if err := s.exists(typ, name); err != nil {
			return nil, nil, err
		}
		cols := []string{"created_on", "privilege", "granted_on", "name", "granted_to", "grantee_name", "grant_option", "granted_by"}
		row := func(priv, grantee string) []*string {
			return []*string{str("2026-01-01"), str(priv), str(typ), str(name), str("ROLE"), str(grantee), str("false"), str("ACCOUNTADMIN")}
		}
		if owner := s.owners[typ+"|"+name]; owner != "" {
			rows = append(rows, row("OWNERSHIP", owner))
		}
		var roles []string
		for r := range s.grants {
			roles = append(roles, r)
		}
		slices.Sort(roles)
		for _, r := range roles {
			for k := range s.grants[r] {
				if p := strings.SplitN(k, "|", 3); p[1] == typ && p[2] == name {
					rows = append(rows, row(p[0], r))
				}
			}
		}
		return cols, rows, nil
	case reShowGrants.MatchString(q):
		grantee := ident(reShowGrants.FindStringSubmatch(q)[1])
		if s.absentRoles[grantee] {
			return nil, nil, notExist("Role", grantee)
		}
		var keys []string
		for k := range s.grants[grantee] {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := strings.SplitN(k, "|", 3)
			rows = append(rows, []*string{str("2026-01-01"), str(p[0]), str(p[1]), str(p[2]), str("ROLE"), str(grantee), str("false"), str("ACCOUNTADMIN")})
		}
		return []string{"created_on", "privilege", "granted_on", "name", "granted_to", "grantee_name", "grant_option", "granted_by"}, rows, nil
	case reShowStages.MatchString(q):
		m := reShowStages.FindStringSubmatch(q)
		schema := ident(m[2])
		if !s.schemas[schema] {
			return nil, nil, notExist("Schema", schema)
		}
		like := likePattern(m[1])
		for name, st := range s.stages {
			db, sch, obj := splitFull(name)
			if db+"."+sch == schema && like.MatchString(obj) {
				rows = append(rows, []*string{str(obj), str(db), str(sch), str(st.URL), str(st.Integration), str("EXTERNAL")})
			}
		}
		return []string{"name", "database_name", "schema_name", "url", "storage_integration", "type"}, rows, nil
	case reCreateStage.MatchString(q), reAlterStage.MatchString(q):
		m := reCreateStage.FindStringSubmatch(q)
		create := m != nil
		if !create {
			m = reAlterStage.FindStringSubmatch(q)
		}
		name, url, integ := ident(m[1]), literal(m[2]), ident(m[3])
		db, sch, _ := splitFull(name)
		if !s.schemas[db+"."+sch] {
			return nil, nil, notExist("Schema", db+"."+sch)
		}
		in, exists := s.integrations[integ]
		if !exists {
			return nil, nil, notExist("Integration", integ)
		}
		if !slices.ContainsFunc(in.AllowedLocations, func(l string) bool { return strings.HasPrefix(url, l) }) {
			return nil, nil, &sqlError{3093, fmt.Sprintf("SQL compilation error:\nLocation '%s' is not allowed by integration '%s'.", url, integ)}
		}
		if _, exists := s.stages[name]; exists && create {
			return ok, [][]*string{{str(name + " already exists, statement succeeded.")}}, nil
		}
		if _, exists := s.stages[name]; !exists {
			s.owners["STAGE|"+name] = role
		}
		s.stages[name] = &Stage{URL: url, Integration: integ}
		return ok, okRow, nil
	case reList.MatchString(q):
		name := ident(reList.FindStringSubmatch(q)[1])
		if s.stages[name] == nil {
			return nil, nil, notExist("Stage", name)
		}
		if s.unreachable != "" {
			return nil, nil, &sqlError{ErrStageArea, s.unreachable}
		}
		if in := s.integrations[s.stages[name].Integration]; s.assumeRoleFails > 0 && in != nil && in.RoleARN != "" {
			s.assumeRoleFails--
			return nil, nil, &sqlError{ErrAssumeRole, "SQL execution error: Error assuming AWS_ROLE.\nPlease verify the role and externalId are configured correctly in your AWS policy."}
		}
		return []string{"name", "size", "md5", "last_modified"}, nil, nil
	case reDropStage.MatchString(q):
		name := ident(reDropStage.FindStringSubmatch(q)[1])
		delete(s.stages, name)
		s.dropGrants("STAGE", name)
		return ok, okRow, nil
	}
	return nil, nil, &sqlError{1003, "SQL compilation error: the fake does not understand: " + q}
}

func splitFull(name string) (db, schema, object string) {
	p := strings.SplitN(name, ".", 3)
	for len(p) < 3 {
		p = append(p, "")
	}
	return p[0], p[1], p[2]
}

func (s *Server) exists(typ, name string) error {
	switch typ {
	case "INTEGRATION":
		if _, ok := s.integrations[name]; !ok {
			return notExist("Integration", name)
		}
	case "DATABASE":
		for sch := range s.schemas {
			if strings.HasPrefix(sch, name+".") {
				return nil
			}
		}
		return notExist("Database", name)
	case "SCHEMA":
		if !s.schemas[name] {
			return notExist("Schema", name)
		}
	case "STAGE":
		if _, ok := s.stages[name]; !ok {
			return notExist("Stage", name)
		}
	}
	return nil
}

func (s *Server) setIntegration(in *Integration, props map[string]string) {
	for k, v := range props {
		switch k {
		case "STORAGE_PROVIDER":
			in.Provider = literal(v)
		case "ENABLED":
			in.Enabled = strings.EqualFold(v, "TRUE")
		case "STORAGE_AWS_ROLE_ARN":
			in.RoleARN = literal(v)
		case "STORAGE_AWS_EXTERNAL_ID":
			in.ExternalID = literal(v)
		case "STORAGE_ALLOWED_LOCATIONS":
			in.AllowedLocations = locations(v)
		}
	}
}

// iamUserARN is IAMUserARN in the AWS partition of the account's region:
// Snowflake's IAM user in GovCloud or China is of that partition.
func (s *Server) iamUserARN() string {
	region, _ := snowflake.CloudRegion(s.region, "AWS")
	switch {
	case strings.HasPrefix(region, "us-gov-"):
		return strings.Replace(IAMUserARN, "arn:aws:", "arn:aws-us-gov:", 1)
	case strings.HasPrefix(region, "cn-"):
		return strings.Replace(IAMUserARN, "arn:aws:", "arn:aws-cn:", 1)
	}
	return IAMUserARN
}

// describe answers DESC INTEGRATION with Snowflake's columns and rows;
// userARN is the account's IAM user.
func describe(in *Integration, userARN string) [][]*string {
	row := func(p, t, v, d string) []*string { return []*string{str(p), str(t), str(v), str(d)} }
	rows := [][]*string{
		row("ENABLED", "Boolean", strconv.FormatBool(in.Enabled), "false"),
		row("STORAGE_PROVIDER", "String", in.Provider, ""),
		row("STORAGE_ALLOWED_LOCATIONS", "List", strings.Join(in.AllowedLocations, ","), "[]"),
		row("STORAGE_BLOCKED_LOCATIONS", "List", "", "[]"),
	}
	switch in.Provider {
	case "S3", "S3GOV", "S3CHINA":
		rows = append(rows,
			row("STORAGE_AWS_IAM_USER_ARN", "String", userARN, ""),
			row("STORAGE_AWS_ROLE_ARN", "String", in.RoleARN, ""),
			row("STORAGE_AWS_EXTERNAL_ID", "String", in.ExternalID, ""),
		)
	case "GCS":
		rows = append(rows, row("STORAGE_GCP_SERVICE_ACCOUNT", "String", GCPServiceAccount, ""))
	}
	return append(rows, row("COMMENT", "String", "", ""))
}

// Options are connection options that reach the fake as its user, with
// role, over plain HTTP.
func (s *Server) Options(role string) snowflake.ConnOptions {
	return snowflake.ConnOptions{
		Account: "fake", User: s.User, Role: role, Host: s.Host, Port: s.Port, Protocol: "http",
		LookupEnv: func(k string) (string, bool) {
			if k == "SNOWFLAKE_PASSWORD" {
				return s.Password, true
			}
			return "", false
		},
	}
}

// Connect opens a real gosnowflake connection to the fake as role, closed
// when tb ends. transport, when not nil, carries the driver's requests.
func (s *Server) Connect(tb testing.TB, role string, transport http.RoundTripper) *snowflake.Pool {
	tb.Helper()
	cfg, err := s.Options(role).Config()
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Transporter = transport
	p := snowflake.Open(context.Background(), cfg, snowflake.Sessions, snowflake.DefaultLoginTimeout)
	if err := p.Ready(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Close)
	return p
}
