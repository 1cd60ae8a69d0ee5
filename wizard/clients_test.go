package wizard_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/gcsbucket/gcptest"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/s3bucket/awstest"
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
					e.aws.Unavailable(action, 1)
				} else {
					e.aws.HangUp(action, 1)
				}
			}
			failNext("CreateAccessKey")
			e.mustApply(cfg)
			e.inspect(cfg)
			readBetween(t, e.aws.Calls(), "CreateAccessKey", "ListAccessKeys")

			// A policy emptied by hand is made the expected document again
			// by a new default version.
			arn := "arn:aws:iam::" + awstest.AccountID + ":policy/" + s3bucket.NamesFor(cfg.Name).Policy
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

// TestGCSKeyCreateIsNotRetriedBlindly is the same for keys.create on
// Google Cloud: after an answer lost (500) or a dropped connection, byob
// lists the account's keys (deleting the one nobody holds) before it
// creates again.
func TestGCSKeyCreateIsNotRetriedBlindly(t *testing.T) {
	for _, drop := range []bool{false, true} {
		e := newGCSEnv(t)
		cfg := e.config(providers.WarehouseNone)
		if drop {
			e.gcp.DropKeyAnswers(1)
		} else {
			e.gcp.LoseKeyAnswers(1)
		}
		e.mustApply(cfg)
		e.inspect(cfg)
		var seq []string
		for _, r := range e.gcp.Sent() {
			if strings.HasSuffix(r.Path, "/keys") {
				seq = append(seq, r.Method)
			}
		}
		if i := slices.Index(seq, "POST"); i < 0 || i+1 >= len(seq) || seq[i+1] != "GET" {
			t.Errorf("dropped %v: after a failed keys.create, byob must list the keys before anything else: %v", drop, seq)
		}
	}
}

// TestGCSKeepsOthersLifecycleRulesWhole: a lifecycle rule of the
// customer's that byob keeps goes back as it came, through the storage
// library's types: a condition byob does not set (age 0, isLive false, a
// suffix, newer versions) is not dropped, which would widen what the rule
// deletes.
func TestGCSKeepsOthersLifecycleRulesWhole(t *testing.T) {
	e := newGCSEnv(t)
	cfg := e.config(providers.WarehouseNone)
	theirs := `{"action":{"type":"Delete"},"condition":{"age":0,"isLive":false,"matchesSuffix":[".tmp"],"numNewerVersions":3}}`
	e.gcp.SetBucket(gcptest.Bucket{Name: cfg.Bucket, Location: gcsbucket.SettingsOf(&cfg).Location, Lifecycle: json.RawMessage(`{"rule":[` + theirs + `]}`)})
	e.mustApply(cfg)
	var lc struct{ Rule []json.RawMessage }
	if err := json.Unmarshal(e.gcp.Bucket(cfg.Bucket).Lifecycle, &lc); err != nil {
		t.Fatal(err)
	}
	if len(lc.Rule) != 3 || !sameJSONText(lc.Rule[0], theirs) {
		t.Errorf("lifecycle %s: want their rule %s first, as it was, then byob's two", e.gcp.Bucket(cfg.Bucket).Lifecycle, theirs)
	}
}

// TestGCSKeepsConditionalBindings: a bucket whose IAM policy has a
// binding under a condition is read and written in policy version 3 (an
// older version is refused, as Google refuses it): byob's binding is added
// and the conditional one kept as it was.
func TestGCSKeepsConditionalBindings(t *testing.T) {
	e := newGCSEnv(t)
	cfg := e.config(providers.WarehouseNone)
	e.gcp.SetBucket(gcptest.Bucket{Name: cfg.Bucket, Location: gcsbucket.SettingsOf(&cfg).Location})
	theirs := gcptest.Binding{Role: "roles/storage.objectViewer", Members: []string{"group:audit@acme.com"},
		Condition: &gcptest.Condition{Title: "reports", Expression: `resource.name.startsWith("projects/_/buckets/` + cfg.Bucket + `/objects/reports/")`}}
	e.gcp.SetBindings(cfg.Bucket, append(e.gcp.Bindings(cfg.Bucket), theirs))
	e.mustApply(cfg)
	bindings := e.gcp.Bindings(cfg.Bucket)
	if !slices.ContainsFunc(bindings, func(b gcptest.Binding) bool { return reflect.DeepEqual(b, theirs) }) {
		t.Errorf("the conditional binding is gone or changed: %+v", bindings)
	}
	e.inspect(cfg)
}

// sameJSONText reports whether a and b are the same JSON value.
func sameJSONText(a json.RawMessage, b string) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal([]byte(b), &y) == nil && reflect.DeepEqual(x, y)
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
