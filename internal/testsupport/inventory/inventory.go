// Package inventory is test support: it lists everything byob manages for
// a setup, as the clouds (the emulators and fakes) report it, with the
// names and random values that differ between two runs of the same setup
// replaced by placeholders. Two runs that end in the same setup have the
// same inventory, whatever happened on the way (a kill, lost answers).
// Its last lines are the invariants every finished setup keeps: exactly
// one key, the bundle's; one external ID everywhere; a valid state file;
// a complete 0600 bundle and no pending secret.
package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/gcsbucket/gcptest"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/snowflakestage"
	"github.com/growthloop/byob/snowflake/snowflaketest"
	"github.com/growthloop/byob/wizard"
)

type list struct {
	lines []string
	err   error
}

func (l *list) add(key string, value any) {
	var s string
	switch v := value.(type) {
	case string:
		s = v
	default:
		b, err := json.Marshal(v)
		if err != nil && l.err == nil {
			l.err = err
		}
		s = string(b)
	}
	l.lines = append(l.lines, key+" = "+s)
}

func (l *list) fail(what string, err error) {
	if err != nil && l.err == nil {
		l.err = fmt.Errorf("%s: %w", what, err)
	}
}

// compact re-encodes a JSON document without spaces, keys sorted.
func compact(doc string) string {
	var v any
	if json.Unmarshal([]byte(doc), &v) != nil {
		return doc
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (l *list) text(cfg wizard.Config, placeholders map[string]string) string {
	out := strings.Join(l.lines, "\n")
	for value, ph := range placeholders {
		if value != "" {
			out = strings.ReplaceAll(out, value, ph)
		}
	}
	out = strings.ReplaceAll(out, cfg.Bucket, "<bucket>")
	out = strings.ReplaceAll(out, strings.ReplaceAll(cfg.Name, "-", "_")+"_byob", "<name>_byob") // GCP role ids
	return strings.ReplaceAll(out, cfg.Name+"-byob", "<name>-byob")
}

// S3 lists an S3 setup (with Snowflake when cfg has it), through the admin
// clients c and the fakes.
func S3(ctx context.Context, c *s3bucket.Clients, sf *snowflaketest.Server, cfg wizard.Config) (string, error) {
	l := &list{}
	bucket := aws.String(cfg.Bucket)
	inRegion := func(o *s3.Options) { o.Region = s3bucket.SettingsOf(&cfg).Region }
	loc, err := c.S3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: bucket}, inRegion)
	l.fail("bucket location", err)
	if loc != nil {
		l.add("bucket.location", string(loc.LocationConstraint))
	}
	pab, err := c.S3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: bucket}, inRegion)
	l.fail("public access block", err)
	if pab != nil {
		l.add("bucket.public_access_block", pab.PublicAccessBlockConfiguration)
	}
	enc, err := c.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: bucket}, inRegion)
	l.fail("encryption", err)
	if enc != nil {
		l.add("bucket.encryption", enc.ServerSideEncryptionConfiguration.Rules)
	}
	pol, err := c.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket}, inRegion)
	l.fail("bucket policy", err)
	if pol != nil {
		l.add("bucket.policy", compact(aws.ToString(pol.Policy)))
	}
	lc, err := c.S3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: bucket}, inRegion)
	l.fail("lifecycle", err)
	if lc != nil {
		l.add("bucket.lifecycle", lc.Rules)
	}

	names := s3bucket.NamesOf(&cfg)
	policies := []string{names.Policy}
	if cfg.WarehouseProvider() != nil {
		policies = append(policies, names.SnowflakePolicy)
	}
	for _, name := range policies {
		policyARN := "arn:aws:iam::123456789012:policy/" + name
		vers, err := c.IAM.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(policyARN)})
		l.fail("policy versions", err)
		if vers == nil {
			continue
		}
		l.add("iam.policy."+name+".versions", len(vers.Versions))
		for _, v := range vers.Versions {
			if v.IsDefaultVersion {
				pv, err := c.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(policyARN), VersionId: v.VersionId})
				l.fail("policy version", err)
				if pv != nil {
					doc, _ := url.QueryUnescape(aws.ToString(pv.PolicyVersion.Document))
					l.add("iam.policy."+name+".document", compact(doc))
				}
			}
		}
	}
	var trust string
	if cfg.WarehouseProvider() != nil {
		role, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(names.Role)})
		l.fail("role", err)
		if role != nil {
			trust, _ = url.QueryUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument))
			l.add("iam.role.trust", compact(trust))
		}
		ra, err := c.IAM.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(names.Role)})
		l.fail("role policies", err)
		if ra != nil {
			l.add("iam.role.policies", ra.AttachedPolicies)
		}
	}
	ua, err := c.IAM.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(names.User)})
	l.fail("user policies", err)
	if ua != nil {
		l.add("iam.user.policies", ua.AttachedPolicies)
	}
	keys, err := c.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(names.User)})
	l.fail("keys", err)
	var keyIDs []string
	if keys != nil {
		for _, k := range keys.AccessKeyMetadata {
			keyIDs = append(keyIDs, aws.ToString(k.AccessKeyId)+" "+string(k.Status))
		}
	}

	bundle, berr := wizard.ReadBundle(cfg.Bundle)
	placeholders := map[string]string{}
	var bundleKey, bundleExt string
	if bundle != nil {
		bundleKey, placeholders[bundle.AWSAccessKeyID] = bundle.AWSAccessKeyID, "<key>"
		if bundle.Snowflake != nil {
			bundleExt = bundle.Snowflake.ExternalID
		}
	}
	l.add("iam.user.keys", keyIDs)
	extIDs := map[string]bool{}
	if cfg.WarehouseProvider() != nil {
		in := sf.Integration(snowflakestage.SettingsOf(&cfg).Integration)
		if in != nil {
			extIDs[in.ExternalID] = true
			placeholders[in.ExternalID] = "<external-id>"
			in.ExternalID = ""
		}
		l.add("snowflake.integration", in)
		snowflakeObjects(l, sf, cfg)
		var t struct {
			Statement []struct {
				Condition map[string]map[string]string
			}
		}
		_ = json.Unmarshal([]byte(trust), &t)
		for _, st := range t.Statement {
			extIDs[st.Condition["StringEquals"]["sts:ExternalId"]] = true
		}
		extIDs[bundleExt] = true
	}
	state, serr := wizard.LoadState(cfg.State)
	if serr == nil && (cfg.WarehouseProvider() != nil) {
		extIDs[state.Values[providers.ExternalID.Name]] = true
	}
	l.add("invariant: one key, the bundle's", len(keyIDs) == 1 && bundleKey != "" && keyIDs[0] == bundleKey+" Active")
	l.add("invariant: one external ID in integration, trust, state and bundle", len(extIDs) <= 1)
	files(l, cfg, state, serr, bundle, berr)
	return l.text(cfg, placeholders), l.err
}

