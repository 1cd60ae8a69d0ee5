package form

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/huh"

	"github.com/growthloop/byob/providers"
)

// keep is a string accessor on which an empty answer keeps the value
// shown: a field cleared and submitted means its default, as in huh's
// accessible prompts.
type keep struct{ p *string }

func (k keep) Get() string { return *k.p }
func (k keep) Set(s string) {
	if s = strings.TrimSpace(s); s != "" {
		*k.p = s
	}
}

// number is an int accessor; the validator has refused what is not a
// number.
type number struct{ p *int }

func (d number) Get() string { return strconv.Itoa(*d.p) }
func (d number) Set(s string) {
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
		*d.p = n
	}
}

// required refuses an empty answer.
func required(s string) error {
	if strings.TrimSpace(s) == "" {
		return errRequired
	}
	return nil
}

// SuggestBucket is a bucket name from the org id and setup name.
func SuggestBucket(orgID, name string) string {
	org := strings.Trim(strings.ReplaceAll(strings.ToLower(orgID), "_", "-"), "-")
	if org == "" {
		return name + "-exports"
	}
	return name + "-" + org + "-exports"
}

// asked reports whether the form asks a field now.
func (a Answers) asked(f providers.Field) bool {
	q := f.Ask
	return q != nil && a.ask(f.Flag) && a.Config.Applies(f) &&
		(!a.DryRun || f.Kind != providers.ConnectionField) && (q.When == nil || q.When(a.Config))
}

// choices are the options of a select for a field, nil to ask for free
// text: the registered providers for --provider and --warehouse, else
// what the field's owner offers (loaded by load).
func (a Answers) choices(f providers.Field, load func(title string, fn func() ([]providers.Choice, error)) []providers.Choice) []providers.Choice {
	c := a.Config
	var out []providers.Choice
	switch f.Flag {
	case "provider":
		for _, p := range providers.BucketProviders() {
			out = append(out, providers.Choice{Label: p.Title(), Value: p.Name()})
		}
		return out
	case "warehouse":
		out = append(out, providers.Choice{Label: "No, GrowthLoop only", Value: providers.WarehouseNone})
		for _, w := range providers.Warehouses() {
			out = append(out, providers.Choice{Label: w.Title(), Value: w.Name()})
		}
		return out
	}
	asker, ok := providers.Owner(f).(providers.Asker)
	if !ok {
		return nil
	}
	read := func() ([]providers.Choice, error) { return asker.Choices(f.Flag, c, a.Env) }
	if f.Kind == providers.ConnectionField { // read from a local file: a spinner while it is
		out = load("Reading the choices for: "+f.Ask.Title, read)
	} else {
		out, _ = read()
	}
	// Where the bucket goes: the warehouse's own region first, which
	// preflight fills in (no transfer cost).
	if bp, wh := c.BucketProvider(), c.WarehouseProvider(); len(out) > 0 && wh != nil && bp != nil && f.Flag == bp.Location() {
		out = append([]providers.Choice{{Label: "The " + wh.Title() + " account's region (recommended: no transfer cost)"}}, out...)
	}
	return out
}

// suggest is a starting value for an empty field.
func (a Answers) suggest(f providers.Field) string {
	if f.Flag == "bucket" {
		return SuggestBucket(a.Config.OrgID, a.Config.Name)
	}
	if asker, ok := providers.Owner(f).(providers.Asker); ok {
		return asker.Suggest(f.Flag, a.Config, a.Env)
	}
	return ""
}

// question builds the huh field that asks f: a select of its choices, or
// a text input checked as typed with the flag's own rules.
func (a Answers) question(f providers.Field, choices []providers.Choice) huh.Field {
	q := f.Ask
	if p, ok := f.Value(a.Config).(*string); ok {
		if *p == "" {
			*p = a.suggest(f)
		}
		if len(choices) > 0 {
			if *p == "" && choices[0].Value != "" {
				*p = choices[0].Value
			}
			opts := make([]huh.Option[string], len(choices))
			for i, ch := range choices {
				opts[i] = huh.NewOption(ch.Label, ch.Value)
			}
			sel := huh.NewSelect[string]().Title(q.Title).Description(q.Description).Options(opts...).Value(p)
			if len(opts) > 8 {
				sel = sel.Height(8)
			}
			return sel
		}
		in := huh.NewInput().Title(q.Title).Description(q.Description).Placeholder(*p).Accessor(keep{p})
		if f.Kind == providers.ConnectionField {
			if f.Flag == "profile" {
				return in // empty: the default credentials
			}
			shown := *p
			return in.Validate(func(s string) error { return required(s + shown) })
		}
		return in.Validate(validator(a, f, *p))
	}
	n := f.Value(a.Config).(*int)
	return huh.NewInput().Title(q.Title).Description(q.Description).Placeholder(strconv.Itoa(*n)).
		Accessor(number{n}).Validate(validator(a, f, strconv.Itoa(*n)))
}

// Page builds the form of one page: the questions of the fields on it
// that apply and were not given; nil when there are none. load reads a
// field's choices (behind a spinner); nil reads them directly.
func Page(a Answers, page providers.Page, load func(title string, fn func() ([]providers.Choice, error)) []providers.Choice) *huh.Form {
	if load == nil {
		load = func(_ string, fn func() ([]providers.Choice, error)) []providers.Choice {
			list, err := fn()
			if err != nil {
				return nil
			}
			return list
		}
	}
	var fields []huh.Field
	for _, f := range providers.Fields {
		if f.Ask == nil || f.Ask.Page != page || !a.asked(f) {
			continue
		}
		choices := a.choices(f, load)
		if f.Ask.ChoicesOnly && len(choices) == 0 {
			continue
		}
		fields = append(fields, a.question(f, choices))
	}
	if len(fields) == 0 {
		return nil
	}
	return huh.NewForm(huh.NewGroup(fields...))
}
