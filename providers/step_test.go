package providers_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/growthloop/byob/providers"
)

// TestBucketTeardown: byob's bucket is kept unless asked; one gone
// already is forgotten (Gone: no Destroy), asked or not; a refused count keeps it; one with
// objects goes only with --delete-objects; a dry run (no count) says what
// it would do.
func TestBucketTeardown(t *testing.T) {
	v := providers.NewValues(map[string]string{providers.CreatedKey("b").Name: "true"})
	counted := func(n int, err error) func() (int, bool, error) {
		return func() (int, bool, error) { return n, false, err }
	}
	keep, del, all := providers.DestroyOptions{}, providers.DestroyOptions{DeleteBucket: true}, providers.DestroyOptions{DeleteBucket: true, DeleteObjects: true}
	for _, tc := range []struct {
		name        string
		o           providers.DestroyOptions
		count       func() (int, bool, error)
		remove, kee string
		usage       bool
	}{
		{"kept", keep, counted(3, nil), "", "bucket x and its objects are kept, private (--delete-bucket deletes it)", false},
		{"kept, gone by hand", keep, counted(0, providers.ErrGone), "forget bucket x (already deleted)", "", false},
		{"kept, count refused", keep, counted(0, errors.New("denied")), "", "bucket x and its objects are kept", false},
		{"kept, dry run", keep, nil, "", "bucket x and its objects are kept", false},
		{"deleted, empty", del, counted(0, nil), "delete bucket x (it is empty)", "", false},
		{"deleted, gone", del, counted(0, providers.ErrGone), "forget bucket x (already deleted)", "", false},
		{"deleted, objects", del, counted(2, nil), "", "", true},
		{"deleted with objects", all, counted(2, nil), "delete the 2 objects (versions included) in bucket x, then the bucket", "", false},
	} {
		td, err := providers.BucketTeardown(v, "b", "x", tc.o, "private", tc.count)
		var ue *providers.UsageError
		if tc.usage != errors.As(err, &ue) || (!tc.usage && err != nil) {
			t.Errorf("%s: error %v", tc.name, err)
			continue
		}
		if td.Remove != tc.remove || !strings.HasPrefix(td.Keep, tc.kee) || (tc.kee == "") != (td.Keep == "") || td.Gone != strings.HasPrefix(tc.remove, "forget") {
			t.Errorf("%s: %+v", tc.name, td)
		}
	}
}
