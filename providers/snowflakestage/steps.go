// Package snowflakestage is the Snowflake warehouse: the storage integration
// that reaches the bucket, the stage, and the grants GrowthLoop's role
// needs. It speaks SQL through the snowflake library package.
package snowflakestage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/snowflake"
)

// Step IDs of the Snowflake steps.
const (
	StepIntegration      = "snowflake-integration"
	StepIntegrationGrant = "snowflake-integration-grant"
	StepStage            = "snowflake-stage"
	StepStageGrants      = "snowflake-stage-grants"
)

// objects are the Snowflake objects of a setup; identifiers were
// validated.
type objects struct {
	Integration snowflake.Integration // RoleARN and ExternalID filled per run
	Stage       snowflake.Stage
	Role        snowflake.Ident // GrowthLoop's role
}

func objectsOf(c *providers.Config, st providers.Storage) objects {
	id := func(s string) snowflake.Ident {
		i, _ := snowflake.NewIdent(s)
		return i
	}
	set := SettingsOf(c)
	integration := id(set.Integration)
	return objects{
		Integration: snowflake.Integration{Name: integration, Provider: st.Service, AllowedLocations: []string{st.Scheme + c.Bucket + "/" + c.Prefix}},
		Stage: snowflake.Stage{
			Name:        snowflake.Name{Database: id(set.Database), Schema: id(set.Schema), Object: id(set.Stage)},
			URL:         st.Scheme + c.Bucket + "/" + c.Prefix + c.OrgID + "/",
			Integration: integration,
		},
		Role: id(set.GrowthLoopRole),
	}
}

// integrationFor completes the integration with what is known at run time:
// the role Snowflake assumes (computed from the account id) and the
// external ID its trust requires.
func integrationFor(o objects, st providers.Storage) func(v *providers.Values) snowflake.Integration {
	return func(v *providers.Values) snowflake.Integration {
		in := o.Integration
		if st.Role != nil {
			in.RoleARN = st.Role(v)
			in.ExternalID = v.Ref(providers.ExternalID)
		}
		return in
	}
}

func steps(s providers.Setup, db *conn) []providers.Step {
	o := objectsOf(s.Config, s.Storage)
	b := func(id, title, verify string, needs ...string) providers.Basic {
		return providers.Basic{StepID: id, StepTitle: title, StepVerify: verify, StepNeeds: needs}
	}
	return []providers.Step{
		&integrationStep{Basic: b(StepIntegration, "Create storage integration "+string(o.Integration.Name)+" and read its identity (DESC INTEGRATION)",
			"Integration exists, is enabled and matches the bucket and trust").
			Reading(append(slices.Clone(s.Storage.RoleReads), providers.ExternalID)...).
			Writing(providers.ExternalID, providers.WarehouseUserARN, providers.WarehouseServiceAccount), want: integrationFor(o, s.Storage), db: db,
			newID: s.NewExternalID, reset: s.ResetExternalID},
		&grantStep{Basic: b(StepIntegrationGrant, "Grant USAGE on the integration to role "+string(o.Role), "GrowthLoop's role has USAGE on the integration", StepIntegration),
			db: db, role: o.Role,
			grants: []snowflake.Grant{{Privilege: "USAGE", ObjectType: "INTEGRATION", Object: o.Integration.Name.SQL(), Role: o.Role}}},
		&stageStep{Basic: b(StepStage, "Create stage "+o.Stage.Name.String(), "Stage exists with the expected URL and integration", StepIntegration), stage: o.Stage, db: db},
		&grantStep{Basic: b(StepStageGrants, "Let role "+string(o.Role)+" use the stage", "GrowthLoop's role can use the stage", StepStage), db: db, role: o.Role,
			grants: []snowflake.Grant{
				{Privilege: "USAGE", ObjectType: "DATABASE", Object: o.Stage.Name.Database.SQL(), Role: o.Role},
				{Privilege: "USAGE", ObjectType: "SCHEMA", Object: o.Stage.Name.Database.SQL() + "." + o.Stage.Name.Schema.SQL(), Role: o.Role},
				{Privilege: "USAGE", ObjectType: "STAGE", Object: o.Stage.Name.SQL(), Role: o.Role},
			}},
	}
}

