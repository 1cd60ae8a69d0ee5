// Command tfschema regenerates render/testdata/providers-schema.json: the
// schemas of the Terraform resources byob's rendered modules use, from
// the providers themselves, at the versions the modules pin.
//
//   - hashicorp/aws and snowflakedb/snowflake: `terraform providers schema
//     -json` of the real providers (render/tftest installs them);
//   - hashicorp/google, which cannot be built here: the jsii assembly of
//     @cdktf/provider-google, which cdktf generated from that provider's
//     schema at the same version (npm pack; the package says which).
//
// Run from the repository root: go run ./scripts/tfschema
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/growthloop/byob/providers"
	_ "github.com/growthloop/byob/providers/all"
	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/snowflakestage"
	"github.com/growthloop/byob/render"
	"github.com/growthloop/byob/render/tftest"
)

// cdktfGoogle is the @cdktf/provider-google release generated from
// hashicorp/google 6.50.0.
const cdktfGoogle = "@cdktf/provider-google@16.12.1"

const out = "render/testdata/providers-schema.json"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tfschema:", err)
		os.Exit(1)
	}
}

// Schemas are `terraform providers schema -json`'s shape, with only the
// types the modules use.
type Schemas struct {
	FormatVersion   string                     `json:"format_version"`
	ProviderSchemas map[string]*ProviderSchema `json:"provider_schemas"`
}

type ProviderSchema struct {
	Provider          json.RawMessage            `json:"provider"`
	ResourceSchemas   map[string]json.RawMessage `json:"resource_schemas"`
	DataSourceSchemas map[string]json.RawMessage `json:"data_source_schemas,omitempty"`
}

func run() error {
	resources, data, err := usedTypes()
	if err != nil {
		return err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return err
	}
	tf, err := tftest.Setup("render/tftest", filepath.Join(cache, "byob", "terraform-providers"))
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "tfschema")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	versions := `terraform {
  required_providers {
    aws       = { source = "hashicorp/aws", version = "` + tftest.AWS.Version + `" }
    snowflake = { source = "snowflakedb/snowflake", version = "` + tftest.Snowflake.Version + `" }
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "versions.tf"), []byte(versions), 0o644); err != nil {
		return err
	}
	if _, err := tf.Run(dir, nil, "init", "-backend=false", "-input=false"); err != nil {
		return err
	}
	raw, err := tf.Run(dir, nil, "providers", "schema", "-json")
	if err != nil {
		return err
	}
	var all Schemas
	if err := json.Unmarshal([]byte(raw), &all); err != nil {
		return err
	}
	kept := Schemas{FormatVersion: all.FormatVersion, ProviderSchemas: map[string]*ProviderSchema{}}
	for src, ps := range all.ProviderSchemas {
		k := &ProviderSchema{Provider: ps.Provider, ResourceSchemas: map[string]json.RawMessage{}, DataSourceSchemas: map[string]json.RawMessage{}}
		for typ, s := range ps.ResourceSchemas {
			if resources[typ] {
				k.ResourceSchemas[typ] = s
			}
		}
		for typ, s := range ps.DataSourceSchemas {
			if data[typ] {
				k.DataSourceSchemas[typ] = s
			}
		}
		kept.ProviderSchemas[src] = k
	}
	google, err := googleSchemas(resources, data)
	if err != nil {
		return err
	}
	kept.ProviderSchemas[tftest.Google.Source] = google
	b, err := json.MarshalIndent(kept, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, append(b, '\n'), 0o644)
}

// usedTypes are the resource and data source types of the modules byob
// renders, S3 and GCS with Snowflake, on a new bucket and on one byob
// adopted.
func usedTypes() (resources, data map[string]bool, err error) {
	resources, data = map[string]bool{}, map[string]bool{}
	s3, gcs := providers.Config{Provider: "s3", Bucket: "schema-exports"}.With(s3bucket.Settings{Region: "us-east-1"}),
		providers.Config{Provider: "gcs", Bucket: "schema-exports"}.With(gcsbucket.Settings{Project: "schema-project", Location: "US"})
	adopted := providers.NewValues(map[string]string{providers.AdoptedKey(s3bucket.StepBucket).Name: "true", providers.AdoptedKey(gcsbucket.StepBucket).Name: "true"})
	for _, r := range []struct {
		cfg providers.Config
		o   render.Options
	}{{s3, render.Options{}}, {gcs, render.Options{}}, {s3, render.Options{Known: adopted}}, {gcs, render.Options{Known: adopted}}} {
		cfg := r.cfg
		cfg.Warehouse, cfg.OrgID = "snowflake", "1"
		cfg = cfg.With(snowflakestage.Settings{Database: "DB", GrowthLoopRole: "ROLE"})
		providers.Defaults(&cfg, providers.Env{})
		files, err := render.Render("terraform", cfg, r.o)
		if err != nil {
			return nil, nil, err
		}
		for _, f := range files {
			if !strings.HasSuffix(f.Path, ".tf") {
				continue
			}
			file, diags := hclsyntax.ParseConfig([]byte(f.Content), f.Path, hcl.InitialPos)
			if diags.HasErrors() {
				return nil, nil, diags
			}
			for _, blk := range file.Body.(*hclsyntax.Body).Blocks {
				switch blk.Type {
				case "resource":
					resources[blk.Labels[0]] = true
				case "data":
					data[blk.Labels[0]] = true
				}
			}
		}
	}
	return resources, data, nil
}

// The jsii assembly's parts that hold a provider schema.
type jsiiType struct {
	Kind       string         `json:"kind"`
	Docs       map[string]any `json:"docs"`
	Properties []jsiiProperty `json:"properties"`
}

type jsiiProperty struct {
	Name     string          `json:"name"`
	Optional bool            `json:"optional"`
	Static   bool            `json:"static"`
	Docs     map[string]any  `json:"docs"`
	Type     json.RawMessage `json:"type"`
}

// anchor is a property's Terraform name, from its link to the registry.
var anchor = regexp.MustCompile(`/docs(?:/(?:resources|data-sources)/[a-z0-9_]+)?#([a-z0-9_]+) `)

