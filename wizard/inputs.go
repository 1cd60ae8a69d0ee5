package wizard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/growthloop/byob/providers"
)

// StateInputs are a setup's inputs as the state file keeps them: each
// field of the flag table under its own key (providers.Field.State), so a
// renamed flag never changes the file and a new flag is one row of the
// table. How byob reached the clouds is kept too (never a secret), so
// later runs need no flags.
type StateInputs struct{ cfg Config }

// InputsOf is what the state file keeps of cfg.
func InputsOf(cfg Config) *StateInputs { return &StateInputs{cfg: cfg} }

// Config is the setup the inputs describe; state names the state file.
func (in *StateInputs) Config(state string) Config {
	c := in.cfg
	c.State = state
	return c
}

// MarshalJSON writes every kept field that has a value, in the table's
// order; a "group.key" field goes into the object group, after the
// others.
func (in *StateInputs) MarshalJSON() ([]byte, error) {
	top := newObject()
	groups := map[string]*object{}
	var order []string
	for _, f := range providers.Fields {
		if f.State == "" || f.String(&in.cfg) == "" {
			continue
		}
		o, key := top, f.State
		if group, k, ok := strings.Cut(f.State, "."); ok {
			if groups[group] == nil {
				groups[group] = newObject()
				order = append(order, group)
			}
			o, key = groups[group], k
		}
		if err := o.add(key, f.Get(&in.cfg)); err != nil {
			return nil, err
		}
	}
	for _, g := range order {
		if err := top.add(g, groups[g]); err != nil {
			return nil, err
		}
	}
	return top.MarshalJSON()
}

// UnmarshalJSON reads the inputs strictly: a key the table does not know,
// or a value of the wrong type, is an error.
func (in *StateInputs) UnmarshalJSON(b []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return err
	}
	var c Config
	set := func(key string, raw json.RawMessage) error {
		f, ok := stateField(key)
		if !ok {
			return fmt.Errorf("unknown field %q", key)
		}
		var s string
		var n int
		v, put := any(&s), func() { f.Put(&c, s) }
		if f.IsNumber() {
			v, put = &n, func() { f.Put(&c, n) }
		}
		if err := json.Unmarshal(raw, v); err != nil {
			return fmt.Errorf("%s: %v", key, strings.TrimPrefix(err.Error(), "json: "))
		}
		put()
		return nil
	}
	for key, raw := range top {
		if isGroup(key) {
			var g map[string]json.RawMessage
			if err := json.Unmarshal(raw, &g); err != nil {
				return fmt.Errorf("%s: %v", key, strings.TrimPrefix(err.Error(), "json: "))
			}
			for k, v := range g {
				if err := set(key+"."+k, v); err != nil {
					return err
				}
			}
			continue
		}
		if err := set(key, raw); err != nil {
			return err
		}
	}
	in.cfg = c
	return nil
}

// stateField is the field kept under key.
func stateField(key string) (providers.Field, bool) {
	for _, f := range providers.Fields {
		if f.State != "" && f.State == key {
			return f, true
		}
	}
	return providers.Field{}, false
}

// isGroup says whether key names an object of the inputs.
func isGroup(key string) bool {
	for _, f := range providers.Fields {
		if g, _, ok := strings.Cut(f.State, "."); ok && g == key {
			return true
		}
	}
	return false
}

// object is a JSON object that keeps its keys' order.
type object struct {
	keys []string
	vals map[string]json.RawMessage
}

func newObject() *object { return &object{vals: map[string]json.RawMessage{}} }

func (o *object) add(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	o.keys, o.vals[key] = append(o.keys, key), b
	return nil
}

func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(o.vals[k])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// inputsV1 reads a version 1 file's inputs: the setup flags, keyed by
// flag name.
func inputsV1(raw json.RawMessage) (*StateInputs, error) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	var c Config
	for flag, v := range m {
		f, ok := providers.Lookup(flag)
		if !ok || f.Kind != providers.SetupField {
			return nil, fmt.Errorf("unknown input %q", flag)
		}
		if err := f.Set(&c, fmt.Sprint(v)); err != nil {
			return nil, fmt.Errorf("input %q: %v", flag, err)
		}
	}
	return InputsOf(c), nil
}
