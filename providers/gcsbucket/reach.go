package gcsbucket

import (
	"regexp"
	"strings"
)

// Whether a bucket binding reaches GrowthLoop's data: the objects under the
// export prefix, or a listing of the bucket (whose resource name is the
// bucket's). An IAM condition on the resource name can narrow a binding to
// other objects:
//
//	resource.name.startsWith("projects/_/buckets/B/objects/reports/")
//
// https://cloud.google.com/iam/docs/conditions-resource-attributes#resource-name
// https://docs.cloud.google.com/ruby/docs/reference/google-cloud-storage/latest/Google-Cloud-Storage-Policy-Binding.html
// A binding without a condition, or whose condition byob cannot read,
// reaches.

// reaches reports whether a binding under condition expr (CEL) can reach
// an object under prefix in bucket, or list the bucket.
func reaches(expr, bucket, prefix string) bool {
	if strings.TrimSpace(expr) == "" {
		return true
	}
	return !narrowedAway(expr, "projects/_/buckets/"+bucket, "projects/_/buckets/"+bucket+"/objects/"+prefix)
}

var (
	startsWith = regexp.MustCompile(`^resource\.name\.startsWith\(\s*("[^"\\]*"|'[^'\\]*')\s*\)$`)
	equals     = regexp.MustCompile(`^resource\.name\s*==\s*("[^"\\]*"|'[^'\\]*')$`)
)

// narrowedAway reports whether expr holds for no object name starting with
// objects and not for the bucket's own name: every alternative (||) has a
// part (&&) that rules them out. What it cannot read rules nothing out.
func narrowedAway(expr, bucket, objects string) bool {
	expr = unwrap(strings.TrimSpace(expr))
	if alts := splitTop(expr, "||"); len(alts) > 1 {
		for _, a := range alts {
			if !narrowedAway(a, bucket, objects) {
				return false
			}
		}
		return true
	}
	if parts := splitTop(expr, "&&"); len(parts) > 1 {
		for _, p := range parts {
			if narrowedAway(p, bucket, objects) {
				return true
			}
		}
		return false
	}
	if m := startsWith.FindStringSubmatch(expr); m != nil {
		p := m[1][1 : len(m[1])-1]
		return !strings.HasPrefix(objects, p) && !strings.HasPrefix(p, objects) && !strings.HasPrefix(bucket, p)
	}
	if m := equals.FindStringSubmatch(expr); m != nil {
		name := m[1][1 : len(m[1])-1]
		return name != bucket && !strings.HasPrefix(name, objects)
	}
	return false
}

// unwrap drops parentheses around the whole of expr.
func unwrap(expr string) string {
	for strings.HasPrefix(expr, "(") {
		depth, closes := 0, -1
		walk(expr, func(i int, c byte) {
			switch {
			case c == '(':
				depth++
			case c == ')':
				depth--
				if depth == 0 && closes < 0 {
					closes = i
				}
			}
		})
		if closes != len(expr)-1 {
			break // "(a) && (b)"
		}
		expr = strings.TrimSpace(expr[1:closes])
	}
	return expr
}

// splitTop splits expr at op where it is outside parentheses and strings.
func splitTop(expr, op string) []string {
	var out []string
	start, depth := 0, 0
	walk(expr, func(i int, c byte) {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		}
		if depth == 0 && i >= start && strings.HasPrefix(expr[i:], op) {
			out = append(out, strings.TrimSpace(expr[start:i]))
			start = i + len(op)
		}
	})
	return append(out, strings.TrimSpace(expr[start:]))
}

// walk calls f for each byte of s outside string literals.
func walk(s string, f func(i int, c byte)) {
	var quote byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quote != 0 && c == '\\':
			i++
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		default:
			f(i, c)
		}
	}
}
