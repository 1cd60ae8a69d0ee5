// Package all registers every provider byob knows. Import it for its
// effect: the engine finds providers by name and never imports one.
package all

import (
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/snowflakestage"
)

// In this order the form offers them and messages list them; one place
// says it, since the order packages initialise in is no contract.
func init() {
	providers.Register(s3bucket.Provider{})       // --provider s3
	providers.Register(gcsbucket.Provider{})      // --provider gcs
	providers.Register(snowflakestage.Provider{}) // --warehouse snowflake
}
