package wizard

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/snowflakestage"
)

// TestLoadStateRefusesWhatIsNotByobState: anything but a byob state file
// of this version is a usage error naming the file, never an empty state
// to act on.
func TestLoadStateRefusesWhatIsNotByobState(t *testing.T) {
	for name, content := range map[string]string{
		"null":                 `null`,
		"empty object":         `{}`,
		"no version":           `{"values": {}, "steps": {}}`,
		"version zero":         `{"version": 0}`,
		"future version":       `{"version": 3, "values": {}}`,
		"unknown v2 input":     `{"version": 2, "inputs": {"ttl-days": 7}}`,
		"unknown v1 input":     `{"version": 1, "inputs": {"colour": "red"}}`,
		"version as a string":  `{"version": "1"}`,
		"values as a list":     `{"version": 1, "values": ["a"]}`,
		"value not a string":   `{"version": 1, "values": {"aws.account_id": 1}}`,
		"steps as a string":    `{"version": 1, "steps": "done"}`,
		"unknown step status":  `{"version": 1, "steps": {"s3-bucket": {"status": "maybe"}}}`,
		"inputs of wrong type": `{"version": 1, "inputs": {"ttl-days": "seven"}}`,
		"unknown field":        `{"version": 1, "owner": "someone"}`,
		"not JSON":             `version: 1`,
		"two documents":        `{"version": 1} {"version": 1}`,
		"empty file":           ``,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadState(path)
			var ue *UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), path) {
				t.Fatalf("LoadState = %v, want a usage error naming %s", err, path)
			}
		})
	}
	path := filepath.Join(t.TempDir(), "state.json")
	os.WriteFile(path, []byte(`{"version": 2, "values": {"a": "b"}, "steps": {"x": {"status": "done", "at": "2026-01-01T00:00:00Z"}}}`), 0o600)
	if s, err := LoadState(path); err != nil || s.Values["a"] != "b" || s.Steps["x"].Status != StepDone {
		t.Errorf("a valid state file: %+v %v", s, err)
	}
}

// TestSaveSnapshotsValuesUnderTheLock forces the interleaving that lost a
// key id: a save that was called before a step recorded a value, but got
// the lock after, must write that value, never the older copy.
func TestSaveSnapshotsValuesUnderTheLock(t *testing.T) {
	s, err := LoadState(filepath.Join(t.TempDir(), "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	v := providers.NewValues(map[string]string{"k": "old"})
	s.mu.Lock()
	called := make(chan struct{})
	done := make(chan error)
	go func() {
		close(called)
		s.Record("a", StepState{Status: StepDone}, v)
		done <- s.Flush()
	}()
	<-called
	time.Sleep(20 * time.Millisecond) // the save is waiting for the lock
	v.Set(providers.Key{Name: "k"}, "new")
	s.mu.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var saved State
	b, _ := os.ReadFile(s.path)
	if err := json.Unmarshal(b, &saved); err != nil || saved.Values["k"] != "new" {
		t.Errorf("saved values %v (%v): an older copy overwrote the newer value", saved.Values, err)
	}

	// Steps finishing at once each keep what they recorded.
	var wg sync.WaitGroup
	for _, id := range []string{"x", "y", "z"} {
		wg.Go(func() {
			v.Set(providers.Key{Name: id}, id)
			s.Record(id, StepState{Status: StepDone}, v)
		})
	}
	wg.Wait()
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	reloaded, err := LoadState(s.path)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"x", "y", "z"} {
		if reloaded.Values[id] != id || reloaded.Steps[id].Status != StepDone {
			t.Errorf("step %s lost: %+v", id, reloaded)
		}
	}
}

// TestSavesAtOnceKeepTheNewest: steps that save at once (each before its
// change) each return once their value is on disk, and the file ends with
// the newest snapshot, never an older one put in place after it.
func TestSavesAtOnceKeepTheNewest(t *testing.T) {
	s, err := LoadState(filepath.Join(t.TempDir(), "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	v := providers.NewValues(nil)
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprint("step", i)
			v.Set(providers.Key{Name: id}, "applying")
			if err := s.Save(v); err != nil {
				t.Error(err)
			}
			// What this Save promised is on disk now.
			b, _ := os.ReadFile(s.path)
			var saved State
			if json.Unmarshal(b, &saved) != nil || saved.Values[id] != "applying" {
				t.Errorf("%s returned before its value was written", id)
			}
		})
	}
	wg.Wait()
	reloaded, err := LoadState(s.path)
	if err != nil {
		t.Fatal(err)
	}
	if len(reloaded.Values) != n {
		t.Errorf("the file holds %d values, want all %d: an older snapshot came last", len(reloaded.Values), n)
	}
	if entries, _ := os.ReadDir(filepath.Dir(s.path)); len(entries) != 1 {
		t.Errorf("left beside the state file: %v", entries)
	}
}

