package aws

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
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
