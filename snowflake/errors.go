package snowflake

import (
	"context"
	"errors"
	"fmt"
	"strings"

	sf "github.com/snowflakedb/gosnowflake"
)

// Snowflake error numbers byob tells apart.
const (
	errDoesNotExist          = 2003 // object does not exist or not authorized
	errInsufficientPrivilege = 3001
)

func errNumber(err error) int {
	var se *sf.SnowflakeError
	if errors.As(err, &se) {
		return se.Number
	}
	return 0
}

// IsNotFound reports whether Snowflake said the object does not exist.
func IsNotFound(err error) bool { return errNumber(err) == errDoesNotExist }

type roleKey struct{}

// WithRole records the session's role (from preflight) for error messages.
func WithRole(ctx context.Context, role string) context.Context {
	return context.WithValue(ctx, roleKey{}, role)
}

func roleFrom(ctx context.Context) string {
	if s, ok := ctx.Value(roleKey{}).(string); ok && s != "" {
		return s
	}
	return "the session's role"
}

// Explain wraps a Snowflake error with what was run and what to do.
func Explain(ctx context.Context, what string, err error) error {
	switch errNumber(err) {
	case errInsufficientPrivilege:
		hint := "grant it the privilege or connect with a role that has it (--snowflake-role)"
		if strings.Contains(strings.ToUpper(what), "INTEGRATION") {
			hint = "creating and altering storage integrations needs ACCOUNTADMIN or the CREATE INTEGRATION privilege: connect with --snowflake-role ACCOUNTADMIN"
		}
		return fmt.Errorf("%s: role %s lacks the privilege: %s: %w", what, roleFrom(ctx), hint, err)
	case errDoesNotExist:
		return fmt.Errorf("%s: %w (create the database and schema first, or check --snowflake-database and --snowflake-schema, and that role %s can see them)", what, err, roleFrom(ctx))
	}
	return fmt.Errorf("%s: %w", what, err)
}
