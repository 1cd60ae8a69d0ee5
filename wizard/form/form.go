// Package form asks, with charmbracelet/huh forms, for what byob init needs
// and was not given as flags. Each form is built by its own function from
// the answers so far (huh's accessible mode runs every group, so a branch
// is a separate form, not a hidden group); Ask runs them in order.
package form

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"charm.land/bubbles/v2/key"
	"charm.land/huh/v2"
	"charm.land/huh/v2/spinner"
	"github.com/charmbracelet/colorprofile"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/wizard"
)

// Answers are what the forms fill in: the setup and how to reach the
// clouds. Given reports the flags the user set (command line, environment,
// config file): those are not asked again.
type Answers struct {
	Config *providers.Config
	Given  func(flag string) bool
	// DryRun skips the connection questions: a dry run connects nowhere.
	DryRun bool
	// Env is what the providers' choices and suggestions may read.
	Env providers.Env
	// Accessible is set by Ask from Options: the questions are read out.
	Accessible bool
	// Reach, when set, reaches the clouds once how to is answered (the
	// connection, the profile or project), before the rest is asked: a
	// credentials error then stops the form early. It is not called in a
	// dry run.
	Reach func(ctx context.Context) error
}

func (a Answers) ask(flag string) bool { return a.Given == nil || !a.Given(flag) }

// Options say how forms run.
type Options struct {
	// Accessible asks line by line, for screen readers and dumb terminals.
	Accessible bool
	In         io.Reader
	Out        io.Writer
	// Plain drops colours (NO_COLOR).
	Plain bool
	// Light says the terminal's background is light (COLORFGBG); dark
	// otherwise.
	Light bool
}

// Ask runs the pages in order: the cloud and the warehouse; GrowthLoop's
// org id and the setup name; the warehouse's connection; where (how to
// reach the cloud, the region or location, the warehouse's region offered
// first); the bucket, prefix and TTL; the warehouse's objects; the output
// files. Each page is built after the one before it ran: which questions
// apply, the defaults and suggestions come from the answers so far. It
// returns wizard.ErrCancelled when the user quits (Ctrl-C, Esc, end of
// input).
func Ask(ctx context.Context, a Answers, o Options) error {
	a.Accessible = o.Accessible
	r := newRunner(ctx, o)
	for page := providers.PageCloud; page <= providers.PageFiles; page++ {
		if err := r.run(Page(a, page, r.load)); err != nil {
			return err
		}
		if err := r.run(a.others(page)); err != nil {
			return err
		}
		if page == providers.PageWhere && a.Reach != nil && !a.DryRun {
			if err := a.Reach(ctx); err != nil {
				return err
			}
		}
		if page == providers.PageCloud {
			providers.Defaults(a.Config, a.Env)
			if skipped := a.skipped(); len(skipped) > 0 && o.Out != nil {
				fmt.Fprintf(o.Out, "A dry run connects nowhere, so how to reach %s is not asked: it is when you apply.\n\n", strings.Join(skipped, " and "))
			}
		}
	}
	return nil
}

// Confirm asks a yes/no question; no (and quitting) is
// wizard.ErrCancelled.
func Confirm(ctx context.Context, question, detail string, o Options) error {
	ok := false
	f := huh.NewForm(huh.NewGroup(huh.NewConfirm().Title(question).Description(detail).Affirmative("Yes").Negative("No").Value(&ok)))
	if err := newRunner(ctx, o).run(f); err != nil {
		return err
	}
	if !ok {
		return wizard.ErrCancelled
	}
	return nil
}

// TypeToConfirm asks the user to type want (a bucket name) before
// something that cannot be undone; anything else cannot be submitted, and
// quitting is ErrCancelled.
func TypeToConfirm(ctx context.Context, question, want string, o Options) error {
	var typed string
	f := huh.NewForm(huh.NewGroup(huh.NewInput().Title(question).Description("type " + want + ", or press Esc to cancel").Value(&typed).
		Validate(func(s string) error {
			if strings.TrimSpace(s) != want {
				return fmt.Errorf("type %s exactly to confirm", want)
			}
			return nil
		})))
	return newRunner(ctx, o).run(f)
}

// runner runs forms with the options, mapping quitting to ErrCancelled.
type runner struct {
	ctx context.Context
	o   Options
	in  *lineReader
}

func newRunner(ctx context.Context, o Options) *runner {
	r := &runner{ctx: ctx, o: o}
	if o.Accessible && o.In != nil {
		r.in = Lines(o.In).(*lineReader)
	}
	return r
}

// Lines wraps the input of accessible prompts so that each reads exactly
// one line. Wrap it once and share it: each wrapper buffers ahead.
func Lines(r io.Reader) io.Reader {
	if l, ok := r.(*lineReader); ok {
		return l
	}
	return &lineReader{r: bufio.NewReader(r), ended: make(chan struct{})}
}

