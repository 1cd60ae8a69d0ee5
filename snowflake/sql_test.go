package snowflake

import (
	"strings"
	"testing"
)

func mustIdent(t testing.TB, s string) Ident {
	t.Helper()
	i, err := NewIdent(s)
	if err != nil {
		t.Fatalf("NewIdent(%q): %v", s, err)
	}
	return i
}

func TestCreateIntegrationS3(t *testing.T) {
	in := Integration{
		Name: mustIdent(t, "flywheel_app_aws"), Provider: "S3",
		RoleARN: "arn:aws:iam::123456789012:role/growthloop-byob-snowflake", ExternalID: "byob-abc",
		AllowedLocations: []string{"s3://acme/exports/"},
	}
	want := `CREATE STORAGE INTEGRATION IF NOT EXISTS "FLYWHEEL_APP_AWS"
  TYPE = EXTERNAL_STAGE
  STORAGE_PROVIDER = 'S3'
  ENABLED = TRUE
  STORAGE_AWS_ROLE_ARN = 'arn:aws:iam::123456789012:role/growthloop-byob-snowflake'
  STORAGE_AWS_EXTERNAL_ID = 'byob-abc'
  STORAGE_ALLOWED_LOCATIONS = ('s3://acme/exports/')`
	if got := in.Create(); got != want {
		t.Errorf("Create() =\n%s\nwant\n%s", got, want)
	}
	if got := in.Describe(); got != `DESC INTEGRATION "FLYWHEEL_APP_AWS"` {
		t.Errorf("Describe() = %s", got)
	}
	if strings.Contains(in.Create(), "REPLACE") {
		t.Error("Create() must never replace an integration")
	}
}

func TestCreateIntegrationGCS(t *testing.T) {
	in := Integration{Name: mustIdent(t, "FLYWHEEL_APP_GCS"), Provider: "GCS", AllowedLocations: []string{"gcs://acme/exports/"}}
	want := `CREATE STORAGE INTEGRATION IF NOT EXISTS "FLYWHEEL_APP_GCS"
  TYPE = EXTERNAL_STAGE
  STORAGE_PROVIDER = 'GCS'
  ENABLED = TRUE
  STORAGE_ALLOWED_LOCATIONS = ('gcs://acme/exports/')`
	if got := in.Create(); got != want {
		t.Errorf("Create() =\n%s\nwant\n%s", got, want)
	}
}

func TestAlterIntegration(t *testing.T) {
	in := Integration{Name: "X", Provider: "S3", RoleARN: "arn:r", ExternalID: "e", AllowedLocations: []string{"s3://b/p/"}}
	got := in.Alter([]string{PropAWSRoleARN, PropAWSExternalID, PropAllowedLocations})
	want := `ALTER STORAGE INTEGRATION "X" SET
  STORAGE_AWS_ROLE_ARN = 'arn:r'
  STORAGE_AWS_EXTERNAL_ID = 'e'
  STORAGE_ALLOWED_LOCATIONS = ('s3://b/p/')`
	if got != want {
		t.Errorf("Alter() =\n%s\nwant\n%s", got, want)
	}
	if got := in.Alter(nil); got != "" {
		t.Errorf("Alter(nil) = %q, want empty", got)
	}
	// Any ALTER of an S3 integration sets the role ARN and external ID
	// together, so Snowflake never mints a new external ID.
	want = `ALTER STORAGE INTEGRATION "X" SET
  STORAGE_AWS_ROLE_ARN = 'arn:r'
  STORAGE_AWS_EXTERNAL_ID = 'e'`
	if got := in.Alter([]string{PropAWSRoleARN}); got != want {
		t.Errorf("Alter(role ARN) =\n%s\nwant\n%s", got, want)
	}
	if got := in.Alter([]string{PropEnabled}); !strings.Contains(got, "ENABLED = TRUE") || !strings.Contains(got, "STORAGE_AWS_EXTERNAL_ID = 'e'") {
		t.Errorf("Alter(enabled) = %s", got)
	}
	gcs := Integration{Name: "G", Provider: "GCS", AllowedLocations: []string{"gcs://b/p/"}}
	if got := gcs.Alter([]string{PropEnabled}); got != "ALTER STORAGE INTEGRATION \"G\" SET\n  ENABLED = TRUE" {
		t.Errorf("GCS Alter = %q", got)
	}
}

