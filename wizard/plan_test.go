package wizard

import (
	"bytes"
	"strings"
	"testing"

	"github.com/growthloop/byob/providers"
	_ "github.com/growthloop/byob/providers/all"
	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/snowflakestage"
)

func plans(t *testing.T) map[string]*Plan {
	s3 := Config{Provider: "s3", Bucket: "acme-exports", Warehouse: "snowflake",
		OrgID: "1234", TTLDays: 7}.With(s3bucket.Settings{Region: "us-east-1"}).With(snowflakestage.Settings{Database: "ANALYTICS", GrowthLoopRole: "GROWTHLOOP"})
	s3.ApplyDefaults()
	s3none := s3
	s3none.Warehouse, s3none.OrgID = providers.WarehouseNone, ""
	s3none = s3none.With(snowflakestage.Settings{})
	gcs := Config{Provider: "gcs", Bucket: "acme-exports", TTLDays: 7,
		Warehouse: "snowflake", OrgID: "1"}.With(gcsbucket.Settings{Project: "acme-data", Location: "US"}).With(snowflakestage.Settings{Database: "DB", GrowthLoopRole: "R"})
	gcs.ApplyDefaults()
	out := map[string]*Plan{}
	for name, c := range map[string]Config{"s3-snowflake": s3, "s3": s3none, "gcs-snowflake": gcs} {
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name], _ = NewPlan(c, providers.NewValues(nil), Deps{})
	}
	return out
}

// TestPlanOrder: every step comes after the steps it needs, and every
// need names a step of the plan.
func TestPlanOrder(t *testing.T) {
	for name, p := range plans(t) {
		seen := map[string]bool{}
		for _, s := range p.Steps {
			for _, n := range s.Needs() {
				if !seen[n] {
					t.Errorf("%s: step %s needs %s, which is not before it", name, s.ID(), n)
				}
			}
			if seen[s.ID()] {
				t.Errorf("%s: step %s twice", name, s.ID())
			}
			seen[s.ID()] = true
		}
	}
}

func TestPlanWithoutWarehouse(t *testing.T) {
	p := plans(t)["s3"]
	var ids []string
	for _, s := range p.Steps {
		ids = append(ids, s.ID())
	}
	got := strings.Join(ids, " ")
	if strings.Contains(got, "snowflake") || strings.Contains(got, "iam-role") {
		t.Errorf("--warehouse none must have no role and no Snowflake: %s", got)
	}
	if !strings.Contains(got, "iam-access-key") {
		t.Errorf("missing the access key: %s", got)
	}
}

func TestNewExternalID(t *testing.T) {
	id, err := NewExternalID(bytes.NewReader(make([]byte, 20)))
	if err != nil || id != "byob-0000000000000000000000000000000000000000" {
		t.Errorf("NewExternalID = %q, %v", id, err)
	}
	a, _ := NewExternalID(nil)
	b, _ := NewExternalID(nil)
	if a == b || len(a) != 45 {
		t.Errorf("crypto/rand ids must differ and be 45 characters: %s %s", a, b)
	}
	if _, err := NewExternalID(bytes.NewReader(nil)); err == nil {
		t.Error("a short random source must fail")
	}
}
