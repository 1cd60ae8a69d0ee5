package snowflake

import (
	"strings"
	"testing"
)

// lexLiterals splits SQL text into the string literals it holds (decoded)
// and the rest (with each literal replaced by '?'), following Snowflake's
// rules: a doubled quote and a backslash-quote are quotes inside a
// literal, and a doubled backslash is a backslash.
func lexLiterals(t *testing.T, sql string) (rest string, lits []string) {
	var b strings.Builder
	for i := 0; i < len(sql); i++ {
		if sql[i] != '\'' {
			b.WriteByte(sql[i])
			continue
		}
		var lit strings.Builder
		i++
		for ; ; i++ {
			if i >= len(sql) {
				t.Fatalf("unterminated literal in %q", sql)
			}
			c := sql[i]
			if c == '\\' && i+1 < len(sql) {
				i++
				lit.WriteByte(sql[i])
				continue
			}
			if c == '\'' {
				if i+1 < len(sql) && sql[i+1] == '\'' {
					lit.WriteByte('\'')
					i++
					continue
				}
				break
			}
			lit.WriteByte(c)
		}
		lits = append(lits, lit.String())
		b.WriteString("?")
	}
	return b.String(), lits
}

// FuzzIntegrationSQL checks that no value can change a statement's shape:
// whatever the role ARN, external ID and location, the statement has the
// same text outside its literals and each literal decodes to its input.
func FuzzIntegrationSQL(f *testing.F) {
	f.Add("arn:aws:iam::123456789012:role/r", "byob-00", "s3://b/exports/")
	f.Add("x'; DROP DATABASE d; --", `\'`, `s3://b/'),('s3://evil/`)
	f.Add(`\`, `''`, "gcs://b/p/")
	shape := func(role, ext, loc string) string {
		return Integration{Name: "I", Provider: "S3", RoleARN: role, ExternalID: ext, AllowedLocations: []string{loc}}.Create()
	}
	f.Fuzz(func(t *testing.T, role, ext, loc string) {
		if role == "" {
			return // no role is a GCS integration, another shape
		}
		want, _ := lexLiterals(t, shape("r", "e", "l"))
		rest, lits := lexLiterals(t, shape(role, ext, loc))
		if rest != want {
			t.Fatalf("statement shape changed:\n%s\nwant\n%s", rest, want)
		}
		if len(lits) != 4 || lits[1] != role || lits[2] != ext || lits[3] != loc {
			t.Fatalf("literals decode to %q, want [S3 %q %q %q]", lits, role, ext, loc)
		}
	})
}

// FuzzIdentifier checks that an accepted identifier renders as exactly one
// quoted identifier, and that quoting any string keeps it one identifier.
func FuzzIdentifier(f *testing.F) {
	for _, s := range []string{"FLYWHEEL_SYSTEM", "a$1", `x" ; DROP`, "", "1a", `""`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := Ident(s).SQL()
		inner := q[1 : len(q)-1]
		if q[0] != '"' || q[len(q)-1] != '"' || strings.Contains(strings.ReplaceAll(inner, `""`, ""), `"`) {
			t.Fatalf("SQL() = %s: not a single quoted identifier", q)
		}
		id, err := NewIdent(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(string(id), "\" ' .;-") || string(id) != strings.ToUpper(s) {
			t.Fatalf("NewIdent(%q) = %q accepted a character outside the unquoted identifier syntax", s, id)
		}
	})
}
