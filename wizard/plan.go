package wizard

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/growthloop/byob/graph"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/aws"
	"github.com/growthloop/byob/providers/gcp"
	"github.com/growthloop/byob/snowflake"
	"github.com/growthloop/byob/templates"
)

// Deps are the connections a run uses (all nil in a dry run), and what
// its steps need besides.
type Deps struct {
	AWS       *aws.Clients
	GCP       *gcp.Clients
	Snowflake snowflake.DB
	// Keys holds GrowthLoop's key secrets; the setup's own files when nil.
	Keys providers.KeyStore
	// Random is the source of new external IDs; crypto/rand when nil.
	Random io.Reader
	// ResetExternalID gives an existing integration a new external ID.
	ResetExternalID bool
	Propagation     providers.Propagation
}

// Plan is the steps of a setup and the values they share.
type Plan struct {
	Config Config
	// Steps are in display order: each after the steps it needs.
	Steps  []providers.Step
	Values *providers.Values
	graph  *graph.Graph[providers.Step]
}

// newPlan checks the steps' graph and orders them.
func newPlan(cfg Config, values *providers.Values, steps []providers.Step) (*Plan, error) {
	g, err := graph.New(steps)
	if err != nil {
		return nil, fmt.Errorf("the plan's steps: %w", err)
	}
	return &Plan{Config: cfg, Steps: g.Nodes(), Values: values, graph: g}, nil
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

// NewPlan builds the plan for a validated config. values carries what is
// already known (from the state file and preflight); cfg's region is
// recorded into it.
func NewPlan(cfg Config, values *providers.Values, deps Deps) (*Plan, error) {
	if deps.Keys == nil {
		deps.Keys = cfg.keyStore()
	}
	sfParams := cfg.snowflakeParams()
	sfParams.ResetExternalID = deps.ResetExternalID
	sfParams.NewExternalID = func() (string, error) { return NewExternalID(deps.Random) }
	var steps []providers.Step
	switch cfg.Provider {
	case ProviderS3:
		if cfg.Region != "" {
			values.Set(providers.AWSRegion, cfg.Region)
		}
		ap := cfg.awsParams(deps)
		names := ap.Names
		steps = aws.Steps(ap, deps.AWS, snowflake.StepIntegration)
		if cfg.Snowflake() {
			steps = append(steps, snowflake.Steps(sfParams, func(v *providers.Values) snowflake.Integration {
				in := sfParams.Integration
				in.RoleARN = aws.RoleARN(v, names)
				in.ExternalID = v.Ref(providers.ExternalID)
				return in
			}, deps.Snowflake)...)
		}
	case ProviderGCS:
		steps = gcp.Steps(cfg.gcpParams(deps), deps.GCP, snowflake.StepIntegration)
		if cfg.Snowflake() {
			steps = append(steps, snowflake.Steps(sfParams, func(*providers.Values) snowflake.Integration {
				return sfParams.Integration
			}, deps.Snowflake)...)
		}
	}
	return newPlan(cfg, values, steps)
}

// awsParams are the inputs of the AWS steps and probes.
func (c *Config) awsParams(deps Deps) aws.Params {
	return aws.Params{
		Bucket: c.Bucket, Prefix: c.Prefix, TTLDays: c.TTLDays, Names: aws.NamesFor(c.Name),
		Snowflake: c.Snowflake(), Keys: deps.Keys, Propagation: deps.Propagation,
	}
}

// gcpParams are the inputs of the Google Cloud steps and probes.
func (c *Config) gcpParams(deps Deps) gcp.Params {
	return gcp.Params{
		Project: c.GCPProject, Bucket: c.Bucket, Location: c.Location, Prefix: c.Prefix,
		TTLDays: c.TTLDays, Names: gcp.NamesFor(c.Name), KeyFile: c.KeyFile, Snowflake: c.Snowflake(),
		Keys: deps.Keys, Propagation: deps.Propagation,
	}
}

// snowflakeParams builds the Snowflake inputs; identifiers were validated.
func (c *Config) snowflakeParams() snowflake.Params {
	id := func(s string) snowflake.Ident {
		i, _ := snowflake.NewIdent(s)
		return i
	}
	provider, scheme := snowflake.ProviderS3, "s3://"
	if c.Provider == ProviderGCS {
		provider, scheme = snowflake.ProviderGCS, "gcs://"
	}
	integration := id(c.Integration)
	return snowflake.Params{
		Integration: snowflake.Integration{
			Name: integration, Provider: provider,
			AllowedLocations: []string{scheme + c.Bucket + "/" + c.Prefix},
		},
		Stage: snowflake.Stage{
			Name:        snowflake.Name{Database: id(c.SnowflakeDatabase), Schema: id(c.SnowflakeSchema), Object: id(c.Stage)},
			URL:         scheme + c.Bucket + "/" + c.Prefix + c.OrgID + "/",
			Integration: integration,
		},
		Role: id(c.GrowthLoopRole),
	}
}

// Doc is the plan as --output json prints it. Field names are stable.
type Doc struct {
	Version   int       `json:"version"`
	Provider  string    `json:"provider"`
	Warehouse string    `json:"warehouse"`
	Inputs    Config    `json:"inputs"`
	Steps     []StepDoc `json:"steps"`
	// Permissions lists every permission granted and why.
	Permissions []Permission `json:"permissions"`
}

// Permission is one granted permission and the reason for it.
type Permission struct {
	Permission string `json:"permission"`
	Why        string `json:"why"`
}

// StepDoc is one step of Doc.
type StepDoc struct {
	ID        string        `json:"id"`
	Title     string        `json:"title"`
	Needs     []string      `json:"needs"`
	Artifacts []ArtifactDoc `json:"artifacts"`
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
	d := Doc{Version: DocVersion, Provider: p.Config.Provider, Warehouse: p.Config.Warehouse, Inputs: p.Config}
	for _, s := range p.Steps {
		sd := StepDoc{ID: s.ID(), Title: s.Title(), Needs: s.Needs()}
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
	for _, perm := range p.permissions() {
		d.Permissions = append(d.Permissions, Permission{perm, templates.Why[perm]})
	}
	return d
}

// permissions are what the setup grants, in the order of its documents.
func (p *Plan) permissions() []string {
	var out []string
	switch p.Config.Provider {
	case ProviderS3:
		for _, st := range templates.S3Access(p.Config.Bucket, p.Config.Prefix).Statement {
			out = append(out, st.Action...)
		}
		if p.Config.Snowflake() {
			out = append(out, "sts:AssumeRole")
		}
	case ProviderGCS:
		out = append(out, templates.GCSWriterPermissions...)
		if p.Config.Snowflake() {
			for _, perm := range templates.GCSSnowflakePermissions {
				if !slices.Contains(out, perm) {
					out = append(out, perm)
				}
			}
		}
	}
	return out
}
