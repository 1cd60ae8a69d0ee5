// Package snowflake builds the SQL byob runs in Snowflake, parses what
// Snowflake answers, and opens connections with gosnowflake.
package snowflake

import (
	"errors"
	"fmt"
	"strings"
)

// MaxIdentifierLength is Snowflake's limit for an identifier.
const MaxIdentifierLength = 255

// ValidateIdentifier accepts Snowflake's unquoted identifier syntax only:
// a letter or underscore, then letters, digits, underscores or dollar signs,
// at most 255 characters. byob rejects everything else (spaces, quotes, dots,
// mixed-case quoted names) rather than trying to escape it.
func ValidateIdentifier(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	if len(s) > MaxIdentifierLength {
		return fmt.Errorf("must be at most %d characters", MaxIdentifierLength)
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case i > 0 && (r == '$' || r >= '0' && r <= '9'):
		default:
			return errors.New("must start with a letter or underscore and contain only letters, digits, underscores and dollar signs")
		}
	}
	return nil
}

// Ident is a validated identifier in its canonical (upper-case) form.
type Ident string

// NewIdent validates s and returns it upper-cased, which is how Snowflake
// resolves an unquoted identifier.
func NewIdent(s string) (Ident, error) {
	if err := ValidateIdentifier(s); err != nil {
		return "", err
	}
	return Ident(strings.ToUpper(s)), nil
}

// SQL renders the identifier double-quoted, doubling any embedded quote, so
// no value can change the statement even if validation were bypassed.
func (i Ident) SQL() string {
	return `"` + strings.ReplaceAll(string(i), `"`, `""`) + `"`
}

// Name is an object name qualified by database and schema.
type Name struct {
	Database, Schema, Object Ident
}

// SQL renders the fully qualified, quoted name.
func (n Name) SQL() string {
	return n.Database.SQL() + "." + n.Schema.SQL() + "." + n.Object.SQL()
}

// String renders the name as users type it: DB.SCHEMA.OBJECT.
func (n Name) String() string {
	return string(n.Database) + "." + string(n.Schema) + "." + string(n.Object)
}

// Literal renders s as a single-quoted SQL string literal. Backslashes and
// single quotes are escaped; Snowflake treats a backslash as an escape
// character inside string literals.
func Literal(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `'`, `''`)
	return "'" + s + "'"
}
