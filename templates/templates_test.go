package templates

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func statements(t *testing.T, doc string) []map[string]any {
	t.Helper()
	var p struct {
		Version   string
		Statement []map[string]any
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatalf("document does not parse: %v\n%s", err, doc)
	}
	if p.Version != PolicyVersion {
		t.Errorf("Version = %q", p.Version)
	}
	return p.Statement
}

func strs(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(string))
	}
	return out
}

func TestS3Access(t *testing.T) {
	st := statements(t, S3Access(S3("acme-exports"), "exports/").JSON())
	if len(st) != 3 {
		t.Fatalf("want 3 statements, got %d", len(st))
	}
	if got := strs(st[0]["Action"]); !slices.Equal(got, []string{"s3:PutObject", "s3:GetObject", "s3:GetObjectVersion"}) {
		t.Errorf("object actions = %v", got)
	}
	if got := strs(st[0]["Resource"]); !slices.Equal(got, []string{"arn:aws:s3:::acme-exports/exports/*"}) {
		t.Errorf("object resource = %v", got)
	}
	if got := strs(st[1]["Action"]); !slices.Equal(got, []string{"s3:ListBucket"}) {
		t.Errorf("list actions = %v", got)
	}
	cond := st[1]["Condition"].(map[string]any)["StringLike"].(map[string]any)["s3:prefix"]
	if got := strs(cond); !slices.Equal(got, []string{"exports/", "exports/*"}) {
		t.Errorf("s3:prefix = %v", got)
	}
	if got := strs(st[2]["Action"]); !slices.Equal(got, []string{"s3:GetBucketLocation"}) {
		t.Errorf("GetBucketLocation must have its own statement, got %v", got)
	}
	if _, has := st[2]["Condition"]; has {
		t.Error("GetBucketLocation must not be under a condition: s3:prefix never matches it")
	}
	if got := strs(st[2]["Resource"]); !slices.Equal(got, []string{"arn:aws:s3:::acme-exports"}) {
		t.Errorf("bucket resource = %v", got)
	}
}

func TestSnowflakeTrust(t *testing.T) {
	st := statements(t, SnowflakeTrust("arn:aws:iam::111:user/sf", "byob-x").JSON())
	if len(st) != 1 || st[0]["Principal"].(map[string]any)["AWS"] != "arn:aws:iam::111:user/sf" {
		t.Fatalf("principal: %v", st)
	}
	if got := st[0]["Condition"].(map[string]any)["StringEquals"].(map[string]any)["sts:ExternalId"]; got != "byob-x" {
		t.Errorf("external id = %v", got)
	}
}

func TestTLSOnly(t *testing.T) {
	st := statements(t, TLSOnlyBucketPolicy(S3("b")).JSON())
	if st[0]["Effect"] != "Deny" || st[0]["Condition"].(map[string]any)["Bool"].(map[string]any)["aws:SecureTransport"] != "false" {
		t.Errorf("statement = %v", st[0])
	}
	if got := strs(st[0]["Resource"]); !slices.Equal(got, []string{"arn:aws:s3:::b", "arn:aws:s3:::b/*"}) {
		t.Errorf("resources = %v", got)
	}
}

