package s3bucket

//go:generate go run ../../scripts/awsregions

import "slices"

// Region is an AWS region as the SDK knows it.
type Region struct{ Name, Description string }

// Regions are the regions of the commercial, GovCloud and China
// partitions that the AWS SDK byob is built with knows (regions_gen.go).
// A newer region needs --allow-unknown-region.
func Regions() []Region { return sdkRegions }

// knownRegion reports whether the SDK knows the region.
func knownRegion(name string) bool {
	return slices.ContainsFunc(sdkRegions, func(r Region) bool { return r.Name == name })
}

// regionNames are the names of the regions the SDK knows.
func regionNames() []string {
	out := make([]string, len(sdkRegions))
	for i, r := range sdkRegions {
		out[i] = r.Name
	}
	return out
}
