package render

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/growthloop/byob/providers"
	awsp "github.com/growthloop/byob/providers/aws"
	"github.com/growthloop/byob/providers/gcp"
	sfp "github.com/growthloop/byob/providers/snowflake"
	sflib "github.com/growthloop/byob/snowflake"
	"github.com/growthloop/byob/templates"
)

// The providers the module pins, by name: source and version constraint.
var tfProviders = map[string][2]string{
	"aws":       {"hashicorp/aws", "~> 5.0"},
	"google":    {"hashicorp/google", "~> 6.0"},
	"random":    {"hashicorp/random", "~> 3.6"},
	"snowflake": {"snowflakedb/snowflake", "~> 1.0"},
}

// What a Terraform module refers to for the values applying learns.
var tfRefs = map[providers.Key]string{
	providers.AWSAccountID:            "data.aws_caller_identity.current.account_id",
	providers.WarehouseUserARN:        "snowflake_storage_integration.this.storage_aws_iam_user_arn",
	providers.WarehouseServiceAccount: "snowflake_storage_integration.this.storage_gcp_service_account",
}

// tfModule is a module being written: its files' bodies.
type tfModule struct {
	m                               *Model
	versions, variables, main, outs *hclwrite.File
	uses                            map[string]bool
}

// terraform writes the plan as a Terraform module: versions.tf,
// variables.tf, main.tf, outputs.tf and a README.
func terraform(cfg providers.Config, known *providers.Values) ([]File, error) {
	if known.Get(providers.ExternalID) == "" {
		// byob's external IDs are "byob-" and 40 hex digits: random_id's.
		known = providers.NewValues(known.Map())
		known.Set(providers.ExternalID, "byob-"+ref("random_id.external_id.hex"))
	}
	m, err := build(cfg, known, tfRefs)
	if err != nil {
		return nil, err
	}
	t := &tfModule{m: m, versions: hclwrite.NewEmptyFile(), variables: hclwrite.NewEmptyFile(), main: hclwrite.NewEmptyFile(),
		outs: hclwrite.NewEmptyFile(), uses: map[string]bool{}}
	switch cfg.Provider {
	case awsp.Name:
		t.aws()
	case gcp.Name:
		t.gcs()
	}
	if m.has(sfp.StepIntegration) {
		t.snowflake()
	}
	t.output("provider", "the bucket's cloud", fmt.Sprintf("%q", cfg.Provider), false)
	t.output("prefix", "exports are written under it", fmt.Sprintf("%q", cfg.Prefix), false)
	t.output("setup_name", "byob's name of the setup (--name)", fmt.Sprintf("%q", cfg.Name), false)
	if cfg.OrgID != "" {
		t.output("org_id", "GrowthLoop organisation id", fmt.Sprintf("%q", cfg.OrgID), false)
	}
	t.versionsFile()
	files := []File{
		{"versions.tf", string(hclwrite.Format(t.versions.Bytes()))},
		{"variables.tf", string(hclwrite.Format(t.variables.Bytes()))},
		{"main.tf", string(hclwrite.Format(t.main.Bytes()))},
		{"outputs.tf", string(hclwrite.Format(t.outs.Bytes()))},
		{"README.md", terraformReadme(cfg, m)},
	}
	return files, nil
}

func (t *tfModule) versionsFile() {
	tf := t.versions.Body().AppendNewBlock("terraform", nil).Body()
	tf.SetAttributeValue("required_version", cty.StringVal(">= 1.5"))
	req := tf.AppendNewBlock("required_providers", nil).Body()
	names := make([]string, 0, len(t.uses))
	for n := range t.uses {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := tfProviders[n]
		req.SetAttributeValue(n, cty.ObjectVal(map[string]cty.Value{"source": cty.StringVal(p[0]), "version": cty.StringVal(p[1])}))
	}
}

// resource appends a resource block to main.tf.
func (t *tfModule) resource(typ, name string) *hclwrite.Body {
	t.uses[strings.SplitN(typ, "_", 2)[0]] = true
	t.main.Body().AppendNewline()
	return t.main.Body().AppendNewBlock("resource", []string{typ, name}).Body()
}

// output appends an output.
func (t *tfModule) output(name, description, expr string, sensitive bool) {
	b := t.outs.Body().AppendNewBlock("output", []string{name}).Body()
	b.SetAttributeValue("description", cty.StringVal(description))
	b.SetAttributeRaw("value", tfExpr(expr))
	if sensitive {
		b.SetAttributeValue("sensitive", cty.True)
	}
	t.outs.Body().AppendNewline()
}