func TestStageAndGrants(t *testing.T) {
	st := Stage{
		Name: Name{Database: "ANALYTICS", Schema: "FLYWHEEL_SYSTEM", Object: "FLYWHEEL_EXTERNAL_STAGE"},
		URL:  "s3://acme/exports/1234/", Integration: "FLYWHEEL_APP_AWS",
	}
	want := `CREATE STAGE IF NOT EXISTS "ANALYTICS"."FLYWHEEL_SYSTEM"."FLYWHEEL_EXTERNAL_STAGE"
  URL = 's3://acme/exports/1234/'
  STORAGE_INTEGRATION = "FLYWHEEL_APP_AWS"`
	if got := st.Create(); got != want {
		t.Errorf("Create() =\n%s\nwant\n%s", got, want)
	}
	g := Grant{Privilege: "USAGE", ObjectType: "INTEGRATION", Object: Ident("FLYWHEEL_APP_AWS").SQL(), Role: "GROWTHLOOP"}
	if got, want := g.SQL(), `GRANT USAGE ON INTEGRATION "FLYWHEEL_APP_AWS" TO ROLE "GROWTHLOOP"`; got != want {
		t.Errorf("Grant.SQL() = %s, want %s", got, want)
	}
	if got, want := g.Revoke(), `REVOKE USAGE ON INTEGRATION "FLYWHEEL_APP_AWS" FROM ROLE "GROWTHLOOP"`; got != want {
		t.Errorf("Grant.Revoke() = %s, want %s", got, want)
	}
}

func TestIdentifiers(t *testing.T) {
	for _, ok := range []string{"A", "_x", "flywheel_system", "A$1", strings.Repeat("a", 255)} {
		if err := ValidateIdentifier(ok); err != nil {
			t.Errorf("ValidateIdentifier(%q) = %v, want ok", ok, err)
		}
	}
	for _, bad := range []string{"", "1abc", "$a", "a b", `a"b`, "a.b", "a;DROP", "a-b", "é", strings.Repeat("a", 256)} {
		if err := ValidateIdentifier(bad); err == nil {
			t.Errorf("ValidateIdentifier(%q) = nil, want an error", bad)
		}
	}
	if got := Ident(`we"ird`).SQL(); got != `"we""ird"` {
		t.Errorf("SQL() = %s: embedded quotes must be doubled", got)
	}
}

func TestLiteral(t *testing.T) {
	for in, want := range map[string]string{
		"plain":       "'plain'",
		"it's":        "'it''s'",
		`back\slash`:  `'back\\slash'`,
		`\'; DROP --`: `'\\''; DROP --'`,
	} {
		if got := Literal(in); got != want {
			t.Errorf("Literal(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestParseDescription(t *testing.T) {
	rows := []map[string]string{
		{"property": "ENABLED", "property_type": "Boolean", "property_value": "true", "property_default": "false"},
		{"property": "STORAGE_ALLOWED_LOCATIONS", "property_type": "List", "property_value": "s3://a/p/,s3://b/q/", "property_default": "[]"},
		{"PROPERTY": "STORAGE_AWS_IAM_USER_ARN", "PROPERTY_TYPE": "String", "PROPERTY_VALUE": "arn:aws:iam::1:user/x", "PROPERTY_DEFAULT": ""},
		{"property": "STORAGE_AWS_ROLE_ARN", "property_value": "arn:r"},
		{"property": "STORAGE_AWS_EXTERNAL_ID", "property_value": "e"},
	}
	d := ParseDescription(rows)
	if d[PropAWSIAMUserARN] != "arn:aws:iam::1:user/x" {
		t.Errorf("IAM user ARN = %q", d[PropAWSIAMUserARN])
	}
	if got := d.List(PropAllowedLocations); len(got) != 2 || got[1] != "s3://b/q/" {
		t.Errorf("List = %q", got)
	}
	in := Integration{Provider: "S3", RoleARN: "arn:r", ExternalID: "e", AllowedLocations: []string{"s3://b/q/", "s3://a/p/"}}
	if drift := d.Drift(in); len(drift) != 0 {
		t.Errorf("Drift = %v, want none", drift)
	}
	in.ExternalID, in.AllowedLocations = "other", []string{"s3://a/p/"}
	if drift := d.Drift(in); strings.Join(drift, ",") != PropAWSExternalID+","+PropAllowedLocations {
		t.Errorf("Drift = %v", drift)
	}
}
