package gcsbucket_test

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/growthloop/byob/internal/testsupport/providertest"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/gcsbucket/gcptest"
	"github.com/growthloop/byob/render/plan"
	"github.com/growthloop/byob/render/terraform"
	"github.com/growthloop/byob/snowflake/snowflaketest"
)

// TestPreflight: the caller's permissions on the project are tested for
// what the run does, and what is missing is named with the roles that
// grant it; a project the caller cannot see, or another than the state
// file's, is refused.
func TestPreflight(t *testing.T) {
	f := newFixture(t)
	conn := f.setup.Conn
	id, err := conn.Preflight(context.Background(), f.setup, providers.ChangeAccess)
	if err != nil || id.Summary != "Google Cloud: project acme-data" {
		t.Fatalf("preflight %+v %v", id, err)
	}
	if got := f.setup.Values.Get(gcsbucket.Project); got != gcptest.Project {
		t.Errorf("recorded project %q", got)
	}

	f.g.Granted([]string{"iam.serviceAccounts.get", "iam.serviceAccountKeys.create", "iam.serviceAccountKeys.list", "iam.serviceAccountKeys.delete"})
	if _, err := conn.Preflight(context.Background(), f.setup, providers.RotateAccess); err == nil ||
		err.Error() != "you lack iam.serviceAccountKeys.disable on project acme-data: grant them (roles/iam.serviceAccountKeyAdmin) and re-run" {
		t.Errorf("rotate without disable: %v", err)
	}
	f.setup.Destroy.DeleteBucket = true
	_, err = conn.Preflight(context.Background(), f.setup, providers.RemoveAccess)
	if err == nil || !strings.Contains(err.Error(), "storage.buckets.delete, storage.objects.list, storage.objects.delete on project acme-data") {
		t.Errorf("destroy with the bucket: %v", err)
	}
	f.g.Granted(nil)

	f.setup.Values.Set(gcsbucket.Project, "old-project")
	_, err = conn.Preflight(context.Background(), f.setup, providers.ReadAccess)
	var ue *providers.UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "records a setup in Google Cloud project old-project, but this run uses project acme-data: pass --gcp-project old-project") {
		t.Errorf("another project's state: %v", err)
	}

	f.setup.Values.Delete(gcsbucket.Project)
	providers.UpdateSection(f.setup.Config, func(s *gcsbucket.Settings) { s.Project = "not-mine" })
	if _, err := conn.Preflight(context.Background(), f.setup, providers.ReadAccess); err == nil ||
		!strings.Contains(err.Error(), "project not-mine does not exist or you cannot see it: check --gcp-project") {
		t.Errorf("a project the caller cannot see: %v", err)
	}
}

