package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// newDocsCmd builds `byob docs`: the manual pages and a markdown
// reference, made from the command tree itself so they never drift from
// --help. Packages install the man pages. (cobra/doc would do it too, but
// its markdown-to-roff library costs every start of byob its package
// initialisation.)
func newDocsCmd(f *Factory) *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "docs",
		Short: "Write byob's manual pages and markdown reference",
		Long: `docs writes a manual page per command into DIR/man (section 1, as
man byob-init reads it) and a markdown page per command into DIR/markdown,
both from the same text --help prints.`,
		Example: `  byob docs --dir dist/docs && man -l dist/docs/man/byob-init.1`,
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			man, md := filepath.Join(dir, "man"), filepath.Join(dir, "markdown")
			for _, d := range []string{man, md} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					return err
				}
			}
			v, _, _ := buildInfo()
			for _, cmd := range documented(c.Root()) {
				name := strings.ReplaceAll(cmd.CommandPath(), " ", "-")
				if err := os.WriteFile(filepath.Join(man, name+".1"), []byte(manPage(cmd, v)), 0o644); err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(md, strings.ReplaceAll(cmd.CommandPath(), " ", "_")+".md"), []byte(markdownPage(cmd)), 0o644); err != nil {
					return err
				}
			}
			_, err := fmt.Fprintf(f.IO.Out, "Wrote %s and %s.\n", man, md)
			return err
		},
	}
	c.Flags().StringVar(&dir, "dir", "docs/reference", "directory to write man/ and markdown/ into")
	return c
}

// documented are c and the commands under it that help lists.
func documented(c *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{c}
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			out = append(out, documented(sub)...)
		}
	}
	return out
}

// seeAlso are the commands a page links to: the parent, then the
// children, or for a command without any its siblings.
func seeAlso(c *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	near := c.Commands()
	if c.HasParent() {
		out = append(out, c.Parent())
		if !c.HasAvailableSubCommands() {
			near = c.Parent().Commands()
		}
	}
	for _, n := range near {
		if n != c && n.IsAvailableCommand() {
			out = append(out, n)
		}
	}
	return out
}

// flagsOf are the flags help prints for c.
func flagsOf(c *cobra.Command) *pflag.FlagSet {
	fs := c.NonInheritedFlags()
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" {
			f.Hidden = false
		}
	})
	return fs
}

// roff escapes text for a manual page: backslashes, hyphens, and a line
// that would start a request.
func roff(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}

// manPage is c's manual page, section 1.
func manPage(c *cobra.Command, version string) string {
	var b strings.Builder
	name := strings.ReplaceAll(c.CommandPath(), " ", "-")
	fmt.Fprintf(&b, ".TH %q \"1\" \"\" \"byob %s\" \"byob manual\"\n", strings.ToUpper(name), version)
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", roff(name), roff(c.Short))
	fmt.Fprintf(&b, ".SH SYNOPSIS\n.nf\n\\fB%s\\fR\n.fi\n", roff(c.UseLine()))
	if desc := strings.TrimSpace(c.Long); desc != "" || c.Short != "" {
		if desc == "" {
			desc = c.Short
		}
		fmt.Fprintf(&b, ".SH DESCRIPTION\n%s\n", strings.ReplaceAll(roff(desc), "\n\n", "\n.PP\n"))
	}
	if fs := flagsOf(c); fs.HasAvailableFlags() {
		b.WriteString(".SH OPTIONS\n")
		fs.VisitAll(func(f *pflag.Flag) {
			if f.Hidden {
				return
			}
			head := `\fB\-\-` + roff(f.Name) + `\fR`
			if f.Shorthand != "" {
				head = `\fB\-` + f.Shorthand + `\fR, ` + head
			}
			if f.Value.Type() != "bool" {
				head += " " + roff(f.Value.Type())
			}
			usage := f.Usage
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
				usage += fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(&b, ".TP\n%s\n%s\n", head, roff(usage))
		})
	}
	if c.Example != "" {
		fmt.Fprintf(&b, ".SH EXAMPLES\n.nf\n%s\n.fi\n", roff(c.Example))
	}
	if also := seeAlso(c); len(also) > 0 {
		var refs []string
		for _, a := range also {
			refs = append(refs, `\fB`+roff(strings.ReplaceAll(a.CommandPath(), " ", "-"))+`\fR(1)`)
		}
		fmt.Fprintf(&b, ".SH SEE ALSO\n%s\n", strings.Join(refs, ", "))
	}
	return b.String()
}

// markdownPage is c's reference page in markdown.
func markdownPage(c *cobra.Command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n%s\n\n", c.CommandPath(), c.Short)
	if c.Long != "" {
		fmt.Fprintf(&b, "%s\n\n", strings.TrimSpace(c.Long))
	}
	fmt.Fprintf(&b, "```\n%s\n```\n\n", c.UseLine())
	if c.Example != "" {
		fmt.Fprintf(&b, "## Examples\n\n```\n%s\n```\n\n", c.Example)
	}
	if fs := flagsOf(c); fs.HasAvailableFlags() {
		fmt.Fprintf(&b, "## Options\n\n```\n%s```\n\n", fs.FlagUsages())
	}
	if also := seeAlso(c); len(also) > 0 {
		b.WriteString("## See also\n\n")
		for _, a := range also {
			fmt.Fprintf(&b, "- [%s](%s.md): %s\n", a.CommandPath(), strings.ReplaceAll(a.CommandPath(), " ", "_"), a.Short)
		}
	}
	return b.String()
}
