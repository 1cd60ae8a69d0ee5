package form

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/growthloop/byob/wizard"
)

// answer runs one form in accessible mode with the given lines as input.
func answer(t *testing.T, lines ...string) (Options, *bytes.Buffer) {
	t.Helper()
	out := &bytes.Buffer{}
	return Options{Accessible: true, In: strings.NewReader(strings.Join(lines, "\n") + "\n"), Out: out, Plain: true}, out
}

func newAnswers(given ...string) (Answers, *wizard.Config) {
	cfg := &wizard.Config{TTLDays: wizard.DefaultTTLDays}
	cfg.ApplyDefaults()
	return Answers{Config: cfg, Conn: &wizard.Connections{}, DryRun: true, Given: func(f string) bool {
		for _, g := range given {
			if g == f {
				return true
			}
		}
		return false
	}}, cfg
}

func TestCloudForm(t *testing.T) {
	a, cfg := newAnswers()
	o, out := answer(t, "2", "2")
	if err := newRunner(context.Background(), o).run(Cloud(a)); err != nil {
		t.Fatal(err)
	}
	if cfg.Provider != wizard.ProviderGCS || cfg.Warehouse != wizard.WarehouseSnowflake {
		t.Errorf("provider %q warehouse %q", cfg.Provider, cfg.Warehouse)
	}
	for _, want := range []string{"Where should the export bucket live?", "1. Amazon S3", "2. Google Cloud Storage", "Does a warehouse unload into the bucket?"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestGivenFlagsAreNotAsked(t *testing.T) {
	a, _ := newAnswers("provider", "warehouse")
	if Cloud(a) != nil {
		t.Error("a form with every value given must not run")
	}
	a, _ = newAnswers("org-id")
	if f := GrowthLoop(a); f == nil {
		t.Error("the setup name is still asked")
	}
}

func TestBucketIsSuggestedAndValidatedAsTyped(t *testing.T) {
	a, cfg := newAnswers()
	cfg.Provider, cfg.OrgID = wizard.ProviderS3, "Acme_42"
	// A bad name is refused with the flag's rule and asked again; an empty
	// answer then keeps the suggestion.
	o, out := answer(t, "Bad_Bucket", "", "", "0", "14")
	if err := newRunner(context.Background(), o).run(Bucket(a)); err != nil {
		t.Fatal(err)
	}
	if cfg.Bucket != "growthloop-acme-42-exports" || cfg.Prefix != wizard.DefaultPrefix || cfg.TTLDays != 14 {
		t.Errorf("bucket %q prefix %q ttl %d", cfg.Bucket, cfg.Prefix, cfg.TTLDays)
	}
	for _, want := range []string{"may contain only lowercase letters", "must be between 1 and 3650 days"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestRegionOffersSnowflakesFirst(t *testing.T) {
	a, cfg := newAnswers()
	cfg.Provider, cfg.Warehouse = wizard.ProviderS3, wizard.WarehouseSnowflake
	o, out := answer(t, "1")
	if err := newRunner(context.Background(), o).run(Where(a, nil, "")); err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "" || !strings.Contains(out.String(), "1. The Snowflake account's region") {
		t.Errorf("region %q:\n%s", cfg.Region, out)
	}
	cfg.Warehouse = wizard.WarehouseNone
	o, _ = answer(t, "4")
	if err := newRunner(context.Background(), o).run(Where(a, nil, "")); err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "us-west-2" {
		t.Errorf("region %q", cfg.Region)
	}
}

func TestConnectionsFallBackToFreeText(t *testing.T) {
	a, _ := newAnswers()
	a.DryRun = false
	a.Config.Provider, a.Config.Warehouse = wizard.ProviderS3, wizard.WarehouseSnowflake
	if SnowflakeConnection(a, nil) != nil {
		t.Error("without connections.toml the account is asked instead")
	}
	o, _ := answer(t, "acme-prod", "ENGINEER", "", "2")
	if err := newRunner(context.Background(), o).run(SnowflakeAccount(a)); err != nil {
		t.Fatal(err)
	}
	sc := a.Conn.Snowflake
	if sc.Account != "acme-prod" || sc.User != "ENGINEER" || sc.Authenticator != "snowflake" {
		t.Errorf("%+v", sc)
	}
	o, _ = answer(t, "acme-prod", "ENGINEER", "", "3", "", "/keys/rsa_key.p8") // key pair: its file is asked, and required
	a.Conn.Snowflake = wizard.Connections{}.Snowflake
	r := newRunner(context.Background(), o)
	if err := r.run(SnowflakeAccount(a)); err != nil {
		t.Fatal(err)
	}
	if err := r.run(SnowflakeKeyFile(a)); err != nil || a.Conn.Snowflake.PrivateKeyFile != "/keys/rsa_key.p8" {
		t.Errorf("key file %q: %v", a.Conn.Snowflake.PrivateKeyFile, err)
	}
	a.Conn.Snowflake = wizard.Connections{}.Snowflake
	o, _ = answer(t, "2")
	if err := newRunner(context.Background(), o).run(SnowflakeConnection(a, []string{"dev", "prod"})); err != nil || a.Conn.Snowflake.Connection != "prod" {
		t.Errorf("connection %q: %v", a.Conn.Snowflake.Connection, err)
	}
	o, _ = answer(t, "3", "1") // profile prod, Snowflake's region
	if err := newRunner(context.Background(), o).run(Where(a, []string{"default", "prod"}, "")); err != nil || a.Conn.AWSProfile != "prod" {
		t.Errorf("profile %q: %v", a.Conn.AWSProfile, err)
	}
}

func TestAskWholeSetup(t *testing.T) {
	a, cfg := newAnswers()
	o, _ := answer(t,
		"1", "2", // S3, Snowflake
		"1234", "", // org id, name kept
		"5",          // us-west-2
		"", "", "14", // bucket suggested, prefix kept, TTL
		"ANALYTICS", "", "GROWTHLOOP", // database, schema kept, role
		"", "", // bundle and state kept
	)
	if err := Ask(context.Background(), a, Sources{}, o); err != nil {
		t.Fatal(err)
	}
	want := wizard.Config{Provider: "s3", Bucket: "growthloop-1234-exports", Region: "us-west-2", Prefix: "exports/", OrgID: "1234", TTLDays: 14,
		Warehouse: "snowflake", Name: "growthloop", SnowflakeDatabase: "ANALYTICS", SnowflakeSchema: wizard.DefaultSchema,
		Integration: wizard.DefaultIntegrationS3, Stage: wizard.DefaultStage, GrowthLoopRole: "GROWTHLOOP",
		Bundle: wizard.DefaultBundle, State: wizard.DefaultState}
	if *cfg != want {
		t.Errorf("config\n got %+v\nwant %+v", *cfg, want)
	}
}

func TestEndOfInputCancels(t *testing.T) {
	a, _ := newAnswers()
	o, _ := answer(t, "1")
	if err := Ask(context.Background(), a, Sources{}, o); !errors.Is(err, wizard.ErrCancelled) {
		t.Errorf("err = %v", err)
	}
}

func TestInterruptWhileWaitingForAnAnswer(t *testing.T) {
	// In accessible mode Ctrl-C is a signal that cancels the context while
	// a prompt waits for a line that never comes.
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	a, _ := newAnswers()
	done := make(chan error, 1)
	go func() { done <- Ask(ctx, a, Sources{}, Options{Accessible: true, In: pr, Out: io.Discard}) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, wizard.ErrCancelled) {
			t.Errorf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Ask kept waiting after the interrupt")
	}
}

func TestListsThatCannotLoadAreEmpty(t *testing.T) {
	r := newRunner(context.Background(), Options{Accessible: true, Out: io.Discard})
	if got := r.load("Reading", func() ([]string, error) { return []string{"default", "prod"}, nil }); len(got) != 2 {
		t.Errorf("load = %v", got)
	}
	if got := r.load("Reading", func() ([]string, error) { return []string{"half"}, errors.New("bad file") }); got != nil {
		t.Errorf("a list that failed to load must be asked as free text, got %v", got)
	}
	if got := r.load("Reading", nil); got != nil {
		t.Errorf("no source: %v", got)
	}
}
