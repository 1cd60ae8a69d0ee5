// Package templates builds the documents byob applies (IAM policies, trust
// policies, bucket policies, lifecycle rules, GCP roles) from typed values,
// and explains why each permission is granted. Nothing here is assembled by
// string concatenation: every document is a Go value marshalled to JSON.
package templates

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// PolicyVersion is the only IAM policy language version in use.
const PolicyVersion = "2012-10-17"

// Policy is an AWS IAM policy document.
type Policy struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a Policy.
type Statement struct {
	Sid       string                    `json:"Sid,omitempty"`
	Effect    string                    `json:"Effect"`
	Principal map[string]any            `json:"Principal,omitempty"`
	Action    []string                  `json:"Action"`
	Resource  []string                  `json:"Resource,omitempty"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

// JSON renders the document indented, as byob sends and shows it.
func (p Policy) JSON() string { return IndentJSON(p) }

// IndentJSON renders a document byob builds (plain structs, maps of
// strings and slices) as indented JSON.
// It does not escape <, > and & (placeholders are shown as typed).
func IndentJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		panic(err) // documents are plain data: cannot fail
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// Bucket is an S3 bucket and the AWS partition it is in (aws, aws-us-gov,
// aws-cn), which its ARNs name.
type Bucket struct{ Partition, Name string }

// S3 is a bucket of the commercial partition.
func S3(name string) Bucket { return Bucket{Partition: "aws", Name: name} }

// ARN is arn:<partition>:s3:::<bucket>.
func (b Bucket) ARN() string { return "arn:" + b.Partition + ":s3:::" + b.Name }

// S3Access is the policy of GrowthLoop's IAM user: GrowthLoop's documented
// actions, scoped to <prefix>. GetBucketLocation has its own statement: it
// takes no s3:prefix key, so under the ListBucket statement's prefix
// condition it would never be allowed.
func S3Access(bucket Bucket, prefix string) Policy {
	return Policy{
		Version: PolicyVersion,
		Statement: []Statement{
			{
				Sid:      "ReadWriteObjectsUnderPrefix",
				Effect:   "Allow",
				Action:   []string{"s3:PutObject", "s3:GetObject", "s3:GetObjectVersion"},
				Resource: []string{bucket.ARN() + "/" + prefix + "*"},
			},
			{
				Sid:      "ListPrefix",
				Effect:   "Allow",
				Action:   []string{"s3:ListBucket"},
				Resource: []string{bucket.ARN()},
				Condition: map[string]map[string]any{
					"StringLike": {"s3:prefix": []string{prefix, prefix + "*"}},
				},
			},
			{
				Sid:      "LocateBucket",
				Effect:   "Allow",
				Action:   []string{"s3:GetBucketLocation"},
				Resource: []string{bucket.ARN()},
			},
		},
	}
}

// S3SnowflakeAccess is the policy of the role Snowflake assumes: GrowthLoop's
// actions, and deleting under <prefix>, which an unload with OVERWRITE =
// TRUE and REMOVE or PURGE need.
func S3SnowflakeAccess(bucket Bucket, prefix string) Policy {
	p := S3Access(bucket, prefix)
	p.Statement = append(p.Statement[:1], append([]Statement{{
		Sid:      "DeleteObjectsUnderPrefix",
		Effect:   "Allow",
		Action:   []string{"s3:DeleteObject", "s3:DeleteObjectVersion"},
		Resource: []string{bucket.ARN() + "/" + prefix + "*"},
	}}, p.Statement[1:]...)...)
	return p
}

// SnowflakeTrust is the trust policy of the role Snowflake assumes: only
// Snowflake's IAM user, and only with the integration's external ID.
func SnowflakeTrust(snowflakeUserARN, externalID string) Policy {
	return Policy{
		Version: PolicyVersion,
		Statement: []Statement{{
			Sid:       "SnowflakeStorageIntegration",
			Effect:    "Allow",
			Principal: map[string]any{"AWS": snowflakeUserARN},
			Action:    []string{"sts:AssumeRole"},
			Condition: map[string]map[string]any{
				"StringEquals": {"sts:ExternalId": externalID},
			},
		}},
	}
}

// TLSOnlyBucketPolicy denies every request to the bucket that does not use
// TLS (AWS Security Hub S3.5).
func TLSOnlyBucketPolicy(bucket Bucket) Policy {
	return Policy{
		Version: PolicyVersion,
		Statement: []Statement{{
			Sid:       "DenyInsecureTransport",
			Effect:    "Deny",
			Principal: map[string]any{"AWS": "*"},
			Action:    []string{"s3:*"},
			Resource:  []string{bucket.ARN(), bucket.ARN() + "/*"},
			Condition: map[string]map[string]any{
				"Bool": {"aws:SecureTransport": "false"},
			},
		}},
	}
}

// SameDocument reports whether two JSON documents are equal as JSON values
// (key order and whitespace do not matter). IAM returns policy documents as
// they were sent, so this is how byob detects drift.
func SameDocument(a, b string) bool {
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return false
	}
	return reflect.DeepEqual(normalize(va), normalize(vb))
}

// MergeStatement adds st to the policy document doc unless an equal
// statement is already there, keeping every other statement. It returns the
// merged document ("" when doc is not a JSON policy) and whether st was
// already present.
func MergeStatement(doc string, st Statement) (string, bool) {
	var p map[string]any
	if json.Unmarshal([]byte(doc), &p) != nil || p == nil {
		return "", false
	}
	stmts := statementList(p)
	b, _ := json.Marshal(st)
	var want any
	_ = json.Unmarshal(b, &want)
	for _, have := range stmts {
		if reflect.DeepEqual(normalize(have), normalize(want)) {
			return doc, true
		}
	}
	p["Statement"] = append(stmts, want)
	if p["Version"] == nil {
		p["Version"] = PolicyVersion
	}
	out, _ := json.MarshalIndent(p, "", "  ")
	return string(out), false
}

// normalize turns one-element lists into their element, as IAM treats
// "Action": "x" and "Action": ["x"] alike.
func normalize(v any) any {
	switch t := v.(type) {
	case []any:
		if len(t) == 1 {
			return normalize(t[0])
		}
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = normalize(e)
		}
		return out
	}
	return v
}

// DiffStatements compares two policy documents statement by statement
// (matched by Sid, else by position) and describes each difference:
// "statement ListPrefix differs: …", "unexpected statement X", "missing
// statement Y". It returns "" when they are the same.
func DiffStatements(have, want string) string {
	hs, ws := statementsByKey(have), statementsByKey(want)
	var diffs []string
	for _, k := range ws.order {
		h, ok := hs.m[k]
		switch {
		case !ok:
			diffs = append(diffs, "missing statement "+k)
		case !reflect.DeepEqual(normalize(h), normalize(ws.m[k])):
			hb, _ := json.Marshal(h)
			diffs = append(diffs, "statement "+k+" is "+string(hb))
		}
	}
	for _, k := range hs.order {
		if _, ok := ws.m[k]; !ok {
			hb, _ := json.Marshal(hs.m[k])
			diffs = append(diffs, "unexpected statement "+string(hb))
		}
	}
	return strings.Join(diffs, "; ")
}

type keyedStatements struct {
	m     map[string]any
	order []string
}

func statementsByKey(doc string) keyedStatements {
	var p map[string]any
	_ = json.Unmarshal([]byte(doc), &p)
	ks := keyedStatements{m: map[string]any{}}
	for i, st := range statementList(p) {
		k := fmt.Sprintf("#%d", i+1)
		if m, ok := st.(map[string]any); ok {
			if sid, ok := m["Sid"].(string); ok && sid != "" {
				k = sid
			}
		}
		ks.m[k] = st
		ks.order = append(ks.order, k)
	}
	return ks
}

// statementList is a policy's statements: IAM allows one statement object
// in place of the list.
func statementList(p map[string]any) []any {
	switch s := p["Statement"].(type) {
	case []any:
		return s
	case map[string]any:
		return []any{s}
	}
	return nil
}

// Foreign is an Allow statement of a bucket policy that lets in someone
// outside the account.
type Foreign struct {
	// Index is the statement's place in the policy.
	Index int
	// Says is "statement <Sid> allows <who>".
	Says string
	// Reaches says it covers objects under the export prefix, or lists
	// them (ReachesPrefix).
	Reaches bool
}

// ForeignStatements finds the Allow statements of a bucket policy that let
// in someone outside the account: anyone ("*"), another AWS account, or
// everyone but the ones named (NotPrincipal), and whether each reaches
// the objects under prefix.
func ForeignStatements(doc, account string, bucket Bucket, prefix string) []Foreign {
	var p map[string]any
	if json.Unmarshal([]byte(doc), &p) != nil || p == nil {
		return nil
	}
	var found []Foreign
	for i, st := range statementList(p) {
		m, _ := st.(map[string]any)
		if m["Effect"] != "Allow" {
			continue
		}
		who := outsiders(m, account)
		if len(who) == 0 {
			continue
		}
		name := fmt.Sprintf("statement #%d", i+1)
		if sid, ok := m["Sid"].(string); ok && sid != "" {
			name = "statement " + sid
		}
		found = append(found, Foreign{Index: i, Says: name + " allows " + strings.Join(who, " and "), Reaches: ReachesPrefix(m, bucket, prefix)})
	}
	return found
}

// outsiders are who a statement lets in from outside the account: anyone
// ("*", unless aws:PrincipalAccount keeps it to the account), another
// account, everyone but the ones named (NotPrincipal), a service acting
// for any account or another one (unless aws:SourceAccount or
// aws:SourceArn keep it to this one), federated users, and canonical
// users (whose account a policy cannot tell).
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
func outsiders(st map[string]any, account string) []string {
	var who []string
	if np, ok := st["NotPrincipal"]; ok {
		b, _ := json.Marshal(np)
		who = append(who, "everyone but "+string(b))
	}
	// What a condition keeps to one value for sure: equality or a match.
	matched := func(key string) []string {
		return conditionValues(st["Condition"], key, "StringEquals", "StringLike", "ArnEquals", "ArnLike")
	}
	only := func(key string, ok func(string) bool) bool {
		vals := matched(key)
		return len(vals) > 0 && !slices.ContainsFunc(vals, func(v string) bool { return !ok(v) })
	}
	ours := func(v string) bool { return v == account }
	for _, a := range awsPrincipals(st["Principal"]) {
		switch acct := principalAccount(a); {
		case a == "*" && !only("aws:PrincipalAccount", ours):
			who = append(who, "anyone (*)")
		case acct != "" && acct != account:
			who = append(who, "AWS account "+acct)
		}
	}
	pr, _ := st["Principal"].(map[string]any)
	for _, svc := range stringsOf(pr["Service"]) {
		switch {
		case only("aws:SourceAccount", ours) || only("aws:SourceArn", func(v string) bool { return principalAccount(v) == account }):
		case len(matched("aws:SourceAccount")) > 0:
			who = append(who, "service "+svc+" for AWS account "+strings.Join(matched("aws:SourceAccount"), ", "))
		default:
			who = append(who, "service "+svc+" for any account (no aws:SourceAccount condition)")
		}
	}
	for _, f := range stringsOf(pr["Federated"]) {
		who = append(who, "users federated by "+f)
	}
	for _, c := range stringsOf(pr["CanonicalUser"]) {
		who = append(who, "canonical user "+c)
	}
	return who
}

// WithoutStatements is the policy doc without the statements at drop, as
// compact JSON; "" when none is left (the policy should be deleted) or
// doc is not a policy.
func WithoutStatements(doc string, drop []int) string {
	var p map[string]any
	if json.Unmarshal([]byte(doc), &p) != nil || p == nil {
		return ""
	}
	var keep []any
	for i, st := range statementList(p) {
		if !slices.Contains(drop, i) {
			keep = append(keep, st)
		}
	}
	if len(keep) == 0 {
		return ""
	}
	p["Statement"] = keep
	b, _ := json.Marshal(p)
	return string(b)
}

// awsPrincipals are a statement's AWS principals: "*" for anyone.
func awsPrincipals(principal any) []string {
	switch p := principal.(type) {
	case string:
		return []string{p}
	case map[string]any:
		return stringsOf(p["AWS"])
	}
	return nil
}

// principalAccount is the AWS account an AWS principal belongs to (an ARN
// or a bare account id); "" when it names none.
func principalAccount(principal string) string {
	if isAccountID(principal) {
		return principal
	}
	if parts := strings.Split(principal, ":"); len(parts) >= 5 && parts[0] == "arn" && isAccountID(parts[4]) {
		return parts[4]
	}
	return ""
}

func isAccountID(s string) bool {
	return len(s) == 12 && strings.Trim(s, "0123456789") == ""
}