// tfExpr is an expression as tokens ("aws_iam_user.growthloop.name").
func tfExpr(expr string) hclwrite.Tokens {
	return hclwrite.Tokens{{Type: hclsyntax.TokenIdent, Bytes: []byte(expr)}}
}

// tfEscape escapes literal text for a quoted string or heredoc template.
func tfEscape(s string, quoted bool) string {
	if quoted {
		s = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
	}
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(s)
}

// tfTemplate is s as a template: its literal text escaped, its references
// interpolated.
func tfTemplate(s string, quoted bool) string {
	var b strings.Builder
	for i, part := range refs(s) {
		if i%2 == 1 {
			b.WriteString("${" + part + "}")
		} else {
			b.WriteString(tfEscape(part, quoted))
		}
	}
	return b.String()
}

// tfString is s as a quoted string, references interpolated.
func tfString(s string) hclwrite.Tokens {
	if !hasRef(s) {
		return hclwrite.TokensForValue(cty.StringVal(s))
	}
	return hclwrite.Tokens{
		{Type: hclsyntax.TokenOQuote, Bytes: []byte(`"`)},
		{Type: hclsyntax.TokenQuotedLit, Bytes: []byte(tfTemplate(s, true))},
		{Type: hclsyntax.TokenCQuote, Bytes: []byte(`"`)},
	}
}

// tfDocument is a JSON document, exactly as the plan has it, as a heredoc.
func tfDocument(doc string) hclwrite.Tokens {
	return hclwrite.Tokens{
		{Type: hclsyntax.TokenOHeredoc, Bytes: []byte("<<-EOT\n")},
		{Type: hclsyntax.TokenStringLit, Bytes: []byte(tfTemplate(doc, false) + "\n")},
		{Type: hclsyntax.TokenCHeredoc, Bytes: []byte("EOT")},
	}
}

