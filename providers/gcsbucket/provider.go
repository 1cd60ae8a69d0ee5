package gcsbucket

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/bundlefile"
	"github.com/growthloop/byob/templates"
)

// Name selects Google Cloud Storage: --provider gcs.
const Name = "gcs"

// DefaultKeyFile is where the service account key is written.
const DefaultKeyFile = "credentials.json"

// Provider is Google Cloud Storage with IAM.
type Provider struct{}

// Name implements providers.Provider.
func (Provider) Name() string { return Name }

// Title implements providers.Provider.
func (Provider) Title() string { return "Google Cloud Storage" }

// Location implements providers.BucketProvider.
func (Provider) Location() string { return "location" }

// LocationKey implements providers.BucketProvider.
func (Provider) LocationKey() providers.Key { return GCSLocation }

// Default implements providers.Provider: the key file, and the project
// gcloud would use (CLOUDSDK_CORE_PROJECT, else the Application Default
// Credentials' project, which a dry run does not look for).
func (Provider) Default(c *providers.Config, env providers.Env) {
	if c.Provider != Name {
		return
	}
	providers.UpdateSection(c, func(s *Settings) {
		s.KeyFile = cmp.Or(s.KeyFile, DefaultKeyFile)
		if s.Project == "" && env.LookupEnv != nil {
			s.Project = DefaultProject(context.Background(), env.LookupEnv, !env.DryRun)
		}
	})
}

// Validate implements providers.Provider.
func (Provider) Validate(c *providers.Config) []providers.InvalidValue {
	var bad []providers.InvalidValue
	check := func(flag, value string, err error) {
		if err != nil {
			bad = append(bad, providers.Invalid(flag, value, err))
		}
	}
	if c.Bucket != "" {
		check("--bucket", c.Bucket, ValidateBucketName(c.Bucket))
	}
	if SettingsOf(c).Project != "" {
		check("--gcp-project", SettingsOf(c).Project, ValidateProjectID(SettingsOf(c).Project))
	}
	if SettingsOf(c).Location != "" {
		check("--location", SettingsOf(c).Location, ValidateLocation(SettingsOf(c).Location, c.AllowUnknownRegion))
	}
	check("--name", c.Name, NamesFor(c.Name).Validate())
	if SettingsOf(c).ServiceAccount != "" {
		check("--service-account", SettingsOf(c).ServiceAccount, ValidateServiceAccountID(SettingsOf(c).ServiceAccount))
	}
	if SettingsOf(c).WriterRole != "" {
		check("--writer-role", SettingsOf(c).WriterRole, ValidateCustomRoleID(SettingsOf(c).WriterRole))
	}
	if SettingsOf(c).SnowflakeRole != "" {
		check("--snowflake-role-gcp", SettingsOf(c).SnowflakeRole, ValidateCustomRoleID(SettingsOf(c).SnowflakeRole))
	}
	if SettingsOf(c).KeyFile != "" && (SettingsOf(c).KeyFile == c.Bundle || SettingsOf(c).KeyFile == c.State) {
		check("--key-file", SettingsOf(c).KeyFile, fmt.Errorf("must differ from --bundle and --state"))
	}
	return bad
}

// conn is a connection to Google Cloud for one run.
type conn struct {
	c       *Clients
	timeout time.Duration // of the preflight
}

// Reaching implements providers.Reacher.
func (*conn) Reaching() string { return "Google Cloud" }

// NewConn is a connection through clients (tests reach the fake so).
func NewConn(c *Clients) providers.Conn { return &conn{c: c} }

func (*conn) Close() {}

func clients(s providers.Setup) *Clients {
	if c, ok := s.Conn.(*conn); ok {
		return c.c
	}
	return nil
}

// Connect implements providers.Provider.
func (Provider) Connect(ctx context.Context, _ *providers.Config, env providers.Env) (providers.Conn, error) {
	c, _, err := Connect(ctx, env.LookupEnv)
	if err != nil {
		return nil, err
	}
	return &conn{c: c, timeout: cmp.Or(env.ConnectTimeout, providers.DefaultConnectTimeout)}, nil
}

