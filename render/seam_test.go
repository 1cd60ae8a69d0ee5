package render

import (
	"context"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/render/plan"
	"github.com/growthloop/byob/render/raw"
	"github.com/growthloop/byob/render/terraform"
)

// A bucket provider defined here only, and registered for the tests: render
// writes its module, its documents and reads its outputs back, knowing
// nothing of it but the renderers it implements.

func init() { providers.Register(fakeCloud{}) }

// fakeAccount is a value only applying learns: the fake cloud's account.
var fakeAccount = providers.Key{Name: "fake.account", Placeholder: "<fake-account>"}

// fakeCloud implements what a plan and render call. The rest of the
// contract (connections, probes, keys) is its nil embedded interface:
// render never calls it.
type fakeCloud struct{ providers.BucketProvider }

func (fakeCloud) Name() string                                        { return "fake" }
func (fakeCloud) Title() string                                       { return "Fake Cloud" }
func (fakeCloud) Fields() []providers.Field                           { return nil }
func (fakeCloud) Default(*providers.Config, providers.Env)            {}
func (fakeCloud) Validate(*providers.Config) []providers.InvalidValue { return nil }
func (fakeCloud) Storage(*providers.Config) providers.Storage         { return providers.Storage{} }
func (fakeCloud) Keys(*providers.Config) providers.KeyStore           { return nil }

// Location: the fake has no flag of its own (the flag table is the
// contract's), so its bucket is placed by its name.
func (fakeCloud) Location() string           { return "bucket" }
func (fakeCloud) LocationKey() providers.Key { return providers.Key{Name: "fake.bucket"} }

// fakeBucket is the fake cloud's bucket document.
type fakeBucket struct {
	Name  string `json:"name"`
	Owner string `json:"owner"`
	Days  int    `json:"expire_days"`
}

func (fakeCloud) Steps(s providers.Setup) []providers.Step {
	doc := fakeBucket{Name: s.Config.Bucket, Owner: s.Values.Ref(fakeAccount), Days: s.Config.TTLDays}
	return []providers.Step{
		fakeStep{id: "fake-bucket", artifacts: []providers.Artifact{providers.JSONArtifact("create the bucket", doc)}},
		fakeStep{id: "fake-key", needs: []string{"fake-bucket"}},
	}
}

// fakeStep is a step as a plan shows it; Check, Apply and the rest are
// its nil embedded interface.
type fakeStep struct {
	providers.Step
	id        string
	needs     []string
	artifacts []providers.Artifact
}

func (s fakeStep) ID() string                                       { return s.id }
func (s fakeStep) Title() string                                    { return s.id }
func (s fakeStep) Needs() []string                                  { return s.needs }
func (s fakeStep) Reads() []providers.Key                           { return nil }
func (s fakeStep) Writes() []providers.Key                          { return nil }
func (s fakeStep) Artifacts(*providers.Values) []providers.Artifact { return s.artifacts }

func (fakeCloud) TerraformRefs() map[providers.Key]string {
	return map[providers.Key]string{fakeAccount: "data.fake_account.current.id"}
}

func (fakeCloud) Terraform(t *terraform.Module) error {
	t.Provider("fake", "example/fake", "1.0.0")
	t.Data("fake_account", "current")
	b, _ := plan.Value[fakeBucket](t.Plan, "fake-bucket")
	t.Import("fake-bucket", "fake_bucket.exports", t.Values.Get(fakeAccount)+"/"+b.Name)
	r := t.Resource("fake_bucket", "exports")
	r.SetAttributeValue("name", cty.StringVal(b.Name))
	r.SetAttributeRaw("owner", terraform.String(b.Owner))
	r.SetAttributeValue("expire_days", cty.NumberIntVal(int64(b.Days)))
	t.CannotImport("fake-key", "fake_key.growthloop", "fake keys are never imported")
	t.Resource("fake_key", "growthloop").SetAttributeTraversal("bucket", terraform.Traversal("fake_bucket.exports.name"))
	t.Output("bucket", "the export bucket", "fake_bucket.exports.name", false)
	t.Output("fake_key", "GrowthLoop's key", "fake_key.growthloop.secret", true)
	t.Note(terraform.NoteApply, "The fake cloud needs nothing more.\n\n")
	return nil
}

