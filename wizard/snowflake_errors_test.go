package wizard_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/snowflakestage"
	"github.com/growthloop/byob/snowflake/snowflaketest"
	"github.com/growthloop/byob/wizard"
)

// TestSnowflakeObjectsMissingOrHidden: 002003 means "does not exist or not
// authorized". A GrowthLoop role or schema that is not there stops init
// before any change, each with its own fix and the role that ran.
func TestSnowflakeObjectsMissingOrHidden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		breakS func(e *env)
		says   []string
		avoids string
	}{
		{"GrowthLoop's role is missing", func(e *env) { e.sf.DropRole("GROWTHLOOP") },
			[]string{"role GROWTHLOOP does not exist, or role ACCOUNTADMIN may not see it", `CREATE ROLE "GROWTHLOOP"`, "--growthloop-role"}, "create the database"},
		{"the schema is missing", func(e *env) { e.sf.DropSchema("ANALYTICS.FLYWHEEL_SYSTEM") },
			[]string{"schema ANALYTICS.FLYWHEEL_SYSTEM does not exist, or role ACCOUNTADMIN may not use it", "--snowflake-schema"}, "--growthloop-role"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.breakS(e)
			cfg := e.config()
			before := len(e.aws.Calls())
			_, err := e.apply(cfg)
			if err == nil {
				t.Fatal("apply succeeded")
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if strings.Contains(err.Error(), tc.avoids) {
				t.Errorf("error %q says %q", err, tc.avoids)
			}
			for _, c := range e.aws.Calls()[before:] {
				if c.Mutating {
					t.Errorf("%s %s ran before the missing object was found", c.Service, c.Action)
				}
			}
			if e.sf.Mutations() != 0 {
				t.Errorf("%d Snowflake changes", e.sf.Mutations())
			}
		})
	}
}

// TestIntegrationTheRoleCannotSee: an integration of the same name that
// another role owns is invisible to byob's role (DESC says 002003), and
// CREATE ... IF NOT EXISTS keeps it: the error says so and names the
// fixes, and nothing is altered.
func TestIntegrationTheRoleCannotSee(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.sf.SetIntegration(snowflakestage.SettingsOf(&cfg).Integration, snowflaketest.Integration{Provider: "S3", Enabled: true, AllowedLocations: []string{"s3://theirs/"}})
	e.sf.SetOwner("INTEGRATION", snowflakestage.SettingsOf(&cfg).Integration, "DATA_ENG")
	_, err := e.apply(cfg)
	for _, s := range []string{"integration " + snowflakestage.SettingsOf(&cfg).Integration + " exists but role ACCOUNTADMIN may not see it", "--snowflake-role",
		`GRANT USAGE ON INTEGRATION "` + snowflakestage.SettingsOf(&cfg).Integration + `" TO ROLE "ACCOUNTADMIN"`, "--integration"} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("apply = %v; want it to say %q", err, s)
		}
	}
	if got := e.statementsSince(0, "ALTER"); len(got) != 0 {
		t.Errorf("altered: %q", got)
	}
}

// TestInitProvesSnowflakeReachesTheBucket: LIST @stage answers 003167
// until IAM propagates the new trust; init waits, says why, and ends by
// proving Snowflake lists the bucket.
func TestInitProvesSnowflakeReachesTheBucket(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.sf.AssumeRoleFails(3)
	out := e.mustApply(cfg)
	if len(out.Proved) != 1 || out.Proved[0] != "Snowflake can list the bucket through the stage" {
		t.Errorf("proved %q", out.Proved)
	}
	var waited, proved bool
	for _, ev := range e.events {
		waited = waited || ev.Step == snowflakestage.CheckStageReachable && ev.Kind == wizard.EventWait && strings.Contains(ev.Detail, "IAM propagates its trust")
		proved = proved || ev.Step == snowflakestage.CheckStageReachable && ev.Kind == wizard.EventProved
	}
	if !waited || !proved {
		t.Errorf("events must show the wait and the proof: %+v", e.events)
	}
	if n := len(e.statementsSince(0, "LIST @")); n != 4 {
		t.Errorf("%d LISTs, want 3 refused and 1 that worked", n)
	}
}

// TestProofRunsBesideTheRest: the proof starts once the steps it needs
// are done, not after the whole run: here while IAM is still answering the
// access key's creation.
func TestProofRunsBesideTheRest(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	const slow = 500 * time.Millisecond
	e.aws.SlowAnswer("CreateAccessKey", slow)
	e.mustApply(cfg)
	var keyAt time.Time
	for _, c := range e.aws.Calls() {
		if c.Action == "CreateAccessKey" && strings.Contains(string(c.Body), s3bucket.NamesFor(cfg.Name).User) {
			keyAt = c.At
		}
	}
	// The run's one LIST: it may even come before IAM got the key's
	// creation, the two being independent.
	var listAt time.Time
	for _, r := range e.sf.Requests() {
		if strings.HasPrefix(r.SQL, "LIST @") {
			listAt = r.At
		}
	}
	if keyAt.IsZero() || listAt.IsZero() || !listAt.Before(keyAt.Add(slow)) {
		t.Errorf("the proof's LIST came at %v, the key's creation at %v: the proof must not wait for the key", listAt, keyAt)
	}
	proved := slices.ContainsFunc(e.events, func(ev wizard.Event) bool {
		return ev.Step == snowflakestage.CheckStageReachable && ev.Kind == wizard.EventProved
	})
	if !proved || e.events[len(e.events)-1].Step != snowflakestage.CheckStageReachable {
		t.Errorf("the proof must be reported last: %+v", e.events)
	}
}

// TestAssumeRoleErrorThatLasts: past the propagation window init fails
// with the likely causes: the trust's principal and external ID, and STS
// in the Snowflake account's region. The bundle is written all the same:
// the key is real.
func TestAssumeRoleErrorThatLasts(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.sf.AssumeRoleFails(1 << 30)
	out, err := e.applyWith(cfg, runenv.Propagation{Timeout: 100 * time.Millisecond, Initial: 5 * time.Millisecond, Max: 10 * time.Millisecond})
	in := e.sf.Integration(snowflakestage.SettingsOf(&cfg).Integration)
	for _, s := range []string{"Error assuming AWS_ROLE", "trust policy of arn:aws:iam::" + e.bundleAccount(cfg) + ":role/" + s3bucket.NamesFor(cfg.Name).Role,
		"IAM user " + snowflaketest.IAMUserARN, "external ID " + in.ExternalID, "STS must be active in us-west-2"} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("apply = %v; want it to say %q", err, s)
		}
	}
	if _, statErr := os.Stat(cfg.Bundle); !out.BundleWritten || statErr != nil {
		t.Errorf("the bundle must be written: %v %v", out.BundleWritten, statErr)
	}
	rep := verify(t, cfg, e.deps, wizard.VerifyOptions{Propagation: runenv.Propagation{Timeout: 50 * time.Millisecond, Initial: 5 * time.Millisecond}})
	if got := failing(rep)[snowflakestage.CheckStageReachable]; !strings.Contains(got.Remedy, "STS must be active") {
		t.Errorf("verify: %+v", got)
	}
	e.sf.AssumeRoleFails(2)
	rep = verify(t, cfg, e.deps, wizard.VerifyOptions{})
	if _, bad := failing(rep)[snowflakestage.CheckStageReachable]; bad {
		t.Errorf("verify must wait out propagation: %+v", failing(rep))
	}
}
