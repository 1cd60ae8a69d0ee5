package wizard

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/gofrs/flock"

	"github.com/growthloop/byob/internal/securefile"
	"github.com/growthloop/byob/providers"
)

// Lock is the exclusive lock one run that changes the cloud holds on a
// setup's state file, for the whole run. The operating system releases it
// when the process ends, however it ends.
type Lock struct {
	fl   *flock.Flock
	path string
}

// LockHolder is what the lock file says about the run that holds it.
type LockHolder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Command string    `json:"command"`
	Started time.Time `json:"started"`
}

func (h LockHolder) String() string {
	return fmt.Sprintf("%s, pid %d on %s, started %s", h.Command, h.PID, h.Host, h.Started.Local().Format(time.RFC3339))
}

// LockedError is a run refused because another run holds the lock.
type LockedError struct {
	Path   string
	Holder *LockHolder // nil when the lock file could not be read
}

func (e *LockedError) Error() string {
	holder := "another byob run"
	if e.Holder != nil {
		holder = e.Holder.String()
	}
	return fmt.Sprintf("%s is locked by %s: one run at a time changes a setup; wait for it to finish and run again (the lock ends with that process)", e.Path, holder)
}

// LockPath is the lock file of a state file.
func LockPath(statePath string) string { return statePath + ".lock" }

// LockState takes the setup's lock without waiting: when another run holds
// it, the error names the lock file and that run. command names this run
// in the lock file ("byob init").
func LockState(statePath, command string) (*Lock, error) {
	path := LockPath(statePath)
	var fl *flock.Flock
	ok := false
	for range 10 {
		fl = flock.New(path, flock.SetPermissions(0o600))
		var err error
		if ok, err = fl.TryLock(); err != nil {
			// byob cannot make its lock file beside the state file (a
			// directory it may not write, a file system such as /proc).
			return nil, providers.Usagef("invalid --state %q: byob cannot keep its lock file %s beside it (%s); name a state file in a directory you can write",
				statePath, path, providers.SystemSaid(err))
		}
		if !ok || sameFile(fl, path) {
			break
		}
		// The run that held it removed the file after this one opened
		// it: lock the file that is there now.
		_ = fl.Close()
		ok = false
	}
	if !ok {
		le := &LockedError{Path: path}
		if b, err := os.ReadFile(path); err == nil {
			var h LockHolder
			if json.Unmarshal(b, &h) == nil && h.PID != 0 {
				le.Holder = &h
			}
		}
		return nil, le
	}
	host, _ := os.Hostname()
	info, _ := json.Marshal(LockHolder{PID: os.Getpid(), Host: host, Command: command, Started: time.Now().UTC()})
	// The holder is written through a second handle: the lock is on the
	// open file, not on its content. Where the OS forbids writing a locked
	// file the holder is simply not shown.
	_ = os.WriteFile(path, append(info, '\n'), 0o600)
	return &Lock{fl: fl, path: path}, nil
}

// Unlock removes the lock file and releases the lock, so that no run
// leaves a file behind. A run that opened the file before it was removed
// finds, once it holds the lock, that it holds a removed file, and locks
// again (sameFile). Where the OS cannot remove an open file, it is left
// empty.
func (l *Lock) Unlock() error {
	if os.Remove(l.path) != nil {
		_ = os.Truncate(l.path, 0)
	}
	return l.fl.Close()
}

// sameFile reports whether the file fl holds open is still the one at
// path.
func sameFile(fl *flock.Flock, path string) bool {
	held, err := fl.Stat()
	if err != nil {
		return false
	}
	there, err := os.Stat(path)
	return err == nil && os.SameFile(held, there)
}

// RemoveTemps removes the temporary files a killed run left beside the
// setup's files (state, bundle, key files). Call it holding the lock.
func RemoveTemps(cfg Config) {
	securefile.RemoveTemps(append([]string{cfg.State, cfg.Bundle}, cfg.BucketProvider().Keys(&cfg).Files()...)...)
}
