package s3bucket

import "github.com/growthloop/byob/providers"

// Settings are AWS's inputs: the bucket's region, the profile byob
// reaches AWS with, and the names of what byob manages when a setup made
// by hand has its own. Fields says which flag sets each.
type Settings struct {
	Region string
	// Profile is the AWS shared config profile.
	Profile string
	// PolicyName, RoleName and UserName name what byob manages when they
	// are not derived from the setup's name; "" derives them.
	PolicyName, RoleName, UserName string
}

// SettingsOf is c's AWS section.
func SettingsOf(c *providers.Config) Settings { return providers.Section[Settings](c) }

// Fields implements providers.Provider: AWS's flags.
func (Provider) Fields() []providers.Field {
	return []providers.Field{
		{Flag: "profile", State: "connection.aws_profile", Owner: Name, Kind: providers.ConnectionField, Usage: "AWS shared config profile (default: AWS_PROFILE or the default chain)", Slot: providers.SectionText(func(s *Settings) *string { return &s.Profile }),
			Ask: &providers.Question{Page: providers.PageWhere, Title: "Which AWS profile?", Description: "Leave empty for the default credentials."}},
		{Flag: "region", State: "region", Owner: Name, Usage: "AWS region of the bucket (s3; defaults to the Snowflake account's region)", Help: map[providers.Use]string{providers.Renders: "AWS region of the bucket (s3)", providers.Reads: "AWS region of the bucket (s3)"}, Slot: providers.SectionText(func(s *Settings) *string { return &s.Region }), Required: providers.WithoutWarehouse, Because: providers.NoWarehouse,
			Ask: &providers.Question{Page: providers.PageWhere, Title: "Bucket region", Other: "Another region (type its name)"}},
		{Flag: "policy-name", State: "names.aws_policy", Owner: Name, Usage: "name of GrowthLoop's IAM policy, when it is not the derived <name>-byob-access (a setup made by hand)", Slot: providers.SectionText(func(s *Settings) *string { return &s.PolicyName })},
		{Flag: "role-name", State: "names.aws_role", Owner: Name, Usage: "name of the IAM role Snowflake assumes, when it is not <name>-byob-snowflake", Slot: providers.SectionText(func(s *Settings) *string { return &s.RoleName })},
		{Flag: "user-name", State: "names.aws_user", Owner: Name, Usage: "name of GrowthLoop's IAM user, when it is not <name>-byob-exporter", Slot: providers.SectionText(func(s *Settings) *string { return &s.UserName })},
	}
}
