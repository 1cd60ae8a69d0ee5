//go:build live

package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/growthloop/byob/providers"
	_ "github.com/growthloop/byob/providers/all" // every cloud and warehouse, as the command registers them
	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/gcsbucket/gcptest"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/s3bucket/awstest"
	"github.com/growthloop/byob/providers/snowflakestage"
	"github.com/growthloop/byob/snowflake"
	"github.com/growthloop/byob/snowflake/snowflaketest"
	"github.com/growthloop/byob/wizard"
)

// Tag is the tag (AWS) or label (Google) every resource a run creates
// carries, with the run's id as its value; names carry Prefix.
const (
	Tag    = "byob-live"
	Prefix = "byob-live-"
)

// run is one run of the suite: its id, what it reaches the clouds with,
// and a directory for its state and bundle files.
type run struct {
	id   string
	env  providers.Env
	dir  string
	open func(ctx context.Context, cfg *providers.Config, env providers.Env) (map[string]providers.Conn, func(), error)
	// What the operator's side reads the clouds with, for assertions.
	aws aws.Config
	// Snowflake's connection fields and the suite's database, role.
	snowflake                  snowflakestage.Connection
	database, growthloopRole   string
	region, gcpProject, gcsLoc string
	// emulated: the fakes stand in for the clouds (BYOB_LIVE=emulators).
	emulated bool
}

// newRun starts a run, or skips the test saying what is missing.
func newRun(t *testing.T, needs ...string) *run {
	t.Helper()
	mode := os.Getenv("BYOB_LIVE")
	if mode != "1" && mode != "emulators" {
		t.Skip("the live suite runs only with BYOB_LIVE=1 and real credentials (docs/live-tests.md); BYOB_LIVE=emulators runs it against the emulators")
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	r := &run{id: hex.EncodeToString(b), dir: t.TempDir(), open: wizard.Open, emulated: mode == "emulators"}
	if r.emulated {
		r.emulate(t)
	} else {
		r.real(t, needs)
	}
	r.env = providers.Env{LookupEnv: os.LookupEnv}
	where := "real accounts"
	if r.emulated {
		where = "emulators"
	}
	t.Logf("live run %s (%s)", r.id, where)
	return r
}

// real reads the accounts from the standard environment, skipping when
// what the test needs is not there.
func (r *run) real(t *testing.T, needs []string) {
	get := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	r.region, r.gcpProject, r.gcsLoc = get("BYOB_LIVE_AWS_REGION", "us-east-1"), os.Getenv("BYOB_LIVE_GCP_PROJECT"), get("BYOB_LIVE_GCS_LOCATION", "US-CENTRAL1")
	r.database, r.growthloopRole = os.Getenv("BYOB_LIVE_SNOWFLAKE_DATABASE"), os.Getenv("BYOB_LIVE_GROWTHLOOP_ROLE")
	r.snowflake = snowflakestage.Connection{Name: os.Getenv("BYOB_LIVE_SNOWFLAKE_CONNECTION"), Account: os.Getenv("SNOWFLAKE_ACCOUNT"),
		User: os.Getenv("SNOWFLAKE_USER"), Role: get("BYOB_LIVE_SNOWFLAKE_ROLE", "ACCOUNTADMIN"), Warehouse: os.Getenv("SNOWFLAKE_WAREHOUSE")}
	var missing []string
	for _, n := range needs {
		switch n {
		case "aws":
			cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(r.region))
			if err == nil {
				_, err = cfg.Credentials.Retrieve(context.Background())
			}
			if err != nil {
				missing = append(missing, "AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID…)")
			}
			r.aws = cfg
		case "gcp":
			if r.gcpProject == "" {
				missing = append(missing, "BYOB_LIVE_GCP_PROJECT and Application Default Credentials")
			}
		case "snowflake":
			if r.snowflake.Name == "" && r.snowflake.Account == "" || r.database == "" || r.growthloopRole == "" {
				missing = append(missing, "a Snowflake connection (BYOB_LIVE_SNOWFLAKE_CONNECTION, or SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_PASSWORD), BYOB_LIVE_SNOWFLAKE_DATABASE and BYOB_LIVE_GROWTHLOOP_ROLE")
			}
		}
	}
	if len(missing) > 0 {
		t.Skipf("BYOB_LIVE=1 but this test needs %s (docs/live-tests.md)", strings.Join(missing, "; "))
	}
}

