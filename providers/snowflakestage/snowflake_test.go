package snowflakestage_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/growthloop/byob/internal/testsupport/providertest"
	"github.com/growthloop/byob/providers/bundlefile"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/providers/s3bucket"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/snowflakestage"
	"github.com/growthloop/byob/snowflake/snowflaketest"
)

// The setup the tests make: GrowthLoop's role GROWTHLOOP uses stage
// ANALYTICS.FLYWHEEL_SYSTEM.GROWTHLOOP_EXPORTS, on bucket acme-exports.
const (
	bucket    = "acme-exports"
	stageName = "ANALYTICS.FLYWHEEL_SYSTEM.GROWTHLOOP_EXPORTS"
	stageSQL  = `"ANALYTICS"."FLYWHEEL_SYSTEM"."GROWTHLOOP_EXPORTS"`
	glRole    = "GROWTHLOOP"
	accountID = "123456789012"
	roleARN   = "arn:aws:iam::" + accountID + ":role/growthloop-snowflake"
)

// s3 is what an S3 bucket gives the warehouse: a role Snowflake assumes,
// named from the AWS account id, and the step that lets Snowflake in.
var s3 = providers.Storage{Cloud: "aws", Service: "S3", Scheme: "s3://", Tag: "AWS", TrustStep: "aws-role-policy",
	RoleReads: []providers.Key{s3bucket.AccountID},
	Role: func(v *providers.Values) string {
		return "arn:aws:iam::" + v.Ref(s3bucket.AccountID) + ":role/growthloop-snowflake"
	}}

// gcs is what a GCS bucket gives it: Snowflake reaches the bucket as its
// own service account, which the bucket's binding names.
var gcs = providers.Storage{Cloud: "gcp", Service: "GCS", Scheme: "gcs://", Tag: "GCS", TrustStep: "gcp-snowflake-binding"}

// config is the setup's inputs, for a bucket that gives st.
func config(st providers.Storage) *providers.Config {
	c := providers.Config{
		Bucket: bucket, Prefix: "exports/", OrgID: "org-1", Warehouse: snowflakestage.Name,
		State: "byob-state.json",
	}.With(snowflakestage.Settings{Database: "ANALYTICS", Schema: "FLYWHEEL_SYSTEM", Integration: "FLYWHEEL_APP_" + st.Tag, Stage: "GROWTHLOOP_EXPORTS", GrowthLoopRole: glRole})
	return &c
}

// fixture is one setup against a fake Snowflake, and the run environment
// its steps get.
type fixture struct {
	t     *testing.T
	sf    *snowflaketest.Server
	setup providers.Setup
	bg    *runenv.Background

	mu          sync.Mutex
	ids         int // external IDs made
	checkpoints []checkpoint
	reports     []string
}

// checkpoint is what a step saved: the values, and how many statements
// Snowflake had run by then.
type checkpoint struct {
	values     map[string]string
	statements int
}

// newFixture connects to a new fake as sessionRole, the way byob does
// (Connect, then Preflight), for a bucket that gives st.
func newFixture(t *testing.T, st providers.Storage, sessionRole string) *fixture {
	t.Helper()
	f := &fixture{t: t, sf: snowflaketest.New()}
	t.Cleanup(f.sf.Close)
	cfg := config(st)
	providers.UpdateSection(cfg, func(s *snowflakestage.Settings) {
		s.Connection = snowflakestage.Connection{Account: "fake", User: f.sf.User, Role: sessionRole, Host: f.sf.Host, Port: f.sf.Port, Protocol: "http"}
	})
	conn, err := snowflakestage.Provider{}.Connect(context.Background(), cfg, f.env(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	f.bg = runenv.NewBackground()
	t.Cleanup(f.bg.End)
	f.setup = providers.Setup{
		Config: cfg, Conn: conn, Storage: st,
		Values: providers.NewValues(map[string]string{s3bucket.AccountID.Name: accountID}),
		NewExternalID: func() (string, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.ids++
			return fmt.Sprintf("byob-%d", f.ids), nil
		},
		Propagation: runenv.Propagation{Timeout: time.Second, Initial: time.Millisecond, Max: 5 * time.Millisecond},
		ReRun:       "byob init --warehouse snowflake",
	}
	if _, err := conn.Preflight(context.Background(), f.setup, providers.ChangeAccess); err != nil {
		t.Fatal(err)
	}
	return f
}

// env reaches the fake with its password, and never the machine's own
// connections.toml.
func (f *fixture) env(t *testing.T) providers.Env {
	home := t.TempDir()
	return providers.Env{LookupEnv: func(k string) (string, bool) {
		switch k {
		case "SNOWFLAKE_PASSWORD":
			return f.sf.Password, true
		case "SNOWFLAKE_HOME", "HOME":
			return home, true
		}
		return "", false
	}}
}

// run is a step's run environment: it records the values at each
// checkpoint, and what the step reports.
func (f *fixture) run() *runenv.Run {
	return runenv.NewRun(f.bg, runenv.Hooks{
		Checkpoint: func() error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.checkpoints = append(f.checkpoints, checkpoint{f.setup.Values.Map(), len(f.sf.Statements())})
			return nil
		},
		Report: func(msg string) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.reports = append(f.reports, msg)
		},
	})
}

// steps are the steps of a new run, by ID.
func (f *fixture) steps() map[string]providers.Step {
	return providertest.ByID((snowflakestage.Provider{}).Steps(f.setup))
}

func (f *fixture) check(s providers.Step) providers.Observation {
	f.t.Helper()
	return providertest.Check(f.t, f.run(), s, f.setup.Values)
}

