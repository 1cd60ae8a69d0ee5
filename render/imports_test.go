package render

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/wizard"
)

// imports are a module's import blocks: the import ID by resource
// address.
func imports(t *testing.T, files []File) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range files {
		if f.Path != "imports.tf" {
			continue
		}
		file, diags := hclsyntax.ParseConfig([]byte(f.Content), f.Path, hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		for _, blk := range file.Body.(*hclsyntax.Body).Blocks {
			trav, diags := hcl.AbsTraversalForExpr(blk.Body.Attributes["to"].Expr)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			to := trav.RootName() + "." + trav[1].(hcl.TraverseAttr).Name
			id, _ := blk.Body.Attributes["id"].Expr.Value(nil)
			out[to] = id.AsString()
		}
	}
	return out
}

// TestImportIDsAreTheProvidersDocumentedFormats: a setup byob made is
// imported resource by resource, with the IDs in the formats each
// provider's docs give (the comments on the *ImportID functions of
// providers/s3bucket, providers/gcsbucket and providers/snowflakestage cite them), and
// only what the state file records as made.
func TestImportIDsAreTheProvidersDocumentedFormats(t *testing.T) {
	policy := "arn:aws:iam::111122223333:policy/"
	want := map[string]map[string]string{
		"s3": {
			// hashicorp/aws 5.100.0: bucket and its settings by name,
			"aws_s3_bucket.exports":                                      "acme-growthloop-exports",
			"aws_s3_bucket_public_access_block.exports":                  "acme-growthloop-exports",
			"aws_s3_bucket_server_side_encryption_configuration.exports": "acme-growthloop-exports",
			"aws_s3_bucket_policy.exports":                               "acme-growthloop-exports",
			"aws_s3_bucket_ownership_controls.exports":                   "acme-growthloop-exports",
			"aws_s3_bucket_lifecycle_configuration.exports":              "acme-growthloop-exports",
			// a policy by ARN, a user by name, "user/policy-arn", a key by id.
			"aws_iam_policy.growthloop":                 policy + "acme-byob-access",
			"aws_iam_user.growthloop":                   "acme-byob-exporter",
			"aws_iam_user_policy_attachment.growthloop": "acme-byob-exporter/" + policy + "acme-byob-access",
			"aws_iam_access_key.growthloop":             "AKIAIOSFODNN7EXAMPLE",
		},
		"s3-snowflake": {
			"aws_iam_policy.snowflake":                 policy + "growthloop-byob-snowflake-access",
			"aws_iam_role.snowflake":                   "growthloop-byob-snowflake",
			"aws_iam_role_policy_attachment.snowflake": "growthloop-byob-snowflake/" + policy + "growthloop-byob-snowflake-access",
			// snowflakedb/snowflake 1.2.3: an integration by name, a stage
			// as "db|schema|stage", a grant as
			// role|with_grant_option|always_apply|privileges|type|data.
			"snowflake_storage_integration.this":                              "FLYWHEEL_APP_AWS",
			"snowflake_stage.exports":                                         "ANALYTICS|FLYWHEEL_SYSTEM|FLYWHEEL_EXTERNAL_STAGE",
			"snowflake_grant_privileges_to_account_role.usage_on_integration": `"GROWTHLOOP"|false|false|USAGE|OnAccountObject|INTEGRATION|"FLYWHEEL_APP_AWS"`,
			"snowflake_grant_privileges_to_account_role.usage_on_database":    `"GROWTHLOOP"|false|false|USAGE|OnAccountObject|DATABASE|"ANALYTICS"`,
			"snowflake_grant_privileges_to_account_role.usage_on_schema":      `"GROWTHLOOP"|false|false|USAGE|OnSchema|OnSchema|"ANALYTICS"."FLYWHEEL_SYSTEM"`,
			"snowflake_grant_privileges_to_account_role.usage_on_stage":       `"GROWTHLOOP"|false|false|USAGE|OnSchemaObject|OnObject|STAGE|"ANALYTICS"."FLYWHEEL_SYSTEM"."FLYWHEEL_EXTERNAL_STAGE"`,
		},
		"gcs-snowflake": {
			// hashicorp/google 6.50.0: "project/bucket",
			// "projects/P/roles/ID", "projects/P/serviceAccounts/EMAIL",
			// "b/BUCKET ROLE MEMBER"; the key cannot be imported.
			"google_storage_bucket.exports":              "acme-data/acme-growthloop-exports",
			"google_project_iam_custom_role.writer":      "projects/acme-data/roles/growthloop_byob_writer",
			"google_project_iam_custom_role.snowflake":   "projects/acme-data/roles/growthloop_byob_snowflake",
			"google_service_account.growthloop":          "projects/acme-data/serviceAccounts/growthloop-byob@acme-data.iam.gserviceaccount.com",
			"google_storage_bucket_iam_member.writer":    "b/acme-growthloop-exports projects/acme-data/roles/growthloop_byob_writer serviceAccount:growthloop-byob@acme-data.iam.gserviceaccount.com",
			"google_storage_bucket_iam_member.snowflake": "b/acme-growthloop-exports projects/acme-data/roles/growthloop_byob_snowflake serviceAccount:abc123@gcpuscentral1-1dfa.iam.gserviceaccount.com",
			"snowflake_stage.exports":                    "ANALYTICS|FLYWHEEL_SYSTEM|FLYWHEEL_EXTERNAL_STAGE",
		},
	}
	for name, ids := range want {
		cfg := config(t, name)
		files, err := Render("terraform", cfg, madeSetup(t, cfg))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if f.Path == "imports.tf" || f.Path == "README.md" {
				golden(t, filepath.Join("terraform-import", name, f.Path), f.Content)
			}
		}
		got := imports(t, files)
		for addr, id := range ids {
			if got[addr] != id {
				t.Errorf("%s: import %s id %q, want %q", name, addr, got[addr], id)
			}
		}
		// Every resource of the module but an unimportable key is imported.
		for addr := range resourcesOf(t, files) {
			if _, ok := got[addr]; !ok && addr != "google_service_account_key.growthloop" {
				t.Errorf("%s: %s is not imported", name, addr)
			}
		}
		readme := fileOf(files, "README.md")
		if !strings.Contains(readme, "to import, 0 to add, 0 to change, 0 to destroy") {
			t.Errorf("%s: the README does not say what plan shows:\n%s", name, readme)
		}
		if strings.HasPrefix(name, "gcs") && !strings.Contains(readme, "google_service_account_key does not support import") {
			t.Errorf("%s: the README does not name the key as not imported", name)
		}
		if strings.HasPrefix(name, "s3") && !strings.Contains(readme, "no secret in the Terraform state") {
			t.Errorf("%s: the README does not say the imported key has no secret", name)
		}
	}
}

