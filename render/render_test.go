package render

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/intrinsics"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/growthloop/byob/providers"
	_ "github.com/growthloop/byob/providers/all"
	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/snowflakestage"
)

var update = flag.Bool("update", false, "rewrite golden files")

// setups are the setups rendered in each format.
var setups = map[string]providers.Config{
	"s3-snowflake":  providers.Config{Provider: "s3", Bucket: "acme-growthloop-exports", Warehouse: "snowflake", OrgID: "1234"}.With(s3bucket.Settings{Region: "us-west-2"}).With(snowflakestage.Settings{Database: "ANALYTICS", GrowthLoopRole: "GROWTHLOOP"}),
	"s3":            providers.Config{Provider: "s3", Bucket: "acme-growthloop-exports", Prefix: "growthloop/", Name: "acme"}.With(s3bucket.Settings{Region: "eu-west-1"}),
	"gcs-snowflake": providers.Config{Provider: "gcs", Bucket: "acme-growthloop-exports", Warehouse: "snowflake", OrgID: "1234"}.With(gcsbucket.Settings{Project: "acme-data", Location: "US"}).With(snowflakestage.Settings{Database: "ANALYTICS", GrowthLoopRole: "GROWTHLOOP"}),
	"gcs":           providers.Config{Provider: "gcs", Bucket: "acme-growthloop-exports", Name: "acme"}.With(gcsbucket.Settings{Project: "acme-data", Location: "europe-west1"}),
}

func config(t *testing.T, name string) providers.Config {
	t.Helper()
	cfg := setups[name]
	cfg.TTLDays = 14
	if cfg.Warehouse == "" {
		cfg.Warehouse = providers.WarehouseNone
	}
	providers.Defaults(&cfg, providers.Env{})
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	path = filepath.Join("testdata", "golden", path)
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./render -update writes it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (go test ./render -update rewrites it):\n%s", path, got)
	}
}

// TestTerraformKeepsSecretsSensitive: outputs holding a key are sensitive
// and the module's README says the state holds them.
func TestTerraformKeepsSecretsSensitive(t *testing.T) {
	for name := range setups {
		files, _ := Render("terraform", config(t, name), Options{})
		for _, f := range files {
			switch f.Path {
			case "outputs.tf":
				file, diags := hclparse.NewParser().ParseHCL([]byte(f.Content), f.Path)
				if diags.HasErrors() {
					t.Fatal(diags.Error())
				}
				for _, blk := range file.Body.(*hclsyntax.Body).Blocks {
					secret := blk.Labels[0] == "aws_secret_access_key" || blk.Labels[0] == "gcp_private_key"
					if _, sensitive := blk.Body.Attributes["sensitive"]; secret != sensitive {
						t.Errorf("%s: output %s sensitive=%v", name, blk.Labels[0], sensitive)
					}
				}
			case "README.md":
				if !strings.Contains(f.Content, "Terraform state holds its secret") || !strings.Contains(f.Content, "encrypted backend") {
					t.Errorf("%s: the README does not warn about the state", name)
				}
			}
		}
	}
}

