package s3bucket

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/growthloop/byob/providers"
)

func TestProfiles(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	creds := filepath.Join(dir, "credentials")
	os.WriteFile(config, []byte("[default]\nregion = us-east-1\n[profile prod]\nsso_session = s\n[sso-session s]\nsso_region = us-east-1\n[ profile  dev ]\n"), 0o600)
	os.WriteFile(creds, []byte("[default]\naws_access_key_id = x\n[ci]\n"), 0o600)
	env := map[string]string{"AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": creds}
	got, err := Profiles(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil || !slices.Equal(got, []string{"default", "ci", "dev", "prod"}) {
		t.Errorf("Profiles = %v, %v", got, err)
	}
	got, err = Profiles(func(k string) (string, bool) { return dir + "/none", k == "HOME" })
	if err != nil || len(got) != 0 {
		t.Errorf("no files: %v, %v", got, err)
	}
}

// TestMissingProfileIsAUsageError: a profile that is in neither file is
// the flag's fault (or AWS_PROFILE's), said in a sentence.
func TestMissingProfileIsAUsageError(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config")
	if err := os.WriteFile(cfgFile, []byte("[profile dev]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", cfgFile)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	var ue *providers.UsageError
	_, err := Connect(context.Background(), "nope", "us-east-1")
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), `invalid --profile "nope": no such profile`) {
		t.Errorf("--profile nope: %v", err)
	}
	t.Setenv("AWS_PROFILE", "gone")
	if _, err := Connect(context.Background(), "", "us-east-1"); !errors.As(err, &ue) || !strings.Contains(err.Error(), `invalid AWS_PROFILE "gone"`) {
		t.Errorf("AWS_PROFILE=gone: %v", err)
	}
}
