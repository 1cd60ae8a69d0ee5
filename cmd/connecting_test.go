package cmd

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hinshun/vt10x"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/snowflakestage"
	"github.com/growthloop/byob/wizard"
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
	conns := map[string]providers.Conn{"s3": s3bucket.NewConn(nil), "snowflake": snowflakestage.NewConn(nil)}
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

// TestProgressBar: at a terminal a long removal's progress is a bar
// (bubbles/progress) drawn in place, gone once the removal is told; a
// screen reader gets a line per tenth instead.
func TestProgressBar(t *testing.T) {
	for _, accessible := range []bool{false, true} {
		var out syncBuffer
		r := &textReporter{io: &IOStreams{Out: &out, StdoutTTY: true, StdinTTY: true}, accessible: accessible}
		for done := 0; done <= 1000; done += 250 {
			r.Event(wizard.Event{Kind: wizard.EventProgress, Step: "s3-bucket", Title: "Delete objects", Done: done, Total: 1000, Detail: "objects"})
			time.Sleep(30 * time.Millisecond)
		}
		r.Event(wizard.Event{Kind: wizard.EventRemoved, Step: "s3-bucket", Detail: "delete bucket acme"})
		got := out.String()
		vt := vt10x.New(vt10x.WithSize(80, 24))
		_, _ = vt.Write([]byte(got))
		screen := vt.String()
		switch {
		case !strings.Contains(screen, "✓ delete bucket acme"):
			t.Errorf("accessible %v: the removal is not told: %q", accessible, screen)
		case !accessible && (!strings.Contains(got, "░ 250 of 1000 objects") || strings.Contains(screen, "of 1000 objects")):
			t.Errorf("the bar was not drawn, or stayed: %q\n%s", got, screen)
		case accessible && (strings.Contains(got, "░") || !strings.Contains(got, "… Delete objects: 500 of 1000 objects\n")):
			t.Errorf("accessible: %q", got)
		}
	}
}

// TestAppliedStepSaysWhatItLeftAlone: a change's note (a key byob did not
// make, left alone) is shown with it; a drift's reason, shown before the
// change, is not repeated.
func TestAppliedStepSaysWhatItLeftAlone(t *testing.T) {
	var out bytes.Buffer
	r := &textReporter{io: &IOStreams{Out: &out}}
	r.Event(wizard.Event{Step: "iam-access-key", Title: "Create the user's access key", Kind: wizard.EventApplied, Detail: "user u also has access key AKIA1, which byob did not create; left alone"})
	r.Event(wizard.Event{Step: "s3-lifecycle", Title: "Expire objects", Kind: wizard.EventDrift, Detail: "rule differs"})
	r.Event(wizard.Event{Step: "s3-lifecycle", Title: "Expire objects", Kind: wizard.EventApplied}) // the engine tells a drift's reason once
	want := "✓ Create the user's access key (0s): user u also has access key AKIA1, which byob did not create; left alone\n" +
		"! Expire objects: rule differs\n" +
		"✓ Expire objects (0s)\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
