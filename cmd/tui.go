package cmd

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/growthloop/byob/wizard"
)

// review is the full-screen plan review: the summary first, the
// documents below it (d jumps to them); y or Enter accepts, n, q or Esc
// declines.
type review struct {
	title, keys      string
	summary, details string
	// detailsAt is the line the documents start on, once wrapped.
	detailsAt int
	vp        viewport.Model
	ready, ok bool
}

func (m *review) Init() tea.Cmd { return nil }

func (m *review) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.ready = true
		m.vp.SetWidth(msg.Width)
		m.vp.SetHeight(max(msg.Height-4, 3))
		// Long lines wrap rather than run off the screen.
		wrap := lipgloss.NewStyle().Width(msg.Width)
		summary := wrap.Render(m.summary)
		m.detailsAt = lipgloss.Height(summary)
		m.vp.SetContent(summary + "\n" + wrap.Render(m.details))
	case tea.KeyPressMsg:
		switch msg.String() {
		case "y", "Y", "enter":
			m.ok = true
			return m, tea.Quit
		case "n", "N", "q", "esc", "ctrl+c":
			return m, tea.Quit
		case "d":
			m.vp.SetYOffset(m.detailsAt)
			return m, nil
		case "s", "home":
			m.vp.GotoTop()
			return m, nil
		}
	}
	var cmd tea.Cmd
	m.vp, cmd = m.vp.Update(msg)
	return m, cmd
}

func (m *review) View() tea.View {
	v := tea.NewView("Loading the plan…")
	v.AltScreen = true
	if m.ready {
		bold := lipgloss.NewStyle().Bold(true)
		scrolled := fmt.Sprintf("%3.0f%%", m.vp.ScrollPercent()*100)
		v.SetContent(bold.Render(m.title) + "\n" + m.vp.View() + "\n" +
			strings.Repeat("─", max(m.vp.Width(), 1)) + "\n" + m.keys + "  ↑/↓ PgUp/PgDn scroll · d documents · s summary  " + scrolled)
	}
	return v
}

// reviewPlan shows the plan full screen and reports whether the user
// accepted it; declining is wizard.ErrCancelled.
func reviewPlan(ctx context.Context, streams *IOStreams, plan *wizard.Plan, dryRun bool) error {
	summary, details := planText(plan)
	m := &review{summary: summary, details: details, vp: viewport.New(), title: "Review the plan: nothing has changed yet",
		keys: "y/Enter apply · n/Esc cancel"}
	if dryRun {
		m.title, m.keys = "Review the plan (dry run: nothing will change)", "Enter print it and finish · Esc quit"
	}
	_, err := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(streams.In), tea.WithOutput(streams.UIOut())).Run()
	if err != nil {
		return fmt.Errorf("review: %w", err)
	}
	if !m.ok {
		return wizard.ErrCancelled
	}
	return nil
}

// tuiReporter shows a run as a live checklist and ends it with a summary
// box; what comes before the plan (preflight) is plain text.
type tuiReporter struct {
	textReporter
	program *tea.Program
	done    chan error
}

func newTUIReporter(io *IOStreams) *tuiReporter {
	return &tuiReporter{textReporter: textReporter{io: io}, done: make(chan error, 1)}
}

// start shows the checklist of plan's steps; stop stops the run (Ctrl-C,
// which the checklist reads as a key).
func (r *tuiReporter) start(ctx context.Context, plan *wizard.Plan, stop func()) {
	r.program = tea.NewProgram(newChecklist(plan, stop), tea.WithContext(ctx), tea.WithInput(r.io.In), tea.WithOutput(r.io.UIOut()))
	go func() { _, err := r.program.Run(); r.done <- err }()
}

func (r *tuiReporter) Event(e wizard.Event) {
	if r.program != nil {
		r.program.Send(eventMsg(safeEvent(e)))
	}
}

// pause releases the terminal for a question asked during the run.
func (r *tuiReporter) pause() (resume func()) {
	if r.program == nil {
		return func() {}
	}
	_ = r.program.ReleaseTerminal()
	return func() { _ = r.program.RestoreTerminal() }
}

