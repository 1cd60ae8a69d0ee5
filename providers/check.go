package providers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/growthloop/byob/internal/netfail"
	"github.com/growthloop/byob/providers/runenv"
)

// CheckStatus is the outcome of a health check.
type CheckStatus string

// Check outcomes. Unknown means the check could not run (no permission to
// read something, a timeout): it is never counted as a pass.
const (
	Pass    CheckStatus = "pass"
	Fail    CheckStatus = "fail"
	Warn    CheckStatus = "warn"
	Unknown CheckStatus = "unknown"
)

// CheckResult is what a check found. Remedy is one line: the command or
// the byob re-run that fixes a failure.
type CheckResult struct {
	Status CheckStatus
	Detail string
	Remedy string
	// Stands says that, despite the failure, what the check's dependents
	// rest on holds: the object is there but differs, or a key writes but
	// cannot read or list. They still run. Any other failure (the object
	// is missing or elsewhere, the key is refused) leaves them unchecked.
	Stands bool
}

// Check is one live health check of a setup.
type Check struct {
	ID    string
	Title string
	Run   func(ctx context.Context, r *runenv.Run) CheckResult
	// Start, when set, runs the check in the background before its turn
	// (beside the preflight); Run then answers with that run.
	Start func(ctx context.Context, r *runenv.Run)
}

// Early is c run as soon as Start is called rather than in its turn: for
// a check that needs nothing the preflight or another check finds. Start
// and Run share its one answer, a read of the run.
func (c Check) Early() Check {
	run := c.Run
	read := func(r *runenv.Run) func(context.Context) (CheckResult, error) {
		return func(ctx context.Context) (CheckResult, error) { return run(ctx, r), nil }
	}
	what := "check " + c.ID
	c.Start = func(ctx context.Context, r *runenv.Run) { runenv.Start(ctx, r.Ahead(), what, read(r)) }
	c.Run = func(ctx context.Context, r *runenv.Run) CheckResult {
		res, err := runenv.Read(ctx, r, what, read(r))
		if err != nil {
			return CannotRun(err, "re-run byob verify")
		}
		return res
	}
	return c
}

// Passed is a passing result.
func Passed(format string, args ...any) CheckResult {
	return CheckResult{Status: Pass, Detail: fmt.Sprintf(format, args...)}
}

// Failed is a failing result with its remedy.
func Failed(remedy, format string, args ...any) CheckResult {
	return CheckResult{Status: Fail, Detail: fmt.Sprintf(format, args...), Remedy: remedy}
}

// Warned is a warning with its remedy.
func Warned(remedy, format string, args ...any) CheckResult {
	return CheckResult{Status: Warn, Detail: fmt.Sprintf(format, args...), Remedy: remedy}
}

// CannotRun is a check that could not run, with why.
// A cloud that could not be reached is said so: its remedy is the
// network's, not a permission.
func CannotRun(err error, remedy string) CheckResult {
	if why, ok := netfail.Unreachable(err); ok {
		remedy = "check the network, any proxy (HTTPS_PROXY) and the endpoint: " + why
	}
	return CheckResult{Status: Unknown, Detail: "could not check: " + err.Error(), Remedy: remedy}
}

// Mismatch is an error that is itself a finding about the cloud (a bucket
// in another region or account), not a failure to look.
type Mismatch struct{ Err error }

func (m *Mismatch) Error() string { return m.Err.Error() }
func (m *Mismatch) Unwrap() error { return m.Err }

// Mismatchf builds a Mismatch.
func Mismatchf(format string, args ...any) error {
	return &Mismatch{fmt.Errorf(format, args...)}
}

// ProbeDir is where under the prefix verify writes its probe objects.
const ProbeDir = "byob-verify/"

// ProbeBody is what a probe object holds.
var ProbeBody = []byte("byob verify probe")

// ProbeName is a new probe object's name under dir.
func ProbeName(dir string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return dir + hex.EncodeToString(b) + ".txt"
}
