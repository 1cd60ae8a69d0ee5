package cmd

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/growthloop/byob/providers"
)

// connecting shows, at a terminal, what byob is reaching while it waits
// for the first answers (a login may take seconds), with a spinner. The
// returned func removes it; it may be called more than once.
func connecting(io *IOStreams, output string, cfg *providers.Config, conns map[string]providers.Conn) (stop func()) {
	if !io.IsStdoutTTY() || output != "text" || io.Accessible(false) {
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
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		frames := []rune("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			fmt.Fprintf(io.Out, "\r%c %s", frames[i%len(frames)], line)
			select {
			case <-done:
				fmt.Fprint(io.Out, "\r\033[K")
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-finished
		})
	}
}
