package cmd

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hinshun/vt10x"

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
// waits, and gone from the screen once the answers came; a screen reader
// gets the line once, without a spinner; elsewhere nothing is shown.
func TestConnectingLine(t *testing.T) {
	cfg := &providers.Config{Provider: "s3", Warehouse: "snowflake"}
	conns := map[string]providers.Conn{"s3": aws.NewConn(nil), "snowflake": snowflake.NewConn(nil)}
	const line = "Connecting to AWS and Snowflake…"
	for _, tc := range []struct {
		name            string
		tty, accessible bool
		shown, onScreen bool
	}{{"terminal", true, false, true, false}, {"accessible", true, true, true, true}, {"pipe", false, false, false, false}} {
		t.Run(tc.name, func(t *testing.T) {
			var out syncBuffer
			io := &IOStreams{Out: &out, StdoutTTY: tc.tty, StdinTTY: tc.tty}
			stop := connecting(io, "text", tc.accessible, cfg, conns)
			time.Sleep(250 * time.Millisecond) // a few frames
			stop()
			stop() // twice is fine
			got := out.String()
			vt := vt10x.New(vt10x.WithSize(80, 24))
			_, _ = vt.Write([]byte(got))
			switch {
			case strings.Contains(got, line) != tc.shown:
				t.Errorf("shown %v: %q", !tc.shown, got)
			case strings.Contains(vt.String(), line) != tc.onScreen:
				t.Errorf("still on screen %v: %q", !tc.onScreen, vt.String())
			case tc.accessible && strings.ContainsAny(got, brailleDots):
				t.Errorf("a spinner for a screen reader: %q", got)
			}
		})
	}
}

// brailleDots are the glyphs spinners draw with.
const brailleDots = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏⣾⣽⣻⢿⡿⣟⣯⣷"
