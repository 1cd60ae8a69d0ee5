package snowflake_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/growthloop/byob/snowflake"
	"github.com/growthloop/byob/snowflake/snowflaketest"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestSessionThroughTheDriver(t *testing.T) {
	fake := snowflaketest.New()
	defer fake.Close()
	db := fake.Connect(t, "ACCOUNTADMIN", nil)
	s, err := snowflake.CurrentSession(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if s.Role != "ACCOUNTADMIN" || s.Region != "AWS_US_WEST_2" {
		t.Errorf("session = %+v", s)
	}
	if r, ok := snowflake.CloudRegion(s.Region, "AWS"); !ok || r != "us-west-2" {
		t.Errorf("CloudRegion = %q %v", r, ok)
	}
	if r, ok := snowflake.CloudRegion("PUBLIC.GCP_EUROPE_WEST4", "GCP"); !ok || r != "europe-west4" {
		t.Errorf("CloudRegion(GCP) = %q %v", r, ok)
	}
	if _, ok := snowflake.CloudRegion("AZURE_EASTUS2", "AWS"); ok {
		t.Error("an Azure account has no AWS region")
	}
}

// TestNoTelemetry: byob's sessions ask Snowflake to turn the driver's
// in-band telemetry off, so closing them sends none.
func TestNoTelemetry(t *testing.T) {
	fake := snowflaketest.New()
	defer fake.Close()
	db := fake.Connect(t, "ACCOUNTADMIN", nil)
	if _, err := snowflake.CurrentSession(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, r := range fake.Requests() {
		if strings.Contains(r.Path, "telemetry") {
			t.Errorf("sent %s %s", r.Method, r.Path)
		}
	}
}

// TestCloudRegionFollowsSnowflakesTable: region IDs are looked up, not
// rewritten; the commercial gov regions are in the commercial partition.
func TestCloudRegionFollowsSnowflakesTable(t *testing.T) {
	for _, tc := range []struct {
		id, cloud, want string
		onCloud         bool
	}{
		{"AWS_US_GOV_WEST_2", "AWS", "us-west-2", true},
		{"AWS_US_GOV_EAST_1", "AWS", "us-east-1", true},
		{"AWS_US_GOV_WEST_1_FHPLUS", "AWS", "us-gov-west-1", true},
		{"PUBLIC.AWS_US_GOV_WEST_1_DOD", "AWS", "us-gov-west-1", true},
		{"AWS_US_GOV_EAST_1_FHPLUS", "aws", "us-gov-east-1", true},
		{"AWS_CN_NORTHWEST_1", "AWS", "cn-northwest-1", true},
		{"aws-me-central-1", "AWS", "me-central-1", true},
		{"GCP_AUSTRALIA_SOUTHEAST2", "GCP", "australia-southeast2", true},
		{"AWS_MARS_NORTH_1", "AWS", "", true}, // not in the table: asked for
		{"GCP_US_CENTRAL1", "AWS", "", false},
	} {
		if got, on := snowflake.CloudRegion(tc.id, tc.cloud); got != tc.want || on != tc.onCloud {
			t.Errorf("CloudRegion(%s, %s) = %q, %v; want %q, %v", tc.id, tc.cloud, got, on, tc.want, tc.onCloud)
		}
	}
}

func TestWrongPasswordNamesNoSecret(t *testing.T) {
	fake := snowflaketest.New()
	defer fake.Close()
	o := snowflake.ConnOptions{Account: "fake", User: "byob", Host: fake.Host, Port: fake.Port, Protocol: "http",
		LookupEnv: env(map[string]string{"SNOWFLAKE_PASSWORD": "wrong-pw-123", "HOME": t.TempDir()})}
	cfg, _ := o.Config()
	err := snowflake.Open(context.Background(), cfg, 1, o.LoginWait(cfg)).Ready(context.Background())
	if err == nil || strings.Contains(err.Error(), "wrong-pw-123") {
		t.Fatalf("Open = %v: want an error without the password", err)
	}
}

func TestConnectionsToml(t *testing.T) {
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, ".snowflake"), 0o700)
	os.WriteFile(filepath.Join(home, ".snowflake", "connections.toml"), []byte(`
[default]
account = "acme-default"
user = "alice"
password = "from-file"

[prod]
account = "acme-prod"
user = "bob"
role = "ACCOUNTADMIN"
authenticator = "externalbrowser"
`), 0o600)
	cfg, err := snowflake.ConnOptions{LookupEnv: env(map[string]string{"HOME": home})}.Config()
	if err != nil || cfg.Account != "acme-default" || cfg.User != "alice" || cfg.Password != "from-file" {
		t.Fatalf("default connection: %+v %v", cfg, err)
	}
	cfg, err = snowflake.ConnOptions{Connection: "prod", User: "carol", LookupEnv: env(map[string]string{"HOME": home})}.Config()
	if err != nil || cfg.Account != "acme-prod" || cfg.User != "carol" || cfg.Role != "ACCOUNTADMIN" {
		t.Fatalf("prod connection with a flag override: %+v %v", cfg, err)
	}
	cfg, err = snowflake.ConnOptions{LookupEnv: env(map[string]string{"HOME": home, "SNOWFLAKE_DEFAULT_CONNECTION_NAME": "prod"})}.Config()
	if err != nil || cfg.Account != "acme-prod" {
		t.Fatalf("SNOWFLAKE_DEFAULT_CONNECTION_NAME: %+v %v", cfg, err)
	}
	if _, err := (snowflake.ConnOptions{Connection: "nope", LookupEnv: env(map[string]string{"HOME": home})}).Config(); err == nil || !strings.Contains(err.Error(), "[nope]") {
		t.Errorf("unknown connection: %v", err)
	}
	if _, err := (snowflake.ConnOptions{Account: "a", User: "u", LookupEnv: env(map[string]string{"HOME": t.TempDir()})}).Config(); err == nil || !strings.Contains(err.Error(), "SNOWFLAKE_PASSWORD") {
		t.Errorf("no password: %v", err)
	}
	if _, err := (snowflake.ConnOptions{Account: "a", Authenticator: "snowflake_jwt", LookupEnv: env(nil)}).Config(); err == nil || !strings.Contains(err.Error(), "--snowflake-private-key-file") {
		t.Errorf("jwt without key: %v", err)
	}
}

