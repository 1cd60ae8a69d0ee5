package wizard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/growthloop/byob/graph"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/aws"
	"github.com/growthloop/byob/providers/gcp"
	"github.com/growthloop/byob/snowflake"
)

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// Propagation bounds the wait for a new key to work.
	Propagation providers.Propagation
	// Now is the time key ages are measured at; time.Now when zero.
	Now time.Time
	// OnWait is told why a check waits (a new key propagating), as it
	// waits. It may be called from several goroutines at once.
	OnWait func(checkID, msg string)
}

// CheckReport is one check's outcome, as byob verify prints it.
type CheckReport struct {
	ID     string                `json:"id"`
	Title  string                `json:"title"`
	Status providers.CheckStatus `json:"status"`
	Detail string                `json:"detail"`
	Remedy string                `json:"remedy,omitempty"`

	absent bool
}

// Report is every check of a verify run. OK is true when no check failed
// or could not run (warnings are OK).
type Report struct {
	OK     bool          `json:"ok"`
	Checks []CheckReport `json:"checks"`
}

// VerifyValues starts the values of a verify run from the state file, the
// external ID from the bundle when the state file has none (a setup
// verified from its bundle alone). It never makes a new external ID:
// verify must compare with the one in use. The keys are the bundle's.
func VerifyValues(cfg Config, state *State, bundle *Bundle) (*providers.Values, error) {
	values := providers.NewValues(state.Values)
	if values.Get(providers.ExternalID) == "" && bundle != nil && bundle.Snowflake != nil {
		values.Set(providers.ExternalID, bundle.Snowflake.ExternalID)
	}
	if cfg.Provider == ProviderS3 && cfg.Snowflake() && values.Get(providers.ExternalID) == "" {
		return nil, Usagef("neither the state file %s nor the bundle %s holds the external ID of this setup: pass --state or --bundle of the setup", cfg.State, cfg.Bundle)
	}
	return values, nil
}

// verifyNode is a check and the checks it waits for.
type verifyNode struct {
	check providers.Check
	needs []string
}

func (n verifyNode) ID() string      { return n.check.ID }
func (n verifyNode) Needs() []string { return n.needs }