func (r *tuiReporter) Done(o RunOutcome) {
	if r.program != nil {
		r.program.Send(runDone{})
		<-r.done
	}
	lines, resume := summary(o)
	summaryBox(r.io.Out, r.io.Width(), lines...)
	if resume {
		// Outside the box, so it copies cleanly.
		fmt.Fprintf(r.io.Out, "%s\n  %s\n", resumeCmd, o.Resume)
	}
}

// checklist is the live view of a run: a line per step with a spinner on
// the running ones, ✓ / ✗ / = (already done), elapsed time, and why a
// step waits. Ctrl-C stops the run after the running steps.
type checklist struct {
	rows     []row
	spin     spinner.Model
	stop     func()
	stopping bool
	done     bool
}

type row struct {
	id, title, mark, detail string
	started                 time.Time
	took                    time.Duration
	running                 bool
}

type eventMsg wizard.Event
type runDone struct{}

func newChecklist(plan *wizard.Plan, stop func()) *checklist {
	c := &checklist{spin: spinner.New(spinner.WithSpinner(spinner.Dot)), stop: stop}
	for _, s := range plan.Steps {
		c.rows = append(c.rows, row{id: s.ID(), title: s.Title(), mark: "·"})
	}
	return c
}

func (c *checklist) Init() tea.Cmd { return c.spin.Tick }

func (c *checklist) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if msg.String() == "ctrl+c" && !c.stopping {
			c.stopping = true
			c.stop()
		}
	case eventMsg:
		if msg.Kind == wizard.EventStart && !slices.ContainsFunc(c.rows, func(r row) bool { return r.id == msg.Step }) {
			c.rows = append(c.rows, row{id: msg.Step, title: msg.Title, mark: "·"}) // a proof, after the plan's steps
		}
		for i := range c.rows {
			r := &c.rows[i]
			if r.id != msg.Step {
				continue
			}
			switch msg.Kind {
			case wizard.EventStart:
				r.running, r.started = true, time.Now()
			case wizard.EventWait, wizard.EventDrift:
				r.detail = msg.Detail
			case wizard.EventApplied:
				// What it left alone (a key byob did not make); "" after a drift.
				r.running, r.mark, r.took, r.detail = false, "✓", msg.Elapsed, msg.Detail
			case wizard.EventProved:
				r.running, r.mark, r.took, r.detail = false, "✓", msg.Elapsed, ""
			case wizard.EventInPlace:
				r.running, r.mark, r.took, r.detail = false, "=", msg.Elapsed, "already done"
			case wizard.EventFailed:
				r.running, r.mark, r.took = false, "✗", msg.Elapsed
			}
		}
	case runDone:
		c.done = true
		return c, tea.Quit
	case spinner.TickMsg:
		var cmd tea.Cmd
		c.spin, cmd = c.spin.Update(msg)
		return c, cmd
	}
	return c, nil
}

func (c *checklist) View() tea.View {
	var b strings.Builder
	dim := lipgloss.NewStyle().Faint(true)
	for _, r := range c.rows {
		mark, took := r.mark, r.took
		if r.running {
			mark, took = strings.TrimSpace(c.spin.View()), time.Since(r.started)
		}
		line := mark + " " + r.title
		if took > 0 {
			line += dim.Render(fmt.Sprintf("  %s", took.Round(100*time.Millisecond)))
		}
		b.WriteString(line + "\n")
		if r.detail != "" && (r.running || r.mark == "=" || r.mark == "✗" || r.mark == "✓") {
			b.WriteString(dim.Render("    "+firstLine(r.detail)) + "\n")
		}
	}
	if c.stopping && !c.done {
		b.WriteString("\nStopping after the running steps…\n")
	}
	return tea.NewView(b.String())
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// summaryBox frames the end of an interactive run, its lines wrapped to
// fit a terminal of width columns (0: as wide as they are).
func summaryBox(w io.Writer, width int, lines ...string) {
	text := strings.Join(lines, "\n")
	box := lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 1)
	if width > 0 && lipgloss.Width(box.Render(text)) > width {
		box = box.Width(width) // the border and padding included
	}
	fmt.Fprintln(w, box.Render(text))
}
