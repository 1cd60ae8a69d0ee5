package gcsbucket

import "testing"

// TestReaches: a binding reaches the exports unless its condition on the
// resource name keeps it to other objects (and off the bucket's listing).
func TestReaches(t *testing.T) {
	const objects = `projects/_/buckets/acme/objects/`
	for _, tc := range []struct {
		expr string
		want bool
	}{
		{``, true},
		{`resource.name.startsWith("` + objects + `reports/")`, false},
		{`resource.name.startsWith('` + objects + `reports/')`, false},
		{`resource.name.startsWith("` + objects + `exports/")`, true},
		{`resource.name.startsWith("` + objects + `exports/1234/")`, true},
		{`resource.name.startsWith("` + objects + `ex")`, true},
		{`resource.name.startsWith("` + objects + `")`, true},
		{`resource.name.startsWith("projects/_/buckets/acme")`, true},
		{`resource.name.startsWith("projects/_/buckets/other/objects/exports/")`, false},
		{`resource.type == "storage.googleapis.com/Object" && resource.name.startsWith("` + objects + `reports/")`, false},
		{`(resource.name.startsWith("` + objects + `reports/")) && request.time < timestamp("2030-01-01T00:00:00Z")`, false},
		{`resource.name.startsWith("` + objects + `reports/") || resource.name.startsWith("` + objects + `logs/")`, false},
		{`resource.name.startsWith("` + objects + `reports/") || resource.type == "storage.googleapis.com/Bucket"`, true},
		{`(resource.name.startsWith("` + objects + `a/") || resource.name.startsWith("` + objects + `b/")) && true`, false},
		{`!resource.name.startsWith("` + objects + `exports/")`, true}, // byob reads no negation: it may reach
		{`resource.name == "` + objects + `reports/x.csv"`, false},
		{`resource.name == "` + objects + `exports/x.csv"`, true},
		{`resource.name == "projects/_/buckets/acme"`, true}, // the listing
		{`resource.name.startsWith("` + objects + `re&&ports/")`, false},
		{`request.time < timestamp("2030-01-01T00:00:00Z")`, true},
	} {
		if got := reaches(tc.expr, "acme", "exports/"); got != tc.want {
			t.Errorf("%s: reaches = %v, want %v", tc.expr, got, tc.want)
		}
	}
}
