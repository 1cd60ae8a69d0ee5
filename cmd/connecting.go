package cmd

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"charm.land/bubbles/v2/progress"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/wizard"
)

// connecting shows, at a terminal, what byob is reaching while it waits
// for the first answers (a login may take seconds), with a spinner; a
// screen reader gets the line once, without one. The returned func removes
// it; it may be called more than once.
func connecting(io *IOStreams, output string, accessible bool, cfg *providers.Config, conns map[string]providers.Conn) (stop func()) {
	if !io.IsStdoutTTY() || output != "text" {
		return func() {}
	}
	var what []string
	for _, p := range cfg.Active() {
		if r, ok := conns[p.Name()].(providers.Reacher); ok {
			what = append(what, r.Reaching())
		}
	}
	if len(what) == 0 {
		return func() {}
	}
	line := "Connecting to " + strings.Join(what, " and ") + "…"
	if io.Accessible(accessible) {
		io.println(line)
		return func() {}
	}
	p := quietProgram(io, &spinnerLine{spin: spinner.New(spinner.WithSpinner(spinner.Dot)), line: line})
	done := make(chan struct{})
	go func() { _, _ = p.Run(); close(done) }()
	var once sync.Once
	return func() {
		once.Do(func() {
			p.Send(endMsg{})
			<-done
		})
	}
}

// quietProgram runs m on the output without reading input: it sends the
// terminal no query and leaves Ctrl-C to byob's own handling.
func quietProgram(io *IOStreams, m tea.Model) *tea.Program {
	opts := []tea.ProgramOption{tea.WithInput(nil), tea.WithOutput(io.UIOut()), tea.WithoutSignalHandler()}
	if _, ok := io.Out.(*os.File); !ok {
		opts = append(opts, tea.WithWindowSize(80, 24)) // no terminal to ask its size (tests)
	}
	return tea.NewProgram(m, opts...)
}

// endMsg ends a quiet program; its line is then gone.
type endMsg struct{}

// spinnerLine is a spinner before a line, until endMsg.
type spinnerLine struct {
	spin spinner.Model
	line string
	done bool
}

func (m *spinnerLine) Init() tea.Cmd { return m.spin.Tick }

func (m *spinnerLine) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case endMsg:
		m.done = true
		return m, tea.Quit
	case spinner.TickMsg:
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	}
	return m, nil
}

func (m *spinnerLine) View() tea.View {
	if m.done {
		return tea.NewView("")
	}
	return tea.NewView(m.spin.View() + m.line)
}

// progressBar is a removal's progress drawn in place (bubbles/progress)
// until end.
type progressBar struct {
	p    *tea.Program
	done chan struct{}
}

func startProgressBar(io *IOStreams) *progressBar {
	b := &progressBar{p: quietProgram(io, &barLine{bar: progress.New(progress.WithWidth(30), progress.WithoutPercentage())}), done: make(chan struct{})}
	go func() { _, _ = b.p.Run(); close(b.done) }()
	return b
}

func (b *progressBar) show(e wizard.Event) { b.p.Send(progressMsg(e)) }

func (b *progressBar) end() {
	b.p.Send(endMsg{})
	<-b.done
}

type progressMsg wizard.Event

// barLine is a progress bar and what it counts, until endMsg.
type barLine struct {
	bar  progress.Model
	last progressMsg
	done bool
}

func (m *barLine) Init() tea.Cmd { return nil }

func (m *barLine) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case endMsg:
		m.done = true
		return m, tea.Quit
	case progressMsg:
		m.last = msg
	}
	return m, nil
}

func (m *barLine) View() tea.View {
	if m.done || m.last.Total <= 0 {
		return tea.NewView("")
	}
	e := m.last
	return tea.NewView(fmt.Sprintf("  %s %d of %d %s", m.bar.ViewAs(float64(e.Done)/float64(e.Total)), e.Done, e.Total, e.Detail))
}
