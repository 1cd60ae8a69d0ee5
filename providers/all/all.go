// Package all registers every provider byob knows. Import it for its
// effect: the engine finds providers by name and never imports one.
package all

import (
	_ "github.com/growthloop/byob/providers/aws"       // --provider s3
	_ "github.com/growthloop/byob/providers/gcp"       // --provider gcs
	_ "github.com/growthloop/byob/providers/snowflake" // --warehouse snowflake
)
