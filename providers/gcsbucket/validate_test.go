package gcsbucket

import (
	"strings"
	"testing"
)

func TestValidateBucketName(t *testing.T) {
	for _, ok := range []string{"acme-exports", "acme_exports", "a1b", strings.Repeat("a", 63)} {
		if err := ValidateBucketName(ok); err != nil {
			t.Errorf("ValidateBucketName(%q) = %v, want ok", ok, err)
		}
	}
	for bad, rule := range map[string]string{
		"ab":                "3-63",
		"Acme":              "lowercase",
		"acme.example.com":  "domain verification",
		"goog-exports":      `"goog"`,
		"my-google-exports": "google",
		"my-g00gle-bucket":  "google",
		"acme-gogle":        "google",
		"googel-stuff":      `"goog"`,
		"x-googel":          "google",
		"-acme":             "start and end",
		"10.0.0.1x":         "dots",
		"999.999.999.999":   "IP address",
	} {
		err := ValidateBucketName(bad)
		if err == nil || !strings.Contains(err.Error(), rule) {
			t.Errorf("ValidateBucketName(%q) = %v, want an error about %s", bad, err, rule)
		}
	}
}

func TestValidateIDs(t *testing.T) {
	if err := ValidateProjectID("acme-data"); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"acme", "Acme-data", "1acme-data", "acme-data-", strings.Repeat("a", 31)} {
		if ValidateProjectID(bad) == nil {
			t.Errorf("ValidateProjectID(%q) = nil", bad)
		}
	}
	if err := ValidateServiceAccountID("growthloop-byob"); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"short", "Growthloop-byob", "growthloop-byob-", strings.Repeat("a", 31)} {
		if ValidateServiceAccountID(bad) == nil {
			t.Errorf("ValidateServiceAccountID(%q) = nil", bad)
		}
	}
	for _, bad := range []string{"ab", "with-hyphen", strings.Repeat("a", 65)} {
		if ValidateCustomRoleID(bad) == nil {
			t.Errorf("ValidateCustomRoleID(%q) = nil", bad)
		}
	}
	for _, ok := range []string{"US", "EU", "us-central1", "US-CENTRAL1", "europe-west4", "NAM4"} {
		if err := ValidateLocation(ok, false); err != nil {
			t.Errorf("ValidateLocation(%q) = %v", ok, err)
		}
	}
	if err := ValidateLocation("mars-1", false); err == nil || !strings.Contains(err.Error(), "not a Cloud Storage location Google documents") {
		t.Errorf("mars-1: %v", err)
	}
	if err := ValidateLocation("europe-wset1", false); err == nil || !strings.Contains(err.Error(), "did you mean europe-west1?") {
		t.Errorf("europe-wset1: %v", err)
	}
	if err := ValidateLocation("europe-west99", true); err != nil {
		t.Errorf("an unknown location allowed: %v", err)
	}
	n := NamesFor("my-setup")
	if n.ServiceAccount != "my-setup-byob" || n.WriterRole != "my_setup_byob_writer" || n.SnowflakeRole != "my_setup_byob_snowflake" {
		t.Errorf("NamesFor = %+v", n)
	}
	if err := n.Validate(); err != nil {
		t.Error(err)
	}
}

// FuzzValidateBucketName checks that every accepted name keeps Cloud
// Storage's rules.
func FuzzValidateBucketName(f *testing.F) {
	for _, s := range []string{"acme-exports", "goog", "g00gle-x", "a.b", "ab"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateBucketName(s) != nil {
			return
		}
		if len(s) < 3 || len(s) > 63 || strings.Contains(s, ".") || strings.HasPrefix(s, "goog") || strings.Contains(s, "google") || strings.ToLower(s) != s {
			t.Fatalf("accepted %q, which breaks Cloud Storage's naming rules", s)
		}
	})
}