func (f *fixture) apply(s providers.Step) {
	f.t.Helper()
	providertest.Apply(f.t, f.run(), s, f.setup.Values)
}

// converge runs a new run's steps as byob init does (providertest.Converge).
func (f *fixture) converge() map[string]providers.Observation {
	f.t.Helper()
	return providertest.Converge(f.t, f.run, (snowflakestage.Provider{}).Steps(f.setup), f.setup.Values)
}

// since are the statements after the first n that start with prefix.
func (f *fixture) since(n int, prefix string) []string {
	var out []string
	for _, q := range f.sf.Statements()[n:] {
		if strings.HasPrefix(q, prefix) {
			out = append(out, q)
		}
	}
	return out
}

// TestFirstRunMakesEverythingThenNothing: a new S3 setup creates the
// integration (with a new external ID, recorded before CREATE), grants
// USAGE on it, creates the stage and grants what the stage needs. A
// second run finds everything done and changes nothing.
func TestFirstRunMakesEverythingThenNothing(t *testing.T) {
	f := newFixture(t, s3, "ACCOUNTADMIN")
	v := f.setup.Values
	seen := f.converge()
	for id, obs := range seen {
		if obs.Status != providers.Missing {
			t.Errorf("%s: %+v before anything was made, want missing", id, obs)
		}
	}

	in := f.sf.Integration("FLYWHEEL_APP_AWS")
	if in == nil {
		t.Fatal("no integration")
	}
	if in.Provider != "S3" || !in.Enabled || in.RoleARN != roleARN || in.ExternalID != "byob-1" ||
		!slices.Equal(in.AllowedLocations, []string{"s3://" + bucket + "/exports/"}) {
		t.Errorf("integration %+v", in)
	}
	if got := v.Get(providers.ExternalID); got != "byob-1" {
		t.Errorf("external ID %q", got)
	}
	if got := v.Get(providers.WarehouseUserARN); got != snowflaketest.IAMUserARN {
		t.Errorf("Snowflake's IAM user %q, want DESC INTEGRATION's %s", got, snowflaketest.IAMUserARN)
	}
	creates := f.since(0, "CREATE STORAGE INTEGRATION")
	if len(creates) != 1 || !strings.Contains(creates[0], "IF NOT EXISTS") {
		t.Errorf("CREATE = %q", creates)
	}
	// The external ID is saved before the integration that holds it exists.
	if c := f.checkpoints[0]; c.values[providers.ExternalID.Name] != "byob-1" ||
		slices.ContainsFunc(f.sf.Statements()[:c.statements], func(q string) bool { return strings.HasPrefix(q, "CREATE") }) {
		t.Errorf("first checkpoint %+v: it must hold the new external ID, before CREATE", c)
	}

	st := f.sf.Stage(stageName)
	if st == nil || st.URL != "s3://"+bucket+"/exports/org-1/" || st.Integration != "FLYWHEEL_APP_AWS" {
		t.Errorf("stage %+v", st)
	}
	want := []string{"USAGE|DATABASE|ANALYTICS", "USAGE|INTEGRATION|FLYWHEEL_APP_AWS", "USAGE|SCHEMA|ANALYTICS.FLYWHEEL_SYSTEM", "USAGE|STAGE|" + stageName}
	if got := f.sf.Grants(glRole); !slices.Equal(got, want) {
		t.Errorf("grants %q, want %q", got, want)
	}
	for _, q := range f.sf.Statements() {
		if strings.Contains(q, "REPLACE") || strings.HasPrefix(q, "DROP") {
			t.Errorf("init must never recreate: %s", q)
		}
	}

	mutations, before := f.sf.Mutations(), len(f.sf.Statements())
	for id, obs := range f.converge() {
		if obs.Status != providers.Done || obs.Reason != "" {
			t.Errorf("second run: %s %+v, want done", id, obs)
		}
	}
	if f.sf.Mutations() != mutations {
		t.Errorf("the second run changed: %q", f.sf.Statements()[before:])
	}
}

// TestGCSIntegration: for GCS the integration assumes no role and needs
// no external ID; Snowflake's own service account is read for the
// bucket's binding.
func TestGCSIntegration(t *testing.T) {
	f := newFixture(t, gcs, "ACCOUNTADMIN")
	f.converge()
	in := f.sf.Integration("FLYWHEEL_APP_GCS")
	if in == nil || in.Provider != "GCS" || in.RoleARN != "" || in.ExternalID != "" ||
		!slices.Equal(in.AllowedLocations, []string{"gcs://" + bucket + "/exports/"}) {
		t.Errorf("integration %+v", in)
	}
	create := f.since(0, "CREATE STORAGE INTEGRATION")
	if len(create) != 1 || strings.Contains(create[0], "STORAGE_AWS") {
		t.Errorf("CREATE = %q", create)
	}
	v := f.setup.Values
	if v.Get(providers.WarehouseServiceAccount) != snowflaketest.GCPServiceAccount || v.Get(providers.ExternalID) != "" || f.ids != 0 {
		t.Errorf("values %v, %d external IDs made", v.Map(), f.ids)
	}
	if st := f.sf.Stage(stageName); st == nil || st.URL != "gcs://"+bucket+"/exports/org-1/" {
		t.Errorf("stage %+v", st)
	}
	var b bundlefile.Bundle
	if !(snowflakestage.Provider{}).Bundle(f.setup, &b) || *b.Snowflake != (bundlefile.Snowflake{Integration: "FLYWHEEL_APP_GCS", Stage: stageName, GCPServiceAccount: snowflaketest.GCPServiceAccount}) {
		t.Errorf("bundle %+v", b.Snowflake)
	}
}