// CheckEnv implements providers.EnvChecker: GOOGLE_APPLICATION_CREDENTIALS,
// when set, names a credentials file, which Google's libraries read
// before any other source of credentials
// (https://cloud.google.com/docs/authentication/application-default-credentials).
// Their own error would only say that no credentials were found.
func (Provider) CheckEnv(env providers.Env) []providers.InvalidValue {
	path := env.Get("GOOGLE_APPLICATION_CREDENTIALS")
	if path == "" {
		return nil
	}
	rule := ""
	switch fi, err := os.Stat(path); {
	case errors.Is(err, fs.ErrNotExist):
		rule = "the environment variable names a file that does not exist"
	case err == nil && fi.IsDir():
		rule = "the environment variable names a directory, not a credentials file"
	default:
		return nil
	}
	return []providers.InvalidValue{{Flag: "GOOGLE_APPLICATION_CREDENTIALS", Value: path,
		Rule: rule + ": point it at a credentials file, or unset it to use gcloud's (gcloud auth application-default login)"}}
}

// Preflight checks the project exists and the caller may do what the run
// needs in it, and records the bucket's location.
func (cn *conn) Preflight(ctx context.Context, s providers.Setup, access providers.Access) (providers.Identity, error) {
	c := s.Config
	switch recorded := s.Values.Get(Project); {
	case recorded == "":
		s.Values.Set(Project, SettingsOf(c).Project)
	case recorded != SettingsOf(c).Project:
		return providers.Identity{}, providers.Usagef("%s records a setup in Google Cloud project %s, but this run uses project %s: pass --gcp-project %s, or another --state",
			c.State, recorded, SettingsOf(c).Project, recorded)
	}
	need := Operator
	switch access {
	case providers.ReadAccess:
		need = Viewer
	case providers.RotateAccess:
		need = KeyRotator
	case providers.RemoveAccess:
		need = Remover(s.Destroy.DeleteBucket)
	}
	if err := providers.Bounded(ctx, cn.timeout, "Google Cloud", func(ctx context.Context) error { return Preflight(ctx, cn.c, SettingsOf(c).Project, need) }); err != nil {
		return providers.Identity{}, err
	}
	return providers.Identity{
		Summary: "Google Cloud: project " + SettingsOf(c).Project,
		Fields:  map[string]string{"gcp_project": SettingsOf(c).Project},
	}, nil
}

func params(s providers.Setup) Params {
	c := s.Config
	return Params{
		Project: SettingsOf(c).Project, Bucket: c.Bucket, Location: SettingsOf(c).Location, Prefix: c.Prefix, TTLDays: c.TTLDays,
		Names: NamesOf(c), KeyFile: SettingsOf(c).KeyFile, Warehouse: s.WarehouseStep != "", Keys: s.Keys, Propagation: s.Propagation,
		Destroy: s.Destroy, Prune: s.Prune, Adopt: s.Adopt,
	}
}

// Steps implements providers.Provider.
func (Provider) Steps(s providers.Setup) []providers.Step {
	return Steps(params(s), clients(s), s.WarehouseStep)
}

// Probes implements providers.Provider: the key file's key writes, reads
// and lists under the prefix; the service account holds nothing on the
// project.
func (Provider) Probes(s providers.Setup) []providers.Probe {
	var out []providers.Probe
	for _, c := range Probes(params(s), clients(s), s.ReRun, s.Now, s.Values.Get(providers.RotationOldKey) != "", s.Values.Get(providers.GrowthLoopsKey)) {
		needs := []string{StepServiceAccount} // its grants and keys, wherever the bucket is
		if c.ID == CheckKeyWorks {
			needs = []string{StepBucket, StepServiceAccount, StepWriterBinding} // without them the key is refused
		}
		out = append(out, providers.Probe{Check: c, Needs: needs, KeyProof: c.ID == CheckKeyWorks})
	}
	// Who else can reach the bucket; the other readers are told apart from
	// Snowflake's service account, which DESC INTEGRATION names.
	for _, c := range exposureProbes(params(s), clients(s), s.Values) {
		needs := []string{StepBucket}
		if c.ID == CheckOtherReaders && s.WarehouseStep != "" {
			needs = append(needs, s.WarehouseStep)
		}
		if c.ID == CheckNoPublicAccess || s.WarehouseStep == "" || s.Values.Get(providers.WarehouseServiceAccount) != "" {
			c = c.Early()
		}
		out = append(out, providers.Probe{Check: c, Needs: needs})
	}
	return out
}

// Bundle implements providers.Provider: the bundle names the key file
// instead of holding the key. It is complete once there is a key.
func (Provider) Bundle(s providers.Setup, b *bundlefile.Bundle) bool {
	c := s.Config
	b.Location, b.GCPProject, b.GCPKeyFile = s.Values.Get(GCSLocation), SettingsOf(c).Project, SettingsOf(c).KeyFile
	b.GCPServiceAccount = params(s).ServiceAccountEmail()
	b.GCPKeyID = s.Values.Get(KeyID)
	return b.GCPKeyID != ""
}

