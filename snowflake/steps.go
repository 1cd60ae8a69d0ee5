package snowflake

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/growthloop/byob/providers"
)

// Step IDs of the Snowflake steps.
const (
	StepIntegration      = "snowflake-integration"
	StepIntegrationGrant = "snowflake-integration-grant"
	StepStage            = "snowflake-stage"
	StepStageGrants      = "snowflake-stage-grants"
)

// DB runs statements; *sql.DB opened by Open satisfies it.
type DB interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Params are the inputs of the Snowflake steps.
type Params struct {
	Integration Integration // RoleARN / ExternalID filled per run, see IntegrationFor
	Stage       Stage
	Role        Ident // GrowthLoop's role
	// NewExternalID makes the external ID of a new S3 integration. An
	// integration that exists keeps its own: byob adopts it.
	NewExternalID func() (string, error)
	// ResetExternalID gives an existing S3 integration a new external ID
	// (and so the role's trust), on the user's explicit request.
	ResetExternalID bool
}

// IntegrationFor completes the integration with the values known at run
// time (the role ARN computed from the account id, the external ID).
type IntegrationFor func(v *providers.Values) Integration

// Steps returns the Snowflake steps. needs lists what the integration step
// waits for (nothing on S3: the role ARN is computed, not read).
func Steps(p Params, integration IntegrationFor, db DB, needs ...string) []providers.Step {
	b := func(id, title string, needs ...string) providers.Basic {
		return providers.Basic{StepID: id, StepTitle: title, StepNeeds: needs}
	}
	return []providers.Step{
		&integrationStep{b(StepIntegration, "Create storage integration "+string(p.Integration.Name)+" and read its identity (DESC INTEGRATION)", needs...), integration, db,
			p.NewExternalID, p.ResetExternalID},
		&grantStep{b(StepIntegrationGrant, "Grant USAGE on the integration to role "+string(p.Role), StepIntegration), db, p.Role,
			[]Grant{{Privilege: "USAGE", ObjectType: "INTEGRATION", Object: p.Integration.Name.SQL(), Role: p.Role}}},
		&stageStep{b(StepStage, "Create stage "+p.Stage.Name.String(), StepIntegration), p.Stage, db},
		&grantStep{b(StepStageGrants, "Let role "+string(p.Role)+" use the stage", StepStage), db, p.Role, []Grant{
			{Privilege: "USAGE", ObjectType: "DATABASE", Object: p.Stage.Name.Database.SQL(), Role: p.Role},
			{Privilege: "USAGE", ObjectType: "SCHEMA", Object: p.Stage.Name.Database.SQL() + "." + p.Stage.Name.Schema.SQL(), Role: p.Role},
			{Privilege: "USAGE", ObjectType: "STAGE", Object: p.Stage.Name.SQL(), Role: p.Role},
		}},
	}
}

