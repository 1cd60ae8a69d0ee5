package runenv

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sleep pauses for d, or until ctx ends (then it returns ctx's error).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Propagation bounds how long byob waits for a cloud's eventual
// consistency (new IAM users, keys, roles; new service accounts).
type Propagation struct {
	Timeout time.Duration // overall deadline; DefaultPropagationTimeout when zero
	Initial time.Duration // first pause; 500ms when zero
	Max     time.Duration // longest pause; 5s when zero
}

// DefaultPropagationTimeout is how long byob waits for IAM by default.
const DefaultPropagationTimeout = 2 * time.Minute

// ErrNotYet marks an attempt that failed only because a change has not
// propagated yet; Poll tries it again.
var ErrNotYet = errors.New("not propagated yet")

// Poll calls try until it returns nil or an error that is not ErrNotYet,
// pausing with exponential backoff and reporting reason while it waits. It
// gives up at the deadline with the last error.
func (p Propagation) Poll(ctx context.Context, r *Run, reason string, try func(ctx context.Context) error) error {
	timeout, pause, maxPause := p.Timeout, p.Initial, p.Max
	if timeout == 0 {
		timeout = DefaultPropagationTimeout
	}
	if pause == 0 {
		pause = 500 * time.Millisecond
	}
	if maxPause == 0 {
		maxPause = 5 * time.Second
	}
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		err := try(ctx)
		if err == nil || !errors.Is(err, ErrNotYet) {
			return err
		}
		if time.Now().Add(pause).After(deadline) {
			return fmt.Errorf("%s: gave up after %s: %w", reason, timeout, err)
		}
		r.Report(fmt.Sprintf("%s (%s so far)", reason, time.Since(start).Round(time.Second)))
		if err := Sleep(ctx, pause); err != nil {
			return err
		}
		pause = min(pause*2, maxPause)
	}
}
