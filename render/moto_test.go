package render

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/growthloop/byob/internal/testsupport/testbin"
	"github.com/growthloop/byob/providers/s3bucket/mototest"
	"github.com/growthloop/byob/render/tftest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Remove()
	os.Exit(code)
}

// onMoto is byob's binary and the real terraform with hashicorp/aws, both
// against one moto (an AWS emulator this project did not write), in dir.
type onMoto struct {
	t   *testing.T
	tf  *tftest.Terraform
	srv *mototest.Server
	bin string
	dir string
	env []string
}

func startMoto(t *testing.T) *onMoto {
	tf := tftest.For(t)
	srv := mototest.Start(t, mototest.Options{})
	return &onMoto{t: t, tf: tf, srv: srv, bin: testbin.Byob(t, ""), dir: t.TempDir(), env: srv.Env(t.TempDir())}
}

// byob runs byob's binary and returns its output.
func (m *onMoto) byob(args ...string) string {
	m.t.Helper()
	cmd := exec.Command(m.bin, args...)
	cmd.Dir, cmd.Env = m.dir, m.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		m.t.Fatalf("byob %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// render writes the module of the setup in dir to dir/tf, points it at
// moto and initialises it; it returns the module's directory.
func (m *onMoto) render() string {
	m.t.Helper()
	m.byob("render", "--format", "terraform", "--out", "tf")
	module := filepath.Join(m.dir, "tf")
	// The endpoints are the test's, in an override file of its own; the
	// module stays as rendered. moto serves S3 path-style only.
	override := `provider "aws" {
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  endpoints {
    iam = "` + m.srv.URL + `"
    s3  = "` + m.srv.URL + `"
    sts = "` + m.srv.URL + `"
  }
}
`
	if err := os.WriteFile(filepath.Join(module, "moto_override.tf"), []byte(override), 0o644); err != nil {
		m.t.Fatal(err)
	}
	m.terraform(module, "init", "-backend=false", "-input=false", "-no-color")
	return module
}

// terraform runs terraform in module and returns its output.
func (m *onMoto) terraform(module string, args ...string) string {
	m.t.Helper()
	out, err := m.tf.Run(module, m.env, args...)
	if err != nil {
		m.t.Fatal(err)
	}
	return out
}

// planSummary is terraform plan's summary line.
func (m *onMoto) planSummary(module string) (summary, out string) {
	m.t.Helper()
	out = m.terraform(module, "plan", "-input=false", "-no-color", "-refresh=true")
	return regexp.MustCompile(`Plan: .*`).FindString(out), out
}

// importBlocks counts module's import blocks.
func importBlocks(t *testing.T, module string) (int, string) {
	t.Helper()
	imports, err := os.ReadFile(filepath.Join(module, "imports.tf"))
	if err != nil {
		t.Fatalf("no imports.tf: %v", err)
	}
	return strings.Count(string(imports), "import {"), string(imports)
}

// TestS3SetupImportsIntoTerraformOnMoto hands a byob setup over to
// Terraform: byob's binary makes an S3 setup on moto, byob render writes
// the module with import blocks from the state file, and the real
// terraform and hashicorp/aws plan against the same moto: every resource
// imported, nothing to add, change or destroy.
func TestS3SetupImportsIntoTerraformOnMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: terraform against moto_server")
	}
	t.Parallel() // a moto, a directory and a byob of its own
	m := startMoto(t)
	m.byob("init", "--provider", "s3", "--bucket", "byob-moto-import", "--region", mototest.Region, "--ttl-days", "30", "--yes")
	module := m.render()
	if n, imports := importBlocks(t, module); n != 10 {
		t.Errorf("imports.tf imports %d resources, want the setup's 10:\n%s", n, imports)
	}
	if summary, out := m.planSummary(module); summary != "Plan: 10 to import, 0 to add, 0 to change, 0 to destroy." {
		t.Errorf("terraform plan: %q, want 10 imports only\n%s", summary, out)
	}
}

