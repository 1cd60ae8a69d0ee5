package wizard_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/s3bucket/awstest"
	"github.com/growthloop/byob/providers/snowflakestage"
	"github.com/growthloop/byob/render"
	"github.com/growthloop/byob/snowflake"
	"github.com/growthloop/byob/templates"
	"github.com/growthloop/byob/wizard"
)

// sentDocuments are what init sent for each document of an S3 +
// Snowflake setup, read from the wire, keyed by what render names them.
func sentDocuments(t *testing.T, e *env, cfg wizard.Config) map[string]string {
	t.Helper()
	calls := e.aws.Calls()
	names := s3bucket.NamesFor(cfg.Name)
	find := func(action string, match func(awstest.Call) bool) awstest.Call {
		t.Helper()
		i := slices.IndexFunc(calls, func(c awstest.Call) bool { return c.Action == action && c.Mutating && (match == nil || match(c)) })
		if i < 0 {
			t.Fatalf("no %s was sent", action)
		}
		return calls[i]
	}
	policy := func(name string) string {
		return find("CreatePolicy", func(c awstest.Call) bool { return c.Form.Get("PolicyName") == name }).Form.Get("PolicyDocument")
	}
	var lc struct {
		Rules []templates.LifecycleRule `xml:"Rule"`
	}
	if err := xml.Unmarshal(find("PUT ?lifecycle", nil).Body, &lc); err != nil {
		t.Fatal(err)
	}
	var pab templates.PublicAccessBlock
	if err := xml.Unmarshal(find("PUT ?publicAccessBlock", nil).Body, &pab); err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"growthloop policy": policy(names.Policy),
		"snowflake policy":  policy(names.SnowflakePolicy),
		"trust":             find("CreateRole", nil).Form.Get("AssumeRolePolicyDocument"),
		"bucket policy":     string(find("PUT ?policy", nil).Body),
		"lifecycle":         templates.IndentJSON(templates.Lifecycle{Rules: lc.Rules}),
		"public access":     templates.IndentJSON(pab),
	}
}

// same compares two JSON documents as IAM and S3 read them.
func same(t *testing.T, format, what, got, want string) {
	t.Helper()
	if !templates.SameDocument(got, want) {
		t.Errorf("%s %s differs from what init sent:\n%s\ninit sent:\n%s", format, what, got, want)
	}
}

