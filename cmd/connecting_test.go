package cmd

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/aws"
	"github.com/growthloop/byob/providers/snowflake"
)

// syncBuffer is a strings.Builder written from the spinner's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestConnectingLine: at a terminal, what byob reaches is shown while it
// waits, and removed once the answers came; elsewhere nothing is shown.
func TestConnectingLine(t *testing.T) {
	cfg := &providers.Config{Provider: "s3", Warehouse: "snowflake"}
	conns := map[string]providers.Conn{"s3": aws.NewConn(nil), "snowflake": snowflake.NewConn(nil)}
	for _, tty := range []bool{true, false} {
		var out syncBuffer
		io := &IOStreams{Out: &out, StdoutTTY: tty, StdinTTY: tty}
		stop := connecting(io, "text", cfg, conns)
		time.Sleep(250 * time.Millisecond) // a few frames
		stop()
		stop() // twice is fine
		got := out.String()
		switch {
		case !tty && got != "":
			t.Errorf("not a terminal, yet it drew %q", got)
		case tty && !strings.Contains(got, "Connecting to AWS and Snowflake…"):
			t.Errorf("terminal: %q", got)
		case tty && !strings.HasSuffix(got, "\r\033[K"):
			t.Errorf("the line is not removed: %q", got)
		}
	}
}