// TestAdoptedS3BucketStaysOutOfTerraformOnMoto: a customer's bucket on
// moto, with a policy statement, tags and a lifecycle rule of its own, is
// adopted by byob init (which merges its own statement and rule in); the
// module byob render writes from that state reads the bucket and imports
// only what byob made. terraform plan changes nothing, neither the bucket
// nor its policy; terraform apply and then terraform destroy leave the
// bucket, with the customer's statement, tags and rule, and byob's, as
// they were.
func TestAdoptedS3BucketStaysOutOfTerraformOnMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: terraform against moto_server")
	}
	t.Parallel() // a moto, a directory and a byob of its own
	m := startMoto(t)
	const bucket = "customer-owned-exports"
	ctx := context.Background()
	s3c := s3.NewFromConfig(m.srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	customerPolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"CustomerAuditRead","Effect":"Allow",` +
		`"Principal":{"AWS":"arn:aws:iam::` + mototest.AccountID + `:root"},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::` + bucket + `/audit/*"]}]}`
	steps := []func() error{
		func() error {
			_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
			return err
		},
		func() error {
			_, err := s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(customerPolicy)})
			return err
		},
		func() error {
			_, err := s3c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(bucket),
				Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}}}})
			return err
		},
		func() error {
			_, err := s3c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(bucket),
				LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{ID: aws.String("customer-archive"),
					Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("archive/")},
					Expiration: &types.LifecycleExpiration{Days: aws.Int32(365)}}}}})
			return err
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	m.byob("init", "--provider", "s3", "--bucket", bucket, "--region", mototest.Region, "--ttl-days", "30", "--yes")

	// bucketAsIs fails the test unless the bucket still has the
	// customer's statement and byob's, the customer's tags, and both
	// lifecycle rules.
	bucketAsIs := func(when string) {
		t.Helper()
		p, err := s3c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		for _, sid := range []string{"CustomerAuditRead", "DenyInsecureTransport"} {
			if !strings.Contains(aws.ToString(p.Policy), sid) {
				t.Errorf("%s: the bucket policy lost statement %s: %s", when, sid, aws.ToString(p.Policy))
			}
		}
		tags, err := s3c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(bucket)})
		if err != nil || len(tags.TagSet) != 1 || aws.ToString(tags.TagSet[0].Value) != "data" {
			t.Errorf("%s: the bucket's tags: %v %v", when, tags, err)
		}
		lc, err := s3c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		var ids []string
		for _, r := range lc.Rules {
			ids = append(ids, aws.ToString(r.ID))
		}
		if strings.Join(ids, ",") != "customer-archive,byob-expire-exports" {
			t.Errorf("%s: the bucket's lifecycle rules are %v", when, ids)
		}
	}
	bucketAsIs("after byob init")

	module := m.render()
	main, err := os.ReadFile(filepath.Join(module, "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(main), `resource "aws_s3_bucket`) || !strings.Contains(string(main), `data "aws_s3_bucket" "exports"`) {
		t.Errorf("main.tf manages the adopted bucket or does not read it:\n%s", main)
	}
	// What byob made: the policy, the user, its attachment and key.
	if n, imports := importBlocks(t, module); n != 4 || strings.Contains(imports, "aws_s3_bucket") {
		t.Errorf("imports.tf imports %d resources, want the 4 byob made, none of the bucket:\n%s", n, imports)
	}
	if readme, err := os.ReadFile(filepath.Join(module, "README.md")); err != nil || !strings.Contains(string(readme), "bucket `"+bucket+"`, which the module only reads") {
		t.Errorf("the README does not name the adopted bucket (%v):\n%s", err, readme)
	}
	summary, out := m.planSummary(module)
	if summary != "Plan: 4 to import, 0 to add, 0 to change, 0 to destroy." {
		t.Errorf("terraform plan: %q, want 4 imports only\n%s", summary, out)
	}
	if strings.Contains(out, "aws_s3_bucket") && !strings.Contains(out, "data.aws_s3_bucket.exports: Read") {
		t.Errorf("terraform plan names the bucket otherwise than reading it:\n%s", out)
	}
	m.terraform(module, "apply", "-input=false", "-no-color", "-auto-approve")
	bucketAsIs("after terraform apply")
	out = m.terraform(module, "destroy", "-input=false", "-no-color", "-auto-approve")
	if !strings.Contains(out, "Destroy complete! Resources: 4 destroyed.") {
		t.Errorf("terraform destroy:\n%s", out)
	}
	if _, err := s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("terraform destroy deleted the adopted bucket: %v", err)
	}
	bucketAsIs("after terraform destroy")
}
