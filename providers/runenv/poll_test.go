package runenv

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestSleepEndsWithItsContext: a pause gives way to a cancelled run at
// once, and otherwise lasts its time.
func TestSleepEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	t0 := time.Now()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) || time.Since(t0) > time.Second {
		t.Errorf("cancelled: %v after %v", err, time.Since(t0))
	}
	t0 = time.Now()
	if err := Sleep(context.Background(), 20*time.Millisecond); err != nil || time.Since(t0) < 20*time.Millisecond {
		t.Errorf("uncancelled: %v after %v", err, time.Since(t0))
	}
}
