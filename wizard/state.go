package wizard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/growthloop/byob/internal/securefile"
	"github.com/growthloop/byob/providers"
)

// StateVersion is the version of the state file format. Version 1 files
// (whose inputs were keyed by flag name) are read and saved as version 2.
const StateVersion = 2

// Step statuses in the state file.
const (
	StepDone    = "done"
	StepFailed  = "failed"
	StepRemoved = "removed" // by byob destroy
)

// State is what byob remembers between runs: the inputs, the values steps
// shared (external ID, account id, access key id), and each step's last
// outcome. It never holds a secret.
type State struct {
	Version int                  `json:"version"`
	Inputs  *StateInputs         `json:"inputs,omitempty"`
	Values  map[string]string    `json:"values"`
	Steps   map[string]StepState `json:"steps"`
	// Destroyed is set by a byob destroy that finished: verify and
	// rotate-keys then have nothing to act on, and init makes the setup
	// anew.
	Destroyed *Destroyed `json:"destroyed,omitempty"`
	UpdatedAt time.Time  `json:"updated_at"`

	path string
	mu   sync.Mutex // the fields above
	// Each Save writes its own snapshot, numbered when taken, beside the
	// file; under commit the newest of them goes in place and an older one
	// is dropped. So steps that save at once never wait for each other's
	// disk writes, and a later snapshot is never overwritten by an older.
	taken, committed uint64
	commit           sync.Mutex
	// The background writer of Record: saving says it runs, again that a
	// record came while it wrote, pending the values to write, saveErr
	// the first failure; idle is signalled when it stops.
	saving, again bool
	pending       *providers.Values
	saveErr       error
	idle          *sync.Cond
}

// StepState is a step's last outcome.
type StepState struct {
	Status string    `json:"status"` // StepDone, StepFailed, StepRemoved
	At     time.Time `json:"at"`
	Error  string    `json:"error,omitempty"`
}

// Destroyed is what a finished byob destroy recorded: when, and what it
// left in place (what byob adopted, a bucket kept).
type Destroyed struct {
	At   time.Time    `json:"at"`
	Kept []KeptObject `json:"kept,omitempty"`
}

// KeptObject is one thing destroy left in place, and why.
type KeptObject struct {
	Step string `json:"step"`
	Why  string `json:"why"`
}

// stateFile is the file as written; Version is a pointer so a file
// without one is told apart from one with version 0, and the inputs are
// read by version.
type stateFile struct {
	Version   *int                 `json:"version"`
	Inputs    json.RawMessage      `json:"inputs"`
	Values    map[string]string    `json:"values"`
	Steps     map[string]StepState `json:"steps"`
	Destroyed *Destroyed           `json:"destroyed"`
	UpdatedAt time.Time            `json:"updated_at"`
}

func newState(path string) *State {
	return &State{Version: StateVersion, Values: map[string]string{}, Steps: map[string]StepState{}, path: path}
}

// LoadState reads the state file at path; a missing file is an empty
// state. Anything that is not a byob state file of this version (null, no
// version, wrong types, unknown fields) is a usage error naming the file:
// byob never acts on state it cannot trust.
func LoadState(path string) (*State, error) {
	s := newState(path)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state file: %w", err)
	}
	notState := func(why string) error {
		return providers.Usagef("state file %s is not a byob state file (%s): pass the --state that byob init wrote, or move this file away", path, why)
	}
	var f stateFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, notState(strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return nil, notState("data after the JSON object")
	}
	switch {
	case bytes.Equal(bytes.TrimSpace(b), []byte("null")):
		return nil, notState("it is null")
	case f.Version == nil:
		return nil, notState("it has no version")
	case *f.Version != StateVersion && *f.Version != 1:
		return nil, providers.Usagef("state file %s has version %d; this byob reads versions 1 and %d: use the byob that wrote it", path, *f.Version, StateVersion)
	}
	if *f.Version == 1 {
		if s.Inputs, err = inputsV1(f.Inputs); err != nil {
			return nil, notState(err.Error())
		}
	} else if len(f.Inputs) > 0 && string(f.Inputs) != "null" {
		dec := json.NewDecoder(bytes.NewReader(f.Inputs))
		dec.DisallowUnknownFields()
		s.Inputs = &StateInputs{}
		if err := dec.Decode(s.Inputs); err != nil {
			return nil, notState("inputs: " + strings.TrimPrefix(err.Error(), "json: "))
		}
	}
	for id, st := range f.Steps {
		if st.Status != StepDone && st.Status != StepFailed && st.Status != StepRemoved {
			return nil, notState(fmt.Sprintf("step %q has status %q", id, st.Status))
		}
	}
	s.UpdatedAt, s.Destroyed = f.UpdatedAt, f.Destroyed
	if f.Values != nil {
		s.Values = f.Values
	}
	if f.Steps != nil {
		s.Steps = f.Steps
	}
	return s, nil
}

