package providers

import (
	"fmt"
	"strings"
)

// UsageError is bad or missing input, found before any cloud call. The
// command exits with code 2.
type UsageError struct {
	Missing []string       // flags that need a value
	Invalid []InvalidValue // values that break a rule
	Msg     string         // any other misuse
}

// InvalidValue names a flag, its value and the rule it breaks.
type InvalidValue struct {
	Flag, Value, Rule string
}

func (e *UsageError) Error() string {
	var lines []string
	if e.Msg != "" {
		lines = append(lines, e.Msg)
	}
	if len(e.Missing) > 0 {
		lines = append(lines, "missing required flags: "+strings.Join(e.Missing, ", "))
	}
	for _, iv := range e.Invalid {
		lines = append(lines, fmt.Sprintf("invalid %s %q: %s", iv.Flag, iv.Value, iv.Rule))
	}
	return strings.Join(lines, "\n")
}

// Usagef builds a UsageError from a message.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// Invalid is one value that breaks a rule, as a UsageError holds it.
func Invalid(flag, value string, err error) InvalidValue {
	return InvalidValue{Flag: flag, Value: value, Rule: err.Error()}
}
