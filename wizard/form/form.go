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
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/huh/spinner"

	"github.com/growthloop/byob/wizard"
)

// Answers are what the forms fill in: the setup and how to reach Snowflake
// and AWS. Given reports the flags the user set (command line, environment,
// config file): those are not asked again.
type Answers struct {
	Config *wizard.Config
	Conn   *wizard.Connections
	Given  func(flag string) bool
	// DryRun skips the connection questions: a dry run connects nowhere.
	DryRun bool
}

func (a Answers) ask(flag string) bool { return a.Given == nil || !a.Given(flag) }

// Sources load the dynamic choices. A nil source, an error or an empty
// list means the question is asked as free text.
type Sources struct {
	AWSProfiles          func() ([]string, error)
	SnowflakeConnections func() ([]string, error)
	// GCPProject suggests a project (gcloud's or the credentials').
	GCPProject func() string
}

// Options say how forms run.
type Options struct {
	// Accessible asks line by line, for screen readers and dumb terminals.
	Accessible bool
	In         io.Reader
	Out        io.Writer
	// Plain drops colours (NO_COLOR).
	Plain bool
}

// Ask runs the forms in order: cloud and warehouse; GrowthLoop's org id and
// the setup name; the Snowflake connection; where (AWS profile or GCP
// project, region or location, the Snowflake account's region offered
// first); the bucket, prefix and TTL; the Snowflake objects; the output
// files. It returns wizard.ErrCancelled when the user quits (Ctrl-C, Esc,
// end of input).
func Ask(ctx context.Context, a Answers, src Sources, o Options) error {
	r := newRunner(ctx, o)
	if err := r.run(Cloud(a)); err != nil {
		return err
	}
	a.Config.ApplyDefaults()
	if err := r.run(GrowthLoop(a)); err != nil {
		return err
	}
	if a.Config.Snowflake() && !a.DryRun {
		names := r.load("Reading Snowflake connections", src.SnowflakeConnections)
		if err := r.run(SnowflakeConnection(a, names)); err != nil {
			return err
		}
		if err := r.run(SnowflakeAccount(a)); err != nil {
			return err
		}
		if err := r.run(SnowflakeKeyFile(a)); err != nil {
			return err
		}
	}
	var profiles []string
	if a.Config.Provider == wizard.ProviderS3 && !a.DryRun {
		profiles = r.load("Reading AWS profiles", src.AWSProfiles)
	}
	project := ""
	if a.Config.Provider == wizard.ProviderGCS && src.GCPProject != nil && a.Config.GCPProject == "" {
		project = src.GCPProject()
	}
	if err := r.run(Where(a, profiles, project)); err != nil {
		return err
	}
	// Each form is built after the one before it ran: defaults and
	// suggestions come from the answers so far.
	for _, build := range []func(Answers) *huh.Form{Bucket, SnowflakeObjects, Files} {
		if err := r.run(build(a)); err != nil {
			return err
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
	return &lineReader{r: bufio.NewReader(r)}
}

// KeyMap is huh's, with Esc quitting as Ctrl-C does.
func KeyMap() *huh.KeyMap {
	km := huh.NewDefaultKeyMap()
	km.Quit = key.NewBinding(key.WithKeys("ctrl+c", "esc"), key.WithHelp("esc", "quit"))
	return km
}

func (r *runner) theme() *huh.Theme {
	if r.o.Plain {
		return huh.ThemeBase()
	}
	return huh.ThemeCharm()
}

func (r *runner) run(f *huh.Form) error {
	if f == nil {
		return nil
	}
	f = f.WithTheme(r.theme()).WithKeyMap(KeyMap()).WithAccessible(r.o.Accessible).WithShowHelp(true)
	if r.o.Out != nil {
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
	select {
	case <-r.ctx.Done():
		return wizard.ErrCancelled
	case err := <-done:
		if err == nil && r.in != nil && r.in.eof {
			return fmt.Errorf("input ended before every question was answered: %w", wizard.ErrCancelled)
		}
		return err
	}
}

// load reads a dynamic list behind a spinner; nil when it cannot.
func (r *runner) load(title string, fn func() ([]string, error)) []string {
	if fn == nil {
		return nil
	}
	var list []string
	action := func() {
		var err error
		if list, err = fn(); err != nil {
			list = nil
		}
	}
	s := spinner.New().Title(title + "…").Action(action).Context(r.ctx).Accessible(r.o.Accessible)
	if r.o.Out != nil {
		s = s.Output(r.o.Out)
	}
	if s.Run() != nil {
		action()
	}
	return list
}

// lineReader hands out one line per Read: huh's accessible prompts each
// wrap the input in a new bufio.Scanner, which would otherwise swallow
// the answers to the questions after it.
type lineReader struct {
	r   *bufio.Reader
	eof bool
}

func (l *lineReader) Read(p []byte) (int, error) {
	line, err := l.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		err = nil
	}
	if errors.Is(err, io.EOF) {
		l.eof = true
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
func validator(a Answers, flag, shown string) func(string) error {
	return func(s string) error {
		s = strings.TrimSpace(s)
		if s == "" {
			s = shown
		}
		c := *a.Config
		if err := setFlag(&c, flag, s); err != nil {
			return err
		}
		c.ApplyDefaults()
		var ue *wizard.UsageError
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

// setFlag sets the Config field of a flag from its text.
func setFlag(c *wizard.Config, flag, s string) error {
	if flag == "--ttl-days" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return errors.New("must be a whole number of days")
		}
		c.TTLDays = n
		return nil
	}
	*stringField(c, flag) = s
	return nil
}

// stringField is the Config field a string flag sets.
func stringField(c *wizard.Config, flag string) *string {
	return map[string]*string{
		"--provider": &c.Provider, "--bucket": &c.Bucket, "--region": &c.Region, "--gcp-project": &c.GCPProject,
		"--location": &c.Location, "--prefix": &c.Prefix, "--org-id": &c.OrgID, "--warehouse": &c.Warehouse,
		"--name": &c.Name, "--snowflake-database": &c.SnowflakeDatabase, "--snowflake-schema": &c.SnowflakeSchema,
		"--growthloop-role": &c.GrowthLoopRole, "--key-file": &c.KeyFile, "--bundle": &c.Bundle, "--state": &c.State,
	}[flag]
}

var errRequired = errors.New("required")
