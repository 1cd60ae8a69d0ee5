package providers

import "context"

type checkpointKey struct{}

// WithCheckpoint returns ctx through which a step saves the values it has
// recorded so far (see Checkpoint).
func WithCheckpoint(ctx context.Context, save func() error) context.Context {
	return context.WithValue(ctx, checkpointKey{}, save)
}

// Checkpoint saves the values the step has recorded so far to the state
// file. A step calls it before a change it must not lose track of (the
// intent to create a key), and as soon as the cloud answered one (the new
// key's id), before it waits on anything: a run killed at any moment then
// leaves a record of everything it made. Outside a run it does nothing.
func Checkpoint(ctx context.Context) error {
	if save, ok := ctx.Value(checkpointKey{}).(func() error); ok {
		return save()
	}
	return nil
}

// CreatedKey records that byob created what step manages, rather than
// adopting something that was there: only what byob created is ever
// removed. The runner sets it.
func CreatedKey(step string) Key { return Key{Name: "created." + step} }

// ApplyingKey records, before a step creates what was missing, that it is
// about to: when a run is killed between the cloud's change and the
// record of it, the next run finds the object and knows byob made it.
func ApplyingKey(step string) Key { return Key{Name: "applying." + step} }

// AdoptedKey records that what step manages was in place when byob first
// looked (an existing bucket, a grant someone made): destroy leaves it.
// The runner sets it.
func AdoptedKey(step string) Key { return Key{Name: "adopted." + step} }

// Owned reports whether byob created (or was creating) what step manages.
func Owned(v *Values, step string) bool {
	return v.Get(CreatedKey(step)) != "" || v.Get(ApplyingKey(step)) != ""
}

// Adopted reports whether what step manages was there before byob.
func Adopted(v *Values, step string) bool { return v.Get(AdoptedKey(step)) != "" }

// Forget drops what v records of step's object, once destroy removed it.
func Forget(v *Values, step string) {
	v.Delete(CreatedKey(step))
	v.Delete(ApplyingKey(step))
}