// Path is the state file's path.
func (s *State) Path() string { return s.path }

// Matches refuses a state file recorded for another setup: resuming it
// would mix two setups' values.
func (s *State) Matches(c Config) error {
	if s.Inputs == nil {
		return nil
	}
	in := s.Inputs.cfg
	if in.Provider != c.Provider || in.Bucket != c.Bucket || in.Name != c.Name {
		return providers.Usagef("state file %s belongs to the %s setup %q of bucket %s: pass another --state for this one", s.path, in.Provider, in.Name, in.Bucket)
	}
	return nil
}

// NotDestroyed refuses a state file whose setup byob destroy removed:
// byob verb has nothing left to act on.
func (s *State) NotDestroyed(verb, init string) error {
	if s.Destroyed == nil {
		return nil
	}
	return &DestroyedError{Path: s.path, Verb: verb, Init: init, Destroyed: *s.Destroyed}
}

// DestroyedError says the setup a state file records was destroyed: the
// verb has nothing to act on (exit 2), and Init makes the setup anew.
type DestroyedError struct {
	Path, Verb, Init string
	Destroyed
}

func (e *DestroyedError) Error() string {
	kept := ""
	if len(e.Kept) > 0 {
		kept = " (what it kept, the file lists under \"destroyed\")"
	}
	return fmt.Sprintf("the setup recorded in %s was destroyed by byob destroy at %s%s: byob %s has nothing to act on; byob init makes the setup anew",
		e.Path, e.At.Format(time.RFC3339), kept, e.Verb)
}

// MarkDestroyed records that byob destroy finished, keeping kept.
func (s *State) MarkDestroyed(at time.Time, kept []KeptObject) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Destroyed = &Destroyed{At: at.UTC(), Kept: kept}
}

// Record stores a step's outcome (none when step is "") and has the
// state written in the background, so that the steps that wait for this
// one start at once; Flush waits for the writes. What must be on disk
// before a change is saved with Save.
func (s *State) Record(step string, st StepState, v *providers.Values) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if step != "" {
		s.Steps[step] = st
	}
	s.pending = v
	if s.saving {
		s.again = true
		return
	}
	s.saving = true
	go s.writeBehind()
}

// writeBehind writes the state until no record is waiting.
func (s *State) writeBehind() {
	for {
		s.mu.Lock()
		v := s.pending
		s.again = false
		s.mu.Unlock()
		err := s.Save(v)
		s.mu.Lock()
		if err != nil && s.saveErr == nil {
			s.saveErr = err
		}
		if !s.again {
			s.saving = false
			s.cond().Broadcast()
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
	}
}

// cond is the condition Flush waits on; s.mu is held.
func (s *State) cond() *sync.Cond {
	if s.idle == nil {
		s.idle = sync.NewCond(&s.mu)
	}
	return s.idle
}

// Flush waits for the writes Record started and returns the first that
// failed.
func (s *State) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.saving {
		s.cond().Wait()
	}
	return s.saveErr
}

// Save writes the state with the values as they are now, and returns when
// it (or a later snapshot) is on disk.
func (s *State) Save(v *providers.Values) error {
	s.mu.Lock()
	if v != nil {
		s.Values = v.Map()
	}
	s.UpdatedAt = time.Now().UTC()
	b, err := json.MarshalIndent(s, "", "  ")
	s.taken++
	n := s.taken
	s.mu.Unlock()
	if err != nil {
		return err
	}
	f, err := securefile.Stage(s.path, append(b, '\n'), 0o600)
	if err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	s.commit.Lock()
	defer s.commit.Unlock()
	if n < s.committed {
		f.Discard() // a later snapshot is in place
		return nil
	}
	if err := f.Commit(); err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	s.committed = n
	return nil
}
