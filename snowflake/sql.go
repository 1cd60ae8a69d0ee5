package snowflake

import (
	"strings"
)

// Integration describes a storage integration. Statements built from it
// never use CREATE OR REPLACE: replacing an integration mints a new external
// ID (or GCP service account) and detaches every stage on it.
type Integration struct {
	Name     Ident
	Provider string // STORAGE_PROVIDER: S3, GCS
	// RoleARN and ExternalID are the role Snowflake assumes to reach the
	// bucket, and the external ID its trust requires (S3); empty when it
	// reaches the bucket as itself (GCS).
	RoleARN          string
	ExternalID       string
	AllowedLocations []string
}

// Create returns the CREATE STORAGE INTEGRATION IF NOT EXISTS statement.
func (in Integration) Create() string {
	var b strings.Builder
	b.WriteString("CREATE STORAGE INTEGRATION IF NOT EXISTS " + in.Name.SQL() + "\n")
	b.WriteString("  TYPE = EXTERNAL_STAGE\n")
	b.WriteString("  STORAGE_PROVIDER = " + Literal(in.Provider) + "\n")
	b.WriteString("  ENABLED = TRUE\n")
	if in.AssumesRole() {
		b.WriteString("  STORAGE_AWS_ROLE_ARN = " + Literal(in.RoleARN) + "\n")
		b.WriteString("  STORAGE_AWS_EXTERNAL_ID = " + Literal(in.ExternalID) + "\n")
	}
	b.WriteString("  STORAGE_ALLOWED_LOCATIONS = " + locations(in.AllowedLocations))
	return b.String()
}

// AssumesRole reports whether Snowflake reaches the bucket by assuming a
// role (S3), rather than as its own identity (GCS).
func (in Integration) AssumesRole() bool { return in.RoleARN != "" }

// Describe returns DESC INTEGRATION on the same name Create uses.
func (in Integration) Describe() string {
	return "DESC INTEGRATION " + in.Name.SQL()
}

// Alter returns the ALTER STORAGE INTEGRATION statement that sets the given
// properties back to what this Integration wants. Properties are named as in
// DESC INTEGRATION output; unknown names are ignored. It returns "" when
// nothing is to be set.
//
// When Snowflake assumes a role, every ALTER sets the role ARN and the
// external ID together:
// setting the role ARN alone may make Snowflake issue a new external ID,
// which would break the role's trust.
func (in Integration) Alter(properties []string) string {
	set := map[string]bool{}
	for _, p := range properties {
		set[p] = true
	}
	if in.AssumesRole() && len(properties) > 0 {
		set[PropAWSRoleARN], set[PropAWSExternalID] = true, true
	}
	var sets []string
	if set[PropEnabled] {
		sets = append(sets, "ENABLED = TRUE")
	}
	if set[PropAWSRoleARN] {
		sets = append(sets, "STORAGE_AWS_ROLE_ARN = "+Literal(in.RoleARN))
	}
	if set[PropAWSExternalID] {
		sets = append(sets, "STORAGE_AWS_EXTERNAL_ID = "+Literal(in.ExternalID))
	}
	if set[PropAllowedLocations] {
		sets = append(sets, "STORAGE_ALLOWED_LOCATIONS = "+locations(in.AllowedLocations))
	}
	if len(sets) == 0 {
		return ""
	}
	return "ALTER STORAGE INTEGRATION " + in.Name.SQL() + " SET\n  " + strings.Join(sets, "\n  ")
}

func locations(locs []string) string {
	q := make([]string, len(locs))
	for i, l := range locs {
		q[i] = Literal(l)
	}
	return "(" + strings.Join(q, ", ") + ")"
}

// Stage describes an external stage on a storage integration.
type Stage struct {
	Name        Name
	URL         string
	Integration Ident
}

// Create returns the CREATE STAGE IF NOT EXISTS statement.
func (s Stage) Create() string {
	return "CREATE STAGE IF NOT EXISTS " + s.Name.SQL() + "\n" +
		"  URL = " + Literal(s.URL) + "\n" +
		"  STORAGE_INTEGRATION = " + s.Integration.SQL()
}

// Alter returns the statement that points an existing stage back at the
// wanted URL and integration.
func (s Stage) Alter() string {
	return "ALTER STAGE " + s.Name.SQL() + " SET\n" +
		"  URL = " + Literal(s.URL) + "\n" +
		"  STORAGE_INTEGRATION = " + s.Integration.SQL()
}

// Grant is GRANT <privilege> ON <object type> <object> TO ROLE <role>.
type Grant struct {
	Privilege  string // USAGE
	ObjectType string // INTEGRATION, DATABASE, SCHEMA, STAGE
	Object     string // rendered name: Ident.SQL() or Name.SQL()
	Role       Ident
}

// SQL returns the GRANT statement.
func (g Grant) SQL() string {
	return "GRANT " + g.Privilege + " ON " + g.ObjectType + " " + g.Object + " TO ROLE " + g.Role.SQL()
}

// Revoke returns the matching REVOKE statement.
func (g Grant) Revoke() string {
	return "REVOKE " + g.Privilege + " ON " + g.ObjectType + " " + g.Object + " FROM ROLE " + g.Role.SQL()
}

// ShowGrantsTo returns SHOW GRANTS TO ROLE, used to check a grant exists.
func ShowGrantsTo(role Ident) string {
	return "SHOW GRANTS TO ROLE " + role.SQL()
}

// SessionInfo is the preflight query: who runs, and where the account is.
const SessionInfo = "SELECT CURRENT_ROLE(), CURRENT_REGION(), CURRENT_ACCOUNT()"