// Verify checks, live and without changing anything, that the setup cfg
// describes is in place and works: every step of its plan is observed
// (Done passes; missing or different fails with the fix), then probes
// prove the key and Snowflake reach the bucket. Checks run concurrently;
// a check whose prerequisite is missing is reported as not run. The error
// is for what stops every check (no credentials, preflight).
func Verify(ctx context.Context, cfg Config, deps Deps, values *providers.Values, bundle *Bundle, o VerifyOptions) (Report, error) {
	// Read access is enough: a check whose own read is denied says so.
	pf, err := RunPreflight(ctx, &cfg, deps, values, gcp.Viewer)
	if err != nil {
		return Report{}, err
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	deps.Propagation = o.Propagation
	plan, err := NewPlan(cfg, values, deps)
	if err != nil {
		return Report{}, err
	}
	reRun := "re-run " + InitCommand(cfg)
	var nodes []verifyNode
	for _, s := range plan.Steps {
		if s.ID() == aws.StepAccessKey || s.ID() == gcp.StepKey {
			continue // the key probes check the key itself, by using it
		}
		nodes = append(nodes, verifyNode{check: stepCheck(s, values, reRun), needs: s.Needs()})
	}
	if bundle == nil {
		bundle = &Bundle{}
	}
	switch cfg.Provider {
	case ProviderS3:
		for _, c := range aws.Probes(cfg.awsParams(deps), deps.AWS, values, bundle.AWSAccessKeyID, bundle.AWSSecretAccessKey, o.Now, reRun) {
			needs := []string{aws.StepBucket, aws.StepUser}
			if c.ID == aws.CheckKeyConfined {
				needs = append(needs, aws.CheckKeyWorks) // a key that does not work proves nothing
			}
			nodes = append(nodes, verifyNode{check: c, needs: needs})
		}
	case ProviderGCS:
		for _, c := range gcp.Probes(cfg.gcpParams(deps), deps.GCP, reRun) {
			needs := []string{gcp.StepBucket, gcp.StepServiceAccount}
			if c.ID == gcp.CheckKeyWorks {
				needs = append(needs, gcp.StepWriterBinding) // without it the key is refused
			}
			nodes = append(nodes, verifyNode{check: c, needs: needs})
		}
	}
	if cfg.Snowflake() {
		stage := cfg.snowflakeParams().Stage
		nodes = append(nodes, verifyNode{check: snowflake.StageReachable(deps.Snowflake, stage, reRun),
			needs: []string{snowflake.StepIntegration, snowflake.StepStage}})
	}
	g, err := graph.New(nodes)
	if err != nil {
		return Report{}, fmt.Errorf("verify's checks: %w", err)
	}
	return runChecks(pf.WithIdentities(ctx), g, o.OnWait), nil
}

// runChecks runs every check once the checks it needs have finished; a
// check whose prerequisite is absent (or could not be checked) is not run.
func runChecks(ctx context.Context, g *graph.Graph[verifyNode], onWait func(id, msg string)) Report {
	results := graph.Run(ctx, g, parallelism, func(ctx context.Context, n verifyNode, before []CheckReport) CheckReport {
		r := CheckReport{ID: n.check.ID, Title: n.check.Title}
		for _, b := range before {
			if b.absent || b.Status == providers.Unknown {
				r.Status, r.Detail = providers.Unknown, "not checked: "+b.Title+" did not pass"
				return r
			}
		}
		cctx := providers.WithProgress(ctx, func(msg string) {
			if onWait != nil {
				onWait(n.check.ID, msg)
			}
		})
		res := n.check.Run(cctx)
		if ctx.Err() != nil && res.Status != providers.Pass {
			res = providers.CannotRun(fmt.Errorf("timed out: %w", ctx.Err()), "raise --timeout and re-run byob verify")
		}
		r.Status, r.Detail, r.Remedy, r.absent = res.Status, res.Detail, res.Remedy, res.Absent
		return r
	})
	rep := Report{OK: true, Checks: results}
	for _, r := range results {
		if r.Status == providers.Fail || r.Status == providers.Unknown {
			rep.OK = false
		}
	}
	return rep
}

// stepCheck turns a plan step's Check into a health check: Done passes,
// Missing and Drifted fail with the fix, a Mismatch (a bucket elsewhere)
// fails, and any other error means the check could not run.
func stepCheck(s providers.Step, v *providers.Values, reRun string) providers.Check {
	return providers.Check{ID: s.ID(), Title: verifyTitle(s), Run: func(ctx context.Context) providers.CheckResult {
		obs, err := s.Check(ctx, v)
		var mm *providers.Mismatch
		switch {
		case errors.As(err, &mm):
			return providers.Failed("see the detail: "+reRun+" with the right flags", "%v", err)
		case err != nil:
			return providers.CannotRun(err, "grant byob's caller read access to it and re-run byob verify")
		case obs.Status == providers.Done:
			if obs.Reason != "" {
				return providers.Passed("%s", obs.Reason)
			}
			return providers.Passed("as expected")
		case obs.Status == providers.Missing:
			detail := "missing; byob init would: " + s.Title()
			if obs.Reason != "" {
				detail = "missing: " + obs.Reason
			}
			r := providers.Failed(reRun, "%s", detail)
			r.Absent = true
			return r
		}
		remedy := reRun
		for _, a := range obs.Fix {
			remedy += ", or run: " + strings.Join(strings.Fields(a.Content), " ")
		}
		return providers.Failed(remedy, "%s", obs.Reason)
	}}
}

// verifyTitle says what a step's check proves.
func verifyTitle(s providers.Step) string {
	t := map[string]string{
		aws.StepBucket:                 "Bucket exists in the expected region and is yours",
		aws.StepPublicAccessBlock:      "All four public access block settings are on",
		aws.StepEncryption:             "Default encryption is on",
		aws.StepBucketPolicy:           "Bucket policy denies requests without TLS",
		aws.StepLifecycle:              "Lifecycle rule expires the prefix at the TTL",
		aws.StepPolicy:                 "IAM policy is the expected document",
		aws.StepRole:                   "Role trusts the integration's IAM user and external ID",
		aws.StepRolePolicy:             "Policy is attached to the role",
		aws.StepUser:                   "GrowthLoop's IAM user exists",
		aws.StepUserPolicy:             "Policy is attached to the user",
		gcp.StepBucket:                 "Bucket exists with uniform access, public access prevention and the lifecycle rule",
		gcp.StepWriterRole:             "GrowthLoop's custom role has exactly its permissions",
		gcp.StepServiceAccount:         "GrowthLoop's service account exists",
		gcp.StepWriterBinding:          "Service account holds the role on the bucket",
		gcp.StepSnowflakeRole:          "Snowflake's custom role has exactly its permissions",
		gcp.StepSnowflakeBinding:       "Snowflake's service account holds its role on the bucket",
		snowflake.StepIntegration:      "Integration exists, is enabled and matches the bucket and trust",
		snowflake.StepIntegrationGrant: "GrowthLoop's role has USAGE on the integration",
		snowflake.StepStage:            "Stage exists with the expected URL and integration",
		snowflake.StepStageGrants:      "GrowthLoop's role can use the stage",
	}[s.ID()]
	if t == "" {
		return s.Title()
	}
	return t
}

// InitCommand is the byob init command line that makes (or restores) the
// setup cfg describes: every flag whose value is not the default.
func InitCommand(cfg Config) string {
	def := Config{Provider: cfg.Provider, TTLDays: DefaultTTLDays}
	def.ApplyDefaults()
	var have, dflt map[string]any
	b, _ := json.Marshal(cfg)
	_ = json.Unmarshal(b, &have)
	b, _ = json.Marshal(def)
	_ = json.Unmarshal(b, &dflt)
	keys := make([]string, 0, len(have))
	for k := range have {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := []string{"byob init --provider " + cfg.Provider}
	for _, k := range keys {
		val := fmt.Sprint(have[k])
		if k == "provider" || val == "" || val == fmt.Sprint(dflt[k]) {
			continue
		}
		parts = append(parts, "--"+k+" "+ShellQuote(val))
	}
	return strings.Join(parts, " ")
}

// ShellQuote quotes s for a POSIX shell when it needs it.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@=,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
