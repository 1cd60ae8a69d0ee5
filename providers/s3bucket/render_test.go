package s3bucket

import (
	"context"
	"strings"
	"testing"

	"github.com/growthloop/byob/providers"
)

// TestStackKeyIsReadThroughAWS: a stack's outputs point at the key's
// secret, which is read through the AWS connection; without one (a setup
// not on S3) it is an error, and outputs that held the key need none.
func TestStackKeyIsReadThroughAWS(t *testing.T) {
	h := &providers.Handed{}
	missing := Provider{}.ReadCloudFormation(map[string]string{"Region": "us-east-1", "AccessKeyId": "AKIAIOSFODNN7EXAMPLE",
		"KeySecretArn": "arn:aws:secretsmanager:us-east-1:111122223333:secret:k"}, h)
	if len(missing) != 0 || h.Bundle.Provider != Name || h.Bundle.Region != "us-east-1" {
		t.Fatalf("missing %v, bundle %+v", missing, h.Bundle)
	}
	if err := h.FetchKey(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "not on S3") {
		t.Errorf("no AWS connection: %v", err)
	}
	if err := (&providers.Handed{}).FetchKey(context.Background(), nil); err != nil {
		t.Errorf("outputs holding the key: %v", err)
	}
	if missing := (Provider{}).ReadCloudFormation(map[string]string{}, &providers.Handed{}); strings.Join(missing, ", ") != "region, KeySecretArn" {
		t.Errorf("empty outputs lack %v", missing)
	}
}

// TestAccountIDFlag: --aws-account-id gives the account id, 12 digits.
func TestAccountIDFlag(t *testing.T) {
	f := Provider{}.RenderFlags()[0]
	if f.Flag != "aws-account-id" || f.Key != AccountID {
		t.Fatalf("%+v", f)
	}
	if err := f.Check("111122223333"); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"11112222333", "1111222233334", "11112222333x", " 11112222333"} {
		if err := f.Check(bad); err == nil || err.Error() != "must be 12 digits" {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