// TestCloudFormationRoundTrips: the template parses with goformation and
// marshals back to the same document; the key's secret is in Secrets
// Manager and never in an output; the SQL is beside it.
func TestCloudFormationRoundTrips(t *testing.T) {
	for _, name := range []string{"s3-snowflake", "s3"} {
		files, err := Render("cloudformation", config(t, name), Options{})
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, f := range files {
			paths = append(paths, f.Path)
			golden(t, filepath.Join("cloudformation", name, f.Path), f.Content)
			if f.Path != "template.json" {
				continue
			}
			// goformation's own encoders keep each intrinsic as it was.
			tmpl, err := goformation.ParseJSONWithOptions([]byte(f.Content), &intrinsics.ProcessorOptions{IntrinsicHandlerOverrides: cloudformation.EncoderIntrinsics})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			again, err := tmpl.JSON()
			if err != nil {
				t.Fatal(err)
			}
			var a, b any
			json.Unmarshal([]byte(f.Content), &a)
			json.Unmarshal(again, &b)
			if x, y := mustJSON(a), mustJSON(b); x != y {
				t.Errorf("%s: the template does not round-trip through goformation:\n%s\n%s", name, x, y)
			}
			if _, err := tmpl.GetSecretsManagerSecretWithName("GrowthLoopKeySecret"); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			for out, o := range tmpl.Outputs {
				if strings.Contains(mustJSON(o.Value), "SecretAccessKey") {
					t.Errorf("%s: output %s exposes the secret", name, out)
				}
			}
			if _, ok := tmpl.Parameters["SnowflakeIamUserArn"]; ok != (name == "s3-snowflake") {
				t.Errorf("%s: parameter SnowflakeIamUserArn present=%v", name, ok)
			}
		}
		if want := slices.Contains(paths, "snowflake.sql"); want != (name == "s3-snowflake") {
			t.Errorf("%s: files %v", name, paths)
		}
	}
	if _, err := Render("cloudformation", config(t, "gcs-snowflake"), Options{}); err == nil {
		t.Error("CloudFormation for GCS must be refused")
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestCloudFormationLeavesAnAdoptedBucket: on a setup whose bucket byob
// adopted, the template has no AWS::S3::Bucket or AWS::S3::BucketPolicy
// (a stack would replace the customer's policy and settings, and take the
// bucket with it when deleted), names the bucket in its output, still
// makes the rest, and its README says what it leaves to the customer.
func TestCloudFormationLeavesAnAdoptedBucket(t *testing.T) {
	for _, name := range []string{"s3-snowflake", "s3"} {
		cfg := config(t, name)
		files, err := Render("cloudformation", cfg, adoptedSetup(t, cfg))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			golden(t, filepath.Join("cloudformation-adopted", name, f.Path), f.Content)
		}
		var tmpl struct {
			Resources map[string]struct{ Type string }
			Outputs   map[string]struct{ Value any }
		}
		if err := json.Unmarshal([]byte(fileOf(files, "template.json")), &tmpl); err != nil {
			t.Fatal(err)
		}
		types := map[string]bool{}
		for id, r := range tmpl.Resources {
			types[r.Type] = true
			if strings.HasPrefix(r.Type, "AWS::S3::") {
				t.Errorf("%s: the adopted bucket is in the template: %s is %s", name, id, r.Type)
			}
		}
		for _, want := range []string{"AWS::IAM::ManagedPolicy", "AWS::IAM::User", "AWS::IAM::AccessKey", "AWS::SecretsManager::Secret"} {
			if !types[want] {
				t.Errorf("%s: no %s", name, want)
			}
		}
		if got := tmpl.Outputs["Bucket"].Value; got != cfg.Bucket {
			t.Errorf("%s: output Bucket is %v, want %s", name, got, cfg.Bucket)
		}
		readme := fileOf(files, "README.md")
		for _, want := range []string{"bucket `" + cfg.Bucket + "` was there before byob", "no `AWS::S3::Bucket` or `AWS::S3::BucketPolicy`",
			"deleting the stack would remove them", `"aws:SecureTransport": "false"`} {
			if !strings.Contains(readme, want) {
				t.Errorf("%s: the README lacks %q:\n%s", name, want, readme)
			}
		}
	}
}

// TestRawDocuments: json writes the plan's documents one file each and the
// SQL; sql only the SQL.
func TestRawDocuments(t *testing.T) {
	for _, format := range []string{"json", "sql"} {
		files, err := Render(format, config(t, "s3-snowflake"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			golden(t, filepath.Join(format, "s3-snowflake", f.Path), f.Content)
			if strings.HasSuffix(f.Path, ".json") && !json.Valid([]byte(f.Content)) {
				t.Errorf("%s is not JSON", f.Path)
			}
		}
	}
	if _, err := Render("sql", config(t, "s3"), Options{}); err == nil {
		t.Error("sql without a warehouse must be refused")
	}
}

// TestWriteRefusesToOverwrite: files already there stop the write before
// anything is written, unless forced; files are 0644.
func TestWriteRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	files := []File{{"a.tf", "x"}, {"b.tf", "y"}}
	os.WriteFile(filepath.Join(dir, "b.tf"), []byte("mine"), 0o644)
	if err := Write(dir, files, false); err == nil || !strings.Contains(err.Error(), "b.tf") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.tf")); err == nil {
		t.Error("a.tf was written though the write was refused")
	}
	if err := Write(dir, files, true); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "a.tf")); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
}
