package wizard

import (
	"context"
	"fmt"
	"time"

	"github.com/growthloop/byob/providers"
	"github.com/growthloop/byob/providers/runenv"
)

// Handover proves that the key of b, made by another tool (the Terraform
// or CloudFormation byob render wrote), can write, read and list under
// the prefix, and then writes b to cfg.Bundle as init would. A bundle
// already there for another bucket is kept unless force.
func Handover(ctx context.Context, cfg Config, deps Deps, b *Bundle, force bool) error {
	bg := runenv.NewBackground()
	defer bg.End()
	if existing, err := ReadBundle(cfg.Bundle); err != nil || existing != nil && !force && (existing.Provider != b.Provider || existing.Bucket != b.Bucket) {
		return providers.Usagef("bundle %s already exists for another setup: pass --force to overwrite it, or another --bundle", cfg.Bundle)
	}
	bp := cfg.BucketProvider()
	values := providers.NewValues(nil)
	if f, _ := providers.Lookup(bp.Location()); f.String(&cfg) != "" {
		values.Set(bp.LocationKey(), f.String(&cfg))
	}
	s := setups(&cfg, values, deps)[bp.Name()]
	s.Bundle, s.Now, s.ReRun = b, time.Now(), "check the key in the outputs you passed, then run byob bundle again"
	proved := false
	for _, probe := range bp.Probes(s) {
		if !probe.KeyProof {
			continue
		}
		res := probe.Run(ctx, runenv.NewRun(bg, runenv.Hooks{}))
		if res.Status != providers.Pass {
			return fmt.Errorf("the key does not work, so no bundle was written: %s; %s", res.Detail, res.Remedy)
		}
		proved = true
	}
	if !proved {
		return fmt.Errorf("%s has no check that proves a key", bp.Title())
	}
	return writeBundle(cfg.Bundle, b)
}
