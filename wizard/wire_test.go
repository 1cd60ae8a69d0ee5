package wizard_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/gcsbucket/gcptest"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/s3bucket/awstest"
	"github.com/growthloop/byob/providers/snowflakestage"
	"github.com/growthloop/byob/templates"
	"github.com/growthloop/byob/wizard"
)

// applyCapturingPlan applies cfg and returns the plan's document as it
// stands after the run (the values it learned filled in).
func applyCapturingPlan(t *testing.T, cfg wizard.Config, deps wizard.Deps) wizard.Doc {
	t.Helper()
	state, values, err := wizard.Prepare(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var plan *wizard.Plan
	_, err = wizard.Apply(context.Background(), cfg, deps, state, values, wizard.ApplyOptions{
		Propagation: runenv.Propagation{Timeout: 10 * time.Second, Initial: 5 * time.Millisecond},
		Confirm:     func(p *wizard.Plan) error { plan = p; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return plan.Doc()
}

// sameJSON compares a JSON document with a value decoded from the wire.
func sameJSON(t *testing.T, step string, artifact any, sent any) {
	t.Helper()
	want, _ := json.Marshal(artifact)
	got, _ := json.Marshal(sent)
	if !templates.SameDocument(string(want), string(got)) {
		t.Errorf("%s: the plan shows\n%s\nbut the request sent\n%s", step, want, got)
	}
}

func content(a wizard.ArtifactDoc) string {
	if raw, ok := a.Content.(json.RawMessage); ok {
		return string(raw)
	}
	return fmt.Sprint(a.Content)
}

// TestS3ArtifactsAreWhatIsSent: for every step of an S3 + Snowflake
// setup, the request on the wire carries exactly the document, setting or
// statement the plan shows.
func TestS3ArtifactsAreWhatIsSent(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	doc := applyCapturingPlan(t, cfg, e.deps)
	calls := e.aws.Calls()
	names := s3bucket.NamesFor(cfg.Name)
	sent := func(action string) awstest.Call {
		t.Helper()
		i := slices.IndexFunc(calls, func(c awstest.Call) bool { return c.Action == action && c.Mutating })
		if i < 0 {
			t.Fatalf("no %s was sent", action)
		}
		return calls[i]
	}
	xmlOf := func(c awstest.Call, v any) any {
		t.Helper()
		if err := xml.Unmarshal(c.Body, v); err != nil {
			t.Fatalf("%s: %v\n%s", c.Action, err, c.Body)
		}
		return v
	}
	statements := e.sf.Statements()
	for _, s := range doc.Steps {
		for _, a := range s.Artifacts {
			art := content(a)
			switch s.ID {
			case s3bucket.StepBucket:
				var body struct{ LocationConstraint string }
				xmlOf(sent("PUT bucket"), &body)
				sameJSON(t, s.ID, json.RawMessage(art), map[string]any{"Bucket": strings.Trim(sent("PUT bucket").Path, "/"),
					"CreateBucketConfiguration": map[string]string{"LocationConstraint": body.LocationConstraint}})
			case s3bucket.StepPublicAccessBlock:
				sameJSON(t, s.ID, json.RawMessage(art), xmlOf(sent("PUT ?publicAccessBlock"), &templates.PublicAccessBlock{}))
			case s3bucket.StepEncryption:
				var body struct {
					Rules []templates.EncryptionRule `xml:"Rule"`
				}
				xmlOf(sent("PUT ?encryption"), &body)
				sameJSON(t, s.ID, json.RawMessage(art), templates.Encryption{Rules: body.Rules})
			case s3bucket.StepBucketPolicy:
				sameJSON(t, s.ID, json.RawMessage(art), json.RawMessage(sent("PUT ?policy").Body))
			case s3bucket.StepLifecycle:
				var body struct {
					Rules []templates.LifecycleRule `xml:"Rule"`
				}
				xmlOf(sent("PUT ?lifecycle"), &body)
				sameJSON(t, s.ID, json.RawMessage(art), templates.Lifecycle{Rules: body.Rules})
			case s3bucket.StepObjectOwnership:
				// A new bucket has ACLs off already: then nothing is sent.
				if i := slices.IndexFunc(calls, func(c awstest.Call) bool { return c.Action == "PUT ?ownershipControls" }); i >= 0 {
					var body struct {
						Rules []struct{ ObjectOwnership string } `xml:"Rule"`
					}
					xmlOf(calls[i], &body)
					sameJSON(t, s.ID, json.RawMessage(art), body)
				} else if !strings.Contains(art, "BucketOwnerEnforced") {
					t.Errorf("%s: the plan shows %s", s.ID, art)
				}
			case s3bucket.StepPolicy, s3bucket.StepSnowflakePolicy:
				name := map[string]string{s3bucket.StepPolicy: names.Policy, s3bucket.StepSnowflakePolicy: names.SnowflakePolicy}[s.ID]
				i := slices.IndexFunc(calls, func(c awstest.Call) bool { return c.Action == "CreatePolicy" && c.Form.Get("PolicyName") == name })
				if i < 0 {
					t.Fatalf("%s: no CreatePolicy %s was sent", s.ID, name)
				}
				sameJSON(t, s.ID, json.RawMessage(art), json.RawMessage(calls[i].Form.Get("PolicyDocument")))
			case s3bucket.StepRole:
				sameJSON(t, s.ID, json.RawMessage(art), json.RawMessage(sent("CreateRole").Form.Get("AssumeRolePolicyDocument")))
			case s3bucket.StepRolePolicy, s3bucket.StepUserPolicy:
				kind, action := "role", "AttachRolePolicy"
				if s.ID == s3bucket.StepUserPolicy {
					kind, action = "user", "AttachUserPolicy"
				}
				f := sent(action).Form
				if got := fmt.Sprintf("attach policy %s to %s %s", f.Get("PolicyArn"), kind, f.Get("RoleName")+f.Get("UserName")); got != art {
					t.Errorf("%s: the plan shows %q, the request was %q", s.ID, art, got)
				}
			case s3bucket.StepUser:
				if u := sent("CreateUser").Form.Get("UserName"); !strings.Contains(art, "create IAM user "+u+" ") {
					t.Errorf("%s: the plan shows %q, the request created %s", s.ID, art, u)
				}
			case s3bucket.StepAccessKey:
				if u := sent("CreateAccessKey").Form.Get("UserName"); !strings.Contains(art, "access key for "+u+";") {
					t.Errorf("%s: the plan shows %q, the request was for %s", s.ID, art, u)
				}
			case snowflakestage.StepIntegration, snowflakestage.StepIntegrationGrant, snowflakestage.StepStage, snowflakestage.StepStageGrants:
				if !slices.Contains(statements, art) {
					t.Errorf("%s: Snowflake never ran the statement the plan shows:\n%s", s.ID, art)
				}
			default:
				t.Errorf("step %s has no wire check", s.ID)
			}
		}
	}
}

// TestGCSArtifactsAreWhatIsSent is the same on Google Cloud.
func TestGCSArtifactsAreWhatIsSent(t *testing.T) {
	e := newGCSEnv(t)
	cfg := e.config(snowflakestage.Name)
	doc := applyCapturingPlan(t, cfg, e.deps)
	requests := e.gcp.Sent()
	sent := func(method, suffix string) gcptest.Sent {
		t.Helper()
		i := slices.IndexFunc(requests, func(r gcptest.Sent) bool { return r.Method == method && strings.HasSuffix(r.Path, suffix) })
		if i < 0 {
			t.Fatalf("no %s %s was sent", method, suffix)
		}
		return requests[i]
	}
	names := gcsbucket.NamesFor(cfg.Name)
	statements := e.sf.Statements()
	for _, s := range doc.Steps {
		for _, a := range s.Artifacts {
			art := content(a)
			switch s.ID {
			case gcsbucket.StepBucket:
				var body map[string]any
				json.Unmarshal(sent("POST", "/storage/v1/b").Body, &body)
				sameJSON(t, s.ID, json.RawMessage(art), map[string]any{"name": body["name"], "location": body["location"],
					"iamConfiguration": body["iamConfiguration"], "lifecycle": body["lifecycle"]})
			case gcsbucket.StepWriterRole, gcsbucket.StepSnowflakeRole:
				var want templates.GCPRole
				json.Unmarshal([]byte(art), &want)
				var got templates.GCPRole
				for _, r := range requests {
					json.Unmarshal(r.Body, &got)
					if r.Method == "POST" && strings.HasSuffix(r.Path, "/roles") && got.RoleID == want.RoleID {
						break
					}
				}
				sameJSON(t, s.ID, want, got)
			case gcsbucket.StepServiceAccount:
				sameJSON(t, s.ID, json.RawMessage(art), json.RawMessage(sent("POST", "/serviceAccounts").Body))
			case gcsbucket.StepWriterBinding, gcsbucket.StepSnowflakeBinding:
				var want templates.GCSBinding
				json.Unmarshal([]byte(art), &want)
				var policy struct{ Bindings []gcptest.Binding }
				json.Unmarshal(lastSent(requests, "PUT", "/b/"+cfg.Bucket+"/iam").Body, &policy)
				if !slices.ContainsFunc(policy.Bindings, func(b gcptest.Binding) bool {
					return b.Role == want.Role && reflect.DeepEqual(b.Members, want.Members)
				}) {
					t.Errorf("%s: the plan shows the binding %+v, the bucket's policy was set to %+v", s.ID, want, policy.Bindings)
				}
			case gcsbucket.StepKey:
				var want templates.GCPKeyRequest
				json.Unmarshal([]byte(art), &want)
				req := sent("POST", "/keys")
				var got templates.GCPKeyRequest
				json.Unmarshal(req.Body, &got)
				got.ServiceAccount, got.WrittenTo = names.ServiceAccount+"@"+gcptest.Project+".iam.gserviceaccount.com", gcsbucket.SettingsOf(&cfg).KeyFile
				if !strings.Contains(req.Path, "/serviceAccounts/"+got.ServiceAccount+"/keys") {
					t.Errorf("%s: the key was made for %s", s.ID, req.Path)
				}
				sameJSON(t, s.ID, want, got)
			case snowflakestage.StepIntegration, snowflakestage.StepIntegrationGrant, snowflakestage.StepStage, snowflakestage.StepStageGrants:
				if !slices.Contains(statements, art) {
					t.Errorf("%s: Snowflake never ran the statement the plan shows:\n%s", s.ID, art)
				}
			default:
				t.Errorf("step %s has no wire check", s.ID)
			}
		}
	}
}

func lastSent(requests []gcptest.Sent, method, suffix string) gcptest.Sent {
	for i := len(requests) - 1; i >= 0; i-- {
		if requests[i].Method == method && strings.HasSuffix(requests[i].Path, suffix) {
			return requests[i]
		}
	}
	return gcptest.Sent{}
}
