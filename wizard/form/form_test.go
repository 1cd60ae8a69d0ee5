package form

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/growthloop/byob/providers"
	_ "github.com/growthloop/byob/providers/all"
	"github.com/growthloop/byob/providers/s3bucket"
	"github.com/growthloop/byob/providers/snowflakestage"
	"github.com/growthloop/byob/wizard"
)

// answer runs forms in accessible mode with the given lines as input.
func answer(t *testing.T, lines ...string) (Options, *bytes.Buffer) {
	t.Helper()
	out := &bytes.Buffer{}
	return Options{Accessible: true, In: strings.NewReader(strings.Join(lines, "\n") + "\n"), Out: out, Plain: true}, out
}

func newAnswers(given ...string) (Answers, *providers.Config) {
	cfg := &providers.Config{TTLDays: providers.DefaultTTLDays}
	cfg.ApplyDefaults()
	return Answers{Config: cfg, DryRun: true, Given: func(f string) bool {
		for _, g := range given {
			if g == f {
				return true
			}
		}
		return false
	}}, cfg
}

// run asks one page.
func run(t *testing.T, a Answers, page providers.Page, o Options) {
	t.Helper()
	a.Accessible = o.Accessible
	r := newRunner(context.Background(), o)
	if err := r.run(Page(a, page, r.load)); err != nil {
		t.Fatal(err)
	}
}

