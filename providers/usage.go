package providers

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/growthloop/byob/internal/prose"
)

// UsageError is bad or missing input, found before any cloud call. The
// command exits with code 2.
type UsageError struct {
	Missing []string // flags that need a value
	// Because says, for a flag of Missing required only by another
	// flag's value, which ("--warehouse snowflake").
	Because map[string]string
	// Hints say how else a missing flag's value can be given.
	Hints   []string
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
		line := "missing required flags: " + strings.Join(e.Missing, ", ")
		// The flags each other value requires, in order.
		var causes []string
		flags := map[string][]string{}
		for _, f := range e.Missing {
			if c := e.Because[f]; c != "" {
				if flags[c] == nil {
					causes = append(causes, c)
				}
				flags[c] = append(flags[c], f)
			}
		}
		for _, c := range causes {
			verb := " is"
			if len(flags[c]) > 1 {
				verb = " are"
			}
			line += "; " + prose.And(flags[c]) + verb + " required with " + c
		}
		for _, h := range e.Hints {
			line += "; " + h
		}
		lines = append(lines, line)
	}
	for _, iv := range e.Invalid {
		lines = append(lines, fmt.Sprintf("invalid %s %q: %s", iv.Flag, iv.Value, iv.Rule))
	}
	if len(lines) < 2 {
		return strings.Join(lines, "")
	}
	return fmt.Sprintf("%d problems:\n  - %s", len(lines), strings.Join(lines, "\n  - "))
}

// Broken collects every rule a value breaks, so that all are told at once.
type Broken []string

// If records the rule when the value breaks it.
func (b *Broken) If(breaks bool, format string, args ...any) {
	if breaks {
		*b = append(*b, fmt.Sprintf(format, args...))
	}
}

// Err is the broken rules as one error, nil when none.
func (b Broken) Err() error {
	if len(b) == 0 {
		return nil
	}
	return errors.New(strings.Join(b, "; "))
}

// Usagef builds a UsageError from a message.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// Invalid is one value that breaks a rule, as a UsageError holds it.
func Invalid(flag, value string, err error) InvalidValue {
	return InvalidValue{Flag: flag, Value: value, Rule: err.Error()}
}

// SystemSaid is what the operating system said of a file, without the
// path a message already names ("permission denied").
func SystemSaid(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
