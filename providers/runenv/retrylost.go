package runenv

import (
	"context"
	"time"
)

// LostAnswerAttempts bounds how often a call that is not idempotent is
// made when its answers are lost.
const LostAnswerAttempts = 6

// RetryLost makes a call that is not idempotent, with no blind retry. When
// it fails and maybeApplied says its answer may have been lost, recover
// looks at what the lost call made (deleting it, or finding it was done,
// which ends RetryLost successfully) before it is tried again.
func RetryLost(ctx context.Context, maybeApplied func(error) bool, call func(context.Context) error, recover func(context.Context) (done bool, err error)) error {
	pause := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := call(ctx)
		if err == nil || !maybeApplied(err) || attempt == LostAnswerAttempts {
			return err
		}
		if done, rerr := recover(ctx); rerr != nil || done {
			return rerr
		}
		if err := Sleep(ctx, pause); err != nil {
			return err
		}
		pause = min(2*pause, 5*time.Second)
	}
}