func snowflakeObjects(l *list, sf *snowflaketest.Server, cfg wizard.Config) {
	stage := sf.Stage(snowflakestage.SettingsOf(&cfg).Database + "." + snowflakestage.SettingsOf(&cfg).Schema + "." + snowflakestage.SettingsOf(&cfg).Stage)
	l.add("snowflake.stage", stage)
	l.add("snowflake.grants", sf.Grants(snowflakestage.SettingsOf(&cfg).GrowthLoopRole))
}

// files adds the invariants of the state file and the bundle.
func files(l *list, cfg wizard.Config, state *wizard.State, serr error, bundle *wizard.Bundle, berr error) {
	l.add("invariant: state file valid, with the inputs", serr == nil && state.Inputs != nil && state.Inputs.Config("").Bucket == cfg.Bucket)
	fi, err := os.Stat(cfg.Bundle)
	complete := berr == nil && bundle != nil && err == nil && fi.Mode().Perm() == 0o600 && bundle.Bucket == cfg.Bucket &&
		(cfg.Provider == s3bucket.Name && bundle.AWSAccessKeyID != "" && bundle.AWSSecretAccessKey != "" ||
			cfg.Provider == gcsbucket.Name && bundle.GCPKeyID != "") &&
		(!(cfg.WarehouseProvider() != nil) || bundle.Snowflake != nil && bundle.Snowflake.Stage != "")
	l.add("invariant: bundle complete, mode 0600", complete)
	l.add("invariant: no pending secret left", cfg.BucketProvider().Keys(&cfg).PendingFile() == "")
}