type integrationStep struct {
	providers.Basic
	want  func(v *providers.Values) snowflake.Integration
	db    *conn
	newID func() (string, error)
	reset bool
}

// rows runs DESC INTEGRATION; none when the integration does not exist
// (an answer, which an early read keeps).
func (s *integrationStep) rows(v *providers.Values) func(context.Context) ([]map[string]string, error) {
	return func(ctx context.Context) ([]map[string]string, error) {
		rows, err := snowflake.Query(ctx, s.db, s.want(v).Describe())
		if snowflake.IsNotFound(err) {
			return nil, nil
		}
		return rows, err
	}
}

// errNoIntegration is DESC INTEGRATION's answer when there is none.
var errNoIntegration = errors.New("the integration does not exist")

// ReadsEarly implements providers.ReadsEarly: DESC INTEGRATION goes as
// soon as a session is logged in, beside the preflight.
func (*integrationStep) ReadsEarly(*providers.Values) bool { return true }

// read is DESC INTEGRATION's rows as the run read them.
func (s *integrationStep) read(r *runenv.Run, v *providers.Values) func(context.Context) ([]map[string]string, error) {
	return func(ctx context.Context) ([]map[string]string, error) {
		return runenv.Read(ctx, r, s.want(v).Describe(), s.rows(v))
	}
}

func (s *integrationStep) Artifacts(v *providers.Values) []providers.Artifact {
	in := s.want(v)
	return []providers.Artifact{
		{Name: "create the integration (never CREATE OR REPLACE: that would mint a new identity and detach every stage)", Format: providers.FormatSQL, Content: in.Create(), Value: in},
		{Name: "read Snowflake's identity for the trust", Format: providers.FormatSQL, Content: in.Describe()},
	}
}

// describe reads DESC INTEGRATION's rows (through read) and records what
// the cloud side needs.
func (s *integrationStep) describe(ctx context.Context, read func(context.Context) ([]map[string]string, error), v *providers.Values, in snowflake.Integration) (snowflake.Description, error) {
	rows, err := read(ctx)
	switch {
	case err != nil:
		return nil, err
	case rows == nil:
		return nil, errNoIntegration
	}
	d := snowflake.ParseDescription(rows)
	if p := d[snowflake.PropStorageProvider]; p != "" && !strings.EqualFold(p, in.Provider) {
		return nil, fmt.Errorf("integration %s exists with STORAGE_PROVIDER %s, not %s: byob never changes another integration's provider; choose another name with --integration", in.Name, p, in.Provider)
	}
	// Snowflake reaches the bucket as an IAM user that assumes the role, or
	// as its own service account: the bucket's trust names it.
	key, prop := providers.WarehouseServiceAccount, snowflake.PropGCPServiceAccount
	if in.AssumesRole() {
		key, prop = providers.WarehouseUserARN, snowflake.PropAWSIAMUserARN
	}
	if d[prop] == "" {
		return nil, fmt.Errorf("DESC INTEGRATION %s shows no %s", in.Name, prop)
	}
	v.Set(key, d[prop])
	return d, nil
}