func TestCloudPage(t *testing.T) {
	a, cfg := newAnswers()
	o, out := answer(t, "2", "2")
	run(t, a, providers.PageCloud, o)
	if cfg.Provider != "gcs" || cfg.Warehouse != "snowflake" {
		t.Errorf("provider %q warehouse %q", cfg.Provider, cfg.Warehouse)
	}
	for _, want := range []string{"Where should the export bucket live?", "1. Amazon S3", "2. Google Cloud Storage", "Does a warehouse unload into the bucket?", "2. Snowflake"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestGivenFlagsAreNotAsked(t *testing.T) {
	a, _ := newAnswers("provider", "warehouse")
	if Page(a, providers.PageCloud, nil) != nil {
		t.Error("a page with every value given must not run")
	}
	a, _ = newAnswers("org-id")
	if Page(a, providers.PageGrowthLoop, nil) == nil {
		t.Error("the setup name is still asked")
	}
}

func TestBucketIsSuggestedAndValidatedAsTyped(t *testing.T) {
	a, cfg := newAnswers()
	cfg.Provider, cfg.OrgID = "s3", "Acme_42"
	// A bad name is refused with the flag's rule and asked again; an empty
	// answer then keeps the suggestion.
	o, out := answer(t, "Bad_Bucket", "", "", "0", "14")
	run(t, a, providers.PageBucket, o)
	if cfg.Bucket != "growthloop-acme-42-exports" || cfg.Prefix != providers.DefaultPrefix || cfg.TTLDays != 14 {
		t.Errorf("bucket %q prefix %q ttl %d", cfg.Bucket, cfg.Prefix, cfg.TTLDays)
	}
	for _, want := range []string{"may contain only lowercase letters", "must be between 1 and 3650 days"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestRegionOffersTheWarehousesFirst(t *testing.T) {
	a, cfg := newAnswers()
	cfg.Provider, cfg.Warehouse = "s3", "snowflake"
	o, out := answer(t, "1")
	run(t, a, providers.PageWhere, o)
	if s3bucket.SettingsOf(cfg).Region != "" || !strings.Contains(out.String(), "1. The Snowflake account's region") {
		t.Errorf("region %q:\n%s", s3bucket.SettingsOf(cfg).Region, out)
	}
	cfg.Warehouse = providers.WarehouseNone
	o, _ = answer(t, regionNumber(t, "us-west-2", 0))
	run(t, a, providers.PageWhere, o)
	if s3bucket.SettingsOf(cfg).Region != "us-west-2" {
		t.Errorf("region %q", s3bucket.SettingsOf(cfg).Region)
	}
}

// regionNumber is the answer that picks region from the AWS SDK's list,
// after skip choices offered first.
func regionNumber(t *testing.T, region string, skip int) string {
	t.Helper()
	i := slices.IndexFunc(s3bucket.Regions(), func(r s3bucket.Region) bool { return r.Name == region })
	if i < 0 {
		t.Fatalf("the SDK knows no %s", region)
	}
	return strconv.Itoa(skip + i + 1)
}

// TestAnotherRegionIsTyped: the list ends with a choice to type a region
// it does not hold; what is typed is checked with --region's rules.
func TestAnotherRegionIsTyped(t *testing.T) {
	a, cfg := newAnswers()
	cfg.Provider, cfg.Warehouse = "s3", providers.WarehouseNone
	last := strconv.Itoa(len(s3bucket.Regions()) + 1)
	o, out := answer(t, last, "Not A Region", "eu-south-9")
	a.Accessible = true
	r := newRunner(context.Background(), o)
	if err := r.run(Page(a, providers.PageWhere, r.load)); err != nil {
		t.Fatal(err)
	}
	if err := r.run(a.others(providers.PageWhere)); err != nil {
		t.Fatal(err)
	}
	if s3bucket.SettingsOf(cfg).Region != "eu-south-9" || !strings.Contains(out.String(), "Another region (type its name)") || !strings.Contains(out.String(), "must look like an AWS region name") {
		t.Errorf("region %q:\n%s", s3bucket.SettingsOf(cfg).Region, out)
	}
}

func TestSnowflakeConnectionPages(t *testing.T) {
	a, cfg := newAnswers()
	a.DryRun = false
	home := t.TempDir()
	env := map[string]string{"HOME": home, "SNOWFLAKE_PASSWORD": "set"}
	a.Env = providers.Env{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	cfg.Provider, cfg.Warehouse = "s3", "snowflake"
	if Page(a, providers.PageConnection, nil) != nil {
		t.Error("without connections.toml the account is asked instead")
	}
	o, _ := answer(t, "acme-prod", "ENGINEER", "", "2")
	run(t, a, providers.PageAccount, o)
	sc := snowflakestage.SettingsOf(cfg).Connection
	if sc.Account != "acme-prod" || sc.User != "ENGINEER" || sc.Role != "ACCOUNTADMIN" || sc.Authenticator != "snowflake" {
		t.Errorf("%+v", sc)
	}
	if Page(a, providers.PageKeyFile, nil) != nil {
		t.Error("the private key is asked only for key-pair sign-in")
	}
	providers.UpdateSection(cfg, func(s *snowflakestage.Settings) { s.Connection = snowflakestage.Connection{} })
	o, _ = answer(t, "acme-prod", "ENGINEER", "", "3", "", "/keys/rsa_key.p8") // key pair: its file is asked, and required
	r := newRunner(context.Background(), o)
	if err := r.run(Page(a, providers.PageAccount, r.load)); err != nil {
		t.Fatal(err)
	}
	if err := r.run(Page(a, providers.PageKeyFile, r.load)); err != nil || snowflakestage.SettingsOf(cfg).Connection.PrivateKeyFile != "/keys/rsa_key.p8" {
		t.Errorf("key file %q: %v", snowflakestage.SettingsOf(cfg).Connection.PrivateKeyFile, err)
	}
}

// TestPasswordSignInNeedsThePassword: choosing the password with
// SNOWFLAKE_PASSWORD unset is refused at that question, which offers the
// other ways to sign in.
func TestPasswordSignInNeedsThePassword(t *testing.T) {
	a, cfg := newAnswers()
	a.DryRun = false
	home := t.TempDir()
	a.Env = providers.Env{LookupEnv: func(k string) (string, bool) { return map[string]string{"HOME": home}[k], k == "HOME" }}
	cfg.Provider, cfg.Warehouse = "s3", "snowflake"
	o, out := answer(t, "acme-prod", "ENGINEER", "", "2", "1")
	run(t, a, providers.PageAccount, o)
	if snowflakestage.SettingsOf(cfg).Connection.Authenticator != "externalbrowser" {
		t.Errorf("authenticator %q", snowflakestage.SettingsOf(cfg).Connection.Authenticator)
	}
	if !strings.Contains(out.String(), "SNOWFLAKE_PASSWORD is not set") || !strings.Contains(out.String(), "choose single sign-on or a key pair") {
		t.Errorf("output:\n%s", out)
	}
}

// TestAccessibleQuestionsAreReadOut: line by line, each question says its
// description and the value Enter keeps; an empty Enter at a choice asks
// again rather than picking one.
func TestAccessibleQuestionsAreReadOut(t *testing.T) {
	a, cfg := newAnswers()
	cfg.Provider, cfg.OrgID = "s3", "acme"
	o, out := answer(t, "", "", "", "")
	run(t, a, providers.PageBucket, o)
	for _, want := range []string{"(Enter keeps growthloop-acme-exports)", "(Enter keeps exports/)", "(Enter keeps 7)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	a, cfg = newAnswers()
	o, out = answer(t, "", "1", "2")
	run(t, a, providers.PageCloud, o)
	if cfg.Provider != "s3" || cfg.Warehouse != "snowflake" || !strings.Contains(out.String(), "Invalid: must be a number between 1 and 2") {
		t.Errorf("provider %q warehouse %q:\n%s", cfg.Provider, cfg.Warehouse, out)
	}
	if !strings.Contains(out.String(), "Does a warehouse unload into the bucket? With Snowflake, byob also creates") {
		t.Errorf("the description is not read out:\n%s", out)
	}
	a, cfg = newAnswers()
	cfg.Provider, cfg.Warehouse = "s3", providers.WarehouseNone
	o, out = answer(t, "", regionNumber(t, "us-west-2", 0))
	a.DryRun = false
	home := t.TempDir()
	a.Env = providers.Env{LookupEnv: func(k string) (string, bool) { return home, k == "HOME" }}
	run(t, a, providers.PageWhere, o)
	for _, bad := range []string{"?.", "/ filters", "\x1b"} {
		if strings.Contains(out.String(), bad) {
			t.Errorf("read out as %q, which a screen reader stumbles on:\n%s", bad, out)
		}
	}
	if !strings.Contains(out.String(), "Which AWS profile? Leave empty for the default credentials.") {
		t.Errorf("the profile question:\n%s", out)
	}
}

// TestTypedValueIsCheckedLive: the description tells the rule the text
// breaks as it is typed, and nothing for a good or empty text.
func TestTypedValueIsCheckedLive(t *testing.T) {
	typed := ""
	desc := live("Bucket name.", &typed, func(s string) error {
		if strings.Contains(s, "_") {
			return errors.New("may contain only lowercase letters")
		}
		return nil
	})
	for in, want := range map[string]string{"": "Bucket name.", "ok-name": "Bucket name.", "Bad_": "Bucket name.\n✗ may contain only lowercase letters"} {
		typed = in
		if got := desc(); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// TestDryRunSaysWhatItSkips: a dry run does not ask how to reach the
// clouds, and says so.
func TestDryRunSaysWhatItSkips(t *testing.T) {
	a, cfg := newAnswers("provider", "warehouse", "org-id", "name", "bucket", "prefix", "ttl-days", "region", "bundle", "state", "snowflake-database", "snowflake-schema", "growthloop-role")
	cfg.Provider, cfg.Warehouse = "s3", "snowflake"
	o, out := answer(t)
	_ = Ask(context.Background(), a, o)
	if !strings.Contains(out.String(), "A dry run connects nowhere, so how to reach Amazon S3 and Snowflake is not asked: it is when you apply.") {
		t.Errorf("output:\n%s", out)
	}
}

func TestAskWholeSetup(t *testing.T) {
	a, cfg := newAnswers()
	o, _ := answer(t,
		"1", "2", // S3, Snowflake
		"1234", "", // org id, name kept
		regionNumber(t, "us-west-2", 1), // after the Snowflake account's
		"", "", "14",                    // bucket suggested, prefix kept, TTL
		"ANALYTICS", "", "GROWTHLOOP", // database, schema kept, role
		"", "", // bundle and state kept
	)
	if err := Ask(context.Background(), a, o); err != nil {
		t.Fatal(err)
	}
	want := providers.Config{Provider: "s3", Bucket: "growthloop-1234-exports", Prefix: "exports/", OrgID: "1234", TTLDays: 14,
		Warehouse: "snowflake", Name: "growthloop", Bundle: providers.DefaultBundle, State: providers.DefaultState}.With(s3bucket.Settings{Region: "us-west-2"}).With(snowflakestage.Settings{Database: "ANALYTICS", Schema: "FLYWHEEL_SYSTEM", Integration: "FLYWHEEL_APP_AWS", Stage: "FLYWHEEL_EXTERNAL_STAGE", GrowthLoopRole: "GROWTHLOOP"})
	if !cfg.Equal(&want) {
		t.Errorf("config\n got %+v\nwant %+v", *cfg, want)
	}
}

func TestEndOfInputCancels(t *testing.T) {
	a, _ := newAnswers()
	o, _ := answer(t, "1")
	if err := Ask(context.Background(), a, o); !errors.Is(err, wizard.ErrCancelled) {
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
	go func() { done <- Ask(ctx, a, Options{Accessible: true, In: pr, Out: io.Discard}) }()
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
	two := []providers.Choice{{Value: "default"}, {Value: "prod"}}
	if got := r.load("Reading", func() ([]providers.Choice, error) { return two, nil }); len(got) != 2 {
		t.Errorf("load = %v", got)
	}
	if got := r.load("Reading", func() ([]providers.Choice, error) { return two[:1], errors.New("bad file") }); got != nil {
		t.Errorf("a list that failed to load must be asked as free text, got %v", got)
	}
	if got := r.load("Reading", nil); got != nil {
		t.Errorf("no source: %v", got)
	}
}