// KeyMap is huh's, with Esc quitting as Ctrl-C does.
func KeyMap() *huh.KeyMap {
	km := huh.NewDefaultKeyMap()
	km.Quit = key.NewBinding(key.WithKeys("ctrl+c", "esc"), key.WithHelp("esc", "quit"))
	return km
}

// theme is huh's, for the background Options names: byob never asks the
// terminal for its colour.
func (r *runner) theme() huh.Theme {
	dark := !r.o.Light
	if r.o.Plain {
		return huh.ThemeFunc(func(bool) *huh.Styles { return huh.ThemeBase(dark) })
	}
	return huh.ThemeFunc(func(bool) *huh.Styles { return huh.ThemeCharm(dark) })
}

func (r *runner) run(f *huh.Form) error {
	if f == nil {
		return nil
	}
	f = f.WithTheme(r.theme()).WithKeyMap(KeyMap()).WithAccessible(r.o.Accessible).WithShowHelp(true)
	switch {
	case r.o.Accessible && r.o.Out != nil:
		// Plain text, for screen readers: no colour or other styling.
		f = f.WithOutput(&colorprofile.Writer{Forward: r.o.Out, Profile: colorprofile.NoTTY})
	case r.o.Out != nil:
		f = f.WithOutput(r.o.Out)
	}
	if !r.o.Accessible {
		if r.o.In != nil {
			f = f.WithInput(r.o.In)
		}
		err := f.RunWithContext(r.ctx)
		if errors.Is(err, huh.ErrUserAborted) || errors.Is(err, context.Canceled) {
			return wizard.ErrCancelled
		}
		return err
	}
	// Accessible prompts block in a read that Ctrl-C (a signal, not a
	// key, in line mode) cannot interrupt: wait for either.
	if r.in != nil {
		f = f.WithInput(r.in)
	}
	done := make(chan error, 1)
	go func() { done <- f.RunWithContext(r.ctx) }()
	var ended chan struct{}
	if r.in != nil {
		ended = r.in.ended
	}
	select {
	case <-r.ctx.Done():
		return wizard.ErrCancelled
	case <-ended:
		return fmt.Errorf("input ended before every question was answered: %w", wizard.ErrCancelled)
	case err := <-done:
		return err
	}
}

// load reads a field's choices behind a spinner; nil when it cannot.
func (r *runner) load(title string, fn func() ([]providers.Choice, error)) []providers.Choice {
	if fn == nil {
		return nil
	}
	var list []providers.Choice
	action := func() {
		var err error
		if list, err = fn(); err != nil {
			list = nil
		}
	}
	if r.o.Accessible { // nothing moves on a screen reader's line
		action()
		return list
	}
	// Without input the spinner sends the terminal no query.
	s := spinner.New().Title(title + "…").Action(action).Context(r.ctx).WithInput(nil)
	if r.o.Out != nil {
		s = s.WithOutput(r.o.Out)
	}
	if s.Run() != nil {
		action()
	}
	return list
}

// lineReader hands out one line per Read: huh's accessible prompts each
// wrap the input in a new bufio.Scanner, which would otherwise swallow
// the answers to the questions after it. At the end of the input it
// closes ended and blocks: huh would take the end for an empty answer
// (and a select without a default would panic on it).
type lineReader struct {
	r     *bufio.Reader
	ended chan struct{}
	once  sync.Once
}

func (l *lineReader) Read(p []byte) (int, error) {
	line, err := l.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		err = nil
	}
	if errors.Is(err, io.EOF) {
		if len(line) == 0 {
			l.once.Do(func() { close(l.ended) })
			select {} // the runner returns; this prompt is abandoned
		}
		err = nil
	}
	n := copy(p, line)
	if n < len(line) {
		return n, errors.New("answer too long")
	}
	return n, err
}

// validator checks a typed value with the same rules as the flag, by
// validating the whole setup with the value in place. An empty answer
// stands for the value shown (huh's accessible prompts read it so).
func validator(a Answers, f providers.Field, shown string) func(string) error {
	flag := "--" + f.Flag
	return func(s string) error {
		s = strings.TrimSpace(s)
		if s == "" {
			s = shown
		}
		c := *a.Config
		if err := f.Set(&c, s); err != nil {
			return err
		}
		c.ApplyDefaults()
		var ue *providers.UsageError
		if err := c.Validate(); errors.As(err, &ue) {
			for _, iv := range ue.Invalid {
				if iv.Flag == flag {
					return errors.New(iv.Rule)
				}
			}
			for _, m := range ue.Missing {
				if m == flag {
					return errRequired
				}
			}
		}
		return nil
	}
}

var errRequired = errors.New("required")