// TestRenderedCodeIsWhatInitApplies: init applies an S3 + Snowflake
// setup; render writes the same setup, fresh, as Terraform and as
// CloudFormation. Evaluating their references with the values the run
// learned (account id, external ID, Snowflake's IAM user) gives exactly
// the policies, trust, bucket policy, lifecycle rule, public access block
// and SQL init sent; the raw formats from the setup's state file hold the
// same documents and statements verbatim.
func TestRenderedCodeIsWhatInitApplies(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.mustApply(cfg)
	_, values, err := wizard.Prepare(cfg)
	if err != nil {
		t.Fatal(err)
	}
	account, externalID, userARN := values.Get(s3bucket.AccountID), values.Get(providers.ExternalID), values.Get(providers.WarehouseUserARN)
	if account == "" || externalID == "" || userARN == "" {
		t.Fatalf("the run learned %q %q %q", account, externalID, userARN)
	}
	sent := sentDocuments(t, e, cfg)
	statements := e.sf.Statements()

	t.Run("terraform", func(t *testing.T) {
		files, err := render.Render("terraform", cfg, render.Options{})
		if err != nil {
			t.Fatal(err)
		}
		resources := parseTerraform(t, files)
		obj := func(m map[string]cty.Value) cty.Value { return cty.ObjectVal(m) }
		ctx := &hcl.EvalContext{Variables: map[string]cty.Value{
			"data": obj(map[string]cty.Value{"aws_caller_identity": obj(map[string]cty.Value{"current": obj(map[string]cty.Value{"account_id": cty.StringVal(account)})})}),
			"snowflake_storage_integration": obj(map[string]cty.Value{"this": obj(map[string]cty.Value{
				"storage_aws_iam_user_arn": cty.StringVal(userARN), "storage_aws_external_id": cty.StringVal(externalID), "name": cty.StringVal("FLYWHEEL_APP_AWS")})}),
			"snowflake_stage": obj(map[string]cty.Value{"exports": obj(map[string]cty.Value{})}),
		}}
		eval := func(resource, attr string) string {
			t.Helper()
			a := resources[resource].Attributes[attr]
			if a == nil {
				t.Fatalf("%s has no %s", resource, attr)
			}
			v, diags := a.Expr.Value(ctx)
			if diags.HasErrors() {
				t.Fatalf("%s.%s: %s", resource, attr, diags.Error())
			}
			return v.AsString()
		}
		same(t, "terraform", "growthloop policy", eval("aws_iam_policy.growthloop", "policy"), sent["growthloop policy"])
		same(t, "terraform", "snowflake policy", eval("aws_iam_policy.snowflake", "policy"), sent["snowflake policy"])
		same(t, "terraform", "trust", eval("aws_iam_role.snowflake", "assume_role_policy"), sent["trust"])
		same(t, "terraform", "bucket policy", eval("aws_s3_bucket_policy.exports", "policy"), sent["bucket policy"])

		// Every other attribute init set: descriptions and tags.
		names := s3bucket.NamesFor(cfg.Name)
		for _, c := range []struct{ resource, action, field, name string }{
			{"aws_iam_policy.growthloop", "CreatePolicy", "PolicyName", names.Policy},
			{"aws_iam_policy.snowflake", "CreatePolicy", "PolicyName", names.SnowflakePolicy},
			{"aws_iam_role.snowflake", "CreateRole", "RoleName", names.Role},
			{"aws_iam_user.growthloop", "CreateUser", "UserName", names.User},
		} {
			i := slices.IndexFunc(e.aws.Calls(), func(call awstest.Call) bool { return call.Action == c.action && call.Form.Get(c.field) == c.name })
			if i < 0 {
				t.Fatalf("no %s %s was sent", c.action, c.name)
			}
			form := e.aws.Calls()[i].Form
			if _, ok := resources[c.resource].Attributes["description"]; ok || form.Get("Description") != "" {
				if got := eval(c.resource, "description"); got != form.Get("Description") {
					t.Errorf("%s: description %q, init sent %q", c.resource, got, form.Get("Description"))
				}
			}
			sentTags := map[string]string{}
			for n := 1; form.Get(fmt.Sprintf("Tags.member.%d.Key", n)) != ""; n++ {
				sentTags[form.Get(fmt.Sprintf("Tags.member.%d.Key", n))] = form.Get(fmt.Sprintf("Tags.member.%d.Value", n))
			}
			gotTags := map[string]string{}
			if a := resources[c.resource].Attributes["tags"]; a != nil {
				v, _ := a.Expr.Value(nil)
				for k, tv := range v.AsValueMap() {
					gotTags[k] = tv.AsString()
				}
			}
			if !maps.Equal(gotTags, sentTags) || len(sentTags) == 0 {
				t.Errorf("%s: tags %v, init sent %v", c.resource, gotTags, sentTags)
			}
		}

		pab := resources["aws_s3_bucket_public_access_block.exports"]
		b := func(attr string) bool { v, _ := pab.Attributes[attr].Expr.Value(nil); return v.True() }
		same(t, "terraform", "public access block", templates.IndentJSON(templates.PublicAccessBlock{
			BlockPublicAcls: b("block_public_acls"), IgnorePublicAcls: b("ignore_public_acls"), BlockPublicPolicy: b("block_public_policy"), RestrictPublicBuckets: b("restrict_public_buckets")}), sent["public access"])

		rule := resources["aws_s3_bucket_lifecycle_configuration.exports"].Blocks[0].Body
		str := func(body *hclsyntax.Body, attr string) string {
			v, _ := body.Attributes[attr].Expr.Value(nil)
			return v.AsString()
		}
		num := func(body *hclsyntax.Body, block, attr string) int {
			for _, blk := range body.Blocks {
				if blk.Type == block {
					v, _ := blk.Body.Attributes[attr].Expr.Value(nil)
					n, _ := v.AsBigFloat().Int64()
					return int(n)
				}
			}
			t.Fatalf("no %s block", block)
			return 0
		}
		var r templates.LifecycleRule
		r.ID, r.Status = str(rule, "id"), str(rule, "status")
		for _, blk := range rule.Blocks {
			if blk.Type == "filter" {
				r.Filter.Prefix = str(blk.Body, "prefix")
			}
		}
		r.Expiration.Days = num(rule, "expiration", "days")
		r.NoncurrentVersionExpiration.NoncurrentDays = num(rule, "noncurrent_version_expiration", "noncurrent_days")
		r.AbortIncompleteMultipartUpload.DaysAfterInitiation = num(rule, "abort_incomplete_multipart_upload", "days_after_initiation")
		same(t, "terraform", "lifecycle", templates.IndentJSON(templates.Lifecycle{Rules: []templates.LifecycleRule{r}}), sent["lifecycle"])

		// The integration, as Snowflake's provider would create it, with
		// the external ID Snowflake gives it (the provider cannot set one).
		in := snowflake.Integration{Name: snowflake.Ident(eval("snowflake_storage_integration.this", "name")), Provider: eval("snowflake_storage_integration.this", "storage_provider"),
			RoleARN: eval("snowflake_storage_integration.this", "storage_aws_role_arn"), ExternalID: externalID}
		if _, set := resources["snowflake_storage_integration.this"].Attributes["storage_aws_external_id"]; set {
			t.Error("the module sets storage_aws_external_id, which snowflakedb/snowflake 1.x computes only")
		}
		locs, _ := resources["snowflake_storage_integration.this"].Attributes["storage_allowed_locations"].Expr.Value(nil)
		for _, l := range locs.AsValueSlice() {
			in.AllowedLocations = append(in.AllowedLocations, l.AsString())
		}
		if !slices.Contains(statements, in.Create()) {
			t.Errorf("the Terraform integration is not the one init created:\n%s", in.Create())
		}
		st := snowflake.Stage{Name: snowflake.Name{Database: snowflake.Ident(eval("snowflake_stage.exports", "database")), Schema: snowflake.Ident(eval("snowflake_stage.exports", "schema")),
			Object: snowflake.Ident(eval("snowflake_stage.exports", "name"))}, URL: eval("snowflake_stage.exports", "url"), Integration: in.Name}
		if !slices.Contains(statements, st.Create()) {
			t.Errorf("the Terraform stage is not the one init created:\n%s", st.Create())
		}
	})

	t.Run("cloudformation", func(t *testing.T) {
		files, err := render.Render("cloudformation", cfg, render.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var tmpl struct {
			Resources map[string]struct{ Properties map[string]any }
		}
		for _, f := range files {
			if f.Path == "template.json" {
				if err := json.Unmarshal([]byte(f.Content), &tmpl); err != nil {
					t.Fatal(err)
				}
			}
		}
		params := map[string]string{"AWS::AccountId": account, "SnowflakeIamUserArn": userARN, "ExternalId": externalID}
		doc := func(resource, prop string) string {
			t.Helper()
			return templates.IndentJSON(substitute(tmpl.Resources[resource].Properties[prop], params))
		}
		same(t, "cloudformation", "growthloop policy", doc("GrowthLoopPolicy", "PolicyDocument"), sent["growthloop policy"])
		same(t, "cloudformation", "snowflake policy", doc("GrowthLoopSnowflakePolicy", "PolicyDocument"), sent["snowflake policy"])
		same(t, "cloudformation", "trust", doc("SnowflakeRole", "AssumeRolePolicyDocument"), sent["trust"])
		same(t, "cloudformation", "bucket policy", doc("ExportBucketPolicy", "PolicyDocument"), sent["bucket policy"])
		bucket := tmpl.Resources["ExportBucket"].Properties
		pab, _ := json.Marshal(bucket["PublicAccessBlockConfiguration"])
		same(t, "cloudformation", "public access block", string(pab), sent["public access"])
		var lc struct{ Rules []map[string]any }
		b, _ := json.Marshal(bucket["LifecycleConfiguration"])
		json.Unmarshal(b, &lc)
		var r templates.LifecycleRule
		json.Unmarshal([]byte(sent["lifecycle"]), &struct{ Rules []*templates.LifecycleRule }{[]*templates.LifecycleRule{&r}})
		got := lc.Rules[0]
		if got["Id"] != r.ID || got["Prefix"] != r.Filter.Prefix || got["ExpirationInDays"] != float64(r.Expiration.Days) || got["Status"] != r.Status ||
			mustJSON(got["NoncurrentVersionExpiration"]) != mustJSON(r.NoncurrentVersionExpiration) || mustJSON(got["AbortIncompleteMultipartUpload"]) != mustJSON(r.AbortIncompleteMultipartUpload) {
			t.Errorf("cloudformation lifecycle %v differs from what init sent: %+v", got, r)
		}
	})

	t.Run("json and sql from the state file", func(t *testing.T) {
		for _, format := range []string{"json", "sql"} {
			files, err := render.Render(format, cfg, render.Options{Known: values})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				switch f.Path {
				case "iam-policy.json":
					same(t, format, f.Path, f.Content, sent["growthloop policy"])
				case "snowflake-iam-policy.json":
					same(t, format, f.Path, f.Content, sent["snowflake policy"])
				case "trust-policy.json":
					same(t, format, f.Path, f.Content, sent["trust"])
				case "bucket-policy.json":
					same(t, format, f.Path, f.Content, sent["bucket policy"])
				case "lifecycle.json":
					same(t, format, f.Path, f.Content, sent["lifecycle"])
				case "public-access-block.json":
					same(t, format, f.Path, f.Content, sent["public access"])
				case "snowflake.sql":
					n := 0
					for _, stmt := range sqlStatements(f.Content) {
						if !slices.Contains(statements, stmt) {
							t.Errorf("%s %s: Snowflake never ran\n%s", format, f.Path, stmt)
						}
						n++
					}
					if n < 6 {
						t.Errorf("%s %s holds %d statements", format, f.Path, n)
					}
				}
			}
		}
	})
}