func (fakeCloud) ReadTerraform(outs map[string]string, h *providers.Handed) ([]string, error) {
	if outs["fake_key"] == "" {
		return []string{"fake_key"}, nil
	}
	h.KeyFile = []byte(outs["fake_key"])
	return nil, nil
}

func (fakeCloud) RawRefs() map[providers.Key]string {
	return map[providers.Key]string{fakeAccount: "fake-account"}
}

func (fakeCloud) Documents(m *plan.Model) []raw.File {
	return raw.DocumentFiles(m, map[string]string{"fake-bucket": "fake-bucket.json"})
}

func fakeConfig(t *testing.T) providers.Config {
	t.Helper()
	cfg := providers.Config{Provider: "fake", Bucket: "acme-exports", Warehouse: providers.WarehouseNone, TTLDays: 9}
	providers.Defaults(&cfg, providers.Env{})
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestAProviderRendersItself: a bucket provider that render does not
// know writes its own module (provider pin, resources, references,
// imports, outputs, README notes) and documents, and reads its outputs
// back; a format it does not write is refused, naming the flag.
func TestAProviderRendersItself(t *testing.T) {
	cfg := fakeConfig(t)
	files, err := Render("terraform", cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string][]string{
		"versions.tf": {`source  = "example/fake"`, `version = "1.0.0"`},
		"main.tf": {`provider "fake" {`, `data "fake_account" "current" {`, `resource "fake_bucket" "exports" {`, `name        = "acme-exports"`,
			`owner       = "${data.fake_account.current.id}"`, `expire_days = 9`, `resource "fake_key" "growthloop" {`},
		"outputs.tf": {`output "fake_key" {`, `sensitive   = true`, `output "provider" {`, `value       = "fake"`},
		"README.md":  {"- `example/fake` 1.0.0", "The fake cloud needs nothing more.", "byob verify --provider fake --bucket acme-exports"},
	} {
		for _, w := range want {
			if !strings.Contains(fileOf(files, path), w) {
				t.Errorf("%s has no %q:\n%s", path, w, fileOf(files, path))
			}
		}
	}

	// From a setup byob made: the import ID is made of its values.
	o := madeSetup(t, cfg)
	o.Known.Set(fakeAccount, "4242")
	files, err = Render("terraform", cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := imports(t, files); len(got) != 1 || got["fake_bucket.exports"] != "4242/acme-exports" {
		t.Errorf("imports %v", got)
	}
	if readme := fileOf(files, "README.md"); !strings.Contains(readme, "`fake_key.growthloop`: fake keys are never imported") {
		t.Errorf("README:\n%s", readme)
	}

	files, err = Render("json", cfg, Options{})
	if err != nil || len(files) != 1 || files[0].Path != "fake-bucket.json" || !strings.Contains(files[0].Content, `"owner": "<fake-account>"`) {
		t.Errorf("json: %v %+v", err, files)
	}
	for format, want := range map[string]string{
		"cloudformation": "--format cloudformation is for --provider s3: use --format terraform or json for fake",
		"sql":            "--format sql needs --warehouse snowflake: without a warehouse there is no SQL",
	} {
		if _, err := Render(format, cfg, Options{}); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", format, err, want)
		} else if _, ok := err.(*providers.UsageError); !ok {
			t.Errorf("%s: %T is not a usage error", format, err)
		}
	}

	h, err := FromTerraform([]byte(`{"provider": {"value": "fake"}, "bucket": {"value": "acme-exports"}, "prefix": {"value": "exports/"}, "fake_key": {"value": "k"}}`))
	if err != nil || string(h.KeyFile) != "k" || h.Bundle.Bucket != "acme-exports" || h.Name != providers.DefaultName {
		t.Errorf("%v %+v", err, h)
	}
	if err := h.FetchKey(context.Background(), nil); err != nil {
		t.Error(err)
	}
	if _, err := FromTerraform([]byte(`{"provider": {"value": "fake"}, "bucket": {"value": "b"}, "prefix": {"value": "p/"}}`)); err == nil || !strings.Contains(err.Error(), "has no fake_key") {
		t.Errorf("no key: %v", err)
	}
}