func resourcesOf(t *testing.T, files []File) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	file, diags := hclsyntax.ParseConfig([]byte(fileOf(files, "main.tf")), "main.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for _, blk := range file.Body.(*hclsyntax.Body).Blocks {
		if blk.Type == "resource" {
			out[blk.Labels[0]+"."+blk.Labels[1]] = true
		}
	}
	return out
}

func fileOf(files []File, path string) string {
	for _, f := range files {
		if f.Path == path {
			return f.Content
		}
	}
	return ""
}

// TestImportsOnlyWhatExists: a step the state does not record as done is
// not imported, a key without a recorded id is named in the README, and a
// state recorded as destroyed imports nothing and says so.
func TestImportsOnlyWhatExists(t *testing.T) {
	cfg := config(t, "s3-snowflake")
	o := madeSetup(t, cfg)
	o.State.Steps["iam-role"] = wizard.StepState{Status: wizard.StepFailed}
	delete(o.State.Steps, "snowflake-stage")
	o.Known.Delete(s3bucket.AccessKeyID)
	files, err := Render("terraform", cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	got := imports(t, files)
	for _, addr := range []string{"aws_iam_role.snowflake", "snowflake_stage.exports", "aws_iam_access_key.growthloop"} {
		if _, ok := got[addr]; ok {
			t.Errorf("%s is imported", addr)
		}
	}
	if _, ok := got["aws_iam_user.growthloop"]; !ok {
		t.Error("the user is not imported")
	}
	if readme := fileOf(files, "README.md"); !strings.Contains(readme, "`aws_iam_access_key.growthloop`: the state file records no access key id") {
		t.Errorf("README:\n%s", readme)
	}

	o = madeSetup(t, cfg)
	o.State.Destroyed = &wizard.Destroyed{At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	files, err = Render("terraform", cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(imports(t, files)) != 0 || slices.ContainsFunc(files, func(f File) bool { return f.Path == "imports.tf" }) {
		t.Error("a destroyed setup is imported")
	}
	if readme := fileOf(files, "README.md"); !strings.Contains(readme, "records a `byob destroy` that finished (2026-01-02T03:04:05Z): there is nothing to import") {
		t.Errorf("README:\n%s", readme)
	}

	// Another setup's state file is refused, not imported.
	other := madeSetup(t, cfg)
	other.State.Inputs = wizard.InputsOf(wizard.Config{Provider: "s3", Bucket: "someone-elses", Name: cfg.Name})
	if _, err := Render("terraform", cfg, other); err == nil || !strings.Contains(err.Error(), "someone-elses") {
		t.Errorf("another setup's state: %v", err)
	}
}

// TestRenderingIsReproducible: two renders of the same inputs are the
// same files in every format, new or from a state file; a new setup's
// external ID is one placeholder in the trust and the SQL and a
// parameter without a default in CloudFormation, and a setup's own is used
// everywhere.
func TestRenderingIsReproducible(t *testing.T) {
	for _, format := range Formats {
		for _, name := range slices.Sorted(maps.Keys(setups)) {
			cfg := config(t, name)
			for _, made := range []bool{false, true} {
				o := func() Options {
					if made {
						return madeSetup(t, cfg)
					}
					return Options{}
				}
				a, errA := Render(format, cfg, o())
				b, errB := Render(format, cfg, o())
				if (errA == nil) != (errB == nil) || !slices.Equal(a, b) {
					t.Errorf("%s %s (from a state: %v): two renders differ", format, name, made)
				}
			}
		}
	}
	cfg := config(t, "s3-snowflake")
	for _, format := range []string{"json", "sql", "cloudformation"} {
		fresh, _ := Render(format, cfg, Options{})
		made, _ := Render(format, cfg, madeSetup(t, cfg))
		for _, path := range []string{"trust-policy.json", "snowflake.sql"} {
			if f := fileOf(fresh, path); f != "" && !strings.Contains(f, "<external-id>") {
				t.Errorf("%s %s has no <external-id>:\n%s", format, path, f)
			}
			if f := fileOf(made, path); f != "" && !strings.Contains(f, "byob-"+strings.Repeat("ab", 20)) {
				t.Errorf("%s %s from the state has not its external ID:\n%s", format, path, f)
			}
		}
		if format == "cloudformation" {
			if tmpl := fileOf(fresh, "template.json"); !strings.Contains(tmpl, `"ExternalId": {`) || strings.Contains(tmpl, `"Default": "byob-`) {
				t.Errorf("a new setup's template:\n%s", tmpl)
			}
			if tmpl := fileOf(made, "template.json"); !strings.Contains(tmpl, `"Default": "byob-`+strings.Repeat("ab", 20)+`"`) {
				t.Errorf("the setup's template has not its external ID as the default:\n%s", tmpl)
			}
		}
	}
}

// blocksOf are the blocks of a type ("data") in a module's main.tf, by
// address ("aws_s3_bucket.exports"), with their literal attributes.
func blocksOf(t *testing.T, files []File, typ string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	file, diags := hclsyntax.ParseConfig([]byte(fileOf(files, "main.tf")), "main.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for _, blk := range file.Body.(*hclsyntax.Body).Blocks {
		if blk.Type != typ {
			continue
		}
		attrs := map[string]string{}
		for name, a := range blk.Body.Attributes {
			if v, diags := a.Expr.Value(nil); !diags.HasErrors() && v.Type() == cty.String {
				attrs[name] = v.AsString()
			} else {
				attrs[name] = string(a.Expr.Range().SliceBytes([]byte(fileOf(files, "main.tf"))))
			}
		}
		out[blk.Labels[0]+"."+blk.Labels[1]] = attrs
	}
	return out
}

// TestAdoptedBucketIsNeverManaged: on a setup whose bucket byob adopted,
// the module reads the bucket through a data source and has no resource
// or import for it or its settings (an aws_s3_bucket_policy would replace
// the customer's policy, a google_storage_bucket own the whole bucket,
// and terraform destroy would delete them); what byob made is still
// imported; the bucket's IAM grants are additive; and the README names
// the bucket, what is left to the customer, and the adopted objects the
// module does import.
func TestAdoptedBucketIsNeverManaged(t *testing.T) {
	bucketTypes := map[string]func(typ string) bool{
		"s3":  func(typ string) bool { return strings.HasPrefix(typ, "aws_s3_bucket") },
		"gcs": func(typ string) bool { return typ == "google_storage_bucket" },
	}
	for _, name := range slices.Sorted(maps.Keys(setups)) {
		cfg := config(t, name)
		isBucket := bucketTypes[cfg.Provider]
		files, err := Render("terraform", cfg, adoptedSetup(t, cfg))
		if err != nil {
			t.Fatal(err)
		}
		resources := resourcesOf(t, files)
		for addr := range resources {
			typ := strings.SplitN(addr, ".", 2)[0]
			if isBucket(typ) {
				t.Errorf("%s: the adopted bucket or a setting of it is a managed resource: %s", name, addr)
			}
			if strings.HasSuffix(typ, "_iam_policy") && strings.HasPrefix(typ, "google_") || strings.HasSuffix(typ, "_iam_binding") {
				t.Errorf("%s: %s replaces the customer's grants", name, addr)
			}
		}
		got := imports(t, files)
		for addr := range got {
			if isBucket(strings.SplitN(addr, ".", 2)[0]) {
				t.Errorf("%s: the adopted bucket or a setting of it is imported: %s", name, addr)
			}
		}
		for addr := range resources {
			if _, ok := got[addr]; !ok && addr != "google_service_account_key.growthloop" {
				t.Errorf("%s: %s, which the setup has, is not imported", name, addr)
			}
		}
		data := blocksOf(t, files, "data")
		switch cfg.Provider {
		case "s3":
			if data["aws_s3_bucket.exports"]["bucket"] != cfg.Bucket {
				t.Errorf("%s: no data source reads the bucket: %v", name, data)
			}
		case "gcs":
			if data["google_storage_bucket.exports"]["name"] != cfg.Bucket {
				t.Errorf("%s: no data source reads the bucket: %v", name, data)
			}
			for addr, attrs := range blocksOf(t, files, "resource") {
				if strings.HasPrefix(addr, "google_storage_bucket_iam_member.") && attrs["bucket"] != "data.google_storage_bucket.exports.name" {
					t.Errorf("%s: %s is on bucket %s", name, addr, attrs["bucket"])
				}
			}
		}
		readme := fileOf(files, "README.md")
		_, left, ok := strings.Cut(readme, "## What Terraform does not manage")
		if !ok {
			t.Errorf("%s: the README has no section on what Terraform does not manage", name)
		}
		left, _, _ = strings.Cut(left, "\n## ")
		wants := map[string][]string{
			"s3": {"bucket `" + cfg.Bucket + "`", "`byob destroy` never deletes it", "lifecycle rule byob-expire-exports", "byob made it",
				"the bucket had a policy; byob added the statement to it", `"aws:SecureTransport": "false"`, "`terraform destroy` would remove them"},
			"gcs": {"bucket `" + cfg.Bucket + "`", "`byob destroy` never deletes it", "`google_storage_bucket_iam_member`", "your own\n  bindings stay"},
		}[cfg.Provider]
		for _, want := range wants {
			if !strings.Contains(left, want) {
				t.Errorf("%s: the README's section on what Terraform does not manage lacks %q:\n%s", name, want, left)
			}
		}
		adoptedUser := map[string]string{"s3": "aws_iam_user.growthloop", "gcs": "google_service_account.growthloop"}[cfg.Provider]
		if _, taking, _ := strings.Cut(readme, "## Taking over"); !strings.Contains(taking, "were there before byob") || !strings.Contains(taking, "- `"+adoptedUser+"`") {
			t.Errorf("%s: the README does not name the adopted %s it imports:\n%s", name, adoptedUser, taking)
		}
	}
}

// TestDefaultsOfByobsBucketAreNotAdopted: S3 gives every new bucket
// SSE-S3 default encryption and Object Ownership BucketOwnerEnforced
// (docs.aws.amazon.com/AmazonS3/latest/userguide/default-bucket-encryption.html,
// .../object-ownership-new-bucket.html), so init finds those settings in
// place on the bucket it made and records them adopted; they are still
// byob's bucket's, imported like the rest and not named as adopted.
func TestDefaultsOfByobsBucketAreNotAdopted(t *testing.T) {
	cfg := config(t, "s3")
	o := madeSetup(t, cfg)
	o.Known.Set(providers.CreatedKey("s3-bucket"), "true")
	for _, step := range []string{"s3-encryption", "s3-object-ownership"} {
		o.Known.Set(providers.AdoptedKey(step), "true")
	}
	files, err := Render("terraform", cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	got := imports(t, files)
	for _, addr := range []string{"aws_s3_bucket.exports", "aws_s3_bucket_server_side_encryption_configuration.exports", "aws_s3_bucket_ownership_controls.exports"} {
		if _, ok := got[addr]; !ok {
			t.Errorf("%s is not imported", addr)
		}
	}
	if readme := fileOf(files, "README.md"); strings.Contains(readme, "before byob") {
		t.Errorf("the README names a setting of byob's bucket as adopted:\n%s", readme)
	}
}
