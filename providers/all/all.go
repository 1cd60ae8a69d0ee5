// Package all registers every provider byob knows. Import it for its
// effect: the engine finds providers by name and never imports one.
package all

import (
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/aws"
	"github.com/growthloop/byob/providers/gcp"
	"github.com/growthloop/byob/providers/snowflake"
)

// In this order the form offers them and messages list them; one place
// says it, since the order packages initialise in is no contract.
func init() {
	providers.Register(aws.Provider{})       // --provider s3
	providers.Register(gcp.Provider{})       // --provider gcs
	providers.Register(snowflake.Provider{}) // --warehouse snowflake
}
