package cmd

import (
	"bytes"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestUIOutLeavesOutQueriesWithNoColor: with NO_COLOR what a UI library
// writes reaches stdout without the queries, all of it said written.
func TestUIOutLeavesOutQueriesWithNoColor(t *testing.T) {
	var out bytes.Buffer
	io := &IOStreams{Out: &out, StdoutTTY: true, LookupEnv: func(k string) (string, bool) { return "1", k == "NO_COLOR" }}
	frame := ansi.RequestModeSynchronizedOutput + ansi.RequestModeUnicodeCore + "\x1b[?25l" + ansi.RequestKittyKeyboard + "┃ Where?"
	n, err := io.UIOut().Write([]byte(frame))
	if err != nil || n != len(frame) {
		t.Fatalf("wrote %d of %d: %v", n, len(frame), err)
	}
	if got := out.String(); got != "\x1b[?25l┃ Where?" {
		t.Errorf("wrote %q", got)
	}

	colour := &IOStreams{Out: &out, StdoutTTY: true, LookupEnv: func(string) (string, bool) { return "", false }}
	if colour.UIOut() != colour.Out {
		t.Error("with colours on, UIOut is stdout itself")
	}
}
