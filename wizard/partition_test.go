package wizard_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/wizard"
)

// TestGovCloudSetup: in AWS GovCloud every ARN names aws-us-gov (the
// caller's partition), and Snowflake reaches the bucket as S3GOV with
// s3gov:// URLs; the region may come from the Snowflake account, and the
// plan follows it.
func TestGovCloudSetup(t *testing.T) {
	for _, given := range []string{"us-gov-west-1", ""} {
		t.Run("region "+given, func(t *testing.T) {
			e := newEnv(t)
			e.aws.Partition = "aws-us-gov"
			e.sf.SetRegion("AWS_US_GOV_WEST_1_FHPLUS")
			cfg := e.config()
			providers.UpdateSection(&cfg, func(s *s3bucket.Settings) { s.Region = given })
			out := e.mustApply(cfg)
			if out.Preflight.Region != "us-gov-west-1" {
				t.Fatalf("region %q", out.Preflight.Region)
			}
			providers.UpdateSection(&cfg, func(s *s3bucket.Settings) { s.Region = "us-gov-west-1" })
			e.inspect(cfg)
			if v := e.state(cfg)["values"].(map[string]any); v[s3bucket.CallerPartition.Name] != "aws-us-gov" {
				t.Errorf("state values %v", v)
			}
			e.aws.ConfineKeysTo(cfg.Prefix)
			rep := verify(t, cfg, e.deps, wizard.VerifyOptions{})
			for _, c := range rep.Checks {
				if c.Status != providers.Pass {
					t.Errorf("%s: %s %s", c.ID, c.Status, c.Detail)
				}
			}
		})
	}
}

// TestUnsupportedPlacementStopsBeforeAnyChange: credentials of another
// partition than the region's, and a bucket Snowflake's integration
// cannot reach from its region, are usage errors that name the fix.
func TestUnsupportedPlacementStopsBeforeAnyChange(t *testing.T) {
	for _, tc := range []struct {
		name                        string
		partition, sfRegion, region string
		says                        []string
	}{
		{"commercial credentials, GovCloud region", "", "AWS_US_GOV_WEST_1_DOD", "us-gov-west-1",
			[]string{"--region us-gov-west-1 is in the AWS GovCloud (US) partition", "credentials are of partition aws", "--profile"}},
		{"GovCloud bucket, commercial Snowflake", "aws-us-gov", "AWS_US_WEST_2", "us-gov-west-1",
			[]string{"only from an account in that same region", "Snowflake account is in AWS_US_WEST_2"}},
		{"GovCloud bucket, Snowflake in the other GovCloud region", "aws-us-gov", "AWS_US_GOV_EAST_1_FHPLUS", "us-gov-west-1",
			[]string{"only from an account in that same region"}},
		{"commercial bucket, GovCloud Snowflake", "", "AWS_US_GOV_WEST_1_FHPLUS", "us-west-2",
			[]string{"AWS GovCloud (US), region us-gov-west-1", "use --region us-gov-west-1"}},
		{"China bucket, GCP Snowflake", "aws-cn", "GCP_US_CENTRAL1", "cn-northwest-1",
			[]string{"cn-northwest-1 (AWS China)", "only from an account in that same region"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.aws.Partition = tc.partition
			e.sf.SetRegion(tc.sfRegion)
			cfg := e.config()
			providers.UpdateSection(&cfg, func(s *s3bucket.Settings) { s.Region = tc.region })
			before := len(e.aws.Calls())
			_, err := e.apply(cfg)
			var ue *providers.UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("apply = %v, want a usage error", err)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			for _, c := range e.aws.Calls()[before:] {
				if c.Mutating {
					t.Errorf("%s %s ran", c.Service, c.Action)
				}
			}
			if _, err := os.Stat(cfg.State); !os.IsNotExist(err) {
				t.Errorf("state written: %v", err)
			}
		})
	}
}

// TestIsolatedPartitionIsRefused: --region in an ISO partition is
// refused as a flag.
func TestIsolatedPartitionIsRefused(t *testing.T) {
	c := providers.Config{Provider: s3bucket.Name, Bucket: "b-iso", Name: "x"}.With(s3bucket.Settings{Region: "us-iso-east-1"})
	bad := s3bucket.Provider{}.Validate(&c)
	if len(bad) != 1 || bad[0].Flag != "--region" || !strings.Contains(bad[0].Rule, "isolated AWS partition") {
		t.Errorf("Validate = %v", bad)
	}
}

// TestRefusedCredentialsNameThePartition: STS refuses credentials used
// outside their partition as invalid; the error says to give a region of
// theirs.
func TestRefusedCredentialsNameThePartition(t *testing.T) {
	e := newEnv(t)
	cfg := e.aws.Config()
	cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIAGOVCLOUDKEY00000", "not-a-secret", "")
	e.connect(s3bucket.NewClients(cfg), nil)
	c := e.config()
	c.Warehouse = ""
	_, err := e.apply(c)
	if err == nil || !strings.Contains(err.Error(), "InvalidClientTokenId") || !strings.Contains(err.Error(), "GovCloud and China credentials also need a --region") {
		t.Fatalf("apply = %v", err)
	}
}
