package providers

import (
	"context"
	"slices"

	"github.com/growthloop/byob/providers/bundlefile"
)

// What a provider adds to byob render and byob bundle besides its
// renderers (render/terraform, render/cloudformation, render/raw).

// RenderFlag is a flag of byob render a provider declares: a value only
// applying learns, given so that the documents hold it instead of a
// placeholder.
type RenderFlag struct {
	Flag  string // without the dashes: "aws-account-id"
	Usage string
	// Key is the value it gives.
	Key Key
	// Check returns the rule a given value breaks; nil when it is fine.
	Check func(value string) error
}

// RenderFlagger is a provider with flags of its own for byob render.
type RenderFlagger interface {
	RenderFlags() []RenderFlag
}

// Handed is what the outputs of a setup applied from byob render's code
// hand over to byob bundle: the bundle (without the key's secret where
// the outputs only point at it), and the file beside it.
type Handed struct {
	Bundle bundlefile.Bundle
	// Name is byob's setup name, from which the providers' names derive.
	Name string
	// KeyFile is a key file GrowthLoop takes beside the bundle (a service
	// account's key); nil for none.
	KeyFile []byte
	// Fetch reads the key's secret from where the outputs point (a stack's
	// secret) into b, through conn, the connection to the bucket's cloud;
	// nil when the outputs hold the key.
	Fetch func(ctx context.Context, conn Conn, b *bundlefile.Bundle) error
}

// FetchKey reads the key's secret the outputs point at; nothing when
// they held the key.
func (h *Handed) FetchKey(ctx context.Context, conn Conn) error {
	if h.Fetch == nil {
		return nil
	}
	return h.Fetch(ctx, conn, &h.Bundle)
}

// BundleReader is a bucket provider that takes its inputs back from a
// bundle (byob bundle makes the setup's config from the outputs).
type BundleReader interface {
	// FromBundle sets c's inputs of the provider that b records; keyFile
	// is where a key file beside the bundle is written, "" for none.
	FromBundle(c *Config, b *bundlefile.Bundle, keyFile string)
}

// Registered are the registered providers, in registration order.
func Registered() []Provider { return slices.Clone(registry) }
