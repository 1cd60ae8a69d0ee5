package templates

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// The mistakes GrowthLoop's hand-setup guide makes, found in what a setup
// made by following it holds, each named with why it matters.

// PolicyMistakes names what is wrong in a policy document made by hand:
// s3:GetBucketLocation under an s3:prefix condition (GetBucketLocation
// requests carry no prefix, so the condition never matches), and a
// ListBucket condition that leaves out the prefix itself.
func PolicyMistakes(doc string) []string {
	var out []string
	for _, st := range statementsOf(doc) {
		actions, cond := stringsOf(st["Action"]), st["Condition"]
		prefixes := conditionValues(cond, "s3:prefix")
		if prefixes == nil {
			continue
		}
		if slices.ContainsFunc(actions, func(a string) bool { return strings.EqualFold(a, "s3:GetBucketLocation") }) {
			out = append(out, "s3:GetBucketLocation is under an s3:prefix condition and can never be allowed (its requests carry no prefix)")
		}
		for _, p := range prefixes {
			if base, ok := strings.CutSuffix(p, "*"); ok && base != "" && !slices.Contains(prefixes, base) &&
				slices.ContainsFunc(actions, func(a string) bool { return strings.EqualFold(a, "s3:ListBucket") }) {
				out = append(out, fmt.Sprintf("s3:ListBucket allows %q but not %q itself, so listing the prefix is denied", p, base))
			}
		}
	}
	return out
}

// CustomerStatements splits the statements of a policy made by hand into the
// ones byob's document replaces (those with a Sid of want's, and Allow
// statements whose every action is one of want's, on resources of want's
// bucket) and the customer's own, which byob keeps unless told to prune
// them.
func CustomerStatements(have, want string) (customer []any) {
	wantActions, wantBuckets, sids := map[string]bool{}, map[string]bool{}, sidsOf(want)
	for _, st := range statementsOf(want) {
		for _, a := range stringsOf(st["Action"]) {
			wantActions[strings.ToLower(a)] = true
		}
		for _, r := range stringsOf(st["Resource"]) {
			wantBuckets[bucketOfARN(r)] = true
		}
	}
	for _, st := range statementsOf(have) {
		if sid, _ := st["Sid"].(string); sids[sid] {
			continue
		}
		ours := st["Effect"] == "Allow" && st["NotAction"] == nil && st["NotResource"] == nil
		for _, a := range stringsOf(st["Action"]) {
			ours = ours && wantActions[strings.ToLower(a)]
		}
		for _, r := range stringsOf(st["Resource"]) {
			ours = ours && wantBuckets[bucketOfARN(r)]
		}
		if !ours {
			customer = append(customer, st)
		}
	}
	return customer
}

// OtherResources are the resources that have's statements with a Sid of
// want's name and want's statements do not: byob's document for another
// bucket or prefix, as another setup of the same name wrote it.
func OtherResources(have, want string) []string {
	named := map[string]bool{}
	for _, st := range statementsOf(want) {
		for _, r := range stringsOf(st["Resource"]) {
			named[r] = true
		}
	}
	sids := sidsOf(want)
	var other []string
	for _, st := range statementsOf(have) {
		if sid, _ := st["Sid"].(string); !sids[sid] {
			continue
		}
		for _, r := range stringsOf(st["Resource"]) {
			if !named[r] && !slices.Contains(other, r) {
				other = append(other, r)
			}
		}
	}
	slices.Sort(other)
	return other
}

// sidsOf are the Sids of doc's statements.
func sidsOf(doc string) map[string]bool {
	sids := map[string]bool{}
	for _, st := range statementsOf(doc) {
		if sid, _ := st["Sid"].(string); sid != "" {
			sids[sid] = true
		}
	}
	return sids
}

// Allows reports whether any of the statements allows something: kept in
// GrowthLoop's or Snowflake's policy, it grants more than byob's document.
func Allows(statements []any) bool {
	for _, st := range statements {
		if m, ok := st.(map[string]any); ok && m["Effect"] != "Deny" {
			return true
		}
	}
	return false
}

// WithStatements is doc with extra statements appended, indented.
func WithStatements(doc string, extra []any) string {
	if len(extra) == 0 {
		return doc
	}
	var p map[string]any
	if json.Unmarshal([]byte(doc), &p) != nil {
		return doc
	}
	p["Statement"] = append(statementList(p), extra...)
	return IndentJSON(p)
}

// bucketOfARN is the bucket an S3 ARN names ("" for another service).
func bucketOfARN(arn string) string {
	rest, ok := strings.CutPrefix(arn, "arn:")
	if !ok {
		return ""
	}
	parts := strings.SplitN(rest, ":", 5)
	if len(parts) != 5 || parts[1] != "s3" {
		return ""
	}
	return strings.SplitN(parts[4], "/", 2)[0]
}

// statementsOf are a policy document's statements as JSON objects.
func statementsOf(doc string) []map[string]any {
	var p map[string]any
	if json.Unmarshal([]byte(doc), &p) != nil {
		return nil
	}
	var out []map[string]any
	for _, st := range statementList(p) {
		if m, ok := st.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// stringsOf is a policy element that is a string or a list of strings.
func stringsOf(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// conditionValues are the values a condition block tests key with, under
// any of ops (any operator when none; ForAnyValue: and ForAllValues:
// forms count as their operator); nil when it does not test key.
func conditionValues(cond any, key string, ops ...string) []string {
	c, _ := cond.(map[string]any)
	var out []string
	for op, kv := range c {
		base := strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(op), "foranyvalue:"), "forallvalues:")
		if len(ops) > 0 && !slices.ContainsFunc(ops, func(o string) bool { return strings.EqualFold(o, base) }) {
			continue
		}
		if m, ok := kv.(map[string]any); ok {
			for k, v := range m {
				if strings.EqualFold(k, key) {
					out = append(out, stringsOf(v)...)
					if out == nil {
						out = []string{}
					}
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// TrustMistakes names why a role's trust does not let the integration in:
// another external ID (the guide's placeholder 0000 left in place) or
// another principal (the guide's "This Account" never replaced).
func TrustMistakes(have, userARN, externalID string) []string {
	var out []string
	for _, st := range statementsOf(have) {
		for _, id := range conditionValues(st["Condition"], "sts:ExternalId") {
			if id != externalID {
				out = append(out, fmt.Sprintf("trust external ID %s does not match the integration's %s", id, externalID))
			}
		}
		if p, ok := st["Principal"].(map[string]any); ok {
			for _, who := range stringsOf(p["AWS"]) {
				if who != userARN {
					out = append(out, fmt.Sprintf("trust principal %s is not the integration's IAM user %s", who, userARN))
				}
			}
		}
	}
	return out
}
