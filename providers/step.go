// Package providers is the contract a cloud implements for byob: steps that
// observe, apply and undo one change each, the artifacts they apply, and the
// values they share through the state file.
package providers

import (
	"context"
	"errors"
	"fmt"

	"github.com/growthloop/byob/internal/prose"
	"github.com/growthloop/byob/providers/runenv"
	"github.com/growthloop/byob/templates"
)

// Status is what Check observed.
type Status string

// Statuses a step can be in.
const (
	Missing Status = "missing" // not there yet: Apply creates it
	Done    Status = "done"    // there and as wanted: nothing to do
	Drifted Status = "drifted" // there but different: Apply reconciles it
)

// Observation is the result of Check.
type Observation struct {
	Status Status
	// Reason says what differs (Drifted) or what was adopted (Done), for
	// the user. Never a secret.
	Reason string
	// Fix is what Apply would run to reconcile drift, when it is worth
	// showing (an ALTER statement).
	Fix []Artifact
	// Warning is, when Done, something beside byob's object that byob
	// leaves alone and the user should look at (a policy someone else
	// attached to byob's user): verify warns with it.
	Warning string
}

// Artifact is a document a step applies, exactly as it sends it.
type Artifact struct {
	Name    string `json:"name"`
	Format  string `json:"format"` // FormatJSON, FormatSQL or FormatText
	Content string `json:"content"`
	// Value is what Content was made from (a templates or snowflake
	// type), for renderers that write the same document in another
	// language (byob render); nil for a description.
	Value any `json:"-"`
}

// Artifact formats.
const (
	FormatJSON = "json"
	FormatSQL  = "sql"
	FormatText = "text"
)

// Step is one idempotent change in the customer's cloud.
type Step interface {
	// ID is stable across versions: it keys the state file.
	ID() string
	// Title is a short human description ("Create IAM role x").
	Title() string
	// Needs lists the IDs of the steps that must be done first.
	Needs() []string
	// Artifacts are the documents Apply sends, rendered with what v knows;
	// unknown values appear as placeholders.
	Artifacts(v *Values) []Artifact
	// Check observes the cloud. It may record what it read into v. r is
	// the run it is part of (see runenv.Run), as for Apply and Destroy.
	// It reads through r (runenv.Read), so that its reads are made once
	// for Check, Gate and Apply; it changes nothing.
	Check(ctx context.Context, r *runenv.Run, v *Values) (Observation, error)
	// Apply makes the step done and records its outputs into v. It is
	// called only after Check reported Missing or Drifted; the engine
	// then drops the step's reads (runenv.Run.Forget). A read Apply needs
	// after its own change goes to the cloud, not through r.
	Apply(ctx context.Context, r *runenv.Run, v *Values) error
	// Teardown says what Destroy would do: remove only what byob made (v
	// records it: CreatedKey, a key ledger, the grants it ran), and leave
	// what it found in place. In a dry run (no connection) it decides
	// from v alone; connected, it may read the cloud. It changes nothing.
	Teardown(ctx context.Context, v *Values) (Teardown, error)
	// Destroy removes what Teardown said it removes, and forgets it in v.
	// It is called only then, and is idempotent: what is gone already is
	// done. What it finds held by something byob did not make, it leaves,
	// returning a *Kept error.
	Destroy(ctx context.Context, r *runenv.Run, v *Values) error
	// Reads and Writes declare the values the step shares with others: a
	// value one step writes may only be read by the steps that need it
	// (the plan checks), so no step reads what another is still setting.
	Reads() []Key
	Writes() []Key
}

// Teardown is what destroy does with what a step made.
type Teardown struct {
	// Remove says what destroy removes ("delete IAM user x"); "" for
	// nothing.
	Remove string
	// Keep says what stays, and why; "" for nothing.
	Keep string
	// Gone says what the step made is gone already (deleted by hand):
	// destroy forgets it, and calls no Destroy. Remove says so.
	Gone bool
}

// TeardownOf is the teardown of a step that removes what byob created
// (remove says how) and leaves what byob found in place (what names it).
func TeardownOf(v *Values, step, remove, what string) Teardown {
	switch {
	case Owned(v, step):
		return Teardown{Remove: remove}
	case Adopted(v, step):
		return Teardown{Keep: what + " was there before byob: left alone"}
	}
	return Teardown{}
}

// ErrGone is what a count of a bucket's objects returns when the bucket
// no longer exists.
var ErrGone = errors.New("gone")