// emulate points the real connection code at the emulators through the
// same environment variables a user would set.
func (r *run) emulate(t *testing.T) {
	a, g, s := awstest.New(), gcptest.New(), snowflaketest.New()
	t.Cleanup(a.Close)
	t.Cleanup(g.Close)
	t.Cleanup(s.Close)
	a.ConfineKeysTo(providers.DefaultPrefix)
	adc, err := g.CredentialsFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": a.URL, "AWS_ACCESS_KEY_ID": awstest.AdminKeyID, "AWS_SECRET_ACCESS_KEY": awstest.AdminSecret,
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_EC2_METADATA_DISABLED": "true",
		"GOOGLE_APPLICATION_CREDENTIALS": adc, "SNOWFLAKE_PASSWORD": s.Password, "HOME": t.TempDir(),
	} {
		t.Setenv(k, v)
	}
	for k, v := range g.Env() {
		t.Setenv(k, v)
	}
	r.aws = a.Config()
	r.region, r.gcpProject, r.gcsLoc = "us-west-2", gcptest.Project, "US-CENTRAL1"
	s.SetRegion("AWS_US_WEST_2")
	r.database, r.growthloopRole = "ANALYTICS", "GROWTHLOOP"
	r.snowflake = snowflakestage.Connection{Account: "fake", User: s.User, Role: "ACCOUNTADMIN", Host: s.Host, Port: s.Port, Protocol: "http"}
}

// config is a setup of this run on provider with warehouse, named so that
// the sweeper finds it.
func (r *run) config(t *testing.T, provider, warehouse string) providers.Config {
	t.Helper()
	c := providers.Config{
		Provider: provider, Bucket: Prefix + r.id + "-" + provider, Name: "lv" + r.id, Warehouse: warehouse, OrgID: "live",
		TTLDays: 1, Bundle: filepath.Join(r.dir, provider+"-bundle.json"), State: filepath.Join(r.dir, provider+"-state.json"),
	}.With(snowflakestage.Settings{Connection: r.snowflake})
	switch provider {
	case s3bucket.Name:
		c = c.With(s3bucket.Settings{Region: r.region})
	case gcsbucket.Name:
		c = c.With(gcsbucket.Settings{Project: r.gcpProject, Location: r.gcsLoc, KeyFile: filepath.Join(r.dir, provider+"-key.json")})
	}
	if warehouse == snowflakestage.Name {
		providers.UpdateSection(&c, func(s *snowflakestage.Settings) {
			s.Database, s.GrowthLoopRole = r.database, r.growthloopRole
			s.Integration, s.Stage = strings.ToUpper(strings.ReplaceAll(Prefix, "-", "_")+r.id+"_"+provider), "BYOB_LIVE_STAGE_"+strings.ToUpper(r.id+"_"+provider)
		})
	}
	providers.Defaults(&c, r.env)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// connect opens the setup's connections as byob init does.
func (r *run) connect(t *testing.T, cfg providers.Config) wizard.Deps {
	t.Helper()
	conns, closeConns, err := r.open(context.Background(), &cfg, r.env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeConns)
	return wizard.Deps{Conns: conns}
}

// snowflakeDB is a session of the operator's role, for assertions.
func (r *run) snowflakeDB(t *testing.T) *snowflake.Pool {
	t.Helper()
	sc := r.snowflake
	o := snowflake.ConnOptions{Connection: sc.Name, Account: sc.Account, User: sc.User, Role: sc.Role, Warehouse: sc.Warehouse,
		Host: sc.Host, Port: sc.Port, Protocol: sc.Protocol, LookupEnv: os.LookupEnv}
	cfg, err := o.Config()
	if err != nil {
		t.Fatal(err)
	}
	p := snowflake.Open(context.Background(), cfg, 1, o.LoginWait(cfg))
	t.Cleanup(p.Close)
	return p
}

// prop is how long the suite waits for IAM: real propagation takes up to a
// minute.
func (r *run) prop() runenv.Propagation {
	if r.emulated {
		return runenv.Propagation{Timeout: 10 * time.Second, Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}
	}
	return runenv.Propagation{Timeout: 3 * time.Minute}
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
