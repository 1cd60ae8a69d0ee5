package providers

import (
	"strings"

	"github.com/agext/levenshtein"
)

// Nearest are the candidates closest to name, within two edits: what a
// typo (us-eest-1, europe-wset1) meant. Case is ignored.
func Nearest(name string, candidates []string) []string {
	var out []string
	best := 3
	for _, c := range candidates {
		switch d := levenshtein.Distance(strings.ToLower(name), strings.ToLower(c), nil); {
		case d < best:
			best, out = d, []string{c}
		case d == best:
			out = append(out, c)
		}
	}
	return out
}

// DidYouMean is ": did you mean a or b?" for the nearest candidates, ""
// when none is near.
func DidYouMean(name string, candidates []string) string {
	near := Nearest(name, candidates)
	if len(near) == 0 {
		return ""
	}
	if len(near) > 1 {
		return ": did you mean " + strings.Join(near[:len(near)-1], ", ") + " or " + near[len(near)-1] + "?"
	}
	return ": did you mean " + near[0] + "?"
}
