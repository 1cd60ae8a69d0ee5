package cmd

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"golang.org/x/term"
)

// IOStreams are a command's standard streams and what kind of terminal
// they are. The policy of what to ask and how to draw lives here, in one
// place: a form needs a person at both stdin and stdout, a table or
// colours only a terminal at stdout.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// StdinTTY and StdoutTTY say whether they are terminals.
	StdinTTY, StdoutTTY bool
	// LookupEnv reads the environment (os.LookupEnv).
	LookupEnv func(string) (string, bool)
	// ended: the run's final JSON object is written.
	ended bool
}

// System returns the process's streams.
func System() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		StdinTTY: term.IsTerminal(int(os.Stdin.Fd())), StdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		LookupEnv: os.LookupEnv,
	}
}

func (s *IOStreams) env(k string) (string, bool) {
	if s.LookupEnv == nil {
		return "", false
	}
	return s.LookupEnv(k)
}

// CanPrompt reports whether a person can answer questions: stdin and
// stdout are both terminals.
func (s *IOStreams) CanPrompt() bool { return s.StdinTTY && s.StdoutTTY }

// IsStdoutTTY reports whether stdout is a terminal (tables, spinners).
func (s *IOStreams) IsStdoutTTY() bool { return s.StdoutTTY }

// ColorEnabled reports whether output may be coloured: not with NO_COLOR,
// TERM=dumb, or when stdout is not a terminal.
func (s *IOStreams) ColorEnabled() bool {
	_, noColor := s.env("NO_COLOR")
	t, _ := s.env("TERM")
	return s.StdoutTTY && !noColor && t != "dumb"
}

// UIOut is stdout for a UI library (a form, the checklist, a spinner).
// With colours off (NO_COLOR) byob asks the terminal nothing, so what the
// library would ask it (bubbletea asks for modes 2026 and 2027 and the
// Kitty keyboard flags as it starts, and offers no option to leave them
// out) is left out here; the library works without the answers.
func (s *IOStreams) UIOut() io.Writer {
	if s.ColorEnabled() {
		return s.Out
	}
	if f, ok := s.Out.(file); ok {
		return fileNoQueries{f, noQueries{f}} // still a terminal, for its size and modes
	}
	return noQueries{s.Out}
}

// file is a terminal's file as UI libraries take it.
type file interface {
	io.ReadWriteCloser
	Fd() uintptr
}

// fileNoQueries is a terminal's file that writes without queries.
type fileNoQueries struct {
	file
	w noQueries
}

func (f fileNoQueries) Write(p []byte) (int, error) { return f.w.Write(p) }

// noQueries writes what it is given, without terminal queries.
type noQueries struct{ w io.Writer }

// queries are the requests a terminal answers on byob's standard input.
var queries = [][]byte{[]byte(ansi.RequestModeSynchronizedOutput), []byte(ansi.RequestModeUnicodeCore), []byte(ansi.RequestKittyKeyboard),
	[]byte(ansi.RequestForegroundColor), []byte(ansi.RequestBackgroundColor), []byte(ansi.RequestCursorColor),
	[]byte(ansi.RequestCursorPositionReport), []byte(ansi.RequestPrimaryDeviceAttributes)}

func (q noQueries) Write(p []byte) (int, error) {
	out := p
	for _, r := range queries {
		if bytes.Contains(out, r) {
			out = bytes.ReplaceAll(out, r, nil)
		}
	}
	if _, err := q.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Accessible reports whether questions are asked and progress told line
// by line, for screen readers: asked for (--accessible, BYOB_ACCESSIBLE),
// or a terminal that cannot draw a form (TERM=dumb).
func (s *IOStreams) Accessible(asked bool) bool {
	t, _ := s.env("TERM")
	env, _ := s.env("BYOB_ACCESSIBLE")
	on, _ := strconv.ParseBool(env)
	return asked || on || t == "dumb"
}

// LightBackground reports whether the terminal says, through COLORFGBG
// ("15;0": foreground;background), that its background is light. byob
// never asks the terminal itself.
func (s *IOStreams) LightBackground() bool {
	v, _ := s.env("COLORFGBG")
	i := strings.LastIndex(v, ";")
	bg, err := strconv.Atoi(v[i+1:])
	return i >= 0 && err == nil && (bg == 7 || bg == 15)
}

// Width is the terminal's width in columns at stdout; 0 when it is not a
// terminal, or does not say.
func (s *IOStreams) Width() int {
	f, ok := s.Out.(*os.File)
	if !ok || !s.StdoutTTY {
		return 0
	}
	w, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return w
}

func (s *IOStreams) println(line string) { fmt.Fprintln(s.Out, line) }