// GCS lists a GCS setup (with Snowflake when cfg has it) in the fakes.
func GCS(g *gcptest.Server, sf *snowflaketest.Server, cfg wizard.Config) (string, error) {
	l := &list{}
	b := g.Bucket(cfg.Bucket)
	if b == nil {
		l.fail("bucket", fmt.Errorf("%s does not exist", cfg.Bucket))
		return "", l.err
	}
	l.add("bucket.location", b.Location)
	l.add("bucket.iam_configuration", compact(string(b.IAMConfiguration)))
	l.add("bucket.lifecycle", compact(string(b.Lifecycle)))
	bindings := g.Bindings(cfg.Bucket)
	for i := range bindings {
		bindings[i].Members = slices.Sorted(slices.Values(bindings[i].Members))
	}
	slices.SortFunc(bindings, func(a, b gcptest.Binding) int { return strings.Compare(a.Role, b.Role) })
	l.add("bucket.bindings", bindings)
	names := gcsbucket.NamesOf(&cfg)
	for _, id := range []string{names.WriterRole, names.SnowflakeRole} {
		if r := g.Role(id); r != nil {
			r.Etag = ""
			l.add("iam.role."+id, r)
		}
	}
	email := names.ServiceAccount + "@" + gcptest.Project + ".iam.gserviceaccount.com"
	l.add("iam.service_account", g.HasAccount(email))
	keys := g.Keys(email)
	bundle, berr := wizard.ReadBundle(cfg.Bundle)
	placeholders := map[string]string{}
	for _, k := range keys {
		placeholders[k] = "<key>"
	}
	l.add("iam.keys", keys)
	if cfg.WarehouseProvider() != nil {
		l.add("snowflake.integration", sf.Integration(snowflakestage.SettingsOf(&cfg).Integration))
		snowflakeObjects(l, sf, cfg)
	}
	var keyFile struct {
		ID string `json:"private_key_id"`
	}
	raw, _ := os.ReadFile(gcsbucket.SettingsOf(&cfg).KeyFile)
	_ = json.Unmarshal(raw, &keyFile)
	fi, err := os.Stat(gcsbucket.SettingsOf(&cfg).KeyFile)
	l.add("invariant: one key, the key file's and the bundle's", len(keys) == 1 && keyFile.ID == keys[0] && bundle != nil && bundle.GCPKeyID == keys[0] &&
		err == nil && fi.Mode().Perm() == 0o600)
	state, serr := wizard.LoadState(cfg.State)
	files(l, cfg, state, serr, bundle, berr)
	return l.text(cfg, placeholders), l.err
}

// Remains lists what of a setup is still there after byob destroy: each
// object byob makes that exists, by name, and the role's grants. Nothing
// byob made remains when it is empty (the role's own grants aside).
func Remains(ctx context.Context, c *s3bucket.Clients, g *gcptest.Server, sf *snowflaketest.Server, cfg wizard.Config) []string {
	var out []string
	found := func(what string, there bool) {
		if there {
			out = append(out, what)
		}
	}
	if cfg.Provider == s3bucket.Name {
		names := s3bucket.NamesOf(&cfg)
		_, err := c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(cfg.Bucket)}, func(o *s3.Options) { o.Region = s3bucket.SettingsOf(&cfg).Region })
		found("bucket "+cfg.Bucket, err == nil)
		_, err = c.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(names.User)})
		found("user "+names.User, err == nil)
		keys, err := c.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(names.User)})
		found("access keys", err == nil && len(keys.AccessKeyMetadata) > 0)
		_, err = c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(names.Role)})
		found("role "+names.Role, err == nil)
		for _, p := range []string{names.Policy, names.SnowflakePolicy} {
			_, err = c.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::123456789012:policy/" + p)})
			found("policy "+p, err == nil)
		}
	} else {
		names := gcsbucket.NamesOf(&cfg)
		found("bucket "+cfg.Bucket, g.Bucket(cfg.Bucket) != nil)
		email := names.ServiceAccount + "@" + gcptest.Project + ".iam.gserviceaccount.com"
		found("service account "+email, g.HasAccount(email))
		found("keys", len(g.Keys(email)) > 0)
		for _, id := range []string{names.WriterRole, names.SnowflakeRole} {
			r := g.Role(id)
			found("role "+id, r != nil && !r.Deleted)
		}
		if g.Bucket(cfg.Bucket) != nil {
			for _, b := range g.Bindings(cfg.Bucket) {
				found("binding "+b.Role, strings.Contains(b.Role, "byob"))
			}
		}
	}
	if cfg.WarehouseProvider() != nil {
		found("integration "+snowflakestage.SettingsOf(&cfg).Integration, sf.Integration(snowflakestage.SettingsOf(&cfg).Integration) != nil)
		found("stage "+snowflakestage.SettingsOf(&cfg).Stage, sf.Stage(snowflakestage.SettingsOf(&cfg).Database+"."+snowflakestage.SettingsOf(&cfg).Schema+"."+snowflakestage.SettingsOf(&cfg).Stage) != nil)
		for _, grant := range sf.Grants(snowflakestage.SettingsOf(&cfg).GrowthLoopRole) {
			out = append(out, "grant "+grant)
		}
	}
	return out
}
