package gcsbucket

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	iamapi "google.golang.org/api/iam/v1"

	"github.com/growthloop/byob/internal/prose"
	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
)

// Check IDs of the probes.
const (
	CheckKeyWorks       = "gcs-key-works"
	CheckNoProjectGrant = "gcp-no-project-grant"
	CheckKeyHygiene     = "gcp-key-hygiene"
	maxKeyAge           = 90 * 24 * time.Hour
)

// Probes prove what GrowthLoop's key can do (write, read and list under
// the prefix) and that its service account holds nothing on the project,
// only on the bucket, and warn about a stale or extra key. reRun is the
// byob init command that restores the setup.
// heldKey is the key GrowthLoop holds on a setup taken over, whose file
// byob never had ("" otherwise).
func Probes(p Params, c *Clients, reRun string, now time.Time, rotating bool, heldKey string) []providers.Check {
	// They need nothing the preflight or another check finds: they start
	// beside the preflight.
	return []providers.Check{
		providers.Check{ID: CheckKeyWorks, Title: "GrowthLoop's key can write, read and list under " + p.Prefix, Run: func(ctx context.Context, r *runenv.Run) providers.CheckResult {
			if _, err := os.Stat(p.KeyFile); heldKey != "" && err != nil {
				return providers.Warned("byob rotate-keys (makes a key byob holds too, and proves it)",
					"key %s is GrowthLoop's: its file is not here, so byob cannot prove what it can do", heldKey)
			}
			return keyWorks(ctx, r, p, c, reRun)
		}}.Early(),
		providers.Check{ID: CheckNoProjectGrant, Title: "GrowthLoop's service account has no project-level role", Run: func(ctx context.Context, _ *runenv.Run) providers.CheckResult {
			return noProjectGrant(ctx, p, c)
		}}.Early(),
		providers.Check{ID: CheckKeyHygiene, Title: "GrowthLoop's service account has one recent key", Run: func(ctx context.Context, _ *runenv.Run) providers.CheckResult {
			return keyHygiene(ctx, p, c, now, rotating, reRun)
		}}.Early(),
	}
}

// keyFile is what the probe reads from a key file; the private key is
// left to the client library.
type keyFile struct {
	KeyID       string `json:"private_key_id"`
	ClientEmail string `json:"client_email"`
}

func keyWorks(ctx context.Context, r *runenv.Run, p Params, c *Clients, reRun string) providers.CheckResult {
	keyJSON, err := os.ReadFile(p.KeyFile)
	if err != nil {
		return providers.Failed(reRun+" (it writes a new key file)", "cannot read the key file %s: %v", p.KeyFile, errors.Unwrap(err))
	}
	var kf keyFile
	if json.Unmarshal(keyJSON, &kf) != nil || kf.KeyID == "" {
		return providers.Failed(reRun+" (it writes a new key file)", "%s is not a service account key file", p.KeyFile)
	}
	if kf.ClientEmail != p.ServiceAccountEmail() {
		return providers.Failed("pass --key-file of this setup", "%s is a key of %s, not of %s", p.KeyFile, kf.ClientEmail, p.ServiceAccountEmail())
	}
	// The key is listed and used at once; the listing says why a key that
	// is refused does not work.
	listed := make(chan struct{})
	var refused *providers.CheckResult
	go func() {
		defer close(listed)
		keys, err := listKeys(ctx, c, p.accountName())
		i := slices.IndexFunc(keys, func(k *iamapi.ServiceAccountKey) bool { return path.Base(k.Name) == kf.KeyID })
		var res providers.CheckResult
		switch {
		case err != nil && code(err) != http.StatusNotFound:
			res = providers.CannotRun(fmt.Errorf("list keys of %s: %w", p.ServiceAccountEmail(), err), "grant iam.serviceAccountKeys.list and re-run byob verify")
		case err != nil || i < 0:
			res = providers.Failed(reRun+" (it makes a new key; upload the new key file to GrowthLoop)", "key %s of %s no longer exists", kf.KeyID, p.KeyFile)
		case keys[i].Disabled:
			// A disabled key is refused for good, not while it propagates.
			res = providers.Failed("gcloud iam service-accounts keys enable "+kf.KeyID+" --iam-account "+p.ServiceAccountEmail(), "key %s of %s is disabled", kf.KeyID, p.KeyFile)
		default:
			return
		}
		refused = &res
	}()
	ks, err := c.KeyStorage(ctx, keyJSON)
	if err != nil {
		return providers.Failed(reRun+" (it writes a new key file)", "%s: %v", p.KeyFile, err)
	}
	name := providers.ProbeName(p.Prefix + providers.ProbeDir)
	body := providers.ProbeBody
	err = p.Propagation.Poll(ctx, r, "waiting for the key to work (new keys take up to a minute)", func(ctx context.Context) error {
		err := putObject(ctx, ks, p.Bucket, name, body)
		if err != nil && strings.Contains(err.Error(), "invalid_grant") {
			if <-listed; refused != nil {
				return err
			}
			return fmt.Errorf("%w: %v", runenv.ErrNotYet, err)
		}
		return err
	})
	if <-listed; err != nil && refused != nil {
		return *refused
	}
	remove := func(ctx context.Context) {
		_ = deleteObject(ctx, c.Storage, p.Bucket, name)
	}
	if err != nil {
		if mayHaveLanded(err) {
			r.Cleanup(ctx, remove)
		}
		return providers.Failed(reRun+" (restores the role and its binding on the bucket)", "write gs://%s/%s with key %s: %v", p.Bucket, name, kf.KeyID, err)
	}
	var (
		read    []byte
		readErr error
		names   []string
		listErr error
		wg      sync.WaitGroup
	)
	wg.Go(func() { read, readErr = getObject(ctx, ks, p.Bucket, name) })
	wg.Go(func() { names, listErr = listNames(ctx, ks, p.Bucket, p.Prefix+providers.ProbeDir) })
	wg.Wait()
	// The probe object goes once read and listed, in the background.
	r.Cleanup(ctx, remove)
	switch {
	case readErr != nil:
		return providers.Failed(reRun, "read gs://%s/%s with key %s: %v", p.Bucket, name, kf.KeyID, readErr)
	case !bytes.Equal(read, body):
		return providers.Failed(reRun, "read gs://%s/%s returned other content", p.Bucket, name)
	case listErr != nil:
		return providers.Failed(reRun, "list gs://%s/%s with key %s: %v", p.Bucket, p.Prefix, kf.KeyID, listErr)
	case !slices.Contains(names, name):
		return providers.Failed(reRun, "listing gs://%s/%s does not show the probe object", p.Bucket, p.Prefix)
	}
	return providers.Passed("wrote, read and listed gs://%s/%s", p.Bucket, name)
}