// tfStrings is a list of strings.
func tfStrings(ss []string) cty.Value {
	vals := make([]cty.Value, len(ss))
	for i, s := range ss {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}

// document is step id's JSON document, as the plan shows it.
func (m *Model) document(id string) string {
	for _, a := range m.Artifacts[id] {
		if a.Format == providers.FormatJSON {
			return a.Content
		}
	}
	return ""
}

func (t *tfModule) aws() {
	m, c := t.m, t.m.Config
	names := awsp.NamesOf(&c)
	v := t.variables.Body().AppendNewBlock("variable", []string{"region"}).Body()
	v.SetAttributeRaw("type", tfExpr("string"))
	v.SetAttributeValue("description", cty.StringVal("AWS region of the bucket"))
	v.SetAttributeValue("default", cty.StringVal(c.Region))
	t.uses["aws"] = true
	t.main.Body().AppendNewBlock("provider", []string{"aws"}).Body().SetAttributeTraversal("region", traversal("var.region"))
	t.main.Body().AppendNewline()
	t.main.Body().AppendNewBlock("data", []string{"aws_caller_identity", "current"})

	bucket := t.resource("aws_s3_bucket", "exports")
	bucket.SetAttributeValue("bucket", cty.StringVal(c.Bucket))
	bucketID := traversal("aws_s3_bucket.exports.id")
	if pab, ok := value[templates.PublicAccessBlock](m, awsp.StepPublicAccessBlock); ok {
		b := t.resource("aws_s3_bucket_public_access_block", "exports")
		b.SetAttributeTraversal("bucket", bucketID)
		b.SetAttributeValue("block_public_acls", cty.BoolVal(pab.BlockPublicAcls))
		b.SetAttributeValue("ignore_public_acls", cty.BoolVal(pab.IgnorePublicAcls))
		b.SetAttributeValue("block_public_policy", cty.BoolVal(pab.BlockPublicPolicy))
		b.SetAttributeValue("restrict_public_buckets", cty.BoolVal(pab.RestrictPublicBuckets))
	}
	if enc, ok := value[templates.Encryption](m, awsp.StepEncryption); ok {
		b := t.resource("aws_s3_bucket_server_side_encryption_configuration", "exports")
		b.SetAttributeTraversal("bucket", bucketID)
		for _, r := range enc.Rules {
			b.AppendNewBlock("rule", nil).Body().AppendNewBlock("apply_server_side_encryption_by_default", nil).Body().
				SetAttributeValue("sse_algorithm", cty.StringVal(r.ApplyServerSideEncryptionByDefault.SSEAlgorithm))
		}
	}
	if doc := m.document(awsp.StepBucketPolicy); doc != "" {
		b := t.resource("aws_s3_bucket_policy", "exports")
		b.SetAttributeTraversal("bucket", bucketID)
		b.SetAttributeRaw("policy", tfDocument(doc))
	}
	if own, ok := value[map[string]any](m, awsp.StepObjectOwnership); ok {
		b := t.resource("aws_s3_bucket_ownership_controls", "exports")
		b.SetAttributeTraversal("bucket", bucketID)
		for _, r := range own["Rules"].([]map[string]string) {
			b.AppendNewBlock("rule", nil).Body().SetAttributeValue("object_ownership", cty.StringVal(r["ObjectOwnership"]))
		}
	}
	if lc, ok := value[templates.Lifecycle](m, awsp.StepLifecycle); ok {
		b := t.resource("aws_s3_bucket_lifecycle_configuration", "exports")
		b.SetAttributeTraversal("bucket", bucketID)
		for _, r := range lc.Rules {
			rule := b.AppendNewBlock("rule", nil).Body()
			rule.SetAttributeValue("id", cty.StringVal(r.ID))
			rule.SetAttributeValue("status", cty.StringVal(r.Status))
			rule.AppendNewBlock("filter", nil).Body().SetAttributeValue("prefix", cty.StringVal(r.Filter.Prefix))
			rule.AppendNewBlock("expiration", nil).Body().SetAttributeValue("days", cty.NumberIntVal(int64(r.Expiration.Days)))
			rule.AppendNewBlock("noncurrent_version_expiration", nil).Body().SetAttributeValue("noncurrent_days", cty.NumberIntVal(int64(r.NoncurrentVersionExpiration.NoncurrentDays)))
			rule.AppendNewBlock("abort_incomplete_multipart_upload", nil).Body().SetAttributeValue("days_after_initiation", cty.NumberIntVal(int64(r.AbortIncompleteMultipartUpload.DaysAfterInitiation)))
		}
	}
	policy := func(name, step, policyName string) {
		b := t.resource("aws_iam_policy", name)
		b.SetAttributeValue("name", cty.StringVal(policyName))
		b.SetAttributeRaw("policy", tfDocument(m.document(step)))
	}
	policy("growthloop", awsp.StepPolicy, names.Policy)
	if m.has(awsp.StepRole) {
		policy("snowflake", awsp.StepSnowflakePolicy, names.SnowflakePolicy)
		role := t.resource("aws_iam_role", "snowflake")
		role.SetAttributeValue("name", cty.StringVal(names.Role))
		role.SetAttributeRaw("assume_role_policy", tfDocument(m.document(awsp.StepRole)))
		att := t.resource("aws_iam_role_policy_attachment", "snowflake")
		att.SetAttributeTraversal("role", traversal("aws_iam_role.snowflake.name"))
		att.SetAttributeTraversal("policy_arn", traversal("aws_iam_policy.snowflake.arn"))
		t.output("role_arn", "the role Snowflake assumes", "aws_iam_role.snowflake.arn", false)
	}
	user := t.resource("aws_iam_user", "growthloop")
	user.SetAttributeValue("name", cty.StringVal(names.User))
	att := t.resource("aws_iam_user_policy_attachment", "growthloop")
	att.SetAttributeTraversal("user", traversal("aws_iam_user.growthloop.name"))
	att.SetAttributeTraversal("policy_arn", traversal("aws_iam_policy.growthloop.arn"))
	key := t.resource("aws_iam_access_key", "growthloop")
	key.SetAttributeTraversal("user", traversal("aws_iam_user.growthloop.name"))

	t.output("bucket", "the export bucket", "aws_s3_bucket.exports.id", false)
	t.output("region", "the bucket's region", "var.region", false)
	t.output("aws_access_key_id", "GrowthLoop's access key id", "aws_iam_access_key.growthloop.id", false)
	t.output("aws_secret_access_key", "GrowthLoop's secret access key: in the Terraform state too", "aws_iam_access_key.growthloop.secret", true)
}

func (t *tfModule) gcs() {
	m, c := t.m, t.m.Config
	v := t.variables.Body().AppendNewBlock("variable", []string{"project"}).Body()
	v.SetAttributeRaw("type", tfExpr("string"))
	v.SetAttributeValue("description", cty.StringVal("Google Cloud project of the bucket"))
	v.SetAttributeValue("default", cty.StringVal(c.GCPProject))
	t.uses["google"] = true
	t.main.Body().AppendNewBlock("provider", []string{"google"}).Body().SetAttributeTraversal("project", traversal("var.project"))

	if want, ok := value[templates.GCSBucket](m, gcp.StepBucket); ok {
		b := t.resource("google_storage_bucket", "exports")
		b.SetAttributeValue("name", cty.StringVal(want.Name))
		b.SetAttributeRaw("location", tfString(want.Location))
		b.SetAttributeValue("uniform_bucket_level_access", cty.BoolVal(want.IAMConfiguration.UniformBucketLevelAccess.Enabled))
		b.SetAttributeValue("public_access_prevention", cty.StringVal(want.IAMConfiguration.PublicAccessPrevention))
		for _, r := range want.Lifecycle.Rule {
			rule := b.AppendNewBlock("lifecycle_rule", nil).Body()
			cond := rule.AppendNewBlock("condition", nil).Body()
			if r.Condition.Age > 0 {
				cond.SetAttributeValue("age", cty.NumberIntVal(int64(r.Condition.Age)))
			}
			if r.Condition.DaysSinceNoncurrentTime > 0 {
				cond.SetAttributeValue("days_since_noncurrent_time", cty.NumberIntVal(int64(r.Condition.DaysSinceNoncurrentTime)))
			}
			cond.SetAttributeValue("matches_prefix", tfStrings(r.Condition.MatchesPrefix))
			rule.AppendNewBlock("action", nil).Body().SetAttributeValue("type", cty.StringVal(r.Action.Type))
		}
	}
	role := func(name, step string) {
		r, ok := value[templates.GCPRole](m, step)
		if !ok {
			return
		}
		b := t.resource("google_project_iam_custom_role", name)
		b.SetAttributeTraversal("project", traversal("var.project"))
		b.SetAttributeValue("role_id", cty.StringVal(r.RoleID))
		b.SetAttributeValue("title", cty.StringVal(r.Role.Title))
		b.SetAttributeValue("description", cty.StringVal(r.Role.Description))
		b.SetAttributeValue("permissions", tfStrings(r.Role.IncludedPermissions))
		b.SetAttributeValue("stage", cty.StringVal(r.Role.Stage))
	}
	role("writer", gcp.StepWriterRole)
	if sa, ok := value[templates.GCPServiceAccount](m, gcp.StepServiceAccount); ok {
		b := t.resource("google_service_account", "growthloop")
		b.SetAttributeTraversal("project", traversal("var.project"))
		b.SetAttributeValue("account_id", cty.StringVal(sa.AccountID))
		b.SetAttributeValue("display_name", cty.StringVal(sa.ServiceAccount.DisplayName))
		b.SetAttributeValue("description", cty.StringVal(sa.ServiceAccount.Description))
	}
	binding := func(name, step, roleName string) {
		bd, ok := value[templates.GCSBinding](m, step)
		if !ok {
			return
		}
		for i, member := range bd.Members {
			b := t.resource("google_storage_bucket_iam_member", name+suffix(i))
			b.SetAttributeTraversal("bucket", traversal("google_storage_bucket.exports.name"))
			b.SetAttributeTraversal("role", traversal("google_project_iam_custom_role."+roleName+".name"))
			b.SetAttributeRaw("member", tfString(member))
			if roleName == "writer" {
				// The member names the account by its email: create it first.
				b.SetAttributeRaw("depends_on", hclwrite.TokensForTuple([]hclwrite.Tokens{tfExpr("google_service_account.growthloop")}))
			}
		}
	}
	binding("writer", gcp.StepWriterBinding, "writer")
	if m.has(gcp.StepSnowflakeRole) {
		role("snowflake", gcp.StepSnowflakeRole)
		binding("snowflake", gcp.StepSnowflakeBinding, "snowflake")
	}
	key := t.resource("google_service_account_key", "growthloop")
	key.SetAttributeTraversal("service_account_id", traversal("google_service_account.growthloop.name"))

	t.output("bucket", "the export bucket", "google_storage_bucket.exports.name", false)
	t.output("location", "the bucket's location", "google_storage_bucket.exports.location", false)
	t.output("gcp_project", "the bucket's project", "var.project", false)
	t.output("gcp_service_account", "GrowthLoop's service account", "google_service_account.growthloop.email", false)
	t.output("gcp_private_key", "GrowthLoop's key file, base64: in the Terraform state too", "google_service_account_key.growthloop.private_key", true)
}

func suffix(i int) string {
	if i == 0 {
		return ""
	}
	return fmt.Sprintf("_%d", i+1)
}

func (t *tfModule) snowflake() {
	m := t.m
	in, _ := value[sflib.Integration](m, sfp.StepIntegration)
	if hasRef(in.ExternalID) {
		b := t.resource("random_id", "external_id")
		b.SetAttributeValue("byte_length", cty.NumberIntVal(20))
	}
	b := t.resource("snowflake_storage_integration", "this")
	b.SetAttributeValue("name", cty.StringVal(string(in.Name)))
	b.SetAttributeValue("type", cty.StringVal("EXTERNAL_STAGE"))
	b.SetAttributeValue("storage_provider", cty.StringVal(in.Provider))
	b.SetAttributeValue("enabled", cty.True)
	if in.AssumesRole() {
		b.SetAttributeRaw("storage_aws_role_arn", tfString(in.RoleARN))
		b.SetAttributeRaw("storage_aws_external_id", tfString(in.ExternalID))
	}
	b.SetAttributeValue("storage_allowed_locations", tfStrings(in.AllowedLocations))
	t.output("integration", "the storage integration", "snowflake_storage_integration.this.name", false)
	if in.AssumesRole() {
		t.output("external_id", "the integration's external ID, which the role's trust requires", "snowflake_storage_integration.this.storage_aws_external_id", false)
	}

	if st, ok := value[sflib.Stage](m, sfp.StepStage); ok {
		s := t.resource("snowflake_stage", "exports")
		s.SetAttributeValue("name", cty.StringVal(string(st.Name.Object)))
		s.SetAttributeValue("database", cty.StringVal(string(st.Name.Database)))
		s.SetAttributeValue("schema", cty.StringVal(string(st.Name.Schema)))
		s.SetAttributeValue("url", cty.StringVal(st.URL))
		s.SetAttributeTraversal("storage_integration", traversal("snowflake_storage_integration.this.name"))
		t.output("stage", "the stage", fmt.Sprintf("%q", st.Name.String()), false)
	}
	grants := append(values[sflib.Grant](m, sfp.StepIntegrationGrant), values[sflib.Grant](m, sfp.StepStageGrants)...)
	for _, g := range grants {
		b := t.resource("snowflake_grant_privileges_to_account_role", "usage_on_"+strings.ToLower(g.ObjectType))
		b.SetAttributeValue("account_role_name", cty.StringVal(string(g.Role)))
		b.SetAttributeValue("privileges", tfStrings([]string{g.Privilege}))
		switch g.ObjectType {
		case "INTEGRATION", "DATABASE":
			on := b.AppendNewBlock("on_account_object", nil).Body()
			on.SetAttributeValue("object_type", cty.StringVal(g.ObjectType))
			on.SetAttributeValue("object_name", cty.StringVal(unquote(g.Object)))
		case "SCHEMA":
			b.AppendNewBlock("on_schema", nil).Body().SetAttributeValue("schema_name", cty.StringVal(g.Object))
		default:
			on := b.AppendNewBlock("on_schema_object", nil).Body()
			on.SetAttributeValue("object_type", cty.StringVal(g.ObjectType))
			on.SetAttributeValue("object_name", cty.StringVal(g.Object))
		}
		switch g.ObjectType {
		case "INTEGRATION":
			b.SetAttributeRaw("depends_on", hclwrite.TokensForTuple([]hclwrite.Tokens{tfExpr("snowflake_storage_integration.this")}))
		case "STAGE":
			b.SetAttributeRaw("depends_on", hclwrite.TokensForTuple([]hclwrite.Tokens{tfExpr("snowflake_stage.exports")}))
		}
	}
}

// unquote is a quoted identifier's name ("FLYWHEEL_APP_AWS"), as the
// provider takes an account object's name.
func unquote(ident string) string {
	if len(ident) > 1 && ident[0] == '"' && ident[len(ident)-1] == '"' {
		return strings.ReplaceAll(ident[1:len(ident)-1], `""`, `"`)
	}
	return ident
}

// traversal is a reference such as aws_s3_bucket.exports.id.
func traversal(expr string) hcl.Traversal {
	parts := strings.Split(expr, ".")
	t := hcl.Traversal{hcl.TraverseRoot{Name: parts[0]}}
	for _, p := range parts[1:] {
		t = append(t, hcl.TraverseAttr{Name: p})
	}
	return t
}
