package wizard

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/growthloop/byob/graph"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/templates"
)

// Deps are what a run uses besides its inputs: the providers' connections
// (none in a dry run) and the sources of what it makes.
type Deps struct {
	// Conns are the setup's providers' connections, by provider name.
	Conns map[string]providers.Conn
	// Keys holds GrowthLoop's key secrets; the bucket provider's own
	// files when nil.
	Keys providers.KeyStore
	// Random is the source of new external IDs; crypto/rand when nil.
	Random io.Reader
	// ResetExternalID gives an existing trust a new external ID.
	ResetExternalID bool
	// Adopt and Prune are providers.Setup's.
	Adopt, Prune bool
	Propagation  runenv.Propagation
	// Destroy is what byob destroy removes besides byob's own objects.
	Destroy providers.DestroyOptions
}

// Plan is the steps of a setup and the values they share.
type Plan struct {
	Config Config
	// Steps are in display order: each after the steps it needs.
	Steps  []providers.Step
	Values *providers.Values
	graph  *graph.Graph[providers.Step]
	// owner is the title of the provider each step is of, by step ID.
	owner map[string]string
}

// Config is what the user asked for.
type Config = providers.Config

// newPlan checks the steps' graph and the values they share, and orders
// them.
func newPlan(cfg Config, values *providers.Values, steps []providers.Step) (*Plan, error) {
	g, err := graph.New(steps)
	if err != nil {
		return nil, fmt.Errorf("the plan's steps: %w", err)
	}
	for _, r := range steps {
		for _, k := range r.Reads() {
			for _, w := range steps {
				if w != r && slices.Contains(w.Writes(), k) && !g.Needs(r.ID(), w.ID()) {
					return nil, fmt.Errorf("the plan's steps: %s reads %s, which %s sets, but does not need %s", r.ID(), k.Name, w.ID(), w.ID())
				}
			}
		}
	}
	return &Plan{Config: cfg, Steps: g.Nodes(), Values: values, graph: g}, nil
}

// prefetch runs ahead, in r's background, the Check of each step whose
// reads need nothing before its turn (providers.ReadsEarly), on a copy of
// the values: the reads it makes answer the step in its turn. Its
// observation is dropped.
func (p *Plan) prefetch(ctx context.Context, r *runenv.Run, skip func(providers.Step) bool) {
	for _, s := range p.Steps {
		if e, ok := s.(providers.ReadsEarly); ok && e.ReadsEarly(p.Values) && (skip == nil || !skip(s)) {
			sr, v := r.Of(s.ID()).Ahead(), providers.NewValues(p.Values.Map())
			sr.Go(func() { _, _ = s.Check(ctx, sr, v) })
		}
	}
}

