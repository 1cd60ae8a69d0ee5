package wizard_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/growthloop/byob/providers"
	awsp "github.com/growthloop/byob/providers/aws"
	sfp "github.com/growthloop/byob/providers/snowflake"
	"github.com/growthloop/byob/wizard"
)

// callCounter counts HTTP requests per plan step (providers.StepOf), and
// those made outside any step (preflight, connecting).
type callCounter struct {
	base http.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

func (c *callCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n[providers.StepOf(r.Context())]++
	c.mu.Unlock()
	return c.base.RoundTrip(r)
}

func (c *callCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n = map[string]int{}
}

func (c *callCounter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := 0
	for _, n := range c.n {
		t += n
	}
	return t
}

// criticalPath is the longest chain of dependent calls: the calls made
// outside steps (sequential, before the plan runs) plus the heaviest path
// through the step DAG, each step counting its own sequential calls.
func (c *callCounter) criticalPath(p *wizard.Plan) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	longest := map[string]int{}
	max := 0
	for _, s := range p.Steps { // in plan order: needs come first
		before := 0
		for _, n := range s.Needs() {
			before = maxInt(before, longest[n])
		}
		longest[s.ID()] = before + c.n[s.ID()]
		max = maxInt(max, longest[s.ID()])
	}
	return c.n[""] + max
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// benchEnv is newEnv with latency on every AWS and Snowflake request and
// the calls counted.
func benchEnv(b *testing.B, latency time.Duration) (*env, *callCounter) {
	e := newEnv(b)
	e.aws.SetLatency(latency)
	e.sf.SetLatency(latency)
	counter := &callCounter{base: http.DefaultTransport, n: map[string]int{}}
	cfg := e.aws.Config()
	cfg.HTTPClient = &http.Client{Transport: counter}
	e.connect(awsp.NewClients(cfg), e.sf.Connect(b, "ACCOUNTADMIN", counter))
	counter.reset()
	return e, counter
}

// BenchmarkInitS3Snowflake measures a full S3 + Snowflake init, and a
// no-op re-run, with 50 ms added to every request. It reports the wall
// time, the calls made, and the critical-path bound (the longest chain of
// dependent calls × the latency): independent steps run concurrently, so
// wall/bound stays near 1.
func BenchmarkInitS3Snowflake(b *testing.B) {
	const latency = 50 * time.Millisecond
	for _, rerun := range []bool{false, true} {
		name := "first-run"
		if rerun {
			name = "no-op-rerun"
		}
		b.Run(name, func(b *testing.B) {
			var wall time.Duration
			var calls, critical int
			for range b.N {
				b.StopTimer()
				e, counter := benchEnv(b, latency)
				e.dir = b.TempDir()
				cfg := e.benchConfig()
				if rerun {
					if _, err := e.apply(cfg); err != nil {
						b.Fatal(err)
					}
					counter.reset()
				}
				state, values, err := wizard.Prepare(cfg)
				if err != nil {
					b.Fatal(err)
				}
				var plan *wizard.Plan
				b.StartTimer()
				start := time.Now()
				_, err = wizard.Apply(context.Background(), cfg, e.deps, state, values, wizard.ApplyOptions{
					Confirm: func(p *wizard.Plan) error { plan = p; return nil },
				})
				wall += time.Since(start)
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				calls += counter.total()
				critical += counter.criticalPath(plan)
				b.StartTimer()
			}
			n := float64(b.N)
			bound := float64(critical) / n * float64(latency.Milliseconds())
			b.ReportMetric(float64(wall.Milliseconds())/n, "wall-ms/op")
			b.ReportMetric(float64(calls)/n, "calls/op")
			b.ReportMetric(float64(critical)/n, "critical-calls/op")
			b.ReportMetric(bound, "bound-ms/op")
			b.ReportMetric(float64(wall.Milliseconds())/n/bound, "wall/bound")
		})
	}
}

func (e *env) benchConfig() wizard.Config {
	c := wizard.Config{
		Provider: awsp.Name, Bucket: "bench-exports-" + e.id, Name: "b" + e.id, Region: "us-west-2",
		Warehouse: sfp.Name, OrgID: "1234", SnowflakeDatabase: "ANALYTICS", GrowthLoopRole: "GROWTHLOOP", TTLDays: 7,
		Bundle: e.dir + "/bundle.json", State: e.dir + "/state.json",
	}
	c.ApplyDefaults()
	return c
}

// BenchmarkVerifyS3Snowflake measures byob verify of a healthy S3 +
// Snowflake setup with 50 ms added to every request. Its checks run
// concurrently: wall/sequential (the wall time over calls × latency, what
// one check after another would take) stays well below 1.
func BenchmarkVerifyS3Snowflake(b *testing.B) {
	const latency = 50 * time.Millisecond
	var wall time.Duration
	var calls int
	for range b.N {
		b.StopTimer()
		e, counter := benchEnv(b, 0)
		e.dir = b.TempDir()
		cfg := e.benchConfig()
		if _, err := e.apply(cfg); err != nil {
			b.Fatal(err)
		}
		e.aws.ConfineKeysTo = cfg.Prefix
		e.aws.SetLatency(latency)
		e.sf.SetLatency(latency)
		values, bundle := verifyInputs(b, cfg)
		counter.reset()
		b.StartTimer()
		start := time.Now()
		rep, err := wizard.Verify(context.Background(), cfg, e.deps, values, bundle, wizard.VerifyOptions{})
		wall += time.Since(start)
		b.StopTimer()
		if err != nil || !rep.OK {
			b.Fatalf("verify: %v %+v", err, rep)
		}
		calls += counter.total()
		b.StartTimer()
	}
	n := float64(b.N)
	sequential := float64(calls) / n * float64(latency.Milliseconds())
	b.ReportMetric(float64(wall.Milliseconds())/n, "wall-ms/op")
	b.ReportMetric(float64(calls)/n, "calls/op")
	b.ReportMetric(sequential, "sequential-ms/op")
	b.ReportMetric(float64(wall.Milliseconds())/n/sequential, "wall/sequential")
}