// Storage implements providers.BucketProvider: Snowflake reaches the
// bucket as its own service account.
func (Provider) Storage(*providers.Config) providers.Storage {
	return providers.Storage{Cloud: "gcp", Service: "GCS", Scheme: "gcs://", Tag: "GCS", TrustStep: StepSnowflakeBinding}
}

// Keys implements providers.BucketProvider.
func (Provider) Keys(c *providers.Config) providers.KeyStore {
	return keyFileStore{path: SettingsOf(c).KeyFile, bundle: c.Bundle, account: Params{Project: SettingsOf(c).Project, Names: NamesOf(c)}.ServiceAccountEmail()}
}

// KeyID implements providers.BucketProvider.
func (Provider) KeyID(v *providers.Values) string { return v.Get(KeyID) }

// BundledKey implements providers.BucketProvider.
func (Provider) BundledKey(b *bundlefile.Bundle) string { return b.GCPKeyID }

// Describe implements providers.BucketProvider.
func (Provider) Describe(c *providers.Config) string {
	location := SettingsOf(c).Location
	if location == "" {
		location = "the warehouse's region"
		if w := c.WarehouseProvider(); w != nil {
			location = "the " + w.Title() + " account's region"
		}
	}
	return fmt.Sprintf("GCS bucket %s in %s (project %s)", c.Bucket, location, SettingsOf(c).Project)
}

// Permissions implements providers.BucketProvider: each service account
// holds its own custom role, on the bucket only.
func (Provider) Permissions(c *providers.Config) []providers.Grantee {
	p := Params{Project: SettingsOf(c).Project, Names: NamesOf(c)}
	out := []providers.Grantee{{Who: "GrowthLoop's service account " + p.ServiceAccountEmail() + " (role " + p.Names.WriterRole + ", on the bucket)",
		Permissions: templates.GCSWriterPermissions}}
	if c.WarehouseProvider() != nil {
		out = append(out, providers.Grantee{Who: "Snowflake's service account (role " + p.Names.SnowflakeRole + ", on the bucket)",
			Permissions: templates.GCSSnowflakePermissions})
	}
	return out
}

// CheckTargets refuses, before any change, to overwrite a key file that is
// not a key of this setup's service account.
func (p Provider) CheckTargets(c *providers.Config) error {
	if exists(SettingsOf(c).KeyFile) && p.Keys(c).Delivered() == "" {
		return providers.Usagef("key file %s already exists and is not a key of this setup's service account: pass --force to overwrite it, or another --key-file", SettingsOf(c).KeyFile)
	}
	return nil
}

// Warnings implements providers.Warner: a location Google does not
// document, let through by --allow-unknown-region.
func (Provider) Warnings(c *providers.Config) []string {
	if SettingsOf(c).Location == "" || ValidateLocation(SettingsOf(c).Location, true) != nil || knownLocation(SettingsOf(c).Location) {
		return nil
	}
	return []string{fmt.Sprintf("--location %s is not a Cloud Storage location Google documents%s; going ahead, as %s asks", SettingsOf(c).Location, providers.DidYouMean(SettingsOf(c).Location, Locations), providers.AllowUnknownRegionFlag)}
}

// Choices implements providers.Asker: the locations.
func (Provider) Choices(flag string, _ *providers.Config, _ providers.Env) ([]providers.Choice, error) {
	if flag != "location" {
		return nil, nil
	}
	out := make([]providers.Choice, len(Locations))
	for i, l := range Locations {
		out[i] = providers.Choice{Label: l, Value: l}
	}
	return out, nil
}

// Suggest implements providers.Asker: the project gcloud would use.
func (Provider) Suggest(flag string, _ *providers.Config, env providers.Env) string {
	if flag != "gcp-project" || env.LookupEnv == nil {
		return ""
	}
	return DefaultProject(context.Background(), env.LookupEnv, !env.DryRun)
}

// FromBundle implements providers.BundleReader.
func (Provider) FromBundle(c *providers.Config, b *bundlefile.Bundle, keyFile string) {
	providers.UpdateSection(c, func(s *Settings) { s.Project, s.Location, s.KeyFile = b.GCPProject, b.Location, keyFile })
}
