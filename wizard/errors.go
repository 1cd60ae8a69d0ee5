package wizard

import (
	"errors"

	"github.com/growthloop/byob/providers"
)

// UsageError is bad or missing input, found before any cloud call.
type UsageError = providers.UsageError

// InvalidValue names a flag, its value and the rule it breaks.
type InvalidValue = providers.InvalidValue

// ErrCancelled is returned when the user stops a run (Ctrl-C, or no at a
// confirmation). The command exits with code 130.
var ErrCancelled = errors.New("cancelled")