// BucketTeardown is the teardown of the bucket byob made: it goes only
// with o.DeleteBucket, and one holding objects only with o.DeleteObjects
// as well (a usage error, before anything is removed). kept says how the
// bucket stays. count counts its object versions, up to a limit (more: there
// are others; ErrGone: no bucket); nil in a dry run. A bucket gone already
// is forgotten, whether asked to delete it or not.
func BucketTeardown(v *Values, step, bucket string, o DestroyOptions, kept string, count func() (n int, more bool, err error)) (Teardown, error) {
	what := "bucket " + bucket
	switch {
	case !Owned(v, step):
		return TeardownOf(v, step, "", what+", with its objects,"), nil
	case !o.DeleteBucket:
		if count != nil {
			// Kept only if it is still there: one deleted by hand is
			// forgotten, not said to stay.
			if _, _, err := count(); errors.Is(err, ErrGone) {
				return gone(what), nil
			}
		}
		return Teardown{Keep: what + " and its objects are kept, " + kept + " (--delete-bucket deletes it)"}, nil
	case count == nil && o.DeleteObjects:
		return Teardown{Remove: "delete every object (all versions) in " + what + ", then the bucket"}, nil
	case count == nil:
		return Teardown{Remove: "delete " + what + " if it is empty (--delete-objects deletes its objects too)"}, nil
	}
	n, more, err := count()
	switch {
	case errors.Is(err, ErrGone):
		return gone(what), nil
	case err != nil:
		return Teardown{}, err
	}
	objects := prose.Count(n, "object")
	if more {
		objects = fmt.Sprintf("%d or more objects", n)
	}
	switch {
	case n == 0:
		return Teardown{Remove: "delete " + what + " (it is empty)"}, nil
	case !o.DeleteObjects:
		return Teardown{}, Usagef("%s holds %s (versions included): pass --delete-objects as well to delete them with it, or leave out --delete-bucket to keep it", what, objects)
	}
	return Teardown{Remove: fmt.Sprintf("delete the %s (versions included) in %s, then the bucket", objects, what)}, nil
}

// gone is the teardown of a bucket deleted already.
func gone(what string) Teardown {
	return Teardown{Remove: "forget " + what + " (already deleted)", Gone: true}
}

// Kept is Destroy leaving something in place on purpose: something byob
// did not make holds on to it.
type Kept struct{ Reason string }

func (k *Kept) Error() string { return "left in place: " + k.Reason }

// Keepf returns a *Kept error.
func Keepf(format string, a ...any) error { return &Kept{Reason: fmt.Sprintf(format, a...)} }

// DestroyOptions are what byob destroy was asked to remove besides what
// byob made for GrowthLoop: the bucket it created, and its objects.
type DestroyOptions struct {
	DeleteBucket  bool
	DeleteObjects bool
}

// Basic holds the ID, title and dependencies most steps share.
type Basic struct {
	StepID    string
	StepTitle string
	StepNeeds []string
	// StepVerify says what verify's check of the step proves; the title
	// when empty.
	StepVerify string
	// StepReads and StepWrites are the values it shares.
	StepReads, StepWrites []Key
}

// Reading returns b reading keys.
func (b Basic) Reading(keys ...Key) Basic { b.StepReads = keys; return b }

// Writing returns b writing keys.
func (b Basic) Writing(keys ...Key) Basic { b.StepWrites = keys; return b }

// Reads implements Step.
func (b Basic) Reads() []Key { return b.StepReads }

// Writes implements Step.
func (b Basic) Writes() []Key { return b.StepWrites }

// VerifyTitle says what verify's check of the step proves.
func (b Basic) VerifyTitle() string {
	if b.StepVerify != "" {
		return b.StepVerify
	}
	return b.StepTitle
}

// ID implements Step.
func (b Basic) ID() string { return b.StepID }

// Title implements Step.
func (b Basic) Title() string { return b.StepTitle }

// Needs implements Step.
func (b Basic) Needs() []string { return b.StepNeeds }

// JSONArtifact renders a document as an indented JSON artifact.
func JSONArtifact(name string, doc any) Artifact {
	return Artifact{Name: name, Format: FormatJSON, Content: templates.IndentJSON(doc), Value: doc}
}

// ReadsEarly is a step whose Check reads only what no step before it
// changes. When ReadsEarly says v already knows enough to address those
// reads, the engine runs Check ahead, as the run starts, beside the
// preflight, on a copy of v: the reads it makes answer the step's Check,
// Gate and Apply in its turn (runenv.Read). A step holds no read itself.
type ReadsEarly interface {
	ReadsEarly(v *Values) bool
}

// Gate is a step that can tell before any change, from reads that need
// nothing made first, that it will fail (GrowthLoop's role does not exist,
// the schema is missing): the run stops while nothing is made. Gate only
// reads; v is a copy of the run's values, which the run drops.
type Gate interface {
	Gate(ctx context.Context, r *runenv.Run, v *Values) error
}
