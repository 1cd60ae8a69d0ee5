package s3bucket

import (
	"regexp"
	"strings"
	"testing"
)

func TestValidateBucketName(t *testing.T) {
	for _, ok := range []string{"abc", "acme-growthloop-exports", "a.b-c", "1bucket", strings.Repeat("a", 63)} {
		if err := ValidateBucketName(ok); err != nil {
			t.Errorf("ValidateBucketName(%q) = %v, want ok", ok, err)
		}
	}
	for bad, rule := range map[string]string{
		"ab":                    "3-63",
		strings.Repeat("a", 64): "3-63",
		"Acme":                  "lowercase",
		"acme_exports":          "lowercase",
		"-acme":                 "start and end",
		"acme-":                 "start and end",
		"acme..exports":         "adjacent dots",
		"192.168.5.4":           "IP address",
		"999.999.999.999":       "IP address",
		"01.02.03.04":           "IP address",
		"xn--acme":              `"xn--"`,
		"sthree-acme":           `"sthree-"`,
		"amzn-s3-demo-acme":     `"amzn-s3-demo-"`,
		"acme-s3alias":          `"-s3alias"`,
		"acme--ol-s3":           `"--ol-s3"`,
		"acme.mrap":             `".mrap"`,
		"acme--x-s3":            `"--x-s3"`,
	} {
		err := ValidateBucketName(bad)
		if err == nil || !strings.Contains(err.Error(), rule) {
			t.Errorf("ValidateBucketName(%q) = %v, want an error about %s", bad, err, rule)
		}
	}
}

func TestValidateRegion(t *testing.T) {
	for _, ok := range []string{"us-east-1", "eu-central-2", "ap-southeast-5", "us-gov-west-1", "mx-central-1", "il-central-1"} {
		if err := ValidateRegion(ok, false); err != nil {
			t.Errorf("ValidateRegion(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "us-east", "US-EAST-1", "useast1", "us-east-1a", "us_east_1"} {
		if ValidateRegion(bad, true) == nil {
			t.Errorf("ValidateRegion(%q) = nil, want an error", bad)
		}
	}
	// A region the SDK does not know: a typo, told what it meant, or a
	// newer region, let through when asked.
	if err := ValidateRegion("us-eest-1", false); err == nil || !strings.Contains(err.Error(), "did you mean us-east-1") || !strings.Contains(err.Error(), "--allow-unknown-region") {
		t.Errorf("us-eest-1: %v", err)
	}
	if err := ValidateRegion("eu-south-9", true); err != nil {
		t.Errorf("an unknown region allowed: %v", err)
	}
}

func TestDerivedNames(t *testing.T) {
	n := NamesFor("growthloop")
	if n.Policy != "growthloop-byob-access" || n.Role != "growthloop-byob-snowflake" || n.User != "growthloop-byob-exporter" {
		t.Errorf("NamesFor = %+v", n)
	}
	if err := n.Validate(); err != nil {
		t.Error(err)
	}
	if err := NamesFor(strings.Repeat("a", 60)).Validate(); err == nil || !strings.Contains(err.Error(), "role") {
		t.Errorf("a 75-character role name must be refused, got %v", err)
	}
}

var bucketShape = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// FuzzValidateBucketName checks that every accepted name keeps S3's rules.
func FuzzValidateBucketName(f *testing.F) {
	for _, s := range []string{"acme-exports", "a..b", "1.2.3.4", "xn--a", "ab", "UPPER"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateBucketName(s) != nil {
			return
		}
		if !bucketShape.MatchString(s) || strings.Contains(s, "..") || strings.HasPrefix(s, "xn--") || strings.HasSuffix(s, "-s3alias") {
			t.Fatalf("accepted %q, which breaks S3's naming rules", s)
		}
	})
}