func TestMergeStatement(t *testing.T) {
	want := TLSOnlyBucketPolicy(S3("b")).Statement[0]
	other := `{"Version":"2012-10-17","Statement":{"Sid":"Other","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/pub/*"}}`
	merged, had := MergeStatement(other, want)
	if had {
		t.Fatal("statement reported present in a policy without it")
	}
	st := statements(t, merged)
	if len(st) != 2 || st[0]["Sid"] != "Other" || st[1]["Sid"] != "DenyInsecureTransport" {
		t.Fatalf("merged = %s", merged)
	}
	again, had := MergeStatement(merged, want)
	if !had || again != merged {
		t.Errorf("second merge changed the document: %v\n%s", had, again)
	}
	// IAM may return one-element lists as plain strings.
	compact := `{"Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	if _, had := MergeStatement(compact, want); !had {
		t.Error("equal statement with scalar Action not recognised")
	}
	if got, _ := MergeStatement("not json", want); got != "" {
		t.Errorf("MergeStatement(invalid) = %q", got)
	}
}

func TestSameDocument(t *testing.T) {
	a := S3Access(S3("b"), "p/").JSON()
	var v any
	_ = json.Unmarshal([]byte(a), &v)
	compact, _ := json.Marshal(v)
	if !SameDocument(a, string(compact)) {
		t.Error("whitespace must not matter")
	}
	if SameDocument(a, S3Access(S3("b"), "q/").JSON()) {
		t.Error("different prefixes compare equal")
	}
}

func TestGCSDocuments(t *testing.T) {
	var b map[string]any
	if err := json.Unmarshal([]byte(IndentJSON(NewGCSBucket("b", "US", "exports/", 7))), &b); err != nil {
		t.Fatal(err)
	}
	iam := b["iamConfiguration"].(map[string]any)
	if iam["publicAccessPrevention"] != "enforced" || iam["uniformBucketLevelAccess"].(map[string]any)["enabled"] != true {
		t.Errorf("iamConfiguration = %v", iam)
	}
	rule := b["lifecycle"].(map[string]any)["rule"].([]any)[0].(map[string]any)
	if rule["action"].(map[string]any)["type"] != "Delete" || rule["condition"].(map[string]any)["age"] != 7.0 ||
		strs(rule["condition"].(map[string]any)["matchesPrefix"])[0] != "exports/" {
		t.Errorf("lifecycle rule = %v", rule)
	}
	r := NewGCPRole("x_byob_writer", "t", "d", GCSWriterPermissions)
	if !slices.Equal(r.Role.IncludedPermissions, []string{"storage.buckets.get", "storage.objects.create", "storage.objects.get", "storage.objects.list"}) {
		t.Errorf("writer permissions = %v", r.Role.IncludedPermissions)
	}
	for _, p := range append(GCSWriterPermissions, GCSSnowflakePermissions...) {
		if Why[p] == "" {
			t.Errorf("no explanation for %s", p)
		}
	}
}

func TestDiffStatements(t *testing.T) {
	want := S3Access(S3("b"), "p/").JSON()
	if d := DiffStatements(want, want); d != "" {
		t.Errorf("same documents differ: %s", d)
	}
	wide := S3Access(S3("b"), "").JSON()
	if d := DiffStatements(wide, want); !strings.Contains(d, "statement ReadWriteObjectsUnderPrefix is") || !strings.Contains(d, "arn:aws:s3:::b/*") {
		t.Errorf("diff = %s", d)
	}
	extra := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	if d := DiffStatements(extra, want); !strings.Contains(d, "missing statement LocateBucket") || !strings.Contains(d, `unexpected statement {"Action":"s3:*"`) {
		t.Errorf("diff = %s", d)
	}
}

func TestForeignStatements(t *testing.T) {
	own := "111122223333"
	doc := `{"Version":"2012-10-17","Statement":[
		{"Sid":"Mine","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"*"},
		{"Sid":"Public","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"},
		{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:role/x","111122223333"]},"Action":"s3:GetObject","Resource":"*"},
		{"Sid":"DenyTLS","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"},
		{"Sid":"Service","Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}},
		{"Sid":"Deputy","Effect":"Allow","Principal":{"Service":"cloudfront.amazonaws.com"},"Action":"s3:GetObject","Resource":"*"},
		{"Sid":"Theirs","Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"444455556666"}}},
		{"Sid":"OwnOnly","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}},
		{"Sid":"Web","Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"s3:GetObject","Resource":"*"},
		{"Sid":"Canonical","Effect":"Allow","Principal":{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"s3:GetObject","Resource":"*"},
		{"Sid":"AllBut","Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"*"}]}`
	var found []string
	var drop []int
	for _, f := range ForeignStatements(doc, own, S3("b"), "exports/") {
		found, drop = append(found, f.Says), append(drop, f.Index)
		if !f.Reaches {
			t.Errorf("%s: Resource * reaches every key", f.Says)
		}
	}
	want := []string{"statement Public allows anyone (*)", "statement #3 allows AWS account 444455556666",
		"statement Deputy allows service cloudfront.amazonaws.com for any account (no aws:SourceAccount condition)",
		"statement Theirs allows service logging.s3.amazonaws.com for AWS account 444455556666",
		"statement Web allows users federated by cognito-identity.amazonaws.com",
		"statement Canonical allows canonical user 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
		`statement AllBut allows everyone but {"AWS":"arn:aws:iam::111122223333:root"}`}
	if !slices.Equal(found, want) {
		t.Errorf("found %q\nwant %q", found, want)
	}
	rest := WithoutStatements(doc, drop)
	st := statements(t, rest)
	if len(st) != 4 || !strings.Contains(rest, `"Mine"`) || !strings.Contains(rest, `"DenyTLS"`) || !strings.Contains(rest, `"Service"`) || !strings.Contains(rest, `"OwnOnly"`) {
		t.Errorf("rest %s", rest)
	}
	lone := `{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:*","Resource":"*"}}`
	if found := ForeignStatements(lone, own, S3("b"), "exports/"); len(found) != 1 || WithoutStatements(lone, []int{0}) != "" {
		t.Errorf("a lone public statement: %+v", found)
	}
	if found := ForeignStatements(TLSOnlyBucketPolicy(S3("b")).JSON(), own, S3("b"), "exports/"); len(found) != 0 {
		t.Errorf("byob's own statement: %+v", found)
	}
}

// TestReachesPrefix: a statement reaches the exports when its Resource
// covers a key under the prefix, or it lists the bucket without an
// s3:prefix condition that keeps the listing away from it.
func TestReachesPrefix(t *testing.T) {
	b := S3("acme")
	for _, tc := range []struct {
		st   string
		want bool
	}{
		{`"Action":"s3:GetObject","Resource":"arn:aws:s3:::acme/*"`, true},
		{`"Action":"s3:GetObject","Resource":"arn:aws:s3:::acme/exports/*"`, true},
		{`"Action":"s3:GetObject","Resource":"arn:aws:s3:::acme/exports/1234/file.csv"`, true},
		{`"Action":"s3:GetObject","Resource":"arn:aws:s3:::acme/ex*"`, true},
		{`"Action":"s3:GetObject","Resource":"arn:aws:s3:::acme/?xports/*"`, true},
		{`"Action":"s3:GetObject","Resource":"arn:aws:s3:::*/*"`, true},
		{`"Action":"s3:GetObject","Resource":"*"`, true},
		{`"Action":"s3:GetObject","Resource":"arn:aws:s3:::acme/reports/*"`, false},
		{`"Action":"s3:GetObject","Resource":"arn:aws:s3:::acme/exports"`, false}, // the object "exports", not under "exports/"
		{`"Action":"s3:GetObject","Resource":"arn:aws:s3:::acme2/*"`, false},
		{`"Action":"s3:GetObject","Resource":["arn:aws:s3:::acme/reports/*","arn:aws:s3:::acme/e*"]`, true},
		{`"Action":"s3:ListBucket","Resource":"arn:aws:s3:::acme"`, true},
		{`"Action":"s3:list*","Resource":"arn:aws:s3:::acme"`, true},
		{`"Action":"s3:GetBucketLocation","Resource":"arn:aws:s3:::acme"`, false},
		{`"Action":"s3:ListBucket","Resource":"arn:aws:s3:::acme","Condition":{"StringLike":{"s3:prefix":["reports/*"]}}}`, false},
		{`"Action":"s3:ListBucket","Resource":"arn:aws:s3:::acme","Condition":{"StringEquals":{"s3:prefix":["reports/","exports/"]}}}`, true},
		{`"Action":"s3:ListBucket","Resource":"arn:aws:s3:::acme","Condition":{"StringLike":{"s3:prefix":["e*"]}}}`, true},
		{`"Action":"s3:ListBucket","Resource":"arn:aws:s3:::acme","Condition":{"StringEquals":{"s3:prefix":[""]}}}`, true},
		{`"Action":"s3:ListBucket","Resource":"arn:aws:s3:::acme","Condition":{"StringNotLike":{"s3:prefix":["exports/*"]}}}`, true},
		{`"NotAction":"s3:ListBucket*","Resource":"arn:aws:s3:::acme"`, true}, // PutBucketPolicy among the rest
		{`"NotAction":["s3:ListBucket*","s3:Put*","s3:Delete*"],"Resource":"arn:aws:s3:::acme"`, false},
		{`"Action":"s3:PutBucketPolicy","Resource":"arn:aws:s3:::acme"`, true},
		{`"Action":"s3:*Policy","Resource":"arn:aws:s3:::acme"`, true},
		{`"Action":"s3:PutReplicationConfiguration","Resource":"arn:aws:s3:::acme"`, true},
		{`"Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::acme"`, true},
		{`"Action":"s3:Put*","Resource":"arn:aws:s3:::acme"`, true},
		{`"Action":["s3:GetBucketTagging","s3:GetBucketPolicy"],"Resource":"arn:aws:s3:::acme"`, false},
		{`"Action":"s3:PutBucketPolicy","Resource":"arn:aws:s3:::acme/reports/*"`, false},
		{`"Action":"s3:GetObject","Resource":"arn:aws:s3:::acme/${aws:PrincipalTag/dir}/*"`, true},
		{`"Action":"s3:GetObject","Resource":"arn:aws:s3:::acme/reports/${aws:username}/*"`, false},
		{`"Action":"s3:ListBucket","Resource":"arn:aws:s3:::acme","Condition":{"StringLike":{"s3:prefix":["${aws:username}/*"]}}}`, true},
		{`"NotAction":"s3:PutObject","Resource":"arn:aws:s3:::acme"`, true},
		{`"Action":"s3:GetObject","NotResource":"arn:aws:s3:::acme/exports/*"`, false},
		{`"Action":"s3:*","NotResource":"arn:aws:s3:::acme/exports/*"`, true}, // lists the bucket
		{`"Action":"s3:*","NotResource":["arn:aws:s3:::acme/exports/*","arn:aws:s3:::acme"]`, false},
		{`"Action":"s3:GetObject","NotResource":"arn:aws:s3:::acme/reports/*"`, true},
		{`"Action":"s3:GetObject","NotResource":"arn:aws:s3:::acme/exports/1234/*"`, true},
	} {
		var st map[string]any
		if err := json.Unmarshal([]byte(`{"Effect":"Allow","Principal":"*",`+strings.TrimSuffix(tc.st, "}")+`}`), &st); err != nil {
			t.Fatalf("%s: %v", tc.st, err)
		}
		if got := ReachesPrefix(st, b, "exports/"); got != tc.want {
			t.Errorf("%s: reaches = %v, want %v", tc.st, got, tc.want)
		}
	}
}

// The guide's policy, as a customer pastes it with their bucket.
const guidePolicy = `{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": [ "s3:PutObject", "s3:GetObject", "s3:GetObjectVersion" ], "Resource": "arn:aws:s3:::acme/exports/*" }, { "Effect": "Allow", "Action": [ "s3:ListBucket", "s3:GetBucketLocation" ], "Resource": "arn:aws:s3:::acme", "Condition": { "StringLike": { "s3:prefix": [ "exports/*" ] } } } ] }`

func TestGuideMistakesAreNamed(t *testing.T) {
	got := PolicyMistakes(guidePolicy)
	if len(got) != 2 || !strings.Contains(got[0], "s3:GetBucketLocation is under an s3:prefix condition and can never be allowed") ||
		!strings.Contains(got[1], `allows "exports/*" but not "exports/" itself`) {
		t.Errorf("PolicyMistakes = %q", got)
	}
	if got := PolicyMistakes(S3Access(S3("acme"), "exports/").JSON()); len(got) != 0 {
		t.Errorf("byob's own policy has mistakes: %q", got)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"0000"}}}]}`
	got = TrustMistakes(trust, "arn:aws:iam::999:user/sf", "ABC_SFCRole=1_x")
	if len(got) != 2 || got[0] != "trust external ID 0000 does not match the integration's ABC_SFCRole=1_x" ||
		got[1] != "trust principal arn:aws:iam::123456789012:root is not the integration's IAM user arn:aws:iam::999:user/sf" {
		t.Errorf("TrustMistakes = %q", got)
	}
}

func TestCustomerStatementsAreKept(t *testing.T) {
	want := S3Access(S3("acme"), "exports/").JSON()
	own := `{"Sid":"TheirOwn","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::other-bucket/*"}`
	have := strings.Replace(guidePolicy, `"Statement": [ `, `"Statement": [ `+own+`, `, 1)
	kept := CustomerStatements(have, want)
	if len(kept) != 1 || kept[0].(map[string]any)["Sid"] != "TheirOwn" {
		t.Fatalf("kept %v", kept)
	}
	merged := WithStatements(want, kept)
	if !strings.Contains(merged, "other-bucket") || !strings.Contains(merged, "ListPrefix") {
		t.Errorf("merged: %s", merged)
	}
	if got := CustomerStatements(guidePolicy, want); len(got) != 0 {
		t.Errorf("the guide's own statements are byob's to replace: %v", got)
	}
}
