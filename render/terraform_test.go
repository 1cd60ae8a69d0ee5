package render

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/render/tftest"
	"github.com/growthloop/byob/wizard"
)

// schemaBlock is a block of `terraform providers schema -json`.
type schemaBlock struct {
	Attributes map[string]struct{ Required, Optional, Computed bool } `json:"attributes"`
	BlockTypes map[string]struct {
		Block    schemaBlock `json:"block"`
		MinItems int         `json:"min_items"`
	} `json:"block_types"`
}

type schemaOf struct {
	Block schemaBlock `json:"block"`
}

// providerSchema is a provider's part of `terraform providers schema
// -json`.
type providerSchema struct {
	Provider          schemaOf            `json:"provider"`
	ResourceSchemas   map[string]schemaOf `json:"resource_schemas"`
	DataSourceSchemas map[string]schemaOf `json:"data_source_schemas"`
}

// providerSchemas are the pinned providers' own schemas
// (testdata/providers-schema.json, which go run ./scripts/tfschema
// writes), by provider name.
func providerSchemas(t *testing.T) map[string]providerSchema {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "providers-schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all struct {
		ProviderSchemas map[string]providerSchema `json:"provider_schemas"`
	}
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	out := map[string]providerSchema{}
	for src, s := range all.ProviderSchemas {
		out[src[strings.LastIndex(src, "/")+1:]] = s
	}
	return out
}

// fits checks body against the schema: every attribute is one the user
// may set (not computed only), every required one is there, and every
// nested block is the schema's, recursively.
func fits(t *testing.T, where string, body *hclsyntax.Body, s schemaBlock) {
	t.Helper()
	for name := range body.Attributes {
		if slices.Contains([]string{"depends_on", "count", "for_each", "provider"}, name) {
			continue
		}
		a, ok := s.Attributes[name]
		switch {
		case !ok:
			t.Errorf("%s: the provider has no attribute %q", where, name)
		case !a.Optional && !a.Required:
			t.Errorf("%s: %q is computed only: the provider refuses a value for it", where, name)
		}
	}
	for name, a := range s.Attributes {
		if _, ok := body.Attributes[name]; a.Required && !ok {
			t.Errorf("%s: required attribute %q is missing", where, name)
		}
	}
	seen := map[string]int{}
	for _, blk := range body.Blocks {
		if blk.Type == "lifecycle" {
			continue
		}
		bt, ok := s.BlockTypes[blk.Type]
		if !ok {
			t.Errorf("%s: the provider has no block %q", where, blk.Type)
			continue
		}
		seen[blk.Type]++
		fits(t, where+"/"+blk.Type, blk.Body, bt.Block)
	}
	for name, bt := range s.BlockTypes {
		if seen[name] < bt.MinItems {
			t.Errorf("%s: needs %d %q block(s)", where, bt.MinItems, name)
		}
	}
}

// TestTerraformFitsTheProviders: every module parses with HCL's own
// parser, pins the providers the schemas and the validate test are of,
// each provider, resource and data block fits that provider's own
// schema, and each reference names what the module declares and an
// attribute its schema has; the module is the golden one. For the GCS
// modules, which terraform cannot validate here, this is the check.
func TestTerraformFitsTheProviders(t *testing.T) {
	schemas := providerSchemas(t)
	pinned := map[tftest.Provider]bool{}
	for name := range setups {
		cfg := config(t, name)
		// A new setup's module, and that of one whose bucket byob adopted
		// (which reads the bucket through a data source).
		for _, kind := range []string{"terraform", "terraform-adopted"} {
			o := Options{}
			if kind == "terraform-adopted" {
				o = adoptedSetup(t, cfg)
			}
			fitsTheProviders(t, schemas, pinned, name, kind, o)
		}
	}
	for _, p := range []tftest.Provider{tftest.AWS, tftest.Google, tftest.Snowflake} {
		if !pinned[p] {
			t.Errorf("no module pins %s %s, which the tests use", p.Source, p.Version)
		}
	}
}

