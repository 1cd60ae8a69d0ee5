package snowflake

import (
	"fmt"
	"strings"
)

// Properties of DESC INTEGRATION that byob reads.
const (
	PropEnabled             = "ENABLED"
	PropAWSIAMUserARN       = "STORAGE_AWS_IAM_USER_ARN"
	PropAWSRoleARN          = "STORAGE_AWS_ROLE_ARN"
	PropAWSExternalID       = "STORAGE_AWS_EXTERNAL_ID"
	PropAllowedLocations    = "STORAGE_ALLOWED_LOCATIONS"
	PropGCPServiceAccount   = "STORAGE_GCP_SERVICE_ACCOUNT"
	PropStorageProvider     = "STORAGE_PROVIDER"
	descColumnProperty      = "property"
	descColumnPropertyValue = "property_value"
)

// Description is DESC INTEGRATION output keyed by property name.
type Description map[string]string

// ParseDescription reads DESC INTEGRATION rows given as column name to value
// maps. It looks columns up by name (case-insensitively), not by position.
func ParseDescription(rows []map[string]string) Description {
	d := Description{}
	for _, row := range rows {
		var prop, val string
		for k, v := range row {
			switch strings.ToLower(k) {
			case descColumnProperty:
				prop = strings.ToUpper(v)
			case descColumnPropertyValue:
				val = v
			}
		}
		if prop != "" {
			d[prop] = val
		}
	}
	return d
}

// List splits a list-valued property (STORAGE_ALLOWED_LOCATIONS) into its
// items. Snowflake shows lists comma-separated, sometimes bracketed.
func (d Description) List(prop string) []string {
	v := strings.TrimSpace(d[prop])
	v = strings.TrimPrefix(v, "[")
	v = strings.TrimSuffix(v, "]")
	var out []string
	for _, item := range strings.Split(v, ",") {
		item = strings.Trim(strings.TrimSpace(item), `"'`)
		if item != "" {
			out = append(out, item)
		}
	}
	return out
}

// Drift compares the description with what in wants and returns the
// properties that differ, in a stable order.
func (d Description) Drift(in Integration) []string {
	var props []string
	if !strings.EqualFold(d[PropEnabled], "true") {
		props = append(props, PropEnabled)
	}
	if in.AssumesRole() {
		if d[PropAWSRoleARN] != in.RoleARN {
			props = append(props, PropAWSRoleARN)
		}
		if d[PropAWSExternalID] != in.ExternalID {
			props = append(props, PropAWSExternalID)
		}
	}
	if !sameSet(d.List(PropAllowedLocations), in.AllowedLocations) {
		props = append(props, PropAllowedLocations)
	}
	return props
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		if seen[s] == 0 {
			return false
		}
		seen[s]--
	}
	return true
}

// Explain says, property by property, what Snowflake has and what byob
// wants: "STORAGE_AWS_EXTERNAL_ID is 'x', want 'y'".
func (d Description) Explain(in Integration, props []string) string {
	want := map[string]string{
		PropEnabled:          "true",
		PropAWSRoleARN:       in.RoleARN,
		PropAWSExternalID:    in.ExternalID,
		PropAllowedLocations: strings.Join(in.AllowedLocations, ","),
	}
	parts := make([]string, len(props))
	for i, p := range props {
		parts[i] = fmt.Sprintf("%s is %q, want %q", p, d[p], want[p])
	}
	return strings.Join(parts, "; ")
}