// settle runs, before any change, the providers.Gates: a step that cannot
// go ahead (another account's bucket, a bucket in another region, a bucket
// byob may not read, an integration of another provider, a role that does
// not exist, a full key quota) stops the run while nothing is made. The
// gates see a copy of the values; their reads are the run's (runenv.Read),
// so the steps' turns answer from them. Other steps' reads are not waited
// for: none of them can refuse the setup.
func (p *Plan) settle(ctx context.Context, r *runenv.Run) error {
	errs := make([]error, len(p.Steps))
	seen := providers.NewValues(p.Values.Map())
	var wg sync.WaitGroup
	for i, s := range p.Steps {
		g, ok := s.(providers.Gate)
		if !ok {
			continue
		}
		wg.Go(func() {
			if err := g.Gate(ctx, r.Of(s.ID()), seen); err != nil {
				errs[i] = &StepError{Step: s.ID(), Title: s.Title(), Err: err}
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ErrCancelled
	}
	return errors.Join(errs...)
}

// NewExternalID returns a new external ID for the role trust: 20 bytes from
// r (crypto/rand.Reader when nil), hex-encoded, prefixed so it is
// recognisable in the AWS console.
func NewExternalID(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, 20)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return "byob-" + hex.EncodeToString(b), nil
}

// setups are what each of cfg's providers builds its part from: the
// bucket's provider first, then the warehouse, which reaches the bucket
// through the bucket's Storage.
func setups(cfg *Config, values *providers.Values, deps Deps) map[string]providers.Setup {
	bp, wh := cfg.BucketProvider(), cfg.WarehouseProvider()
	if deps.Keys == nil {
		deps.Keys = bp.Keys(cfg)
	}
	base := providers.Setup{
		Config: cfg, Values: values, Keys: deps.Keys, Propagation: deps.Propagation,
		NewExternalID: func() (string, error) { return NewExternalID(deps.Random) }, ResetExternalID: deps.ResetExternalID, Adopt: deps.Adopt, Prune: deps.Prune,
		Storage: bp.Storage(cfg), Destroy: deps.Destroy,
	}
	out := map[string]providers.Setup{}
	for _, p := range cfg.Active() {
		s := base
		s.Conn = deps.Conns[p.Name()]
		if p == bp && wh != nil {
			s.WarehouseStep = wh.IdentityStep()
		}
		out[p.Name()] = s
	}
	return out
}

// NewPlan builds the plan for a validated config: the steps of its
// providers, checked as a graph. values carries what is already known
// (from the state file and preflight).
func NewPlan(cfg Config, values *providers.Values, deps Deps) (*Plan, error) {
	bp := cfg.BucketProvider()
	if f, _ := providers.Lookup(bp.Location()); f.String(&cfg) != "" {
		values.Set(bp.LocationKey(), f.String(&cfg))
	}
	var steps []providers.Step
	owner := map[string]string{}
	ss := setups(&cfg, values, deps)
	for _, p := range cfg.Active() {
		for _, s := range p.Steps(ss[p.Name()]) {
			steps = append(steps, s)
			owner[s.ID()] = p.Title()
		}
	}
	plan, err := newPlan(cfg, values, steps)
	if err != nil {
		return nil, err
	}
	plan.owner = owner
	return plan, nil
}

// Doc is the plan as --output json prints it. Field names are stable.
type Doc struct {
	Version   int       `json:"version"`
	Provider  string    `json:"provider"`
	Warehouse string    `json:"warehouse"`
	Inputs    DocInputs `json:"inputs"`
	Steps     []StepDoc `json:"steps"`
	// Permissions lists every permission granted and why.
	Permissions []Permission `json:"permissions"`
	// Proofs are the checks init runs once the bundle is written.
	Proofs []ProofDoc `json:"proofs"`
	// Warnings are what the providers find likely wrong in the inputs
	// (a region byob does not know, let through).
	Warnings []string `json:"warnings,omitempty"`
	// Where says what bucket goes where, for the text rendering.
	Where  string `json:"-"`
	Config Config `json:"-"`
}

// ProofDoc is a check that proves the setup works.
type ProofDoc struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// DocInputs are the setup inputs of a config's providers that have a
// value, keyed by flag name, in flag order.
type DocInputs struct{ cfg Config }

// MarshalJSON writes the inputs as one object in flag order.
func (in DocInputs) MarshalJSON() ([]byte, error) {
	o := newObject()
	for _, f := range setupFields(&in.cfg) {
		if f.String(&in.cfg) == "" {
			continue
		}
		if err := o.add(f.Flag, f.Get(&in.cfg)); err != nil {
			return nil, err
		}
	}
	return o.MarshalJSON()
}

// setupFields are the fields that describe cfg's setup: every setup's and
// its providers'.
func setupFields(cfg *Config) []providers.Field {
	var out []providers.Field
	for _, f := range providers.Fields {
		if f.Kind != providers.SetupField {
			continue
		}
		if f.Owner == "" || f.Owner == cfg.Provider || f.Owner == cfg.Warehouse {
			out = append(out, f)
		}
	}
	return out
}

// Permission is one granted permission, who holds it, and why.
type Permission struct {
	Permission string `json:"permission"`
	Who        string `json:"who"`
	Why        string `json:"why"`
}

// StepDoc is one step of Doc.
type StepDoc struct {
	ID        string        `json:"id"`
	Title     string        `json:"title"`
	Needs     []string      `json:"needs"`
	Artifacts []ArtifactDoc `json:"artifacts"`
	// Provider is the title of the provider the step is of.
	Provider string `json:"-"`
}

// ArtifactDoc is one artifact. Content is the JSON document itself for
// format "json", and a string for "sql" and "text".
type ArtifactDoc struct {
	Name    string `json:"name"`
	Format  string `json:"format"`
	Content any    `json:"content"`
}

// DocVersion is the version of the plan document format.
const DocVersion = 1

// Doc renders the plan with what its values know now.
func (p *Plan) Doc() Doc {
	bp := p.Config.BucketProvider()
	d := Doc{Version: DocVersion, Provider: p.Config.Provider, Warehouse: p.Config.Warehouse, Inputs: DocInputs{p.Config},
		Where: bp.Describe(&p.Config), Config: p.Config, Warnings: p.Config.Warnings()}
	for _, s := range p.Steps {
		sd := StepDoc{ID: s.ID(), Title: s.Title(), Needs: s.Needs(), Provider: p.owner[s.ID()]}
		if sd.Needs == nil {
			sd.Needs = []string{}
		}
		for _, a := range s.Artifacts(p.Values) {
			ad := ArtifactDoc{Name: a.Name, Format: a.Format, Content: a.Content}
			if a.Format == providers.FormatJSON {
				ad.Content = json.RawMessage(a.Content)
			}
			sd.Artifacts = append(sd.Artifacts, ad)
		}
		d.Steps = append(d.Steps, sd)
	}
	d.Proofs = []ProofDoc{}
	ss := setups(&p.Config, p.Values, Deps{})
	for _, pr := range p.Config.Active() {
		s := ss[pr.Name()]
		s.Bundle = &Bundle{}
		for _, probe := range pr.Probes(s) {
			if probe.Proof {
				d.Proofs = append(d.Proofs, ProofDoc{ID: probe.ID, Title: probe.Title})
			}
		}
	}
	for _, g := range bp.Permissions(&p.Config) {
		for _, perm := range g.Permissions {
			d.Permissions = append(d.Permissions, Permission{Permission: perm, Who: g.Who, Why: templates.Why[perm]})
		}
	}
	return d
}