// fitsTheProviders checks the module of setup name rendered with o (see
// TestTerraformFitsTheProviders); its files are the golden ones under
// kind/name.
func fitsTheProviders(t *testing.T, schemas map[string]providerSchema, pinned map[tftest.Provider]bool, name, kind string, o Options) {
	t.Helper()
	files, err := Render("terraform", config(t, name), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pins(t, fileOf(files, "versions.tf")) {
		pinned[p] = true
		if !slices.Contains([]tftest.Provider{tftest.AWS, tftest.Google, tftest.Snowflake}, p) {
			t.Errorf("%s: the module pins %s %s, which the tests do not use", name, p.Source, p.Version)
		}
	}
	p := hclparse.NewParser()
	types := map[string]bool{}
	// declared are the schemas of the module's resources and data
	// sources by address, and its variables (with no schema).
	declared := map[string]*schemaBlock{}
	var bodies []*hclsyntax.Body
	for _, f := range files {
		golden(t, filepath.Join(kind, name, f.Path), f.Content)
		if !strings.HasSuffix(f.Path, ".tf") {
			continue
		}
		file, diags := p.ParseHCL([]byte(f.Content), f.Path)
		if diags.HasErrors() {
			t.Fatalf("%s/%s: %s", name, f.Path, diags.Error())
		}
		bodies = append(bodies, file.Body.(*hclsyntax.Body))
		for _, blk := range file.Body.(*hclsyntax.Body).Blocks {
			var s schemaOf
			var ok bool
			where := name + ": " + blk.Type + " " + strings.Join(blk.Labels, ".")
			switch blk.Type {
			case "provider":
				s, ok = schemas[blk.Labels[0]].Provider, true
			case "resource":
				types[blk.Labels[0]] = true
				s, ok = schemas[strings.SplitN(blk.Labels[0], "_", 2)[0]].ResourceSchemas[blk.Labels[0]]
				declared[strings.Join(blk.Labels, ".")] = &s.Block
			case "data":
				s, ok = schemas[strings.SplitN(blk.Labels[0], "_", 2)[0]].DataSourceSchemas[blk.Labels[0]]
				declared["data."+strings.Join(blk.Labels, ".")] = &s.Block
			case "variable":
				declared["var."+blk.Labels[0]] = nil
				continue
			default:
				continue
			}
			if !ok {
				t.Errorf("%s: not in the providers' schemas (go run ./scripts/tfschema)", where)
				continue
			}
			fits(t, where, blk.Body, s.Block)
		}
	}
	for _, body := range bodies {
		resolves(t, name, body, declared)
	}
	if kind != "terraform" {
		return
	}
	for _, want := range map[string][]string{
		"s3-snowflake":  {"aws_s3_bucket_policy", "aws_iam_role", "snowflake_storage_integration", "snowflake_stage", "aws_iam_access_key"},
		"s3":            {"aws_s3_bucket_lifecycle_configuration", "aws_iam_access_key"},
		"gcs-snowflake": {"google_storage_bucket", "google_service_account_key", "snowflake_storage_integration"},
		"gcs":           {"google_storage_bucket", "google_service_account_key"},
	}[name] {
		if !types[want] {
			t.Errorf("%s: no %s", name, want)
		}
	}
}

// resolves checks that each reference in body (an import's target, a
// policy's interpolation, an output's value) names a variable, resource
// or data source the module declares, and an attribute or block its
// provider's schema has, computed ones included.
func resolves(t *testing.T, name string, body *hclsyntax.Body, declared map[string]*schemaBlock) {
	t.Helper()
	for _, a := range body.Attributes {
		for _, tr := range a.Expr.Variables() {
			var parts []string
			for _, step := range tr {
				switch s := step.(type) {
				case hcl.TraverseRoot:
					parts = append(parts, s.Name)
				case hcl.TraverseAttr:
					parts = append(parts, s.Name)
				}
			}
			n := 2 // var.region, aws_iam_user.growthloop
			if parts[0] == "data" {
				n = 3
			}
			addr := strings.Join(parts[:min(n, len(parts))], ".")
			schema, ok := declared[addr]
			switch {
			case !ok:
				t.Errorf("%s: %s refers to %s, which the module does not declare", name, a.Name, addr)
			case schema != nil && len(parts) > n:
				_, attr := schema.Attributes[parts[n]]
				_, block := schema.BlockTypes[parts[n]]
				if !attr && !block {
					t.Errorf("%s: %s refers to %s.%s: the provider has no such attribute", name, a.Name, addr, parts[n])
				}
			}
		}
	}
	for _, blk := range body.Blocks {
		if blk.Type != "variable" { // whose type = string is no reference
			resolves(t, name, blk.Body, declared)
		}
	}
}

// pins are the providers versions.tf requires, as the registry names
// them.
func pins(t *testing.T, versions string) []tftest.Provider {
	t.Helper()
	file, diags := hclsyntax.ParseConfig([]byte(versions), "versions.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	var out []tftest.Provider
	for _, tf := range file.Body.(*hclsyntax.Body).Blocks {
		for _, req := range tf.Body.Blocks {
			for _, a := range req.Body.Attributes {
				v, diags := a.Expr.Value(nil)
				if diags.HasErrors() {
					t.Fatal(diags.Error())
				}
				out = append(out, tftest.Provider{Source: "registry.terraform.io/" + v.GetAttr("source").AsString(), Version: v.GetAttr("version").AsString()})
			}
		}
	}
	return out
}

// TestTerraformValidates runs the real terraform init and validate, with
// the exact providers the module pins, on every module whose providers
// are installed (hashicorp/google cannot be: the GCS modules are checked
// against its schema above), new, importing a setup, and importing one
// whose bucket byob adopted.
func TestTerraformValidates(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: terraform validate with the real providers")
	}
	tf := tftest.For(t)
	t.Parallel() // terraform spends much of its time starting providers
	for _, name := range slices.Sorted(maps.Keys(setups)) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := config(t, name)
			if cfg.Provider == "gcs" && !tf.Have[tftest.Google] {
				t.Skipf("hashicorp/google %s is not installed: the Go module proxy does not serve it", tftest.Google.Version)
			}
			for _, o := range []Options{{}, madeSetup(t, cfg), adoptedSetup(t, cfg)} {
				files, err := Render("terraform", cfg, o)
				if err != nil {
					t.Fatal(err)
				}
				dir := t.TempDir()
				if err := Write(dir, files, false); err != nil {
					t.Fatal(err)
				}
				if _, err := tf.Run(dir, nil, "init", "-backend=false", "-input=false", "-no-color"); err != nil {
					t.Fatal(err)
				}
				out, err := tf.Run(dir, nil, "validate", "-no-color")
				if err != nil || !strings.Contains(out, "The configuration is valid") {
					t.Fatalf("%v\n%s", err, out)
				}
				if strings.Contains(out, "Warning") {
					t.Errorf("terraform validate warns:\n%s", out)
				}
			}
		})
	}
}

