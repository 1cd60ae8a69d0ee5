package snowflake

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	sf "github.com/snowflakedb/gosnowflake/v2"
)

// Snowflake error numbers byob tells apart.
const (
	errDoesNotExist          = 2003 // object does not exist or not authorized
	errInsufficientPrivilege = 3001
	errAssumeRole            = 3167 // "Error assuming AWS_ROLE"
)

func errNumber(err error) int {
	var se *sf.SnowflakeError
	if errors.As(err, &se) {
		return se.Number
	}
	return 0
}

// IsNotFound reports whether Snowflake said the object does not exist,
// or that the role may not see it: 002003 says both.
func IsNotFound(err error) bool { return errNumber(err) == errDoesNotExist }

// IsAssumeRoleError reports Snowflake's "Error assuming AWS_ROLE": the
// role's trust does not (or not yet) let the integration's IAM user in.
func IsAssumeRoleError(err error) bool { return errNumber(err) == errAssumeRole }

// Explain wraps a Snowflake error with what was run and what to do; role
// names the session's role.
func Explain(role, what string, err error) error {
	switch errNumber(err) {
	case errInsufficientPrivilege:
		hint := "grant it the privilege or connect with a role that has it (--snowflake-role)"
		if strings.Contains(strings.ToUpper(what), "INTEGRATION") {
			hint = "creating and altering storage integrations needs ACCOUNTADMIN or the CREATE INTEGRATION privilege: connect with --snowflake-role ACCOUNTADMIN"
		}
		return fmt.Errorf("%s: role %s lacks the privilege: %s: %w", what, role, hint, err)
	case errDoesNotExist:
		return fmt.Errorf("%s: %s: %w", what, notFoundHint(err, role), err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// notFoundRe finds the object of a 002003 message: "Role 'GROWTHLOOP' does
// not exist or not authorized."
// (compiled on first use: byob --help need not).
var notFoundRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(\w+) '([^']*)' does not exist or not authorized`)
})

// notFoundHint reads 002003 as Snowflake means it: the object does not
// exist, or the session's role may not see it. It says which object, and
// what to do for each.
func notFoundHint(err error, role string) string {
	kind, name := "object", "?"
	if m := notFoundRe().FindStringSubmatch(err.Error()); m != nil {
		kind, name = strings.ToLower(m[1]), m[2]
	}
	switch kind {
	case "role":
		return fmt.Sprintf("role %s does not exist, or role %s may not see it: create it (CREATE ROLE %s) or check --growthloop-role", name, role, Ident(name).SQL())
	case "integration":
		return fmt.Sprintf("integration %s does not exist, or role %s may not see it (that needs OWNERSHIP or USAGE on it): connect with its owner's role (--snowflake-role), or choose another name with --integration", name, role)
	case "database", "schema":
		return fmt.Sprintf("%s %s does not exist, or role %s may not use it: create it, check --snowflake-database and --snowflake-schema, or grant role %s USAGE on it", kind, name, role, role)
	}
	return fmt.Sprintf("%s %s does not exist, or role %s is not authorized to see it", kind, name, role)
}
