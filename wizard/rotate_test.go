package wizard_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/bundlefile"
	"github.com/growthloop/byob/providers/gcsbucket"
	"github.com/growthloop/byob/providers/gcsbucket/gcptest"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/snowflakestage"
	"github.com/growthloop/byob/wizard"
)

// rotate runs byob rotate-keys (finish: --finish) as the command does.
func rotate(t *testing.T, cfg wizard.Config, deps wizard.Deps, finish, keepOld bool) (wizard.RotateOutcome, error) {
	t.Helper()
	state, values, err := wizard.Prepare(cfg)
	if err != nil {
		t.Fatal(err)
	}
	o := wizard.RotateOptions{KeepOld: keepOld,
		Propagation: runenv.Propagation{Timeout: 10 * time.Second, Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}}
	if finish {
		return wizard.FinishRotation(context.Background(), cfg, deps, state, values, o)
	}
	return wizard.Rotate(context.Background(), cfg, deps, state, values, o)
}

func mustRotate(t *testing.T, cfg wizard.Config, deps wizard.Deps, finish, keepOld bool) wizard.RotateOutcome {
	t.Helper()
	out, err := rotate(t, cfg, deps, finish, keepOld)
	if err != nil {
		t.Fatalf("rotate (finish %v): %v", finish, err)
	}
	return out
}

// userKeys lists the access keys of byob's user as "id Status".
func (e *env) userKeys(cfg wizard.Config) []string {
	e.t.Helper()
	out, err := e.admin.IAM.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(s3bucket.NamesOf(&cfg).User)})
	if err != nil {
		e.t.Fatal(err)
	}
	var keys []string
	for _, k := range out.AccessKeyMetadata {
		keys = append(keys, aws.ToString(k.AccessKeyId)+" "+string(k.Status))
	}
	slices.Sort(keys)
	return keys
}

// TestRotateKeysS3: phase 1 keeps the old bundle, makes and proves a new
// key and writes it to the bundle while the old key stays active; verify
// warns that the rotation is half done; phase 2 deletes the old key and
// the previous bundle. At no moment are there more than two keys.
func TestRotateKeysS3(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.mustApply(cfg)
	e.aws.ConfineKeysTo(cfg.Prefix)
	old := e.bundle(cfg).AWSAccessKeyID

	out := mustRotate(t, cfg, e.deps, false, false)
	if out.Old != old || out.New == "" || out.New == old {
		t.Fatalf("outcome %+v", out)
	}
	if b := e.bundle(cfg); b.AWSAccessKeyID != out.New || b.AWSSecretAccessKey == "" {
		t.Errorf("the bundle holds %s, want the new key %s", b.AWSAccessKeyID, out.New)
	}
	prev, err := bundlefile.Read(providers.PreviousPath(cfg.Bundle))
	if err != nil || prev == nil || prev.AWSAccessKeyID != old {
		t.Errorf("previous bundle %+v %v", prev, err)
	}
	if fi, err := os.Stat(providers.PreviousPath(cfg.Bundle)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("previous bundle mode: %v %v", fi, err)
	}
	if got, want := e.userKeys(cfg), slices.Sorted(slices.Values([]string{old + " Active", out.New + " Active"})); !slices.Equal(got, want) {
		t.Errorf("keys after phase 1: %v, want %v", got, want)
	}
	// A second phase 1 makes no key; init leaves both keys.
	before := len(e.aws.Calls())
	if again := mustRotate(t, cfg, e.deps, false, false); again.New != out.New {
		t.Errorf("a repeated phase 1 made key %s", again.New)
	}
	for _, c := range e.aws.Calls()[before:] {
		if c.Mutating && c.Service == "iam" {
			t.Errorf("a repeated phase 1 changed IAM: %s", c.Action)
		}
	}
	e.mustApply(cfg)
	if len(e.userKeys(cfg)) != 2 || e.bundle(cfg).AWSAccessKeyID != out.New {
		t.Errorf("init during a rotation: keys %v", e.userKeys(cfg))
	}
	rep := verify(t, cfg, e.deps, wizard.VerifyOptions{})
	if c := find(rep, wizard.CheckRotation); c.Status != providers.Warn || !strings.Contains(c.Remedy, "byob rotate-keys --finish") {
		t.Errorf("verify during a rotation: %+v", c)
	}
	if !rep.OK || find(rep, s3bucket.CheckKeyHygiene).Status != providers.Pass {
		t.Errorf("verify during a rotation must pass with a warning: %+v", failing(rep))
	}

	fin := mustRotate(t, cfg, e.deps, true, false)
	if fin.Old != old || fin.New != out.New {
		t.Errorf("finish %+v", fin)
	}
	if got := e.userKeys(cfg); !slices.Equal(got, []string{out.New + " Active"}) {
		t.Errorf("keys after phase 2: %v", got)
	}
	if _, err := os.Stat(providers.PreviousPath(cfg.Bundle)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the previous bundle is still there: %v", err)
	}
	rep = verify(t, cfg, e.deps, wizard.VerifyOptions{})
	if slices.ContainsFunc(rep.Checks, func(c wizard.CheckReport) bool { return c.ID == wizard.CheckRotation }) || !rep.OK {
		t.Errorf("verify after the rotation: %+v", rep)
	}
	if again, err := rotate(t, cfg, e.deps, true, false); err != nil || !again.Finished || again.Started || again.Old != old || again.New != out.New {
		t.Errorf("finishing twice: %+v %v", again, err)
	}
	for _, f := range []string{cfg.State} {
		data, _ := os.ReadFile(f)
		if strings.Contains(string(data), e.bundle(cfg).AWSSecretAccessKey) {
			t.Errorf("%s holds the secret", f)
		}
	}
}

