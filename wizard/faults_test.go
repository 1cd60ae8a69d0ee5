package wizard_test

import (
	"context"
	"testing"
	"time"

	"github.com/growthloop/byob/internal/testsupport/fault"
	"github.com/growthloop/byob/internal/testsupport/inventory"
	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/snowflakestage"
	"github.com/growthloop/byob/wizard"
)

// faultSeeds are the random sequences of failed answers each test tries.
var faultSeeds = []uint64{1, 2, 3}

func (e *env) inventory(cfg wizard.Config) string {
	e.t.Helper()
	inv, err := inventory.S3(context.Background(), e.admin, e.sf, cfg)
	if err != nil {
		e.t.Fatalf("inventory: %v", err)
	}
	return inv
}

// TestTransientErrorsS3Snowflake: with a fifth of all AWS and Snowflake
// answers failing (refused before the change, or lost after it), a run
// ends exactly as a clean run does.
func TestTransientErrorsS3Snowflake(t *testing.T) {
	clean := newEnv(t)
	cfg := clean.config()
	clean.mustApply(cfg)
	want := clean.inventory(cfg)
	for _, seed := range faultSeeds {
		e := newEnv(t)
		faults := fault.New(0.2, seed)
		e.aws.SetFaults(faults)
		e.sf.SetFaults(faults)
		cfg := e.config()
		e.mustApply(cfg)
		e.aws.SetFaults(nil)
		e.sf.SetFaults(nil)
		if got := e.inventory(cfg); got != want {
			t.Errorf("seed %d: the setup differs from a clean run's:\n%s\nwant\n%s", seed, got, want)
		}
		if faults.Injected() == 0 {
			t.Errorf("seed %d: no answer failed", seed)
		}
	}
}

func (e *gcsEnv) inventory(cfg wizard.Config) string {
	e.t.Helper()
	inv, err := inventory.GCS(e.gcp, e.sf, cfg)
	if err != nil {
		e.t.Fatalf("inventory: %v", err)
	}
	return inv
}

// TestTransientErrorsGCSSnowflake is the same on Google Cloud.
func TestTransientErrorsGCSSnowflake(t *testing.T) {
	clean := newGCSEnv(t)
	cfg := clean.config(snowflakestage.Name)
	clean.mustApply(cfg)
	want := clean.inventory(cfg)
	for _, seed := range faultSeeds {
		e := newGCSEnv(t)
		e.admin.SetRetry(gcsbucket.Retry{Attempts: gcsbucket.DefaultRetry.Attempts, Initial: time.Millisecond, Max: 5 * time.Millisecond})
		faults := fault.New(0.2, seed)
		e.gcp.SetFaults(faults)
		e.sf.SetFaults(faults)
		cfg := e.config(snowflakestage.Name)
		e.mustApply(cfg)
		e.gcp.SetFaults(nil)
		e.sf.SetFaults(nil)
		if got := e.inventory(cfg); got != want {
			t.Errorf("seed %d: the setup differs from a clean run's:\n%s\nwant\n%s", seed, got, want)
		}
		if faults.Injected() == 0 {
			t.Errorf("seed %d: no answer failed", seed)
		}
	}
}
