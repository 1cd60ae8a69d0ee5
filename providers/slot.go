package providers

import (
	"maps"
	"reflect"
)

// Slot is where a field's value lives in a Config: read and written
// through it, never through a pointer kept for later, so a copy of a
// Config never shares a value with the original. A Config is written
// before a run (flags, form, defaults), never while a run reads it.
type Slot struct {
	get    func(*Config) any
	set    func(*Config, any)
	number bool
}

// Text is a string field of Config.
func Text(p func(c *Config) *string) Slot {
	return Slot{
		get: func(c *Config) any { return *p(c) },
		set: func(c *Config, v any) { *p(c) = v.(string) },
	}
}

// Number is an int field of Config.
func Number(p func(c *Config) *int) Slot {
	return Slot{
		get:    func(c *Config) any { return *p(c) },
		set:    func(c *Config, v any) { *p(c) = v.(int) },
		number: true,
	}
}

// SectionText is a string field of a provider's section T of Config.
func SectionText[T any](p func(s *T) *string) Slot {
	return Slot{
		get: func(c *Config) any { s := Section[T](c); return *p(&s) },
		set: func(c *Config, v any) { UpdateSection(c, func(s *T) { *p(s) = v.(string) }) },
	}
}

// SectionNumber is an int field of a provider's section T of Config.
func SectionNumber[T any](p func(s *T) *int) Slot {
	return Slot{
		get:    func(c *Config) any { s := Section[T](c); return *p(&s) },
		set:    func(c *Config, v any) { UpdateSection(c, func(s *T) { *p(s) = v.(int) }) },
		number: true,
	}
}

// Section is c's section of type T: the inputs a provider declares
// (its flags' values), the zero T when none was set. It is a copy.
func Section[T any](c *Config) T {
	s, _ := c.sections[reflect.TypeFor[T]()].(T)
	return s
}

// UpdateSection changes c's section of type T. The sections are copied
// first: a copy of c made before keeps its own.
func UpdateSection[T any](c *Config, change func(s *T)) {
	s := Section[T](c)
	change(&s)
	c.setSection(reflect.TypeFor[T](), s)
}

func (c *Config) setSection(t reflect.Type, s any) {
	m := maps.Clone(c.sections)
	if m == nil {
		m = map[reflect.Type]any{}
	}
	m[t] = s
	c.sections = m
}

// With is c with the sections given (values, not pointers, of the
// providers' section types) in place of its own.
func (c Config) With(sections ...any) Config {
	for _, s := range sections {
		if t := reflect.TypeOf(s); t.Kind() != reflect.Struct {
			panic("providers: Config.With takes a section struct, not a " + t.String())
		}
		c.setSection(reflect.TypeOf(s), s)
	}
	return c
}

// Equal reports whether c and o hold the same inputs.
func (c *Config) Equal(o *Config) bool {
	for _, f := range Fields {
		if f.Get(c) != f.Get(o) {
			return false
		}
	}
	return c.AllowUnknownRegion == o.AllowUnknownRegion
}
