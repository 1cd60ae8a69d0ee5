package wizard_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	awsp "github.com/growthloop/byob/providers/aws"
	"github.com/growthloop/byob/providers/aws/awstest"
)

// TestCreatesAreNotRetriedBlindly: a CreateAccessKey or CreatePolicyVersion
// that fails with no answer (503 before the change, or the connection
// dropped after it) is not sent again by the SDK's retryer: byob first
// reads what it may have made (the user's keys, the policy's default
// version), deletes a key nobody holds, and creates again only what is
// still missing. The setup ends as a clean run's, with one key.
func TestCreatesAreNotRetriedBlindly(t *testing.T) {
	for _, fail := range []string{"503", "dropped"} {
		t.Run(fail, func(t *testing.T) {
			e := newEnv(t)
			cfg := e.config()
			failNext := func(action string) {
				if fail == "503" {
					e.aws.Unavailable[action] = 1
				} else {
					e.aws.HangUp[action] = 1
				}
			}
			failNext("CreateAccessKey")
			e.mustApply(cfg)
			e.inspect(cfg)
			readBetween(t, e.aws.Calls(), "CreateAccessKey", "ListAccessKeys")

			// A policy emptied by hand is made the expected document again
			// by a new default version.
			arn := "arn:aws:iam::" + awstest.AccountID + ":policy/" + awsp.NamesFor(cfg.Name).Policy
			_, err := e.admin.IAM.CreatePolicyVersion(context.Background(), &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), SetAsDefault: true,
				PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
			if err != nil {
				t.Fatal(err)
			}
			before := len(e.aws.Calls())
			failNext("CreatePolicyVersion")
			e.mustApply(cfg)
			e.inspect(cfg)
			readBetween(t, e.aws.Calls()[before:], "CreatePolicyVersion", "GetPolicyVersion")
		})
	}
}

// readBetween checks that after the first create (the one that failed)
// the next of the two actions sent is read, not create again.
func readBetween(t *testing.T, calls []awstest.Call, create, read string) {
	t.Helper()
	var seq []string
	for _, c := range calls {
		if c.Action == create || c.Action == read {
			seq = append(seq, c.Action)
		}
	}
	i := slices.Index(seq, create)
	if i < 0 || i+1 >= len(seq) || seq[i+1] != read {
		t.Errorf("after a failed %s, byob must send %s before anything else: %v", create, read, seq)
	}
}
