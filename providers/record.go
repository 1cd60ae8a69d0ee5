package providers

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
