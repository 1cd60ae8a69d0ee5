package gcsbucket

import (
	"slices"
	"strings"
)

// Locations are the Cloud Storage bucket locations Google documents, as
// listed on https://cloud.google.com/storage/docs/locations ("Available
// locations", looked up December 2026): the multi-regions, the predefined
// dual-regions, then the regions. A location newer than this list needs
// --allow-unknown-region.
var Locations = []string{
	// Multi-regions.
	"US", "EU", "ASIA",
	// Predefined dual-regions.
	"NAM4", "EUR4", "EUR5", "EUR7", "EUR8", "ASIA1",
	// Regions: North America.
	"northamerica-northeast1", "northamerica-northeast2", "northamerica-south1",
	"us-central1", "us-east1", "us-east4", "us-east5", "us-south1", "us-west1", "us-west2", "us-west3", "us-west4",
	// South America.
	"southamerica-east1", "southamerica-west1",
	// Europe.
	"europe-central2", "europe-north1", "europe-north2", "europe-southwest1", "europe-west1", "europe-west2", "europe-west3",
	"europe-west4", "europe-west6", "europe-west8", "europe-west9", "europe-west10", "europe-west12",
	// Middle East.
	"me-central1", "me-central2", "me-west1",
	// Asia.
	"asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2", "asia-northeast3", "asia-south1", "asia-south2",
	"asia-southeast1", "asia-southeast2", "asia-southeast3",
	// Africa.
	"africa-south1",
	// Australia.
	"australia-southeast1", "australia-southeast2",
}

// knownLocation reports whether Google documents loc (case does not
// matter to Cloud Storage).
func knownLocation(loc string) bool {
	return slices.ContainsFunc(Locations, func(l string) bool { return strings.EqualFold(l, loc) })
}
