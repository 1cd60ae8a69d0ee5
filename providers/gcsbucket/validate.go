package gcsbucket

import (
	"errors"
	"fmt"
	"strings"

	"github.com/growthloop/byob/providers"
)

var (
	bucketChars      = providers.Pattern(`^[a-z0-9][a-z0-9._-]*[a-z0-9]$`)
	projectID        = providers.Pattern(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	serviceAccountID = providers.Pattern(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
	customRoleID     = providers.Pattern(`^[a-zA-Z0-9_.]{3,64}$`)
	locationPattern  = providers.Pattern(`^[a-zA-Z]+[a-zA-Z0-9-]*[a-zA-Z0-9]$`)
	// "google" and close misspellings (gogle, googel, g00gle); Cloud
	// Storage refuses them anywhere in a bucket name. Matched after digits
	// that look like letters are mapped back (0->o, 1->l, 3->e).
	googleLike     = providers.Pattern(`go+g(le|el|l)`)
	lookalikeDigit = strings.NewReplacer("0", "o", "1", "l", "3", "e")
)

// ValidateBucketName checks the Cloud Storage bucket naming rules. Names
// with dots need domain ownership verification, which byob cannot do, so
// they are rejected.
func ValidateBucketName(name string) error {
	var b providers.Broken
	b.If(strings.Contains(name, "."), "must not contain dots: dotted names need Search Console domain verification; use hyphens")
	b.If(len(name) < 3 || len(name) > 63, "must be 3-63 characters long (it is %d)", len(name))
	b.If(name != "" && !bucketChars().MatchString(strings.ReplaceAll(name, ".", "-")), "may contain only lowercase letters, digits, hyphens and underscores, and must start and end with a letter or digit")
	b.If(providers.DottedQuad().MatchString(name), "must not be an IP address in dotted-decimal notation")
	b.If(strings.HasPrefix(name, "goog"), `must not start with "goog"`)
	b.If(!strings.HasPrefix(name, "goog") && googleLike().MatchString(lookalikeDigit.Replace(name)), `must not contain "google" or a close misspelling of it`)
	return b.Err()
}

// ValidateProjectID checks the GCP project id rules: 6-30 characters,
// lowercase letters, digits and hyphens, starting with a letter and not
// ending with a hyphen.
func ValidateProjectID(id string) error {
	if len(id) < 6 || len(id) > 30 {
		return fmt.Errorf("must be 6-30 characters long (it is %d)", len(id))
	}
	if !projectID().MatchString(id) {
		return errors.New("may contain only lowercase letters, digits and hyphens, must start with a letter and must not end with a hyphen")
	}
	if strings.Contains(id, "google") {
		return errors.New(`must not contain "google"`)
	}
	return nil
}

// ValidateServiceAccountID checks the account id part of a service account
// email: 6-30 characters, lowercase letters, digits and hyphens, starting
// with a letter and ending with a letter or digit.
func ValidateServiceAccountID(id string) error {
	if len(id) < 6 || len(id) > 30 {
		return fmt.Errorf("must be 6-30 characters long (it is %d)", len(id))
	}
	if !serviceAccountID().MatchString(id) {
		return errors.New("may contain only lowercase letters, digits and hyphens, must start with a letter and end with a letter or digit")
	}
	return nil
}

// ValidateCustomRoleID checks a custom role id: 3-64 letters, digits,
// underscores and dots.
func ValidateCustomRoleID(id string) error {
	if !customRoleID().MatchString(id) {
		return errors.New("must be 3-64 letters, digits, underscores or dots")
	}
	return nil
}

// ValidateLocation checks a Cloud Storage location (US, EU, us-central1,
// europe-west4, NAM4 ...): one Google documents (Locations), or, when
// unknown is allowed, of the shape of one.
func ValidateLocation(loc string, unknown bool) error {
	switch {
	case len(loc) < 2 || len(loc) > 40 || !locationPattern().MatchString(loc):
		return errors.New("must be a Cloud Storage location such as US, EU or us-central1" + providers.DidYouMean(loc, Locations))
	case !unknown && !knownLocation(loc):
		return fmt.Errorf("is not a Cloud Storage location Google documents%s (one newer than byob: add %s)", providers.DidYouMean(loc, Locations), providers.AllowUnknownRegionFlag)
	}
	return nil
}
