// Package fault is test support shared by byob's fakes of AWS, Google
// Cloud and Snowflake: it makes a share of their answers fail, as a flaky
// network or an overloaded service does, and can stop a byob process right
// after the k-th change it asked for.
//
// A failure comes in two kinds, chosen at random: before the change (the
// request is refused with a 503, as a throttled or unavailable service
// does) or after it (the change is made and its answer replaced by a 500,
// as when a response is lost). A client that retries blindly after the
// second kind does the change twice.
package fault

import (
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Injector decides which answers fail. One Injector can be shared by
// several fakes: mutations are then counted across all of them. A nil
// Injector injects nothing.
type Injector struct {
	mu        sync.Mutex
	rnd       *rand.Rand
	rate      float64
	mutations int
	killAt    int
	kill      func()
	frozen    chan struct{} // closed by Release; nil until the kill
	injected  int
}

// New returns an Injector that fails the share rate (0..1) of requests,
// with a random sequence fixed by seed.
func New(rate float64, seed uint64) *Injector {
	return &Injector{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), rate: rate}
}

// KillAfter calls kill right after the k-th mutating answer from now
// (k >= 1) has been written and flushed. Requests that arrive after it
// wait until Release, so nothing more changes before the process is gone.
func (in *Injector) KillAfter(k int, kill func()) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.killAt, in.kill = in.mutations+k, kill
}

// Release lets requests held since the kill go on (and fail).
func (in *Injector) Release() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.frozen != nil {
		close(in.frozen)
		in.frozen = nil
	}
	in.killAt, in.kill = 0, nil
}

// Mutations is the number of mutating requests answered so far.
func (in *Injector) Mutations() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.mutations
}

// Injected is the number of answers that failed on purpose.
func (in *Injector) Injected() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.injected
}

type kind int

const (
	none kind = iota
	before
	after
)

func (in *Injector) pick() (kind, chan struct{}) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.frozen != nil {
		return none, in.frozen
	}
	if in.rate == 0 || in.rnd.Float64() >= in.rate {
		return none, nil
	}
	in.injected++
	if in.rnd.IntN(2) == 0 {
		return before, nil
	}
	return after, nil
}

// Serve answers one request. handle makes the change and writes the
// answer; fail writes the service's own error answer with the given
// status. mutating says whether the request changes something.
func (in *Injector) Serve(w http.ResponseWriter, mutating bool, handle func(http.ResponseWriter), fail func(w http.ResponseWriter, status int)) {
	if in == nil {
		handle(w)
		return
	}
	k, frozen := in.pick()
	if frozen != nil {
		<-frozen
		fail(w, http.StatusServiceUnavailable)
		return
	}
	switch k {
	case before:
		fail(w, http.StatusServiceUnavailable)
		return
	case after:
		handle(httptest.NewRecorder())
		if mutating {
			in.count()
		}
		fail(w, http.StatusInternalServerError)
		return
	}
	handle(w)
	if !mutating {
		return
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	in.count()
}

// count records a mutation and, at the k-th, kills.
func (in *Injector) count() {
	in.mu.Lock()
	in.mutations++
	var kill func()
	if in.killAt != 0 && in.mutations == in.killAt {
		kill, in.frozen = in.kill, make(chan struct{})
	}
	in.mu.Unlock()
	if kill != nil {
		kill()
	}
}

// HangUp returns the URL of a server that reads the start of every
// request and closes the connection: the request went out, and its answer
// is lost in transit. It stops when tb ends.
func HangUp(tb testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = c.Read(make([]byte, 1))
			_ = c.Close()
		}
	}()
	return "http://" + l.Addr().String()
}