// TestRotateKeepOldThenRotateAgain: --keep-old leaves the old key
// inactive; init leaves it; the next rotation deletes it before making its
// new key, so the user never has more than IAM's two keys.
func TestRotateKeepOldThenRotateAgain(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.mustApply(cfg)
	first := e.bundle(cfg).AWSAccessKeyID
	second := mustRotate(t, cfg, e.deps, false, false).New
	if fin := mustRotate(t, cfg, e.deps, true, true); !fin.Kept {
		t.Errorf("finish %+v", fin)
	}
	want := slices.Sorted(slices.Values([]string{first + " Inactive", second + " Active"}))
	if got := e.userKeys(cfg); !slices.Equal(got, want) {
		t.Errorf("keys after --keep-old: %v, want %v", got, want)
	}
	e.mustApply(cfg)
	if got := e.userKeys(cfg); !slices.Equal(got, want) {
		t.Errorf("init deleted or changed the retired key: %v", got)
	}
	third := mustRotate(t, cfg, e.deps, false, false).New
	want = slices.Sorted(slices.Values([]string{second + " Active", third + " Active"}))
	if got := e.userKeys(cfg); !slices.Equal(got, want) {
		t.Errorf("keys after the next rotation: %v, want %v", got, want)
	}
	var deletes []string
	for _, c := range e.aws.Calls() {
		if c.Action == "DeleteAccessKey" {
			deletes = append(deletes, c.Form.Get("AccessKeyId"))
		}
	}
	if !slices.Equal(deletes, []string{first}) {
		t.Errorf("deleted %v, want only the retired key %s", deletes, first)
	}
}

// TestRotateNeverRetiresTheOnlyWorkingKey: when the bundle's new key does
// not work, --finish stops and the old key stays active.
func TestRotateNeverRetiresTheOnlyWorkingKey(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	e.mustApply(cfg)
	old := e.bundle(cfg).AWSAccessKeyID
	out := mustRotate(t, cfg, e.deps, false, false)
	_, err := e.admin.IAM.UpdateAccessKey(context.Background(), &iam.UpdateAccessKeyInput{UserName: aws.String(s3bucket.NamesFor(cfg.Name).User),
		AccessKeyId: aws.String(out.New), Status: types.StatusTypeInactive})
	must(t, err)
	start := time.Now()
	if _, err := rotate(t, cfg, e.deps, true, false); err == nil || !strings.Contains(err.Error(), "the old key "+old+" stays active") ||
		!strings.Contains(err.Error(), out.New+" is Inactive") {
		t.Fatalf("finish with a broken new key: %v", err)
	}
	if got := e.userKeys(cfg); !slices.Contains(got, old+" Active") {
		t.Errorf("keys: %v", got)
	}
	// An inactive key is known from the listing, not waited for.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the finish waited %s for an inactive key", d)
	}
}