// TestPrefetchReadsOnce: the reads a run starts beside the preflight
// answer the checks; the two grant steps share one SHOW GRANTS.
func TestPrefetchReadsOnce(t *testing.T) {
	f := newFixture(t, s3, "ACCOUNTADMIN")
	f.converge()
	before := len(f.sf.Statements())
	steps := (snowflakestage.Provider{}).Steps(f.setup)
	run := f.run()
	providertest.Prefetch(run, steps, f.setup.Values)
	for _, s := range steps {
		if obs := providertest.Check(t, run, s, f.setup.Values); obs.Status != providers.Done {
			t.Errorf("%s: %+v", s.ID(), obs)
		}
	}
	for _, prefix := range []string{"DESC INTEGRATION", "SHOW STAGES", "SHOW GRANTS TO ROLE"} {
		if n := len(f.since(before, prefix)); n != 1 {
			t.Errorf("%d %s, want 1", n, prefix)
		}
	}
}

// TestIntegrationDriftIsAlteredInPlace: an integration pointing
// elsewhere is reported with what differs and the exact ALTER, then
// altered in place; its own external ID is kept, and the values follow it.
func TestIntegrationDriftIsAlteredInPlace(t *testing.T) {
	f := newFixture(t, s3, "ACCOUNTADMIN")
	f.setup.Values.Set(providers.ExternalID, "byob-old")
	f.sf.SetIntegration("FLYWHEEL_APP_AWS", snowflaketest.Integration{Provider: "S3", Enabled: false, RoleARN: roleARN,
		ExternalID: "someone-else", AllowedLocations: []string{"s3://other/"}})
	s := f.steps()[snowflakestage.StepIntegration]
	obs := f.check(s)
	if obs.Status != providers.Drifted {
		t.Fatalf("check = %+v, want drifted", obs)
	}
	providertest.MustContain(t, "reason", obs.Reason, "the integration's external ID is someone-else, not byob-old as the state file says",
		"--reset-external-id", "another ENABLED, STORAGE_ALLOWED_LOCATIONS", `STORAGE_ALLOWED_LOCATIONS is "s3://other/", want "s3://acme-exports/exports/"`)
	if len(obs.Fix) != 1 {
		t.Fatalf("fix %+v", obs.Fix)
	}
	providertest.MustContain(t, "fix", obs.Fix[0].Content, `ALTER STORAGE INTEGRATION "FLYWHEEL_APP_AWS" SET`, "ENABLED = TRUE",
		"STORAGE_AWS_ROLE_ARN = '"+roleARN+"'", "STORAGE_AWS_EXTERNAL_ID = 'someone-else'", "STORAGE_ALLOWED_LOCATIONS = ('s3://acme-exports/exports/')")

	before := len(f.sf.Statements())
	f.apply(s)
	if alter := f.since(before, "ALTER"); len(alter) != 1 || alter[0] != obs.Fix[0].Content {
		t.Errorf("ran %q, want the fix shown", alter)
	}
	in := f.sf.Integration("FLYWHEEL_APP_AWS")
	if !in.Enabled || in.ExternalID != "someone-else" || !slices.Equal(in.AllowedLocations, []string{"s3://acme-exports/exports/"}) {
		t.Errorf("integration %+v", in)
	}
	if got := f.setup.Values.Get(providers.ExternalID); got != "someone-else" || f.ids != 0 {
		t.Errorf("external ID %q (%d made): it must follow the integration's", got, f.ids)
	}
	if obs := f.check(f.steps()[snowflakestage.StepIntegration]); obs.Status != providers.Done {
		t.Errorf("after the ALTER: %+v", obs)
	}
}

// TestLostStateAdoptsTheIntegration: with no external ID recorded (the
// state file is gone), a matching integration is done as it is, and its
// external ID is adopted.
func TestLostStateAdoptsTheIntegration(t *testing.T) {
	f := newFixture(t, s3, "ACCOUNTADMIN")
	f.sf.SetIntegration("FLYWHEEL_APP_AWS", snowflaketest.Integration{Provider: "S3", Enabled: true, RoleARN: roleARN,
		ExternalID: "byob-live", AllowedLocations: []string{"s3://acme-exports/exports/"}})
	obs := f.check(f.steps()[snowflakestage.StepIntegration])
	if obs.Status != providers.Done || obs.Reason != "the integration's external ID byob-live is kept" {
		t.Errorf("check = %+v", obs)
	}
	if got := f.setup.Values.Get(providers.ExternalID); got != "byob-live" || f.sf.Mutations() != 0 || f.ids != 0 {
		t.Errorf("external ID %q, %d changes, %d made", got, f.sf.Mutations(), f.ids)
	}
}

// TestResetExternalID: --reset-external-id gives a live integration one
// new external ID per run, set by ALTER together with the role.
func TestResetExternalID(t *testing.T) {
	f := newFixture(t, s3, "ACCOUNTADMIN")
	f.converge()
	f.setup.ResetExternalID = true
	s := f.steps()[snowflakestage.StepIntegration]
	if obs := f.check(s); obs.Status != providers.Drifted || !strings.Contains(obs.Reason, "STORAGE_AWS_EXTERNAL_ID") {
		t.Fatalf("check = %+v", obs)
	}
	before := len(f.sf.Statements())
	f.apply(s)
	alter := f.since(before, "ALTER STORAGE INTEGRATION")
	if len(alter) != 1 || !strings.Contains(alter[0], "STORAGE_AWS_EXTERNAL_ID = 'byob-2'") || !strings.Contains(alter[0], roleARN) {
		t.Errorf("ALTER = %q", alter)
	}
	if in := f.sf.Integration("FLYWHEEL_APP_AWS"); in.ExternalID != "byob-2" || f.ids != 2 {
		t.Errorf("integration %+v, %d external IDs made (one at init, one for the reset)", in, f.ids)
	}
}