// parseTerraform parses main.tf into its resources by type.name.
func parseTerraform(t *testing.T, files []render.File) map[string]*hclsyntax.Body {
	t.Helper()
	out := map[string]*hclsyntax.Body{}
	for _, f := range files {
		if f.Path != "main.tf" {
			continue
		}
		file, diags := hclsyntax.ParseConfig([]byte(f.Content), f.Path, hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		for _, blk := range file.Body.(*hclsyntax.Body).Blocks {
			if blk.Type == "resource" {
				out[blk.Labels[0]+"."+blk.Labels[1]] = blk.Body
			}
		}
	}
	return out
}

var subRef = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

// substitute evaluates Fn::Sub in v with params, as CloudFormation does.
func substitute(v any, params map[string]string) any {
	switch x := v.(type) {
	case map[string]any:
		if s, ok := x["Fn::Sub"].(string); ok && len(x) == 1 {
			s = subRef.ReplaceAllStringFunc(s, func(m string) string { return params[m[2:len(m)-1]] })
			return strings.ReplaceAll(s, "${!", "${")
		}
		out := map[string]any{}
		for k, e := range x {
			out[k] = substitute(e, params)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = substitute(e, params)
		}
		return out
	}
	return v
}

// sqlStatements are a SQL file's statements, comments dropped.
func sqlStatements(file string) []string {
	var out []string
	for _, chunk := range strings.Split(file, ";\n") {
		var lines []string
		for _, l := range strings.Split(chunk, "\n") {
			if !strings.HasPrefix(l, "--") && strings.TrimSpace(l) != "" {
				lines = append(lines, l)
			}
		}
		if len(lines) > 0 {
			out = append(out, strings.Join(lines, "\n"))
		}
	}
	return out
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestRenderedGCSTerraformIsWhatInitApplies: the same for a GCS +
// Snowflake setup: the bucket's settings and lifecycle rules, the custom
// roles, the service account and the bindings the module declares,
// evaluated with Snowflake's service account from the run, are what init
// sent to Google; the integration is the one Snowflake created.
func TestRenderedGCSTerraformIsWhatInitApplies(t *testing.T) {
	e := newGCSEnv(t)
	cfg := e.config(snowflakestage.Name)
	e.mustApply(cfg)
	_, values, err := wizard.Prepare(cfg)
	if err != nil {
		t.Fatal(err)
	}
	files, err := render.Render("terraform", cfg, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	resources := parseTerraform(t, files)
	obj := func(m map[string]cty.Value) cty.Value { return cty.ObjectVal(m) }
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{
		"var": obj(map[string]cty.Value{"project": cty.StringVal(gcsbucket.SettingsOf(&cfg).Project)}),
		"snowflake_storage_integration": obj(map[string]cty.Value{"this": obj(map[string]cty.Value{
			"storage_gcp_service_account": cty.StringVal(values.Get(providers.WarehouseServiceAccount))})}),
	}}
	value := func(body *hclsyntax.Body, attr string) cty.Value {
		t.Helper()
		v, diags := body.Attributes[attr].Expr.Value(ctx)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", attr, diags.Error())
		}
		return v
	}
	strs := func(v cty.Value) []string {
		var out []string
		for _, e := range v.AsValueSlice() {
			out = append(out, e.AsString())
		}
		return out
	}
	requests := e.gcp.Sent()

	// The bucket, as the JSON API's insert took it.
	bucket := resources["google_storage_bucket.exports"]
	want := templates.GCSBucket{Name: value(bucket, "name").AsString(), Location: value(bucket, "location").AsString()}
	want.IAMConfiguration.UniformBucketLevelAccess.Enabled = value(bucket, "uniform_bucket_level_access").True()
	want.IAMConfiguration.PublicAccessPrevention = value(bucket, "public_access_prevention").AsString()
	for _, blk := range bucket.Blocks {
		var r templates.GCSLifecycleRule
		for _, b := range blk.Body.Blocks {
			switch b.Type {
			case "action":
				r.Action.Type = value(b.Body, "type").AsString()
			case "condition":
				if _, ok := b.Body.Attributes["age"]; ok {
					n, _ := value(b.Body, "age").AsBigFloat().Int64()
					r.Condition.Age = int(n)
				}
				if _, ok := b.Body.Attributes["days_since_noncurrent_time"]; ok {
					n, _ := value(b.Body, "days_since_noncurrent_time").AsBigFloat().Int64()
					r.Condition.DaysSinceNoncurrentTime = int(n)
				}
				r.Condition.MatchesPrefix = strs(value(b.Body, "matches_prefix"))
			}
		}
		want.Lifecycle.Rule = append(want.Lifecycle.Rule, r)
	}
	var sentBucket map[string]any
	json.Unmarshal(lastSent(requests, "POST", "/storage/v1/b").Body, &sentBucket)
	same(t, "terraform", "bucket", templates.IndentJSON(want), templates.IndentJSON(map[string]any{"name": sentBucket["name"], "location": sentBucket["location"],
		"iamConfiguration": sentBucket["iamConfiguration"], "lifecycle": sentBucket["lifecycle"]}))

	// The custom roles and the service account.
	for _, name := range []string{"writer", "snowflake"} {
		role := resources["google_project_iam_custom_role."+name]
		var r templates.GCPRole
		r.RoleID = value(role, "role_id").AsString()
		r.Role.Title, r.Role.Description, r.Role.Stage = value(role, "title").AsString(), value(role, "description").AsString(), value(role, "stage").AsString()
		r.Role.IncludedPermissions = strs(value(role, "permissions"))
		var got templates.GCPRole
		for _, req := range requests {
			var g templates.GCPRole
			if req.Method == "POST" && strings.HasSuffix(req.Path, "/roles") && json.Unmarshal(req.Body, &g) == nil && g.RoleID == r.RoleID {
				got = g
			}
		}
		same(t, "terraform", "role "+name, templates.IndentJSON(r), templates.IndentJSON(got))
	}
	sa := resources["google_service_account.growthloop"]
	s := templates.NewGCPServiceAccount(value(sa, "account_id").AsString(), value(sa, "display_name").AsString(), value(sa, "description").AsString())
	same(t, "terraform", "service account", templates.IndentJSON(s), string(lastSent(requests, "POST", "/serviceAccounts").Body))

	// The bindings: each member the module binds holds its role on the
	// bucket init set.
	var policy struct {
		Bindings []struct {
			Role    string
			Members []string
		}
	}
	json.Unmarshal(lastSent(requests, "PUT", "/b/"+cfg.Bucket+"/iam").Body, &policy)
	for _, name := range []string{"writer", "snowflake"} {
		member := value(resources["google_storage_bucket_iam_member."+name], "member").AsString()
		roleID := value(resources["google_project_iam_custom_role."+name], "role_id").AsString()
		role := "projects/" + gcsbucket.SettingsOf(&cfg).Project + "/roles/" + roleID
		if !slices.ContainsFunc(policy.Bindings, func(b struct {
			Role    string
			Members []string
		}) bool {
			return b.Role == role && slices.Contains(b.Members, member)
		}) {
			t.Errorf("terraform binds %s to %s; init's policy was %+v", member, role, policy.Bindings)
		}
	}

	integration := resources["snowflake_storage_integration.this"]
	in := snowflake.Integration{Name: snowflake.Ident(value(integration, "name").AsString()), Provider: value(integration, "storage_provider").AsString(),
		AllowedLocations: strs(value(integration, "storage_allowed_locations"))}
	if !slices.Contains(e.sf.Statements(), in.Create()) {
		t.Errorf("the Terraform integration is not the one init created:\n%s", in.Create())
	}
}