// externalID decides the external ID of an existing integration that
// assumes a role: its own, which the trust and the bundle then follow; a
// new one only on request (reset, made once per run). It says what it decided, "" when
// nothing changed.
func (s *integrationStep) externalID(v *providers.Values, d snowflake.Description) (string, error) {
	live, known := d[snowflake.PropAWSExternalID], v.Get(providers.ExternalID)
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

// Gate implements providers.Gate: a bucket or integration byob cannot
// use (another account's or provider's, in another place) stops the run
// before any change.
func (s *integrationStep) Gate(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	_, err := s.Check(ctx, r, v)
	return err
}

func (s *integrationStep) Check(ctx context.Context, r *runenv.Run, v *providers.Values) (providers.Observation, error) {
	in := s.want(v)
	d, err := s.describe(ctx, s.read(r, v), v, in)
	if errors.Is(err, errNoIntegration) {
		return providers.Observation{Status: providers.Missing}, nil
	}
	if err != nil {
		return providers.Observation{}, s.db.explain("DESC INTEGRATION "+string(in.Name), err)
	}
	var adopted string
	if in.AssumesRole() {
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

func (s *integrationStep) Apply(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	if s.want(v).AssumesRole() && s.newID != nil && v.Get(providers.ExternalID) == "" {
		// Recorded before the integration exists, so a run killed right
		// after CREATE resumes with the ID Snowflake has.
		id, err := s.newID()
		if err != nil {
			return fmt.Errorf("generate external ID: %w", err)
		}
		v.Set(providers.ExternalID, id)
		if err := r.Checkpoint(); err != nil {
			return err
		}
	}
	in := s.want(v)
	if _, err := s.db.ExecContext(ctx, in.Create()); err != nil {
		return s.db.explain("CREATE STORAGE INTEGRATION "+string(in.Name), err)
	}
	d, err := s.describe(ctx, s.rows(v), v, in) // anew: it was just made
	if errors.Is(err, errNoIntegration) {
		// CREATE ... IF NOT EXISTS kept one the role may not see.
		return fmt.Errorf("integration %s exists but role %s may not see it (DESC INTEGRATION says it does not exist or is not authorized): "+
			"connect with the role that owns it (--snowflake-role), have its owner run GRANT USAGE ON INTEGRATION %s TO ROLE %s, or choose another name with --integration",
			in.Name, s.db.role(), in.Name.SQL(), snowflake.Ident(s.db.role()).SQL())
	}
	if err != nil {
		return s.db.explain("DESC INTEGRATION "+string(in.Name), err)
	}
	// IF NOT EXISTS kept an integration that was already there: reconcile
	// it in place, keeping its external ID unless asked to reset it.
	if in.AssumesRole() {
		if _, err := s.externalID(v, d); err != nil {
			return err
		}
		in = s.want(v)
	}
	if drift := d.Drift(in); len(drift) > 0 {
		if err := r.Checkpoint(); err != nil {
			return err
		}
		if _, err := s.db.ExecContext(ctx, in.Alter(drift)); err != nil {
			return s.db.explain("ALTER STORAGE INTEGRATION "+string(in.Name), err)
		}
	}
	return nil
}

type stageStep struct {
	providers.Basic
	stage snowflake.Stage
	db    *conn
}

// ReadsEarly implements providers.ReadsEarly.
func (*stageStep) ReadsEarly(*providers.Values) bool { return true }

func (s *stageStep) Artifacts(*providers.Values) []providers.Artifact {
	return []providers.Artifact{{Name: "create the stage (database and schema must exist: byob does not create them)", Format: providers.FormatSQL, Content: s.stage.Create(), Value: s.stage}}
}

// show returns the SHOW STAGES row of the stage, nil when there is none.
func (s *stageStep) show(ctx context.Context) (map[string]string, error) {
	n := s.stage.Name
	rows, err := snowflake.Query(ctx, s.db, "SHOW STAGES LIKE "+snowflake.Literal(string(n.Object))+" IN SCHEMA "+n.Database.SQL()+"."+n.Schema.SQL())
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

// Gate implements providers.Gate: a database or schema that does not
// exist (or that the role may not see) stops the run before any change.
func (s *stageStep) Gate(ctx context.Context, r *runenv.Run, _ *providers.Values) error {
	_, err := s.get(ctx, r)
	return err
}

func (s *stageStep) get(ctx context.Context, r *runenv.Run) (map[string]string, error) {
	row, err := runenv.Read(ctx, r, "SHOW STAGES "+s.stage.Name.String(), s.show)
	if err != nil {
		return nil, s.db.explain("SHOW STAGES in "+string(s.stage.Name.Database)+"."+string(s.stage.Name.Schema), err)
	}
	return row, nil
}

func (s *stageStep) Check(ctx context.Context, r *runenv.Run, _ *providers.Values) (providers.Observation, error) {
	row, err := s.get(ctx, r)
	if err != nil {
		return providers.Observation{}, err
	}
	if row == nil {
		return providers.Observation{Status: providers.Missing}, nil
	}
	if row["url"] != s.stage.URL || !strings.EqualFold(row["storage_integration"], string(s.stage.Integration)) {
		reason := fmt.Sprintf("stage %s points at %s through %s", s.stage.Name, row["url"], row["storage_integration"])
		if scheme, rest, ok := strings.Cut(s.stage.URL, "://"); ok {
			// The guide's URL='s3://<bucket>exports/<org_id>/'.
			if bucket, path, ok := strings.Cut(rest, "/"); ok && row["url"] == scheme+"://"+bucket+path {
				reason = fmt.Sprintf("stage URL %s lacks the slash after the bucket (it names bucket %s)", row["url"], bucket+strings.SplitN(path, "/", 2)[0])
			}
		}
		return providers.Observation{
			Status: providers.Drifted,
			Reason: reason,
			Fix:    []providers.Artifact{{Name: "point the stage back", Format: providers.FormatSQL, Content: s.stage.Alter()}},
		}, nil
	}
	return providers.Observation{Status: providers.Done}, nil
}

func (s *stageStep) Apply(ctx context.Context, r *runenv.Run, _ *providers.Values) error {
	row, err := s.get(ctx, r)
	if err != nil {
		return err
	}
	stmt := s.stage.Create()
	if row != nil {
		stmt = s.stage.Alter()
	}
	if _, err := s.db.ExecContext(ctx, stmt); err != nil {
		return s.db.explain("create stage "+s.stage.Name.String(), err)
	}
	return nil
}

type grantStep struct {
	providers.Basic
	db     *conn
	role   snowflake.Ident
	grants []snowflake.Grant
}

func (s *grantStep) showGrants(ctx context.Context) ([]map[string]string, error) {
	rows, err := snowflake.Query(ctx, s.db, snowflake.ShowGrantsTo(s.role))
	if err != nil {
		return nil, s.db.explain("SHOW GRANTS TO ROLE "+string(s.role), err)
	}
	return rows, nil
}

// ReadsEarly implements providers.ReadsEarly.
func (*grantStep) ReadsEarly(*providers.Values) bool { return true }

// shown is the role's SHOW GRANTS, shared by the steps that grant to it
// (runenv.Shared): a step's grants are its own, so another's do not
// change it.
func (s *grantStep) shown(ctx context.Context, r *runenv.Run) ([]map[string]string, error) {
	return runenv.Shared(ctx, r, snowflake.ShowGrantsTo(s.role), s.showGrants)
}

func (s *grantStep) Artifacts(*providers.Values) []providers.Artifact {
	out := make([]providers.Artifact, len(s.grants))
	for i, g := range s.grants {
		out[i] = providers.Artifact{Name: "grant", Format: providers.FormatSQL, Content: g.SQL(), Value: g}
	}
	return out
}

// missing returns the grants SHOW GRANTS TO ROLE does not list.
func (s *grantStep) missing(ctx context.Context, r *runenv.Run) ([]snowflake.Grant, error) {
	rows, err := s.shown(ctx, r)
	if err != nil {
		return nil, err
	}
	var out []snowflake.Grant
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

// Gate implements providers.Gate: GrowthLoop's role must exist (and be
// visible to byob's) before anything is made.
func (s *grantStep) Gate(ctx context.Context, r *runenv.Run, _ *providers.Values) error {
	_, err := s.shown(ctx, r)
	return err
}

func (s *grantStep) Check(ctx context.Context, r *runenv.Run, _ *providers.Values) (providers.Observation, error) {
	m, err := s.missing(ctx, r)
	if err != nil {
		return providers.Observation{}, err
	}
	if len(m) == 0 {
		return providers.Observation{Status: providers.Done}, nil
	}
	return providers.Observation{Status: providers.Missing}, nil
}

func (s *grantStep) Apply(ctx context.Context, r *runenv.Run, v *providers.Values) error {
	m, err := s.missing(ctx, r)
	if err != nil {
		return err
	}
	// Which grants byob makes is recorded before it makes them: destroy
	// revokes those, and never a grant the role had before.
	ran := s.ran(v)
	for _, g := range m {
		if !slices.Contains(ran, g.SQL()) {
			ran = append(ran, g.SQL())
		}
	}
	b, _ := json.Marshal(ran)
	v.Set(s.ranKey(), string(b))
	if err := r.Checkpoint(); err != nil {
		return err
	}
	// Grants do not depend on one another: they run at once.
	g, gctx := errgroup.WithContext(ctx)
	for _, grant := range m {
		g.Go(func() error {
			if _, err := s.db.ExecContext(gctx, grant.SQL()); err != nil {
				return s.db.explain(grant.SQL(), err)
			}
			return nil
		})
	}
	return g.Wait()
}
