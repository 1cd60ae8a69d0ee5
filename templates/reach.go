package templates

import (
	"slices"
	"strings"
)

// Whether a bucket policy statement reaches GrowthLoop's data: the objects
// under the export prefix, or a listing of their names. IAM matches ARNs
// and condition values with '*' (any run of characters, '/' included) and
// '?' (one character), case-sensitively; action names case-insensitively.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String

// listActions are the actions that list a bucket's keys.
var listActions = []string{"s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"}

// takeoverActions are the bucket-level actions that let their holder
// reach or remove what the bucket holds: grant access (the policy, ACLs,
// the public access block, object ownership), copy or report the objects
// elsewhere (replication, inventory, event notifications), expire them or
// delete the bucket.
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
var takeoverActions = []string{
	"s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketAcl", "s3:PutBucketPublicAccessBlock",
	"s3:PutBucketOwnershipControls", "s3:PutReplicationConfiguration", "s3:PutInventoryConfiguration",
	"s3:PutBucketNotification", "s3:PutLifecycleConfiguration", "s3:DeleteBucket",
}

// ReachesPrefix reports whether an Allow statement covers an object under
// prefix in bucket, lists keys under it, or may change the bucket so that
// its holder reaches them. What it cannot rule out counts as reaching.
func ReachesPrefix(st map[string]any, bucket Bucket, prefix string) bool {
	objects := bucket.ARN() + "/" + prefix
	onBucket := func() bool { return allows(st, takeoverActions) || (allows(st, listActions) && listsUnder(st, prefix)) }
	if nr, ok := st["NotResource"]; ok {
		// Everything but these: it reaches unless they take in every
		// key under the prefix, and the bucket too when it acts on it.
		pats := variablesAsWildcards(stringsOf(nr))
		coversObjects := slices.ContainsFunc(pats, func(p string) bool { return globCoversAll(p, objects) })
		coversBucket := slices.ContainsFunc(pats, func(p string) bool { return globMatch(p, bucket.ARN()) })
		return !coversObjects || (!coversBucket && onBucket())
	}
	for _, p := range variablesAsWildcards(stringsOf(st["Resource"])) {
		if globViable(p, objects) || (globMatch(p, bucket.ARN()) && onBucket()) {
			return true
		}
	}
	return false
}

// variablesAsWildcards reads each policy variable (${aws:PrincipalTag/x})
// as '*': its holder may choose what it stands for.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
func variablesAsWildcards(pats []string) []string {
	out := make([]string, len(pats))
	for i, p := range pats {
		for {
			start := strings.Index(p, "${")
			if start < 0 {
				break
			}
			end := strings.Index(p[start:], "}")
			if end < 0 {
				break
			}
			p = p[:start] + "*" + p[start+end+1:]
		}
		out[i] = p
	}
	return out
}

// allows reports whether the statement allows one of actions.
func allows(st map[string]any, actions []string) bool {
	named := func(pats []string) func(string) bool {
		return func(action string) bool {
			return slices.ContainsFunc(pats, func(p string) bool { return globMatch(strings.ToLower(p), strings.ToLower(action)) })
		}
	}
	if na, ok := st["NotAction"]; ok {
		// Everything but these: it allows one unless they name them all.
		excluded := named(stringsOf(na))
		return slices.ContainsFunc(actions, func(a string) bool { return !excluded(a) })
	}
	return slices.ContainsFunc(actions, named(stringsOf(st["Action"])))
}

// listsUnder reports whether the statement's s3:prefix conditions, if
// any, let a listing show keys under prefix.
func listsUnder(st map[string]any, prefix string) bool {
	cond, _ := st["Condition"].(map[string]any)
	for op, kv := range cond {
		m, _ := kv.(map[string]any)
		for key, vals := range m {
			if !strings.EqualFold(key, "s3:prefix") {
				continue
			}
			var overlaps func(v string) bool
			switch strings.TrimPrefix(strings.ToLower(op), "foranyvalue:") {
			case "stringequals":
				overlaps = func(v string) bool { return strings.HasPrefix(prefix, v) || strings.HasPrefix(v, prefix) }
			case "stringlike":
				overlaps = func(v string) bool { return globViable(v, prefix) || globMatchesAPrefixOf(v, prefix) }
			default:
				continue // a negated or other operator narrows nothing for sure
			}
			if !slices.ContainsFunc(variablesAsWildcards(stringsOf(vals)), overlaps) {
				return false
			}
		}
	}
	return true
}

// globMatch reports whether pattern matches s whole.
func globMatch(pattern, s string) bool {
	ends := globRun(pattern, s)
	return ends[len(pattern)]
}

// globViable reports whether pattern matches some string that starts with
// s: s can be read through the pattern, whose rest any suffix can meet.
func globViable(pattern, s string) bool {
	for _, ok := range globRun(pattern, s) {
		if ok {
			return true
		}
	}
	return false
}

// globCoversAll reports whether pattern matches every string that starts
// with s: it reads s, and only '*' is left, at least one.
func globCoversAll(pattern, s string) bool {
	ends := globRun(pattern, s)
	for i, ok := range ends {
		if ok && i < len(pattern) && strings.Trim(pattern[i:], "*") == "" {
			return true
		}
	}
	return false
}

// globMatchesAPrefixOf reports whether pattern matches s or one of its
// prefixes, "" included.
func globMatchesAPrefixOf(pattern, s string) bool {
	for i := 0; i <= len(s); i++ {
		if globMatch(pattern, s[:i]) {
			return true
		}
	}
	return false
}

// globRun reads s through pattern: ends[i] says that pattern[:i] can match
// s whole.
func globRun(pattern, s string) []bool {
	// cur[i]: pattern[:i] matches what was read so far.
	cur := make([]bool, len(pattern)+1)
	cur[0] = true
	stars := func(v []bool) {
		for i := 0; i < len(pattern); i++ {
			if v[i] && pattern[i] == '*' {
				v[i+1] = true
			}
		}
	}
	stars(cur)
	for k := 0; k < len(s); k++ {
		next := make([]bool, len(pattern)+1)
		for i := 0; i < len(pattern); i++ {
			if !cur[i] {
				continue
			}
			switch pattern[i] {
			case '*':
				next[i] = true
			case '?':
				next[i+1] = true
			default:
				if pattern[i] == s[k] {
					next[i+1] = true
				}
			}
		}
		stars(next)
		cur = next
	}
	return cur
}