// TestIntegrationOfAnotherProvider: a GCS integration of the name the S3
// setup wants is never altered: the gate stops the run, naming the flag
// that picks another name.
func TestIntegrationOfAnotherProvider(t *testing.T) {
	f := newFixture(t, s3, "ACCOUNTADMIN")
	f.sf.SetIntegration("FLYWHEEL_APP_AWS", snowflaketest.Integration{Provider: "GCS", Enabled: true, AllowedLocations: []string{"gcs://theirs/"}})
	s := f.steps()[snowflakestage.StepIntegration]
	err := s.(providers.Gate).Gate(context.Background(), f.run(), providers.NewValues(f.setup.Values.Map()))
	if err == nil {
		t.Fatal("gate passed")
	}
	providertest.MustContain(t, "gate", err.Error(), "integration FLYWHEEL_APP_AWS exists with STORAGE_PROVIDER GCS, not S3", "--integration")
	if f.sf.Mutations() != 0 {
		t.Errorf("changed: %q", f.sf.Statements())
	}
}

// TestIntegrationTheRoleCannotSee: another role's integration of the
// same name is invisible (DESC answers 002003), and CREATE ... IF NOT
// EXISTS keeps it: Apply says so, with the fixes, and alters nothing.
func TestIntegrationTheRoleCannotSee(t *testing.T) {
	f := newFixture(t, s3, "ACCOUNTADMIN")
	f.sf.SetIntegration("FLYWHEEL_APP_AWS", snowflaketest.Integration{Provider: "S3", Enabled: true, AllowedLocations: []string{"s3://theirs/"}})
	f.sf.SetOwner("INTEGRATION", "FLYWHEEL_APP_AWS", "DATA_ENG")
	s := f.steps()[snowflakestage.StepIntegration]
	if obs := f.check(s); obs.Status != providers.Missing {
		t.Fatalf("check = %+v, want missing (the role sees none)", obs)
	}
	err := s.Apply(context.Background(), f.run(), f.setup.Values)
	if err == nil {
		t.Fatal("apply succeeded")
	}
	providertest.MustContain(t, "apply", err.Error(), "integration FLYWHEEL_APP_AWS exists but role ACCOUNTADMIN may not see it", "--snowflake-role",
		`GRANT USAGE ON INTEGRATION "FLYWHEEL_APP_AWS" TO ROLE "ACCOUNTADMIN"`, "--integration")
	if got := f.since(0, "ALTER"); len(got) != 0 {
		t.Errorf("altered: %q", got)
	}
}

// TestCreateNeedsThePrivilege: a role that may not create integrations
// gets Snowflake's error with the role and the way out.
func TestCreateNeedsThePrivilege(t *testing.T) {
	f := newFixture(t, s3, "SYSADMIN")
	s := f.steps()[snowflakestage.StepIntegration]
	f.check(s)
	err := s.Apply(context.Background(), f.run(), f.setup.Values)
	if err == nil {
		t.Fatal("apply succeeded")
	}
	providertest.MustContain(t, "apply", err.Error(), `CREATE STORAGE INTEGRATION FLYWHEEL_APP_AWS: role SYSADMIN lacks the privilege`,
		"--snowflake-role ACCOUNTADMIN", "Insufficient privileges")
	if f.sf.Integration("FLYWHEEL_APP_AWS") != nil {
		t.Error("an integration was made")
	}
}

// TestMissingObjectsStopTheRunFirst: a GrowthLoop role or schema that is
// not there stops the run at the gates, before any change, each error
// with its own fix.
func TestMissingObjectsStopTheRunFirst(t *testing.T) {
	for _, tc := range []struct {
		name    string
		breakIt func(*snowflaketest.Server)
		steps   []string
		says    []string
	}{
		{"GrowthLoop's role", func(s *snowflaketest.Server) { s.DropRole(glRole) }, []string{snowflakestage.StepIntegrationGrant, snowflakestage.StepStageGrants},
			[]string{"SHOW GRANTS TO ROLE GROWTHLOOP", "role GROWTHLOOP does not exist, or role ACCOUNTADMIN may not see it", `CREATE ROLE "GROWTHLOOP"`, "--growthloop-role"}},
		{"the schema", func(s *snowflaketest.Server) { s.DropSchema("ANALYTICS.FLYWHEEL_SYSTEM") }, []string{snowflakestage.StepStage},
			[]string{"SHOW STAGES in ANALYTICS.FLYWHEEL_SYSTEM", "schema ANALYTICS.FLYWHEEL_SYSTEM does not exist, or role ACCOUNTADMIN may not use it", "--snowflake-schema"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, s3, "ACCOUNTADMIN")
			tc.breakIt(f.sf)
			for _, s := range (snowflakestage.Provider{}).Steps(f.setup) {
				err := s.(providers.Gate).Gate(context.Background(), f.run(), providers.NewValues(f.setup.Values.Map()))
				switch {
				case !slices.Contains(tc.steps, s.ID()) && err != nil:
					t.Errorf("%s's gate: %v", s.ID(), err)
				case !slices.Contains(tc.steps, s.ID()):
				case err == nil:
					t.Errorf("%s's gate passed", s.ID())
				default:
					providertest.MustContain(t, s.ID()+"'s gate", err.Error(), tc.says...)
				}
			}
			if f.sf.Mutations() != 0 {
				t.Errorf("%d changes", f.sf.Mutations())
			}
		})
	}
}

