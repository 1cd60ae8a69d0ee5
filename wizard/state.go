package wizard

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// StateVersion is the version of the state file format.
const StateVersion = 1

// State is what byob remembers between runs: the inputs, the values steps
// shared (external ID, account id, access key id), and each step's last
// outcome. It never holds a secret.
type State struct {
	Version   int                  `json:"version"`
	Inputs    *Config              `json:"inputs,omitempty"`
	Values    map[string]string    `json:"values"`
	Steps     map[string]StepState `json:"steps"`
	UpdatedAt time.Time            `json:"updated_at"`

	path string
	mu   sync.Mutex
}

// StepState is a step's last outcome.
type StepState struct {
	Status string    `json:"status"` // done, failed
	At     time.Time `json:"at"`
	Error  string    `json:"error,omitempty"`
}

// LoadState reads the state file at path; a missing file is an empty state.
func LoadState(path string) (*State, error) {
	s := &State{Version: StateVersion, Values: map[string]string{}, Steps: map[string]StepState{}, path: path}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state file: %w", err)
	}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, Usagef("state file %s is not byob state (%v): pass another --state", path, err)
	}
	if s.Version != StateVersion {
		return nil, Usagef("state file %s has version %d; this byob reads version %d", path, s.Version, StateVersion)
	}
	if s.Values == nil {
		s.Values = map[string]string{}
	}
	if s.Steps == nil {
		s.Steps = map[string]StepState{}
	}
	return s, nil
}

// Matches refuses a state file recorded for another setup: resuming it
// would mix two setups' values.
func (s *State) Matches(c Config) error {
	if s.Inputs == nil {
		return nil
	}
	in := s.Inputs
	if in.Provider != c.Provider || in.Bucket != c.Bucket || in.Name != c.Name {
		return Usagef("state file %s belongs to the %s setup %q of bucket %s: pass another --state for this one", s.path, in.Provider, in.Name, in.Bucket)
	}
	return nil
}

// Record stores a step's outcome and the current shared values, and
// saves.
func (s *State) Record(step string, st StepState, values map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if step != "" {
		s.Steps[step] = st
	}
	s.Values = values
	return s.save()
}

// Save writes the state atomically with mode 0600.
func (s *State) Save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.save()
}

func (s *State) save() error {
	s.UpdatedAt = time.Now().UTC()
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(s.path, append(b, '\n')); err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	return nil
}

// WriteFileAtomic writes data to a temporary file in path's directory with
// mode 0600 (whatever the umask), syncs it, and renames it over path, so
// readers see the old file or the new one, never a part.
func WriteFileAtomic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