// googleSchemas converts the cdktf package's config structs of the
// google_ resources and data sources used into schema blocks: each
// property is an attribute (optional or required), or a nested block when
// its type is another struct.
func googleSchemas(resources, data map[string]bool) (*ProviderSchema, error) {
	dir, err := os.MkdirTemp("", "cdktf")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command("npm", "pack", "--silent", cdktfGoogle)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("npm pack %s: %v\n%s", cdktfGoogle, err, b)
	}
	tgz, _ := filepath.Glob(filepath.Join(dir, "*.tgz"))
	if len(tgz) != 1 {
		return nil, fmt.Errorf("npm pack %s wrote %v", cdktfGoogle, tgz)
	}
	if b, err := exec.Command("tar", "-xzf", tgz[0], "-C", dir, "package/.jsii", "package/package.json").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("unpack: %v\n%s", err, b)
	}
	var pkg struct {
		Cdktf struct {
			Provider struct{ Name, Version string }
		}
	}
	if err := readJSON(filepath.Join(dir, "package", "package.json"), &pkg); err != nil {
		return nil, err
	}
	if pkg.Cdktf.Provider.Version != tftest.Google.Version {
		return nil, fmt.Errorf("%s was generated from hashicorp/google %s, not %s", cdktfGoogle, pkg.Cdktf.Provider.Version, tftest.Google.Version)
	}
	var asm struct {
		Types map[string]jsiiType `json:"types"`
	}
	if err := readJSON(filepath.Join(dir, "package", ".jsii"), &asm); err != nil {
		return nil, err
	}
	ps := &ProviderSchema{ResourceSchemas: map[string]json.RawMessage{}, DataSourceSchemas: map[string]json.RawMessage{}}
	block := func(fqn string) (map[string]any, error) { return jsiiBlock(asm.Types, fqn) }
	p, err := block("@cdktf/provider-google.provider.GoogleProviderConfig")
	if err != nil {
		return nil, err
	}
	ps.Provider, _ = json.Marshal(map[string]any{"version": 0, "block": p})
	// cdktf names google_storage_bucket's config
	// storageBucket.StorageBucketConfig, its data source's
	// dataGoogleStorageBucket.DataGoogleStorageBucketConfig.
	add := func(types map[string]bool, into map[string]json.RawMessage, name func(typ string) string) error {
		for typ := range types {
			if !strings.HasPrefix(typ, "google_") {
				continue
			}
			n := name(typ)
			class := "@cdktf/provider-google." + camel(n, false) + "." + camel(n, true)
			b, err := block(class + "Config")
			if err != nil {
				return fmt.Errorf("%s: %w", typ, err)
			}
			computed(asm.Types[class], b)
			into[typ], _ = json.Marshal(map[string]any{"version": 0, "block": b})
		}
		return nil
	}
	if err := add(resources, ps.ResourceSchemas, func(typ string) string { return strings.TrimPrefix(typ, "google_") }); err != nil {
		return nil, err
	}
	if err := add(data, ps.DataSourceSchemas, func(typ string) string { return "data_" + typ }); err != nil {
		return nil, err
	}
	return ps, nil
}