// TestRotateKeysGCS: the same on Google Cloud: the key file and the bundle
// are kept as .previous, the new key is written to the key file, and the
// old key is disabled and deleted.
func TestRotateKeysGCS(t *testing.T) {
	e := newGCSEnv(t)
	cfg := e.config(snowflakestage.Name)
	e.mustApply(cfg)
	email := gcsbucket.Params{Project: gcptest.Project, Names: gcsbucket.NamesFor(cfg.Name)}.ServiceAccountEmail()
	old := e.gcp.Keys(email)[0]
	out := mustRotate(t, cfg, e.deps, false, false)
	if out.Old != old || out.New == old || len(e.gcp.Keys(email)) != 2 {
		t.Fatalf("outcome %+v, keys %v", out, e.gcp.Keys(email))
	}
	prev, _ := os.ReadFile(providers.PreviousPath(gcsbucket.SettingsOf(&cfg).KeyFile))
	cur, _ := os.ReadFile(gcsbucket.SettingsOf(&cfg).KeyFile)
	if !strings.Contains(string(prev), old) || !strings.Contains(string(cur), out.New) {
		t.Error("the key file must hold the new key and its .previous the old one")
	}
	if b, _ := bundlefile.Read(cfg.Bundle); b == nil || b.GCPKeyID != out.New {
		t.Errorf("bundle %+v", b)
	}
	rep := verify(t, cfg, e.deps, wizard.VerifyOptions{})
	if c := find(rep, wizard.CheckRotation); c.Status != providers.Warn || !rep.OK {
		t.Errorf("verify during a rotation: %+v %+v", c, failing(rep))
	}
	mustRotate(t, cfg, e.deps, true, false)
	if got := e.gcp.Keys(email); !slices.Equal(got, []string{out.New}) {
		t.Errorf("keys after phase 2: %v", got)
	}
	for _, f := range []string{providers.PreviousPath(gcsbucket.SettingsOf(&cfg).KeyFile), providers.PreviousPath(cfg.Bundle)} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there", f)
		}
	}
	if rep := verify(t, cfg, e.deps, wizard.VerifyOptions{}); !rep.OK {
		t.Errorf("verify after the rotation: %+v", failing(rep))
	}
}

// TestRotateGCSStoppedBeforeTheStateSawTheKey: a first phase killed once
// the new key was in the key file but before the state file recorded it
// resumes with the key file's key in the bundle (the key file's key is the
// setup's, as init's check holds), not the old key the state still names.
func TestRotateGCSStoppedBeforeTheStateSawTheKey(t *testing.T) {
	e := newGCSEnv(t)
	cfg := e.config(snowflakestage.Name)
	e.mustApply(cfg)
	email := gcsbucket.Params{Project: gcptest.Project, Names: gcsbucket.NamesFor(cfg.Name)}.ServiceAccountEmail()
	out := mustRotate(t, cfg, e.deps, false, false)
	// As the kill left it: the state's key and the bundle are the old
	// ones, the new key is not recorded as byob's, and the intent it was
	// made under is still open.
	state, err := wizard.LoadState(cfg.State)
	must(t, err)
	state.Values[gcsbucket.KeyID.Name] = out.Old
	created := slices.DeleteFunc(gcsbucket.CreatedKeys(providers.NewValues(state.Values)), func(id string) bool { return id == out.New })
	state.Values["gcp.created_keys"] = strings.Join(created, ",")
	in, _ := json.Marshal(map[string]any{"at": time.Now().UTC(), "known": []string{out.Old}})
	state.Values["gcp.key_intent"] = string(in)
	must(t, state.Save(nil))
	prev, err := os.ReadFile(providers.PreviousPath(cfg.Bundle))
	must(t, err)
	must(t, os.WriteFile(cfg.Bundle, prev, 0o600))

	again := mustRotate(t, cfg, e.deps, false, false)
	b, _ := bundlefile.Read(cfg.Bundle)
	if again.New != out.New || b == nil || b.GCPKeyID != out.New || len(e.gcp.Keys(email)) != 2 {
		t.Errorf("resumed phase: %+v, bundle %+v, keys %v; want the key file's %s", again, b, e.gcp.Keys(email), out.New)
	}
	state, _ = wizard.LoadState(cfg.State)
	v := providers.NewValues(state.Values)
	if v.Get(gcsbucket.KeyID) != out.New || v.Get(providers.Key{Name: "gcp.key_intent"}) != "" || !slices.Contains(gcsbucket.CreatedKeys(v), out.New) {
		t.Errorf("the state names key %s (want %s), intent %q, created %v (was %v)", v.Get(gcsbucket.KeyID), out.New, v.Get(providers.Key{Name: "gcp.key_intent"}), gcsbucket.CreatedKeys(v), created)
	}
}
