package s3bucket

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/bundlefile"
	"github.com/growthloop/byob/templates"
)

// Name selects Amazon S3: --provider s3.
const Name = "s3"

// Provider is Amazon S3 with IAM.
type Provider struct{}

// Name implements providers.Provider.
func (Provider) Name() string { return Name }

// Title implements providers.Provider.
func (Provider) Title() string { return "Amazon S3" }

// Location implements providers.BucketProvider.
func (Provider) Location() string { return "region" }

// LocationKey implements providers.BucketProvider.
func (Provider) LocationKey() providers.Key { return BucketRegion }

// Default implements providers.Provider: nothing is derived.
func (Provider) Default(*providers.Config, providers.Env) {}

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
	if SettingsOf(c).Region != "" {
		check("--region", SettingsOf(c).Region, ValidateRegion(SettingsOf(c).Region, c.AllowUnknownRegion))
	}
	check("--name", c.Name, NamesFor(c.Name).Validate())
	for _, n := range []struct {
		flag, name string
		max        int
	}{{"--policy-name", SettingsOf(c).PolicyName, MaxPolicyName}, {"--role-name", SettingsOf(c).RoleName, MaxRoleName}, {"--user-name", SettingsOf(c).UserName, MaxUserName}} {
		if n.name != "" {
			check(n.flag, n.name, ValidateIAMName(n.name, n.max))
		}
	}
	return bad
}

// Warnings implements providers.Warner: a region the SDK does not know,
// let through by --allow-unknown-region.
func (Provider) Warnings(c *providers.Config) []string {
	if SettingsOf(c).Region == "" || ValidateRegion(SettingsOf(c).Region, true) != nil || knownRegion(SettingsOf(c).Region) {
		return nil
	}
	return []string{fmt.Sprintf("--region %s is not a region byob's AWS SDK knows%s; going ahead, as %s asks", SettingsOf(c).Region, providers.DidYouMean(SettingsOf(c).Region, regionNames()), providers.AllowUnknownRegionFlag)}
}

// conn is a connection to AWS for one run.
type conn struct {
	c        *Clients
	timeout  time.Duration // of the preflight
	reaching string
	verbose  bool // errors carry the SDK's own (--verbose)
}

// Reaching implements providers.Reacher.
func (cn *conn) Reaching() string { return cmp.Or(cn.reaching, "AWS") }

// NewConn is a connection through clients (tests reach emulators so).
func NewConn(c *Clients) providers.Conn { return &conn{c: c} }

func (*conn) Close() {}

// ClientsOf returns the SDK clients of a connection Connect made; nil for
// another provider's.
func ClientsOf(c providers.Conn) *Clients {
	if c, ok := c.(*conn); ok {
		return c.c
	}
	return nil
}

// clients are the SDK clients of a setup's connection, nil in a dry run.
func clients(s providers.Setup) *Clients { return ClientsOf(s.Conn) }

// Connect implements providers.Provider. The S3 calls name the bucket's
// region themselves: it may only be known after preflight.
func (Provider) Connect(ctx context.Context, c *providers.Config, env providers.Env) (providers.Conn, error) {
	cl, err := Connect(ctx, SettingsOf(c).Profile, SettingsOf(c).Region, config.WithLogger(sdkLogger(env.Log)))
	if err != nil {
		return nil, err
	}
	reaching := "AWS"
	if SettingsOf(c).Profile != "" {
		reaching += " (profile " + SettingsOf(c).Profile + ")"
	}
	return &conn{c: cl, timeout: cmp.Or(env.ConnectTimeout, providers.DefaultConnectTimeout), reaching: reaching, verbose: env.Log != nil}, nil
}

// Preflight asks STS who the caller is, records the account id, and
// refuses a state file of another account.
func (cn *conn) Preflight(ctx context.Context, s providers.Setup, _ providers.Access) (providers.Identity, error) {
	c := s.Config
	recorded := s.Values.Get(AccountID)
	var caller Caller
	err := providers.Bounded(ctx, cn.timeout, "AWS", func(ctx context.Context) (err error) {
		caller, err = Preflight(ctx, cn.c, s.Values)
		return err
	})
	if ce := (*CallerError)(nil); errors.As(err, &ce) {
		ce.Verbose = cn.verbose
	}
	if err != nil {
		return providers.Identity{}, err
	}
	if recorded != "" && recorded != caller.AccountID {
		s.Values.Set(AccountID, recorded)
		return providers.Identity{}, providers.Usagef("%s records a setup in AWS account %s, but the credentials reach account %s (%s): use credentials of account %s (--profile or AWS_PROFILE), or pass another --state",
			c.State, recorded, caller.AccountID, caller.ARN, recorded)
	}
	return providers.Identity{
		Summary: fmt.Sprintf("AWS: %s (account %s)", caller.ARN, caller.AccountID),
		Fields:  map[string]string{"aws_caller": caller.ARN, "aws_account": caller.AccountID},
	}, nil
}

// params are the inputs of the steps and probes.
func params(s providers.Setup) Params {
	c := s.Config
	return Params{
		Partition: partitionOf(c), Bucket: c.Bucket, Prefix: c.Prefix, TTLDays: c.TTLDays, Names: NamesOf(c),
		Warehouse: s.WarehouseStep != "", Keys: s.Keys, Propagation: s.Propagation, Destroy: s.Destroy, Adopt: s.Adopt, Prune: s.Prune,
	}
}

// Steps implements providers.Provider.
func (Provider) Steps(s providers.Setup) []providers.Step {
	return Steps(params(s), clients(s), s.WarehouseStep)
}