func TestLockIsExclusiveAndNamesItsHolder(t *testing.T) {
	state := filepath.Join(t.TempDir(), "byob-state.json")
	l, err := LockState(state, "byob init")
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockState(state, "byob init")
	var le *LockedError
	if !errors.As(err, &le) || le.Holder == nil || le.Holder.PID != os.Getpid() || le.Holder.Command != "byob init" {
		t.Fatalf("second lock = %v (%+v)", err, le)
	}
	host, _ := os.Hostname()
	for _, want := range []string{LockPath(state), "byob init, pid ", host} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(LockPath(state)); !os.IsNotExist(err) {
		t.Errorf("Unlock left the lock file: %v", err)
	}
	// A lock on a file no longer at the path holds nothing (a run that
	// took one tries again, sameFile): the lock is the file that is there.
	stale := flock.New(LockPath(state))
	if ok, err := stale.TryLock(); !ok || err != nil {
		t.Fatal(ok, err)
	}
	os.Remove(LockPath(state))
	l, err = LockState(state, "byob init")
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	if _, err := LockState(state, "byob rotate-keys"); !errors.As(err, &le) {
		t.Errorf("a second holder: %v", err)
	}
	stale.Close()
	l.Unlock()
}

// TestStateV1IsMigrated: a version 1 file, whose inputs were keyed by flag
// name, is read as the same setup and saved as version 2.
func TestStateV1IsMigrated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	v1 := `{
  "version": 1,
  "inputs": {"provider": "s3", "bucket": "acme-exports", "region": "us-west-2", "prefix": "exports/", "org-id": "1234",
    "ttl-days": 7, "warehouse": "snowflake", "name": "growthloop", "snowflake-database": "ANALYTICS",
    "snowflake-schema": "FLYWHEEL_SYSTEM", "integration": "FLYWHEEL_APP_AWS", "stage": "FLYWHEEL_EXTERNAL_STAGE",
    "growthloop-role": "GROWTHLOOP", "bundle": "growthloop-byob-bundle.json", "state": "byob-state.json"},
  "values": {"aws.account_id": "123456789012", "snowflake.external_id": "byob-x"},
  "steps": {"s3-bucket": {"status": "done", "at": "2026-11-01T00:00:00Z"}},
  "updated_at": "2026-11-01T00:00:00Z"
}`
	if err := os.WriteFile(path, []byte(v1), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := LoadState(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Provider: "s3", Bucket: "acme-exports", Prefix: "exports/", OrgID: "1234", TTLDays: 7,
		Warehouse: "snowflake", Name: "growthloop", Bundle: "growthloop-byob-bundle.json", State: path}.With(s3bucket.Settings{Region: "us-west-2"}).With(snowflakestage.Settings{Database: "ANALYTICS", Schema: "FLYWHEEL_SYSTEM", Integration: "FLYWHEEL_APP_AWS", Stage: "FLYWHEEL_EXTERNAL_STAGE", GrowthLoopRole: "GROWTHLOOP"})
	if got := s.Inputs.Config(path); !got.Equal(&want) {
		t.Errorf("inputs\n got %+v\nwant %+v", got, want)
	}
	if s.Values["snowflake.external_id"] != "byob-x" || s.Steps["s3-bucket"].Status != StepDone {
		t.Errorf("values %v steps %v", s.Values, s.Steps)
	}
	if err := s.Save(nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	var saved map[string]any
	json.Unmarshal(b, &saved)
	in := saved["inputs"].(map[string]any)
	if saved["version"] != 2.0 || in["ttl_days"] != 7.0 || in["growthloop_role"] != "GROWTHLOOP" || in["ttl-days"] != nil {
		t.Errorf("saved as %s", b)
	}
	again, err := LoadState(path)
	if got := again.Inputs.Config(path); err != nil || !got.Equal(&want) {
		t.Errorf("reloaded %+v: %v", again.Inputs, err)
	}
}

// TestStateInputsFollowTheFlagTable: every field the table keeps goes to
// the state file under its own key and comes back; a key the table does
// not know, or a value of another type, is refused.
func TestStateInputsFollowTheFlagTable(t *testing.T) {
	var c Config
	n := 0
	for _, f := range providers.Fields {
		if f.State == "" {
			continue
		}
		n++
		if err := f.Set(&c, fmt.Sprint(n)); err != nil {
			t.Fatal(f.Flag, err)
		}
	}
	b, err := json.Marshal(InputsOf(c))
	if err != nil {
		t.Fatal(err)
	}
	var back StateInputs
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if got := back.Config(""); !got.Equal(&c) {
		t.Errorf("round trip\n got %+v\nwant %+v\nvia %s", got, c, b)
	}
	for _, bad := range []string{`{"colour":"red"}`, `{"names":{"aws_colour":"x"}}`, `{"ttl_days":"seven"}`, `{"bucket":1}`, `{"names":"x"}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// TestLockWhereNoFileCanBeMadeIsAUsageError: a state file beside which
// byob cannot make its lock file is the flag's fault, said so.
func TestLockWhereNoFileCanBeMadeIsAUsageError(t *testing.T) {
	if _, err := os.Stat("/proc/version"); err != nil {
		t.Skip("needs /proc")
	}
	var ue *providers.UsageError
	if _, err := LockState("/proc/version", "byob init"); !errors.As(err, &ue) || !strings.Contains(err.Error(), `invalid --state "/proc/version"`) {
		t.Errorf("lock in /proc: %v", err)
	}
}