func noProjectGrant(ctx context.Context, p Params, c *Clients) providers.CheckResult {
	grants := &projectGrantStep{p: p, c: c}
	_, roles, err := grants.held(ctx)
	if err != nil {
		return providers.CannotRun(err, "grant resourcemanager.projects.getIamPolicy and re-run byob verify")
	}
	if len(roles) == 0 {
		return providers.Passed("no binding on project %s", p.Project)
	}
	return providers.Failed("byob init --prune (takes it off the project, keeping its role on the bucket), or by hand: "+grants.removeCommands(roles),
		"%s holds %s on the whole project %s, not only on the bucket", p.ServiceAccountEmail(), strings.Join(roles, ", "), p.Project)
}

// keyHygiene fails when the service account has no enabled key, and warns
// of a key file key older than 90 days (CIS 1.14 asks for rotation) and of
// more than one enabled key outside a rotation.
func keyHygiene(ctx context.Context, p Params, c *Clients, now time.Time, rotating bool, reRun string) providers.CheckResult {
	keys, err := listKeys(ctx, c, p.accountName())
	if code(err) == http.StatusNotFound {
		return providers.Failed(reRun+" (it makes the service account and a new key)", "service account %s does not exist", p.ServiceAccountEmail())
	}
	if err != nil {
		return providers.CannotRun(fmt.Errorf("list keys of %s: %w", p.ServiceAccountEmail(), err), "grant iam.serviceAccountKeys.list and re-run byob verify")
	}
	held := p.Keys.Delivered()
	var enabled []string
	for _, k := range keys {
		if k.Disabled {
			continue
		}
		enabled = append(enabled, keyID(k))
		created, err := time.Parse(time.RFC3339, k.ValidAfterTime)
		if keyID(k) == held && err == nil && now.Sub(created) > maxKeyAge {
			return providers.Warned("rotate the key (CIS 1.14): byob rotate-keys, upload the new bundle and key file in GrowthLoop, then byob rotate-keys --finish",
				"key %s is %d days old", held, int(now.Sub(created).Hours()/24))
		}
	}
	switch {
	case len(enabled) == 0:
		// No key: GrowthLoop cannot export, whatever else holds.
		return providers.Failed(reRun+" (it makes a new key; upload the new key file to GrowthLoop)", "%s has no enabled key", p.ServiceAccountEmail())
	case rotating && len(enabled) == 2:
		return providers.Passed("2 enabled keys while a rotation is under way (see key-rotation)")
	case len(enabled) > 1:
		return providers.Warned("delete the keys GrowthLoop does not use: gcloud iam service-accounts keys delete <id> --iam-account="+p.ServiceAccountEmail(),
			"%s has %d enabled keys", p.ServiceAccountEmail(), len(enabled))
	}
	return providers.Passed("%s, none older than %d days", prose.Count(len(enabled), "enabled key"), int(maxKeyAge.Hours()/24))
}
