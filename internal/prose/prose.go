// Package prose words counts and lists in English sentences.
package prose

import (
	"strconv"
	"strings"
)

// Count is n of noun, singular for one: "1 day", "3 days", "0 days".
// noun is a regular English noun.
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// And is "a", "a and b", "a, b and c".
func And(items []string) string { return join(items, " and ") }

// Or is "a", "a or b", "a, b or c".
func Or(items []string) string { return join(items, " or ") }

func join(items []string, last string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + last + items[len(items)-1]
}