// TestStageDrift: a stage pointing elsewhere is drifted, with the ALTER
// that points it back, and Apply alters rather than creates it. The
// guide's URL without the slash after the bucket is named as such.
func TestStageDrift(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stage  snowflaketest.Stage
		reason string
	}{
		{"no slash after the bucket", snowflaketest.Stage{URL: "s3://acme-exportsexports/org-1/", Integration: "FLYWHEEL_APP_AWS"},
			"stage URL s3://acme-exportsexports/org-1/ lacks the slash after the bucket (it names bucket acme-exportsexports)"},
		{"another integration", snowflaketest.Stage{URL: "s3://acme-exports/exports/org-1/", Integration: "OLD_INTEGRATION"},
			"stage " + stageName + " points at s3://acme-exports/exports/org-1/ through OLD_INTEGRATION"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, s3, "ACCOUNTADMIN")
			f.converge()
			f.sf.SetStage(stageName, tc.stage)
			s := f.steps()[snowflakestage.StepStage]
			obs := f.check(s)
			if obs.Status != providers.Drifted || obs.Reason != tc.reason {
				t.Errorf("check = %+v, want drifted: %s", obs, tc.reason)
			}
			alter := `ALTER STAGE ` + stageSQL + " SET\n  URL = 's3://acme-exports/exports/org-1/'\n  STORAGE_INTEGRATION = \"FLYWHEEL_APP_AWS\""
			if len(obs.Fix) != 1 || obs.Fix[0].Content != alter {
				t.Errorf("fix %+v, want %q", obs.Fix, alter)
			}
			before := len(f.sf.Statements())
			f.apply(s)
			if ran := f.since(before, "ALTER STAGE"); len(ran) != 1 || len(f.since(before, "CREATE")) != 0 {
				t.Errorf("ran %q", f.sf.Statements()[before:])
			}
			if st := f.sf.Stage(stageName); st.URL != "s3://acme-exports/exports/org-1/" || st.Integration != "FLYWHEEL_APP_AWS" {
				t.Errorf("stage %+v", st)
			}
		})
	}
}

// TestStageLikeIsExact: SHOW STAGES LIKE takes _ as a wildcard; a stage
// whose name only matches the pattern is not the setup's.
func TestStageLikeIsExact(t *testing.T) {
	f := newFixture(t, s3, "ACCOUNTADMIN")
	f.sf.SetStage("ANALYTICS.FLYWHEEL_SYSTEM.GROWTHLOOPXEXPORTS", snowflaketest.Stage{URL: "s3://theirs/", Integration: "THEIRS"})
	if obs := f.check(f.steps()[snowflakestage.StepStage]); obs.Status != providers.Missing {
		t.Errorf("check = %+v, want missing", obs)
	}
}

// TestGrantsByobMadeAreTheOnesRevoked: a grant the role already had is
// neither made again nor revoked; byob records the grants it makes
// before making them, and destroy revokes those only.
func TestGrantsByobMadeAreTheOnesRevoked(t *testing.T) {
	f := newFixture(t, s3, "ACCOUNTADMIN")
	f.sf.Grant(glRole, "USAGE", "DATABASE", "ANALYTICS")
	before := len(f.sf.Statements())
	f.converge()
	if grants := f.since(before, "GRANT"); len(grants) != 3 || slices.ContainsFunc(grants, func(q string) bool { return strings.Contains(q, "ON DATABASE") }) {
		t.Errorf("granted %q: the database grant was there", grants)
	}
	// The checkpoint before the stage's grants names them, and they were
	// not run yet.
	key := "granted." + snowflakestage.StepStageGrants
	i := slices.IndexFunc(f.checkpoints, func(c checkpoint) bool { return c.values[key] != "" })
	if i < 0 {
		t.Fatalf("no checkpoint records %s", key)
	}
	recorded, ran := f.checkpoints[i].values[key], f.sf.Statements()[:f.checkpoints[i].statements]
	if !strings.Contains(recorded, "ON SCHEMA") || !strings.Contains(recorded, "ON STAGE") || strings.Contains(recorded, "ON DATABASE") ||
		slices.ContainsFunc(ran, func(q string) bool { return strings.HasPrefix(q, "GRANT USAGE ON STAGE") }) {
		t.Errorf("recorded %q after %q", recorded, ran)
	}

	v := f.setup.Values
	v.Set(providers.CreatedKey(snowflakestage.StepStageGrants), "true")
	s := f.steps()[snowflakestage.StepStageGrants]
	td, err := s.Teardown(context.Background(), v)
	if err != nil {
		t.Fatal(err)
	}
	want := `REVOKE USAGE ON SCHEMA "ANALYTICS"."FLYWHEEL_SYSTEM" FROM ROLE "GROWTHLOOP"; REVOKE USAGE ON STAGE ` + stageSQL + ` FROM ROLE "GROWTHLOOP"`
	if td.Remove != want || td.Keep != "" {
		t.Errorf("teardown %+v, want to remove %q", td, want)
	}
	if err := s.Destroy(context.Background(), f.run(), v); err != nil {
		t.Fatal(err)
	}
	if got := f.sf.Grants(glRole); !slices.Equal(got, []string{"USAGE|DATABASE|ANALYTICS", "USAGE|INTEGRATION|FLYWHEEL_APP_AWS"}) {
		t.Errorf("grants left %q", got)
	}
	if v.Get(providers.Key{Name: key}) != "" {
		t.Errorf("the record of the grants stays: %q", v.Get(providers.Key{Name: key}))
	}
}

