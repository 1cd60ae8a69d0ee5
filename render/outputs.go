package render

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/growthloop/byob/providers"
	awsp "github.com/growthloop/byob/providers/aws"
)

// Handed is what a rendered setup's outputs say: the bundle without the
// key's secret where the outputs only point at it, and GCS's key file.
type Handed struct {
	Bundle providers.Bundle
	// Name is byob's setup name, from which IAM names derive.
	Name string
	// KeySecretARN is where the CloudFormation stack keeps the key.
	KeySecretARN string
	// KeyFile is the GCS service account's key file content.
	KeyFile []byte
}

// FromTerraform reads `terraform output -json` of the module byob render
// wrote.
func FromTerraform(data []byte) (*Handed, error) {
	var outs map[string]struct {
		Value any `json:"value"`
	}
	if err := json.Unmarshal(data, &outs); err != nil {
		return nil, fmt.Errorf("not the output of terraform output -json: %w", err)
	}
	get := func(name string) string {
		if s, ok := outs[name].Value.(string); ok {
			return s
		}
		return ""
	}
	h := &Handed{Name: get("setup_name"), Bundle: providers.Bundle{Version: providers.BundleVersion, Provider: get("provider"), Bucket: get("bucket"),
		Region: get("region"), Location: get("location"), Prefix: get("prefix"), OrgID: get("org_id"),
		AWSAccessKeyID: get("aws_access_key_id"), AWSSecretAccessKey: get("aws_secret_access_key"),
		GCPProject: get("gcp_project"), GCPServiceAccount: get("gcp_service_account")}}
	if k := get("gcp_private_key"); k != "" {
		key, err := base64.StdEncoding.DecodeString(k)
		if err != nil {
			return nil, fmt.Errorf("output gcp_private_key is not base64")
		}
		h.KeyFile = key
		var kf struct {
			PrivateKeyID string `json:"private_key_id"`
		}
		if json.Unmarshal(key, &kf) == nil {
			h.Bundle.GCPKeyID = kf.PrivateKeyID
		}
	}
	if in := get("integration"); in != "" {
		h.Bundle.Snowflake = &providers.BundleSnowflake{Integration: in, Stage: get("stage"), RoleARN: get("role_arn"), ExternalID: get("external_id")}
	}
	return h, h.check("the terraform output", map[string]string{"s3": "aws_access_key_id and aws_secret_access_key", "gcs": "gcp_private_key"})
}

// FromCloudFormation reads the stack's outputs, as `aws cloudformation
// describe-stacks` prints them (the whole answer, or its Outputs list).
func FromCloudFormation(data []byte) (*Handed, error) {
	type output struct{ OutputKey, OutputValue string }
	var list []output
	if err := json.Unmarshal(data, &list); err != nil {
		var doc struct{ Stacks []struct{ Outputs []output } }
		if err := json.Unmarshal(data, &doc); err != nil || len(doc.Stacks) != 1 {
			return nil, fmt.Errorf("not the outputs of aws cloudformation describe-stacks (one stack, or its Outputs list)")
		}
		list = doc.Stacks[0].Outputs
	}
	outs := map[string]string{}
	for _, o := range list {
		outs[o.OutputKey] = o.OutputValue
	}
	h := &Handed{Name: outs["SetupName"], KeySecretARN: outs["KeySecretArn"], Bundle: providers.Bundle{Version: providers.BundleVersion, Provider: "s3",
		Bucket: outs["Bucket"], Region: outs["Region"], Prefix: outs["Prefix"], OrgID: outs["OrgId"], AWSAccessKeyID: outs["AccessKeyId"]}}
	if outs["RoleArn"] != "" {
		h.Bundle.Snowflake = &providers.BundleSnowflake{Integration: outs["Integration"], Stage: outs["Stage"], RoleARN: outs["RoleArn"], ExternalID: outs["ExternalId"]}
	}
	return h, h.check("the stack's outputs list", map[string]string{"s3": "KeySecretArn"})
}

// check says what the outputs lack, naming them.
func (h *Handed) check(what string, key map[string]string) error {
	var missing []string
	b := h.Bundle
	for _, f := range []struct{ name, v string }{{"provider", b.Provider}, {"bucket", b.Bucket}, {"prefix", b.Prefix}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	switch {
	case b.Provider == "s3" && b.Region == "":
		missing = append(missing, "region")
	case b.Provider == "gcs" && (b.Location == "" || b.GCPProject == ""):
		missing = append(missing, "location and gcp_project")
	}
	haveKey := b.AWSSecretAccessKey != "" || h.KeyFile != nil || h.KeySecretARN != ""
	if !haveKey && key[b.Provider] != "" {
		missing = append(missing, key[b.Provider])
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s has no %s: is it from the code byob render wrote?", what, strings.Join(missing, ", "))
	}
	if h.Name == "" {
		h.Name = providers.DefaultName
	}
	return nil
}

// FetchKey reads the key a CloudFormation stack keeps in Secrets Manager
// (KeySecretARN) through conn, the caller's connection to the bucket's
// cloud; nothing when the outputs held the key.
func (h *Handed) FetchKey(ctx context.Context, conn providers.Conn) error {
	if h.KeySecretARN == "" {
		return nil
	}
	c := awsp.ClientsOf(conn)
	if c == nil {
		return fmt.Errorf("the stack's key secret %s is in AWS, but the setup is not on S3", h.KeySecretARN)
	}
	id, secret, err := c.KeyFromSecret(ctx, h.Bundle.Region, h.KeySecretARN)
	if err != nil {
		return err
	}
	if id != h.Bundle.AWSAccessKeyID {
		return fmt.Errorf("the secret %s holds key %s, but the stack's output AccessKeyId is %s", h.KeySecretARN, id, h.Bundle.AWSAccessKeyID)
	}
	h.Bundle.AWSSecretAccessKey = secret
	return nil
}
