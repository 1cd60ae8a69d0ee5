package aws

//go:generate go run ../../scripts/awsregions

import "slices"

// Region is an AWS region as the SDK knows it.
type Region struct{ Name, Description string }

// Regions are the regions of the commercial, GovCloud and China
// partitions that the AWS SDK byob is built with knows (regions_gen.go).
// A newer region still works with --region: it is warned about, not
// refused.
func Regions() []Region { return sdkRegions }

// knownRegion reports whether the SDK knows the region.
func knownRegion(name string) bool {
	return slices.ContainsFunc(sdkRegions, func(r Region) bool { return r.Name == name })
}

// nearRegions are the known regions closest to name, within two edits:
// what a typo (us-est-1, eu-centrl-1) meant.
func nearRegions(name string) []string {
	var out []string
	best := 3
	for _, r := range sdkRegions {
		switch d := distance(name, r.Name); {
		case d < best:
			best, out = d, []string{r.Name}
		case d == best:
			out = append(out, r.Name)
		}
	}
	return out
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