// TestGrantTeardownOfAnOldState: a state file from before byob recorded
// its grants says byob made the step, but not which grants: none is
// revoked, and the statements are named for the user.
func TestGrantTeardownOfAnOldState(t *testing.T) {
	f := newFixture(t, s3, "ACCOUNTADMIN")
	v := providers.NewValues(map[string]string{providers.CreatedKey(snowflakestage.StepIntegrationGrant).Name: "true"})
	td, err := f.steps()[snowflakestage.StepIntegrationGrant].Teardown(context.Background(), v)
	if err != nil {
		t.Fatal(err)
	}
	if td.Remove != "" {
		t.Errorf("teardown removes %q", td.Remove)
	}
	providertest.MustContain(t, "keep", td.Keep, "does not say which of these grants to role GROWTHLOOP byob made", `REVOKE USAGE ON INTEGRATION "FLYWHEEL_APP_AWS" FROM ROLE "GROWTHLOOP"`)
	// Adopted grants stay.
	v = providers.NewValues(map[string]string{providers.AdoptedKey(snowflakestage.StepIntegrationGrant).Name: "true"})
	if td, _ := f.steps()[snowflakestage.StepIntegrationGrant].Teardown(context.Background(), v); td.Keep != "the grants to role GROWTHLOOP was there before byob: left alone" {
		t.Errorf("adopted teardown %+v", td)
	}
}

// TestDestroy: the integration and stage byob made are dropped, the
// integration's identity forgotten; the grants that went with the
// dropped objects are done; an adopted integration is kept.
func TestDestroy(t *testing.T) {
	f := newFixture(t, s3, "ACCOUNTADMIN")
	f.converge()
	v := f.setup.Values
	for _, id := range []string{snowflakestage.StepIntegration, snowflakestage.StepStage} {
		v.Set(providers.CreatedKey(id), "true")
	}
	steps := f.steps()
	for id, remove := range map[string]string{
		snowflakestage.StepIntegration: `DROP STORAGE INTEGRATION IF EXISTS "FLYWHEEL_APP_AWS"`,
		snowflakestage.StepStage:       "DROP STAGE IF EXISTS " + stageSQL,
	} {
		if td, err := steps[id].Teardown(context.Background(), v); err != nil || td.Remove != remove {
			t.Errorf("%s teardown %+v %v, want %q", id, td, err, remove)
		}
	}
	// Objects first: their grants go with them, and revoking them after
	// finds nothing to revoke.
	for _, id := range []string{snowflakestage.StepStage, snowflakestage.StepIntegration, snowflakestage.StepStageGrants, snowflakestage.StepIntegrationGrant} {
		if err := steps[id].Destroy(context.Background(), f.run(), v); err != nil {
			t.Fatalf("destroy %s: %v", id, err)
		}
	}
	if f.sf.Integration("FLYWHEEL_APP_AWS") != nil || f.sf.Stage(stageName) != nil {
		t.Error("the integration or the stage is still there")
	}
	if got := f.sf.Grants(glRole); len(got) != 0 {
		t.Errorf("grants left %q", got)
	}
	for _, k := range []providers.Key{providers.ExternalID, providers.WarehouseUserARN} {
		if v.Get(k) != "" {
			t.Errorf("%s stays %q: a new integration gets a new one", k.Name, v.Get(k))
		}
	}

	adopted := providers.NewValues(map[string]string{providers.AdoptedKey(snowflakestage.StepIntegration).Name: "true"})
	if td, _ := steps[snowflakestage.StepIntegration].Teardown(context.Background(), adopted); td.Remove != "" || td.Keep != "storage integration FLYWHEEL_APP_AWS was there before byob: left alone" {
		t.Errorf("adopted integration teardown %+v", td)
	}
}

// TestDestroyFailureNamesTheStatement: a DROP Snowflake refuses is
// reported with the object.
func TestDestroyFailureNamesTheStatement(t *testing.T) {
	f := newFixture(t, s3, "ACCOUNTADMIN")
	f.converge()
	f.sf.FailMutationWith(1, "Insufficient privileges to operate on stage")
	err := f.steps()[snowflakestage.StepStage].Destroy(context.Background(), f.run(), f.setup.Values)
	if err == nil {
		t.Fatal("destroy succeeded")
	}
	providertest.MustContain(t, "destroy", err.Error(), "DROP STAGE "+stageName, "Insufficient privileges to operate on stage")
	if f.sf.Stage(stageName) == nil {
		t.Error("the stage is gone")
	}
}

// probe is the setup's probe of id.
func (f *fixture) probe(id string) providers.Probe {
	f.t.Helper()
	for _, p := range (snowflakestage.Provider{}).Probes(f.setup) {
		if p.ID == id {
			return p
		}
	}
	f.t.Fatalf("no probe %s", id)
	return providers.Probe{}
}