func TestConnectionNames(t *testing.T) {
	home := t.TempDir()
	o := snowflake.ConnOptions{LookupEnv: env(map[string]string{"SNOWFLAKE_HOME": home})}
	if names, err := o.ConnectionNames(); err != nil || len(names) != 0 {
		t.Errorf("no file: %v %v", names, err)
	}
	os.WriteFile(filepath.Join(home, "connections.toml"), []byte("[prod]\naccount = \"a\"\n[dev]\naccount = \"b\"\n"), 0o600)
	if names, err := o.ConnectionNames(); err != nil || strings.Join(names, ",") != "dev,prod" {
		t.Errorf("names %v %v", names, err)
	}
	os.WriteFile(filepath.Join(home, "connections.toml"), []byte("[prod\n"), 0o600)
	if _, err := o.ConnectionNames(); err == nil {
		t.Error("a broken file is an error (the form then asks for the account)")
	}
}

// TestLoginWait: --snowflake-timeout bounds the login, but a browser
// sign-in gets at least the driver's two minutes to be answered.
func TestLoginWait(t *testing.T) {
	for _, tc := range []struct {
		auth  string
		given time.Duration
		want  time.Duration
	}{
		{"snowflake", 0, snowflake.DefaultLoginTimeout},
		{"snowflake", 5 * time.Second, 5 * time.Second},
		{"externalbrowser", 5 * time.Second, 2 * time.Minute},
		{"externalbrowser", 5 * time.Minute, 5 * time.Minute},
	} {
		o := snowflake.ConnOptions{Account: "a", User: "u", Authenticator: tc.auth, LoginTimeout: tc.given,
			LookupEnv: env(map[string]string{"SNOWFLAKE_PASSWORD": "x", "HOME": t.TempDir()})}
		cfg, err := o.Config()
		if err != nil {
			t.Fatal(err)
		}
		if got := o.LoginWait(cfg); got != tc.want {
			t.Errorf("%s, %v: %v, want %v", tc.auth, tc.given, got, tc.want)
		}
	}
}