// Probes implements providers.Provider: the bundle's key writes, reads and
// lists under the prefix and nothing outside it; key hygiene.
func (Provider) Probes(s providers.Setup) []providers.Probe {
	checks := Probes(params(s), clients(s), s.Values, s.Bundle.AWSAccessKeyID, s.Bundle.AWSSecretAccessKey, s.Now, s.ReRun)
	out := make([]providers.Probe, len(checks))
	for i, c := range checks {
		out[i] = providers.Probe{Check: c, Needs: []string{StepBucket, StepUser}, KeyProof: c.ID == CheckKeyWorks}
		switch c.ID {
		case CheckKeyConfined:
			out[i].Needs = append(out[i].Needs, CheckKeyWorks) // a key that does not work proves nothing
		case CheckKeyHygiene:
			out[i].Needs = []string{StepUser} // the user's keys, wherever the bucket is
		}
	}
	// Who else can reach the bucket: known region and account, the checks
	// start beside the preflight. The account's public access block is
	// the account's, with or without the bucket.
	for _, c := range exposureProbes(params(s), clients(s), s.Values) {
		if s.Values.Get(BucketRegion) != "" && s.Values.Get(AccountID) != "" {
			c = c.Early()
		}
		needs := []string{StepBucket}
		if c.ID == CheckAccountPublicAccess {
			needs = nil
		}
		out = append(out, providers.Probe{Check: c, Needs: needs})
	}
	return out
}

// Bundle implements providers.Provider: the region, and the access key
// with its secret. It is complete once the secret is held.
func (Provider) Bundle(s providers.Setup, b *bundlefile.Bundle) bool {
	id := s.Values.Get(AccessKeyID)
	secret := s.Keys.Secret(id)
	b.Region, b.AWSAccessKeyID, b.AWSSecretAccessKey = s.Values.Get(BucketRegion), id, string(secret)
	return secret != nil
}

// Storage implements providers.BucketProvider: Snowflake assumes the role
// whose ARN is known before the role exists; S3 is named as the bucket's
// partition has it.
func (Provider) Storage(c *providers.Config) providers.Storage {
	p := Params{Partition: partitionOf(c), Names: NamesOf(c)}
	return providers.Storage{Cloud: "aws", Service: p.Partition.StorageProvider, Scheme: p.Partition.Scheme, Tag: "AWS", Role: p.RoleARN,
		RoleReads: []providers.Key{AccountID}, TrustStep: StepRolePolicy}
}

// Keys implements providers.BucketProvider.
func (Provider) Keys(c *providers.Config) providers.KeyStore { return keyStore{bundle: c.Bundle} }

// KeyID implements providers.BucketProvider.
func (Provider) KeyID(v *providers.Values) string { return v.Get(AccessKeyID) }

// BundledKey implements providers.BucketProvider.
func (Provider) BundledKey(b *bundlefile.Bundle) string { return b.AWSAccessKeyID }

// Describe implements providers.BucketProvider.
func (Provider) Describe(c *providers.Config) string {
	region := SettingsOf(c).Region
	if region == "" {
		region = "the " + warehouseTitle(c) + " account's region"
	} else if p := partitionOf(c); p != Commercial {
		region += " (" + p.Title + ")"
	}
	return fmt.Sprintf("S3 bucket %s in %s", c.Bucket, region)
}

func warehouseTitle(c *providers.Config) string {
	if w := c.WarehouseProvider(); w != nil {
		return w.Title()
	}
	return "warehouse"
}

// Permissions implements providers.BucketProvider: GrowthLoop's user and
// Snowflake's role each get their own policy.
func (Provider) Permissions(c *providers.Config) []providers.Grantee {
	n, bucket := NamesOf(c), templates.Bucket{Partition: partitionOf(c).ID, Name: c.Bucket}
	out := []providers.Grantee{{Who: "GrowthLoop's IAM user " + n.User + " (policy " + n.Policy + ")", Permissions: actions(templates.S3Access(bucket, c.Prefix))}}
	if c.WarehouseProvider() != nil {
		out = append(out,
			providers.Grantee{Who: "Snowflake, through role " + n.Role + " (policy " + n.SnowflakePolicy + ")", Permissions: actions(templates.S3SnowflakeAccess(bucket, c.Prefix))},
			providers.Grantee{Who: "Snowflake's IAM user, in the role's trust policy", Permissions: []string{"sts:AssumeRole"}})
	}
	return out
}

func actions(p templates.Policy) []string {
	var out []string
	for _, st := range p.Statement {
		out = append(out, st.Action...)
	}
	return out
}

// Choices implements providers.Asker: the profiles of ~/.aws/config, the
// regions.
func (Provider) Choices(flag string, _ *providers.Config, env providers.Env) ([]providers.Choice, error) {
	switch flag {
	case "profile":
		profiles, err := Profiles(env.LookupEnv)
		if err != nil || len(profiles) == 0 {
			return nil, err
		}
		out := []providers.Choice{{Label: "Default credentials (environment, AWS_PROFILE, SSO, instance role)"}}
		for _, p := range profiles {
			out = append(out, providers.Choice{Label: p, Value: p})
		}
		return out, nil
	case "region":
		out := make([]providers.Choice, len(sdkRegions))
		for i, r := range sdkRegions {
			out[i] = providers.Choice{Label: r.Name + "  " + r.Description, Value: r.Name}
		}
		return out, nil
	}
	return nil, nil
}

// Suggest implements providers.Asker.
func (Provider) Suggest(string, *providers.Config, providers.Env) string { return "" }

// FromBundle implements providers.BundleReader.
func (Provider) FromBundle(c *providers.Config, b *bundlefile.Bundle, _ string) {
	providers.UpdateSection(c, func(s *Settings) { s.Region = b.Region })
}
