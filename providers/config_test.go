package providers_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/growthloop/byob/providers"
	_ "github.com/growthloop/byob/providers/all"
	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/snowflakestage"
)

func s3Config() providers.Config {
	c := providers.Config{Provider: "s3", Bucket: "acme-exports", Warehouse: "snowflake",
		OrgID: "1234", TTLDays: providers.DefaultTTLDays}.With(s3bucket.Settings{Region: "us-east-1"}).With(snowflakestage.Settings{Database: "ANALYTICS", GrowthLoopRole: "GROWTHLOOP"})
	c.ApplyDefaults()
	return c
}

func TestValidConfigs(t *testing.T) {
	c := s3Config()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	if snowflakestage.SettingsOf(&c).Integration != "FLYWHEEL_APP_AWS" || c.Prefix != "exports/" || c.TTLDays != 7 || c.Name != "growthloop" {
		t.Errorf("defaults not applied: %+v", c)
	}
	g := providers.Config{Provider: "gcs", Bucket: "acme-exports", TTLDays: 1}.With(gcsbucket.Settings{Project: "acme-data", Location: "US"})
	g.ApplyDefaults()
	if err := g.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	if snowflakestage.SettingsOf(&g).Integration != "" || gcsbucket.SettingsOf(&g).KeyFile != "credentials.json" {
		t.Errorf("gcs defaults not applied: %+v", g)
	}
}

func TestMissingListsEveryFlag(t *testing.T) {
	c := providers.Config{Warehouse: "snowflake"}
	c.ApplyDefaults()
	err := c.Validate()
	var ue *providers.UsageError
	if !errors.As(err, &ue) {
		t.Fatalf("Validate() = %v, want a providers.UsageError", err)
	}
	want := []string{"--provider", "--bucket", "--org-id", "--snowflake-database", "--growthloop-role"}
	if strings.Join(ue.Missing, " ") != strings.Join(want, " ") {
		t.Errorf("Missing = %v, want %v", ue.Missing, want)
	}
	g := providers.Config{Provider: "gcs"}
	g.ApplyDefaults()
	if got := strings.Join(g.Missing(), " "); got != "--bucket --gcp-project --location" {
		t.Errorf("gcs Missing = %s", got)
	}
	s := providers.Config{Provider: "s3", Bucket: "acme-exports"}
	s.ApplyDefaults()
	if got := strings.Join(s.Missing(), " "); got != "--region" {
		t.Errorf("s3 without warehouse must need --region, Missing = %s", got)
	}
}

// TestBadInput: each bad value is refused with an error naming the flag,
// the value and the rule.
func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		flag, value, rule string
		set               func(*providers.Config)
	}{
		{"--provider", "azure", `must be "s3" or "gcs"`, func(c *providers.Config) { c.Provider = "azure" }},
		{"--warehouse", "bigquery", `must be "none" or "snowflake"`, func(c *providers.Config) { c.Warehouse = "bigquery" }},
		{"--bucket", "Acme", "lowercase", func(c *providers.Config) { c.Bucket = "Acme" }},
		{"--bucket", "xn--acme", "reserved prefix", func(c *providers.Config) { c.Bucket = "xn--acme" }},
		{"--region", "us-east", "AWS region", func(c *providers.Config) {
			providers.UpdateSection(c, func(s *s3bucket.Settings) { s.Region = "us-east" })
		}},
		{"--location", "US", "--provider gcs only", func(c *providers.Config) {
			providers.UpdateSection(c, func(s *gcsbucket.Settings) { s.Location = "US" })
		}},
		{"--gcp-project", "acme-data", "--provider gcs only", func(c *providers.Config) {
			providers.UpdateSection(c, func(s *gcsbucket.Settings) { s.Project = "acme-data" })
		}},
		{"--prefix", "/exports/", "must not start", func(c *providers.Config) { c.Prefix = "/exports/" }},
		{"--prefix", "exports", `must end with "/"`, func(c *providers.Config) { c.Prefix = "exports" }},
		{"--prefix", "ex*ports/", "may contain only", func(c *providers.Config) { c.Prefix = "ex*ports/" }},
		{"--prefix", "a//b/", `"//"`, func(c *providers.Config) { c.Prefix = "a//b/" }},
		{"--bucket", "999.999.999.999", "IP address", func(c *providers.Config) { c.Bucket = "999.999.999.999" }},
		{"--org-id", "12/34", "letters, digits", func(c *providers.Config) { c.OrgID = "12/34" }},
		{"--ttl-days", "0", "between 1 and 3650", func(c *providers.Config) { c.TTLDays = 0 }},
		{"--ttl-days", "3651", "between 1 and 3650", func(c *providers.Config) { c.TTLDays = 3651 }},
		{"--name", "Growth_Loop", "lowercase", func(c *providers.Config) { c.Name = "Growth_Loop" }},
		{"--snowflake-database", "my db", "letters, digits", func(c *providers.Config) {
			providers.UpdateSection(c, func(s *snowflakestage.Settings) { s.Database = "my db" })
		}},
		{"--snowflake-schema", `x"y`, "letters, digits", func(c *providers.Config) {
			providers.UpdateSection(c, func(s *snowflakestage.Settings) { s.Schema = `x"y` })
		}},
		{"--integration", "a.b", "letters, digits", func(c *providers.Config) {
			providers.UpdateSection(c, func(s *snowflakestage.Settings) { s.Integration = "a.b" })
		}},
		{"--stage", "1stage", "start with a letter", func(c *providers.Config) {
			providers.UpdateSection(c, func(s *snowflakestage.Settings) { s.Stage = "1stage" })
		}},
		{"--growthloop-role", "role;drop", "letters, digits", func(c *providers.Config) {
			providers.UpdateSection(c, func(s *snowflakestage.Settings) { s.GrowthLoopRole = "role;drop" })
		}},
		{"--state", "same.json", "must differ from --bundle", func(c *providers.Config) { c.Bundle, c.State = "same.json", "same.json" }},
		{"--key-file", "k.json", "--provider gcs only", func(c *providers.Config) {
			providers.UpdateSection(c, func(s *gcsbucket.Settings) { s.KeyFile = "k.json" })
		}},
	} {
		t.Run(tc.flag+"="+tc.value, func(t *testing.T) {
			c := s3Config()
			tc.set(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.flag) || !strings.Contains(msg, fmt.Sprintf("%q", tc.value)) || !strings.Contains(msg, tc.rule) {
				t.Errorf("error %q must name %s, %q and the rule %q", msg, tc.flag, tc.value, tc.rule)
			}
		})
	}
}

