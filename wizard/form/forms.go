package form

import (
	"slices"
	"strconv"
	"strings"

	"charm.land/huh/v2"

	"github.com/growthloop/byob/providers"
)

// bound reads and writes a field of the config the form fills in.
type bound struct {
	f providers.Field
	c *providers.Config
}

func (a bound) Get() string { return a.f.Shown(a.c) }

func (a bound) Set(s string) { _ = a.f.Set(a.c, s) }

// keep is a text input's accessor: an empty answer keeps the value
// shown. typed receives the text as typed.
type keep struct {
	bound
	typed *string
}

func (k keep) Set(s string) {
	if k.typed != nil {
		*k.typed = s
	}
	if s = strings.TrimSpace(s); s != "" {
		k.bound.Set(s)
	}
}

// number is an int accessor; the validator has refused what is not a
// number. typed receives the text as typed.
type number struct {
	bound
	typed *string
}

func (d number) Set(s string) {
	*d.typed = s
	if _, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
		d.bound.Set(s)
	}
}

// live is a description that tells, as the user types, the rule the text
// breaks (huh itself checks only when the answer is submitted).
func live(description string, typed *string, valid func(string) error) func() string {
	return func() string {
		if strings.TrimSpace(*typed) == "" {
			return description
		}
		if err := valid(*typed); err != nil {
			return strings.TrimSpace(description + "\n✗ " + err.Error())
		}
		return description
	}
}

// required refuses an empty answer.
func required(s string) error {
	if strings.TrimSpace(s) == "" {
		return errRequired
	}
	return nil
}

// sentence ends a title with a full stop unless it ends with one of its
// own ("Which AWS profile?").
func sentence(s string) string {
	if strings.HasSuffix(s, "?") || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, ":") {
		return s
	}
	return s + "."
}

// SuggestBucket is a bucket name from the org id and setup name.
func SuggestBucket(orgID, name string) string {
	org := strings.Trim(strings.ReplaceAll(strings.ToLower(orgID), "_", "-"), "-")
	if org == "" {
		return name + "-exports"
	}
	return name + "-" + org + "-exports"
}

// skipped names what a dry run does not ask: how to reach the setup's
// clouds (by the title of their providers, once the cloud is chosen).
func (a Answers) skipped() []string {
	if !a.DryRun {
		return nil
	}
	var out []string
	for _, f := range providers.Fields {
		if f.Ask == nil || f.Kind != providers.ConnectionField || !a.ask(f.Flag) || !a.Config.Applies(f) {
			continue
		}
		if p := providers.Owner(f); p != nil && !slices.Contains(out, p.Title()) {
			out = append(out, p.Title())
		}
	}
	return out
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
	if len(out) > 0 && f.Ask.Other != "" {
		out = append(out, providers.Choice{Label: f.Ask.Other, Value: other})
	}
	// Where the bucket goes: the warehouse's own region first, which
	// preflight fills in (no transfer cost).
	if bp, wh := c.BucketProvider(), c.WarehouseProvider(); len(out) > 0 && wh != nil && bp != nil && f.Flag == bp.Location() {
		out = append([]providers.Choice{{Label: "The " + wh.Title() + " account's region (recommended: no transfer cost)"}}, out...)
	}
	return out
}

// other is the value of a select's Other choice until its text is asked.
const other = "\x00other"

// others is the form that asks as text the fields of page whose select
// answer was Other; nil when there are none.
func (a Answers) others(page providers.Page) *huh.Form {
	var fields []huh.Field
	for _, f := range providers.Fields {
		if f.Ask == nil || f.Ask.Page != page || f.Ask.Other == "" {
			continue
		}
		if !f.IsNumber() && f.String(a.Config) == other {
			// The list holds every region byob knows: one typed is newer.
			f.Put(a.Config, "")
			a.Config.AllowUnknownRegion = true
			fields = append(fields, a.question(f, nil))
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return huh.NewForm(huh.NewGroup(fields...))
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
// a text input checked as typed with the flag's own rules. In accessible
// mode, where only the title is read out, the title carries the
// description and the value Enter keeps.
func (a Answers) question(f providers.Field, choices []providers.Choice) huh.Field {
	q := f.Ask
	title := func(shown string) string {
		if !a.Accessible {
			return q.Title
		}
		t := q.Title
		if q.Description != "" {
			t = sentence(t) + " " + q.Description
		}
		if shown != "" {
			t += " (Enter keeps " + shown + ")"
		}
		return t
	}
	p := bound{f, a.Config}
	if !f.IsNumber() {
		if p.Get() == "" {
			p.Set(a.suggest(f))
		}
		if len(choices) > 0 {
			if p.Get() == "" && choices[0].Value != "" {
				p.Set(choices[0].Value)
			}
			opts := make([]huh.Option[string], len(choices))
			for i, ch := range choices {
				opts[i] = huh.NewOption(ch.Label, ch.Value)
			}
			// Not huh's pointer accessor: in accessible mode an empty
			// answer asks again instead of picking the option shown.
			sel := huh.NewSelect[string]().Title(title("")).Description(q.Description).Options(opts...).Accessor(p)
			if len(opts) > 8 {
				sel = sel.Height(8)
				if !a.Accessible { // a numbered list cannot be filtered
					sel = sel.Description(strings.TrimSpace(q.Description + " / filters the list."))
				}
			}
			if ch, ok := providers.Owner(f).(providers.AnswerChecker); ok {
				sel = sel.Validate(func(v string) error { return ch.CheckAnswer(f.Flag, v, a.Config, a.Env) })
			}
			return sel
		}
		shown, typed := p.Get(), new(string)
		if f.Ask.Other != "" {
			q = &providers.Question{Title: q.Title, Description: "As the cloud names it."}
		}
		in := huh.NewInput().Title(title(shown)).Placeholder(shown).Accessor(keep{p, typed})
		valid := validator(a, f, shown)
		if f.Kind == providers.ConnectionField {
			valid = func(s string) error { return required(s + shown) }
			if f.Flag == "profile" {
				valid = func(string) error { return nil } // empty: the default credentials
			}
		}
		return in.DescriptionFunc(live(q.Description, typed, valid), typed).Validate(valid)
	}
	shown, typed := p.Get(), new(string)
	valid := validator(a, f, shown)
	return huh.NewInput().Title(title(shown)).DescriptionFunc(live(q.Description, typed, valid), typed).Placeholder(shown).
		Accessor(number{p, typed}).Validate(valid)
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