// computed adds to block the attributes the resource or data source's
// class has that its config has not: the computed ones, which the module
// may read but not set. The class has a property for each attribute
// (storageBucket's selfLink), besides static ones and an fooInput for
// each it may set.
func computed(class jsiiType, block map[string]any) {
	attrs := block["attributes"].(map[string]any)
	blocks, _ := block["block_types"].(map[string]any)
	for _, p := range class.Properties {
		name := snake(p.Name)
		if _, set := attrs[name]; set || p.Static || strings.HasSuffix(p.Name, "Input") || blocks[name] != nil {
			continue
		}
		attrs[name] = map[string]any{"computed": true}
	}
}

// snake is selfLink as self_link.
func snake(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsUpper(r) {
			b.WriteByte('_')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// jsiiBlock is struct fqn as a schema block.
func jsiiBlock(types map[string]jsiiType, fqn string) (map[string]any, error) {
	t, ok := types[fqn]
	if !ok {
		return nil, fmt.Errorf("no type %s in the jsii assembly", fqn)
	}
	attrs, blocks := map[string]any{}, map[string]any{}
	for _, p := range t.Properties {
		remarks, _ := p.Docs["remarks"].(string)
		summary, _ := p.Docs["summary"].(string)
		m := anchor.FindStringSubmatch(remarks + " " + summary)
		if m == nil {
			return nil, fmt.Errorf("%s.%s: no registry link to name it", fqn, p.Name)
		}
		if nested := structOf(types, p.Type); nested != "" {
			b, err := jsiiBlock(types, nested)
			if err != nil {
				return nil, err
			}
			bt := map[string]any{"nesting_mode": "list", "block": b}
			if !p.Optional {
				bt["min_items"] = 1
			}
			blocks[m[1]] = bt
			continue
		}
		a := map[string]any{"optional": true}
		if !p.Optional {
			a = map[string]any{"required": true}
		}
		attrs[m[1]] = a
	}
	out := map[string]any{"attributes": attrs}
	if len(blocks) > 0 {
		out["block_types"] = blocks
	}
	return out, nil
}

// structOf is the struct a property's type is, alone or in a list, or "".
func structOf(types map[string]jsiiType, raw json.RawMessage) string {
	var ty struct {
		FQN        string `json:"fqn"`
		Collection *struct {
			ElementType json.RawMessage `json:"elementtype"`
		} `json:"collection"`
		Union *struct {
			Types []json.RawMessage `json:"types"`
		} `json:"union"`
	}
	if json.Unmarshal(raw, &ty) != nil {
		return ""
	}
	switch {
	case ty.FQN != "":
		if t, ok := types[ty.FQN]; ok && t.Kind == "interface" && strings.HasPrefix(ty.FQN, "@cdktf/provider-google.") {
			return ty.FQN
		}
	case ty.Collection != nil:
		return structOf(types, ty.Collection.ElementType)
	case ty.Union != nil:
		for _, u := range ty.Union.Types {
			if s := structOf(types, u); s != "" {
				return s
			}
		}
	}
	return ""
}

// camel is storage_bucket as storageBucket, or StorageBucket.
func camel(s string, upper bool) string {
	parts := strings.Split(s, "_")
	for i, p := range parts {
		if (i > 0 || upper) && p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