// TestStageReachableWaitsForTheTrust: LIST @stage answers 003167 until
// IAM propagates the role's trust; the probe waits, says why, and passes.
// It waits for the bucket's trust step and proves the setup.
func TestStageReachableWaitsForTheTrust(t *testing.T) {
	f := newFixture(t, s3, "ACCOUNTADMIN")
	f.converge()
	f.sf.AssumeRoleFails(2)
	p := f.probe(snowflakestage.CheckStageReachable)
	if !p.Proof || !slices.Equal(p.Needs, []string{snowflakestage.StepIntegration, snowflakestage.StepStage, s3.TrustStep}) {
		t.Errorf("probe needs %q, proof %v", p.Needs, p.Proof)
	}
	res := p.Run(context.Background(), f.run())
	if res.Status != providers.Pass || res.Detail != "LIST @"+stageName+" returned 0 files" {
		t.Errorf("result %+v", res)
	}
	if n := len(f.since(0, "LIST @")); n != 3 {
		t.Errorf("%d LISTs, want 2 refused and 1 that worked", n)
	}
	if len(f.reports) == 0 || !strings.Contains(f.reports[0], "waiting for Snowflake to assume the role") {
		t.Errorf("reports %q", f.reports)
	}
}

// TestStageReachableFailures: an assume-role error that lasts names the
// trust's principal, external ID and STS in the account's region; another
// error of the stage shows Snowflake's message and the re-run.
func TestStageReachableFailures(t *testing.T) {
	f := newFixture(t, s3, "ACCOUNTADMIN")
	f.converge()
	f.setup.Propagation = runenv.Propagation{Timeout: 30 * time.Millisecond, Initial: time.Millisecond, Max: 5 * time.Millisecond}
	f.sf.AssumeRoleFails(1 << 30)
	res := f.probe(snowflakestage.CheckStageReachable).Run(context.Background(), f.run())
	if res.Status != providers.Fail {
		t.Fatalf("result %+v", res)
	}
	providertest.MustContain(t, "detail", res.Detail, "LIST @"+stageName, "Error assuming AWS_ROLE", "gave up after")
	providertest.MustContain(t, "remedy", res.Remedy, "the trust policy of "+roleARN, "IAM user "+snowflaketest.IAMUserARN,
		"external ID byob-1", "byob init --warehouse snowflake to set it", "STS must be active in us-west-2")

	f.sf.AssumeRoleFails(0)
	f.sf.Unreachable("Failure using stage area. Cause: [Access Denied (Status Code: 403)]")
	res = f.probe(snowflakestage.CheckStageReachable).Run(context.Background(), f.run())
	if res.Status != providers.Fail || res.Remedy != "fix the integration and trust checks above, or byob init --warehouse snowflake" {
		t.Errorf("result %+v", res)
	}
	providertest.MustContain(t, "detail", res.Detail, "Failure using stage area", "Access Denied")
}

// TestOtherGrants: another role's privilege on the stage is named with
// the REVOKE that removes it, and never revoked; GrowthLoop's role and
// the owner are expected.
func TestOtherGrants(t *testing.T) {
	f := newFixture(t, s3, "ACCOUNTADMIN")
	f.converge()
	p := f.probe(snowflakestage.CheckOtherGrants)
	if res := p.Run(context.Background(), f.run()); res.Status != providers.Pass || res.Detail != "only GrowthLoop's role and the owner" {
		t.Errorf("clean setup: %+v", res)
	}

	f.sf.Grant("ANALYST", "READ", "STAGE", stageName)
	res := f.probe(snowflakestage.CheckOtherGrants).Run(context.Background(), f.run())
	if res.Status != providers.Warn || res.Detail != "role ANALYST has READ on stage "+stageName {
		t.Errorf("result %+v", res)
	}
	if res.Remedy != `if they need no access: REVOKE READ ON STAGE `+stageSQL+` FROM ROLE "ANALYST"` {
		t.Errorf("remedy %q", res.Remedy)
	}
	if !f.sf.HasGrant("ANALYST", "READ", "STAGE", stageName) {
		t.Error("the check revoked a grant")
	}

	if err := f.steps()[snowflakestage.StepStage].Destroy(context.Background(), f.run(), f.setup.Values); err != nil {
		t.Fatal(err)
	}
	res = f.probe(snowflakestage.CheckOtherGrants).Run(context.Background(), f.run())
	if res.Status != providers.Unknown {
		t.Errorf("without the stage: %+v", res)
	}
	providertest.MustContain(t, "detail", res.Detail, "could not check", "SHOW GRANTS ON STAGE "+stageName)
}

// TestPreflight: the session's role, region and account are read; the
// account is recorded, and a state file of another account is refused.
func TestPreflight(t *testing.T) {
	f := newFixture(t, s3, "ACCOUNTADMIN")
	if got := f.setup.Values.Get(snowflakestage.Account); got != "FAKE12345" {
		t.Errorf("account %q", got)
	}
	if r, ok := f.setup.Conn.(providers.Reacher); !ok || r.Reaching() != "Snowflake account fake as byob" {
		t.Errorf("reaching %v", f.setup.Conn)
	}
	id, err := f.setup.Conn.Preflight(context.Background(), f.setup, providers.ReadAccess)
	if err != nil {
		t.Fatal(err)
	}
	if id.Summary != "Snowflake: account FAKE12345 in AWS_US_WEST_2, role ACCOUNTADMIN" || id.Region != "AWS_US_WEST_2" {
		t.Errorf("identity %+v", id)
	}
	if r, ok := id.RegionIn("aws"); !ok || r != "us-west-2" {
		t.Errorf("region in AWS: %q %v", r, ok)
	}

	f.setup.Values.Set(snowflakestage.Account, "OTHER999")
	_, err = f.setup.Conn.Preflight(context.Background(), f.setup, providers.ChangeAccess)
	var ue *providers.UsageError
	if !errors.As(err, &ue) {
		t.Fatalf("preflight = %v, want a usage error", err)
	}
	providertest.MustContain(t, "preflight", err.Error(), "byob-state.json records a setup in Snowflake account OTHER999", "reaches account FAKE12345",
		"--snowflake-account", "--state")
}