// TestCheckTargets: a key file that holds no key of this setup's account
// is never overwritten.
func TestCheckTargets(t *testing.T) {
	f := newFixture(t)
	p, cfg := gcsbucket.Provider{}, f.setup.Config
	if err := p.CheckTargets(cfg); err != nil {
		t.Errorf("no key file: %v", err)
	}
	if err := os.WriteFile(gcsbucket.SettingsOf(cfg).KeyFile, []byte(`{"note":"mine"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	err := p.CheckTargets(cfg)
	var ue *providers.UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "key file "+gcsbucket.SettingsOf(cfg).KeyFile+" already exists and is not a key of this setup's service account") {
		t.Errorf("someone's file: %v", err)
	}
	f.converge()
	if err := p.CheckTargets(cfg); err != nil {
		t.Errorf("this setup's key file: %v", err)
	}
}

// TestPrefetchReadsOnce: the reads started beside the preflight answer
// the checks.
func TestPrefetchReadsOnce(t *testing.T) {
	f := newFixture(t)
	f.converge()
	before := len(f.g.Requests())
	steps := (gcsbucket.Provider{}).Steps(f.setup)
	run := f.run()
	providertest.Prefetch(run, steps, f.setup.Values)
	for _, s := range steps {
		if obs := providertest.Check(t, run, s, f.setup.Values); obs.Status != providers.Done {
			t.Errorf("%s: %+v", s.ID(), obs)
		}
	}
	counts := map[string]int{}
	for _, r := range f.g.Requests()[before:] {
		counts[r]++
	}
	for _, r := range []string{"GET /storage/v1/b/acme-exports", "GET /v1/" + writerRole, "GET /v1/projects/acme-data/serviceAccounts/" + account,
		"GET /v1/projects/acme-data/serviceAccounts/" + account + "/keys"} {
		if counts[r] != 1 {
			t.Errorf("%s sent %d times, want once: %v", r, counts[r], counts)
		}
	}
}

// model is the plan byob render reads for f's setup.
func model(f *fixture, known *providers.Values, refs map[providers.Key]string) *plan.Model {
	return providertest.Model(gcsbucket.Provider{}, f.setup, known, refs)
}

// snowflakeRef is how the module refers to Snowflake's service account
// (the Snowflake provider's reference).
var snowflakeRef = map[providers.Key]string{providers.WarehouseServiceAccount: "snowflake_storage_integration.this.storage_gcp_service_account"}

// module renders the setup's Terraform module, every step made.
func module(t *testing.T, f *fixture, known *providers.Values) (*terraform.Module, map[string]string) {
	t.Helper()
	return providertest.Terraform(t, gcsbucket.Provider{}, model(f, known, snowflakeRef), snowflakeRef, known)
}

// TestTerraform: an existing setup's module makes its resources and
// imports them with the IDs hashicorp/google 6.50.0 documents
// (registry.terraform.io/providers/hashicorp/google/6.50.0/docs/resources/
// storage_bucket_iam_member#import: "b/{{bucket}} ROLE MEMBER"); the key
// cannot be imported, and says so.
func TestTerraform(t *testing.T) {
	f := newFixture(t)
	known := providers.NewValues(map[string]string{providers.WarehouseServiceAccount.Name: snowflaketest.GCPServiceAccount})
	mod, files := module(t, f, known)
	if got := mod.Required()["google"]; got != (terraform.Requirement{Source: "hashicorp/google", Version: "6.50.0"}) {
		t.Errorf("provider %+v", got)
	}
	providertest.MustContain(t, "main.tf", files["main.tf"], `resource "google_storage_bucket" "exports"`, `location                    = "US-CENTRAL1"`,
		`public_access_prevention    = "enforced"`, `days_since_noncurrent_time = 14`, `matches_prefix             = ["exports/"]`,
		`member = "serviceAccount:`+snowflaketest.GCPServiceAccount+`"`,
		`depends_on = [google_service_account.growthloop]`)
	providertest.MustContain(t, "imports.tf", files["imports.tf"], `id = "acme-data/acme-exports"`, `id = "`+writerRole+`"`,
		`id = "projects/acme-data/serviceAccounts/`+account+`"`,
		`id = "b/acme-exports `+writerRole+` serviceAccount:`+account+`"`,
		`id = "b/acme-exports `+snowflakeRole+` serviceAccount:`+snowflaketest.GCPServiceAccount+`"`)
	if got := mod.Unimported(); !slices.Equal(got, []string{"`google_service_account_key.growthloop`: google_service_account_key does not support import"}) {
		t.Errorf("unimported %q", got)
	}
	providertest.MustContain(t, "outputs.tf", files["outputs.tf"], `output "gcp_private_key"`, "sensitive   = true")
}

// TestTerraformOfAnAdoptedBucket: a bucket byob adopted is only read by
// the module (Terraform would own and could destroy it); a binding whose
// member the state does not know cannot be imported.
func TestTerraformOfAnAdoptedBucket(t *testing.T) {
	f := newFixture(t)
	known := providers.NewValues(map[string]string{providers.AdoptedKey(gcsbucket.StepBucket).Name: "true"})
	mod, files := module(t, f, known)
	if strings.Contains(files["main.tf"], `resource "google_storage_bucket"`) || strings.Contains(files["imports.tf"], "acme-data/acme-exports") {
		t.Errorf("the adopted bucket is managed:\n%s", files["main.tf"])
	}
	providertest.MustContain(t, "main.tf", files["main.tf"], `data "google_storage_bucket" "exports"`, "bucket = data.google_storage_bucket.exports.name",
		`member = "serviceAccount:${snowflake_storage_integration.this.storage_gcp_service_account}"`)
	if len(mod.Left()) != 3 || !strings.Contains(mod.Left()[0], "which the module only reads") {
		t.Errorf("left %q", mod.Left())
	}
	if got := mod.Unimported(); !slices.Contains(got, "`google_storage_bucket_iam_member.snowflake`: the state file records no Snowflake service account") {
		t.Errorf("unimported %q", got)
	}
}

// TestReadTerraform: the module's outputs fill the bundle, the key file
// being gcp_private_key, base64.
func TestReadTerraform(t *testing.T) {
	p := gcsbucket.Provider{}
	keyJSON := `{"private_key_id":"k123","client_email":"` + account + `"}`
	var h providers.Handed
	missing, err := p.ReadTerraform(map[string]string{"location": "US-CENTRAL1", "gcp_project": gcptest.Project, "gcp_service_account": account,
		"gcp_private_key": base64.StdEncoding.EncodeToString([]byte(keyJSON))}, &h)
	if err != nil || len(missing) != 0 || string(h.KeyFile) != keyJSON || h.Bundle.GCPKeyID != "k123" || h.Bundle.GCPServiceAccount != account || h.Bundle.Location != "US-CENTRAL1" {
		t.Errorf("read %+v, missing %q, %v", h, missing, err)
	}
	if missing, _ := p.ReadTerraform(map[string]string{}, &providers.Handed{}); !slices.Equal(missing, []string{"location and gcp_project", "gcp_private_key"}) {
		t.Errorf("missing %q", missing)
	}
	if _, err := p.ReadTerraform(map[string]string{"gcp_private_key": "not base64!"}, &providers.Handed{}); err == nil || strings.Contains(err.Error(), "not base64!") {
		t.Errorf("bad key: %v (the output is never quoted)", err)
	}
}

// TestDocuments: byob render --format json writes each step's document,
// one file each, in plan order.
func TestDocuments(t *testing.T) {
	f := newFixture(t)
	files := gcsbucket.Provider{}.Documents(model(f, providers.NewValues(nil), snowflakeRef))
	var names []string
	for _, file := range files {
		names = append(names, file.Path)
	}
	if want := []string{"bucket.json", "writer-role.json", "service-account.json", "writer-binding.json", "snowflake-role.json", "snowflake-binding.json"}; !slices.Equal(names, want) {
		t.Errorf("files %q, want %q", names, want)
	}
	for _, file := range files {
		if file.Path == "writer-role.json" {
			providertest.MustContain(t, file.Path, file.Content, `"roleId": "growthloop_byob_writer"`, `"storage.objects.create"`)
		}
	}
}