func TestGCSBadInput(t *testing.T) {
	c := providers.Config{Provider: "gcs", Bucket: "my-google-bucket"}.With(s3bucket.Settings{Region: "us-east-1"}).With(gcsbucket.Settings{Project: "Acme", Location: "u s"})
	c.ApplyDefaults()
	msg := c.Validate().Error()
	for _, want := range []string{`--bucket "my-google-bucket"`, `--gcp-project "Acme"`, `--location "u s"`, `--region "us-east-1": applies to --provider s3 only`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %s", msg, want)
		}
	}
}

func TestNameTooLong(t *testing.T) {
	c := s3Config()
	c.Name = strings.Repeat("a", 21)
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--name") {
		t.Errorf("Validate() = %v, want --name refused", err)
	}
}

// TestNewSetupsHaveNoDotSegments: init, plan and render refuse a prefix
// with a "." or ".." segment; verify and destroy still reach a setup an
// earlier byob made with one.
func TestNewSetupsHaveNoDotSegments(t *testing.T) {
	for prefix, want := range map[string]string{
		"exports/../x/": `invalid --prefix "exports/../x/": must not have "." or ".." as a segment; for example "exports/x/"`,
		"./":            `invalid --prefix "./": must not have "." or ".." as a segment`,
	} {
		c := s3Config()
		c.Prefix = prefix
		if err := c.Validate(); err != nil {
			t.Errorf("%q: Validate() = %v, want nil (a setup made before)", prefix, err)
		}
		if err := c.ValidateNew(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: ValidateNew() = %v, want %s", prefix, err, want)
		}
	}
	c := s3Config()
	c.Prefix, c.OrgID = "a/./", "12/34"
	if err := c.ValidateNew(); err == nil || !strings.Contains(err.Error(), "--org-id") || !strings.Contains(err.Error(), "--prefix") {
		t.Errorf("both broken: %v", err)
	}
}

// FuzzValidatePrefix checks that an accepted prefix is safe in an IAM
// resource, an s3:prefix condition and a SQL literal.
func FuzzValidatePrefix(f *testing.F) {
	for _, s := range []string{"exports/", "/x/", "a*b/", "it's/", "a//b/", "x", "a/../b/", "./"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if providers.ValidatePrefix(s) != nil {
			return
		}
		if strings.HasPrefix(s, "/") || !strings.HasSuffix(s, "/") || strings.ContainsAny(s, `*'"\?`) || strings.Contains(s, "//") {
			t.Fatalf("accepted unsafe prefix %q", s)
		}
	})
}

// FuzzValidateOrgID checks that an accepted org id is one path segment.
func FuzzValidateOrgID(f *testing.F) {
	for _, s := range []string{"1234", "acme-co", "../x", "a/b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if providers.ValidateOrgID(s) != nil {
			return
		}
		if s == "" || strings.ContainsAny(s, "/.'\"\\ ") {
			t.Fatalf("accepted org id %q", s)
		}
	})
}

// dupProvider registers a flag another provider has.
type dupProvider struct{ providers.Provider }

func (dupProvider) Name() string { return "dup" }
func (dupProvider) Fields() []providers.Field {
	return []providers.Field{{Flag: "region", Owner: "dup", Slot: providers.Text(func(c *providers.Config) *string { return &c.Name })}}
}

// TestRegisterRefusesATakenFlag: two providers cannot declare one flag;
// the refused provider is not registered.
func TestRegisterRefusesATakenFlag(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "--region, which is taken") {
			t.Errorf("recovered %v", r)
		}
		if len(providers.Registered()) != 3 {
			t.Errorf("the refused provider was registered: %d providers", len(providers.Registered()))
		}
	}()
	providers.Register(dupProvider{})
}