// TestConnectRefusesIncompleteSettings: what the driver cannot log in
// with is a usage error naming the flag or variable, before any call.
func TestConnectRefusesIncompleteSettings(t *testing.T) {
	env := providers.Env{LookupEnv: func(k string) (string, bool) {
		if k == "SNOWFLAKE_HOME" {
			return t.TempDir(), true
		}
		return "", false
	}}
	for _, tc := range []struct {
		conn snowflakestage.Connection
		says string
	}{
		{snowflakestage.Connection{User: "u"}, "--snowflake-account"},
		{snowflakestage.Connection{Account: "a", User: "u"}, "SNOWFLAKE_PASSWORD"},
		{snowflakestage.Connection{Account: "a", User: "u", Authenticator: "snowflake_jwt"}, "--snowflake-private-key-file"},
	} {
		_, err := snowflakestage.Provider{}.Connect(context.Background(), new(providers.Config{}.With(snowflakestage.Settings{Connection: tc.conn})), env)
		var ue *providers.UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("connect %+v = %v, want a usage error naming %s", tc.conn, err, tc.says)
		}
	}
}

// TestValidate: each bad input is named by its flag.
func TestValidate(t *testing.T) {
	good := providers.Config{}.With(snowflakestage.Settings{Database: "ANALYTICS", Schema: "FLYWHEEL_SYSTEM", Integration: "FLYWHEEL_APP_AWS", Stage: "GROWTHLOOP_EXPORTS", GrowthLoopRole: "GROWTHLOOP", Connection: snowflakestage.Connection{Port: 443, Protocol: "https", Authenticator: "SNOWFLAKE_JWT"}})
	if bad := (snowflakestage.Provider{}).Validate(&good); len(bad) != 0 {
		t.Errorf("valid setup: %+v", bad)
	}
	for flag, set := range map[string]func(c *providers.Config){
		"--snowflake-database": func(c *providers.Config) {
			providers.UpdateSection(c, func(s *snowflakestage.Settings) { s.Database = "my db" })
		},
		"--snowflake-schema": func(c *providers.Config) {
			providers.UpdateSection(c, func(s *snowflakestage.Settings) { s.Schema = "1SCHEMA" })
		},
		"--integration": func(c *providers.Config) {
			providers.UpdateSection(c, func(s *snowflakestage.Settings) { s.Integration = `X"; DROP` })
		},
		"--stage": func(c *providers.Config) {
			providers.UpdateSection(c, func(s *snowflakestage.Settings) { s.Stage = "a.b" })
		},
		"--growthloop-role": func(c *providers.Config) {
			providers.UpdateSection(c, func(s *snowflakestage.Settings) { s.GrowthLoopRole = "role-x" })
		},
		"--snowflake-port": func(c *providers.Config) {
			providers.UpdateSection(c, func(s *snowflakestage.Settings) { s.Connection.Port = 70000 })
		},
		"--snowflake-protocol": func(c *providers.Config) {
			providers.UpdateSection(c, func(s *snowflakestage.Settings) { s.Connection.Protocol = "ftp" })
		},
		"--snowflake-authenticator": func(c *providers.Config) {
			providers.UpdateSection(c, func(s *snowflakestage.Settings) { s.Connection.Authenticator = "password" })
		},
	} {
		c := good
		set(&c)
		bad := (snowflakestage.Provider{}).Validate(&c)
		if len(bad) != 1 || bad[0].Flag != flag {
			t.Errorf("%s: %+v", flag, bad)
		}
	}
}

// TestAsking: the form offers connections.toml's connections and the
// ways to sign in, and refuses a password sign-in without a password.
func TestAsking(t *testing.T) {
	home := t.TempDir()
	password := ""
	env := providers.Env{LookupEnv: func(k string) (string, bool) {
		switch k {
		case "SNOWFLAKE_HOME":
			return home, true
		case "SNOWFLAKE_PASSWORD":
			return password, password != ""
		}
		return "", false
	}}
	p, c := snowflakestage.Provider{}, &providers.Config{}
	if got, err := p.Choices("snowflake-connection", c, env); err != nil || got != nil {
		t.Errorf("without connections.toml: %v %v", got, err)
	}
	if err := os.WriteFile(home+"/connections.toml", []byte("[prod]\naccount = \"a\"\n[dev]\naccount = \"b\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := p.Choices("snowflake-connection", c, env)
	if err != nil || len(got) != 3 || got[0].Value != "dev" || got[1].Value != "prod" || got[2].Value != "" {
		t.Errorf("connections %+v %v", got, err)
	}
	if got, _ := p.Choices("snowflake-authenticator", c, env); len(got) != 3 || got[0].Value != p.Suggest("snowflake-authenticator", c, env) {
		t.Errorf("authenticators %+v", got)
	}
	err = p.CheckAnswer("snowflake-authenticator", "snowflake", c, env)
	if err == nil || !strings.Contains(err.Error(), "SNOWFLAKE_PASSWORD is not set") {
		t.Errorf("password sign-in without a password: %v", err)
	}
	password = "pw"
	if err := p.CheckAnswer("snowflake-authenticator", "snowflake", c, env); err != nil {
		t.Errorf("with SNOWFLAKE_PASSWORD: %v", err)
	}
}