// query runs q and returns every row as column name -> value.
func query(ctx context.Context, db DB, q string) ([]map[string]string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []map[string]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make(map[string]string, len(cols))
		for i, c := range cols {
			row[strings.ToLower(c)] = vals[i].String
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

type integrationStep struct {
	providers.Basic
	want  IntegrationFor
	db    DB
	newID func() (string, error)
	reset bool
}

func (s *integrationStep) Artifacts(v *providers.Values) []providers.Artifact {
	in := s.want(v)
	return []providers.Artifact{
		{Name: "create the integration (never CREATE OR REPLACE: that would mint a new identity and detach every stage)", Format: providers.FormatSQL, Content: in.Create()},
		{Name: "read Snowflake's identity for the trust", Format: providers.FormatSQL, Content: in.Describe()},
	}
}

// describe runs DESC INTEGRATION and records what the cloud side needs.
func (s *integrationStep) describe(ctx context.Context, v *providers.Values, in Integration) (Description, error) {
	rows, err := query(ctx, s.db, in.Describe())
	if err != nil {
		return nil, err
	}
	d := ParseDescription(rows)
	if p := d[PropStorageProvider]; p != "" && !strings.EqualFold(p, in.Provider) {
		return nil, fmt.Errorf("integration %s exists with STORAGE_PROVIDER %s, not %s: byob never changes another integration's provider; choose another name with --integration", in.Name, p, in.Provider)
	}
	switch in.Provider {
	case ProviderS3:
		if d[PropAWSIAMUserARN] == "" {
			return nil, fmt.Errorf("DESC INTEGRATION %s shows no %s", in.Name, PropAWSIAMUserARN)
		}
		v.Set(providers.SnowflakeIAMUserARN, d[PropAWSIAMUserARN])
	case ProviderGCS:
		if d[PropGCPServiceAccount] == "" {
			return nil, fmt.Errorf("DESC INTEGRATION %s shows no %s", in.Name, PropGCPServiceAccount)
		}
		v.Set(providers.SnowflakeGCPAccount, d[PropGCPServiceAccount])
	}
	return d, nil
}

// externalID decides the external ID of an existing S3 integration: its
// own, which the trust and the bundle then follow; a new one only on
// request (reset, made once per run). It says what it decided, "" when
// nothing changed.
func (s *integrationStep) externalID(v *providers.Values, d Description) (string, error) {
	live, known := d[PropAWSExternalID], v.Get(providers.ExternalID)
	switch {
	case s.reset && s.newID != nil:
		if known == "" || known == live {
			id, err := s.newID()
			if err != nil {
				return "", fmt.Errorf("generate external ID: %w", err)
			}
			v.Set(providers.ExternalID, id)
		}
		return "", nil
	case live == "" || live == known:
		return "", nil
	case known == "":
		v.Set(providers.ExternalID, live)
		return "the integration's external ID " + live + " is kept", nil
	}
	v.Set(providers.ExternalID, live)
	return fmt.Sprintf("the integration's external ID is %s, not %s as the state file says: the trust follows the integration's (--reset-external-id sets a new one)", live, known), nil
}

func (s *integrationStep) Check(ctx context.Context, v *providers.Values) (providers.Observation, error) {
	in := s.want(v)
	d, err := s.describe(ctx, v, in)
	if IsNotFound(err) {
		return providers.Observation{Status: providers.Missing}, nil
	}
	if err != nil {
		return providers.Observation{}, explain(ctx, "DESC INTEGRATION "+string(in.Name), err)
	}
	var adopted string
	if in.Provider == ProviderS3 {
		if adopted, err = s.externalID(v, d); err != nil {
			return providers.Observation{}, err
		}
		in = s.want(v)
	}
	if drift := d.Drift(in); len(drift) > 0 {
		reason := "integration " + string(in.Name) + " exists with another " + strings.Join(drift, ", ") + ": " + d.Explain(in, drift)
		if adopted != "" {
			reason = adopted + "; " + reason
		}
		return providers.Observation{
			Status: providers.Drifted,
			Reason: reason,
			Fix:    []providers.Artifact{{Name: "reconcile the integration in place", Format: providers.FormatSQL, Content: in.Alter(drift)}},
		}, nil
	}
	return providers.Observation{Status: providers.Done, Reason: adopted}, nil
}

func (s *integrationStep) Apply(ctx context.Context, v *providers.Values) error {
	if s.want(v).Provider == ProviderS3 && s.newID != nil && v.Get(providers.ExternalID) == "" {
		// Recorded before the integration exists, so a run killed right
		// after CREATE resumes with the ID Snowflake has.
		id, err := s.newID()
		if err != nil {
			return fmt.Errorf("generate external ID: %w", err)
		}
		v.Set(providers.ExternalID, id)
		if err := providers.Checkpoint(ctx); err != nil {
			return err
		}
	}
	in := s.want(v)
	if _, err := s.db.ExecContext(ctx, in.Create()); err != nil {
		return explain(ctx, "CREATE STORAGE INTEGRATION "+string(in.Name), err)
	}
	d, err := s.describe(ctx, v, in)
	if err != nil {
		return explain(ctx, "DESC INTEGRATION "+string(in.Name), err)
	}
	// IF NOT EXISTS kept an integration that was already there: reconcile
	// it in place, keeping its external ID unless asked to reset it.
	if in.Provider == ProviderS3 {
		if _, err := s.externalID(v, d); err != nil {
			return err
		}
		in = s.want(v)
	}
	if drift := d.Drift(in); len(drift) > 0 {
		if err := providers.Checkpoint(ctx); err != nil {
			return err
		}
		if _, err := s.db.ExecContext(ctx, in.Alter(drift)); err != nil {
			return explain(ctx, "ALTER STORAGE INTEGRATION "+string(in.Name), err)
		}
	}
	return nil
}

func (s *integrationStep) Destroy(ctx context.Context, v *providers.Values) error {
	in := s.want(v)
	if _, err := s.db.ExecContext(ctx, "DROP STORAGE INTEGRATION IF EXISTS "+in.Name.SQL()); err != nil {
		return explain(ctx, "DROP STORAGE INTEGRATION "+string(in.Name), err)
	}
	return nil
}

type stageStep struct {
	providers.Basic
	stage Stage
	db    DB
}

func (s *stageStep) Artifacts(*providers.Values) []providers.Artifact {
	return []providers.Artifact{{Name: "create the stage", Format: providers.FormatSQL, Content: s.stage.Create()}}
}

// show returns the SHOW STAGES row of the stage, nil when there is none.
func (s *stageStep) show(ctx context.Context) (map[string]string, error) {
	n := s.stage.Name
	rows, err := query(ctx, s.db, "SHOW STAGES LIKE "+Literal(string(n.Object))+" IN SCHEMA "+n.Database.SQL()+"."+n.Schema.SQL())
	if err != nil {
		return nil, err
	}
	// LIKE treats _ as a wildcard: pick the exact name.
	i := slices.IndexFunc(rows, func(r map[string]string) bool { return r["name"] == string(n.Object) })
	if i < 0 {
		return nil, nil
	}
	return rows[i], nil
}

func (s *stageStep) Check(ctx context.Context, _ *providers.Values) (providers.Observation, error) {
	row, err := s.show(ctx)
	if err != nil {
		return providers.Observation{}, explain(ctx, "SHOW STAGES in "+string(s.stage.Name.Database)+"."+string(s.stage.Name.Schema), err)
	}
	if row == nil {
		return providers.Observation{Status: providers.Missing}, nil
	}
	if row["url"] != s.stage.URL || !strings.EqualFold(row["storage_integration"], string(s.stage.Integration)) {
		return providers.Observation{
			Status: providers.Drifted,
			Reason: fmt.Sprintf("stage %s points at %s through %s", s.stage.Name, row["url"], row["storage_integration"]),
			Fix:    []providers.Artifact{{Name: "point the stage back", Format: providers.FormatSQL, Content: s.stage.Alter()}},
		}, nil
	}
	return providers.Observation{Status: providers.Done}, nil
}

func (s *stageStep) Apply(ctx context.Context, _ *providers.Values) error {
	row, err := s.show(ctx)
	if err != nil {
		return explain(ctx, "SHOW STAGES in "+string(s.stage.Name.Database)+"."+string(s.stage.Name.Schema), err)
	}
	stmt := s.stage.Create()
	if row != nil {
		stmt = s.stage.Alter()
	}
	if _, err := s.db.ExecContext(ctx, stmt); err != nil {
		return explain(ctx, "create stage "+s.stage.Name.String(), err)
	}
	return nil
}

func (s *stageStep) Destroy(ctx context.Context, _ *providers.Values) error {
	if _, err := s.db.ExecContext(ctx, "DROP STAGE IF EXISTS "+s.stage.Name.SQL()); err != nil {
		return explain(ctx, "DROP STAGE "+s.stage.Name.String(), err)
	}
	return nil
}

type grantStep struct {
	providers.Basic
	db     DB
	role   Ident
	grants []Grant
}

func (s *grantStep) Artifacts(*providers.Values) []providers.Artifact {
	out := make([]providers.Artifact, len(s.grants))
	for i, g := range s.grants {
		out[i] = providers.Artifact{Name: "grant", Format: providers.FormatSQL, Content: g.SQL()}
	}
	return out
}

// missing returns the grants SHOW GRANTS TO ROLE does not list.
func (s *grantStep) missing(ctx context.Context) ([]Grant, error) {
	rows, err := query(ctx, s.db, ShowGrantsTo(s.role))
	if err != nil {
		return nil, explain(ctx, "SHOW GRANTS TO ROLE "+string(s.role), err)
	}
	var out []Grant
	for _, g := range s.grants {
		has := slices.ContainsFunc(rows, func(r map[string]string) bool {
			return strings.EqualFold(r["privilege"], g.Privilege) &&
				strings.EqualFold(r["granted_on"], g.ObjectType) &&
				unquote(r["name"]) == unquote(g.Object)
		})
		if !has {
			out = append(out, g)
		}
	}
	return out, nil
}

// unquote drops the double quotes of a rendered name so it compares with
// SHOW GRANTS's name column.
func unquote(s string) string { return strings.ReplaceAll(s, `"`, "") }

func (s *grantStep) Check(ctx context.Context, _ *providers.Values) (providers.Observation, error) {
	m, err := s.missing(ctx)
	if err != nil {
		return providers.Observation{}, err
	}
	if len(m) == 0 {
		return providers.Observation{Status: providers.Done}, nil
	}
	return providers.Observation{Status: providers.Missing}, nil
}

func (s *grantStep) Apply(ctx context.Context, _ *providers.Values) error {
	m, err := s.missing(ctx)
	if err != nil {
		return err
	}
	for _, g := range m {
		if _, err := s.db.ExecContext(ctx, g.SQL()); err != nil {
			return explain(ctx, g.SQL(), err)
		}
	}
	return nil
}

func (s *grantStep) Destroy(ctx context.Context, _ *providers.Values) error {
	for _, g := range s.grants {
		if _, err := s.db.ExecContext(ctx, g.Revoke()); err != nil && !IsNotFound(err) {
			return explain(ctx, g.Revoke(), err)
		}
	}
	return nil
}