// madeSetup is what the state file of cfg's setup, all made by byob
// init, tells render.
func madeSetup(t *testing.T, cfg providers.Config) Options {
	t.Helper()
	m, err := build(cfg, providers.NewValues(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	st := &wizard.State{Version: wizard.StateVersion, Steps: map[string]wizard.StepState{}, Values: map[string]string{
		s3bucket.AccountID.Name:                "111122223333",
		s3bucket.CallerPartition.Name:          "aws",
		providers.ExternalID.Name:              "byob-" + strings.Repeat("ab", 20),
		providers.WarehouseUserARN.Name:        "arn:aws:iam::999988887777:user/abc1-s-v2st0000",
		providers.WarehouseServiceAccount.Name: "abc123@gcpuscentral1-1dfa.iam.gserviceaccount.com",
		s3bucket.AccessKeyID.Name:              "AKIAIOSFODNN7EXAMPLE",
	}}
	for _, id := range m.Steps {
		st.Steps[id] = wizard.StepState{Status: wizard.StepDone}
	}
	return Options{Known: providers.NewValues(st.Values), State: st}
}

// adoptedSetup is madeSetup on a bucket that was there before byob, as
// init records it: the bucket adopted, and with it its policy (byob
// merged its statement in) and S3's defaults (encryption, Object
// Ownership); the public access block and lifecycle rule made by byob;
// and, as init --adopt records them, GrowthLoop's IAM user or service
// account adopted.
func adoptedSetup(t *testing.T, cfg providers.Config) Options {
	t.Helper()
	o := madeSetup(t, cfg)
	for _, step := range []string{"s3-bucket", "s3-bucket-policy", "s3-encryption", "s3-object-ownership", "iam-user", "gcs-bucket", "gcp-service-account"} {
		o.State.Values[providers.AdoptedKey(step).Name] = "true"
	}
	for _, step := range []string{"s3-public-access-block", "s3-lifecycle"} {
		o.State.Values[providers.CreatedKey(step).Name] = "true"
	}
	o.Known = providers.NewValues(o.State.Values)
	return o
}

// TestSnowflakeProviderModulePinsTheRelease: the module tftest builds
// the Snowflake provider from requires the release the modules pin.
func TestSnowflakeProviderModulePinsTheRelease(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("tftest", "providers", "snowflake", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "github.com/Snowflake-Labs/terraform-provider-snowflake v" + tftest.Snowflake.Version + " "; !strings.Contains(string(b), want) {
		t.Errorf("tftest/providers/snowflake/go.mod does not require %q", want)
	}
}
