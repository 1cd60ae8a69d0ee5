package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/growthloop/byob/providers"
)

// newDocsCmd builds `byob docs`: the manual pages and a markdown
// reference, made by cobra/doc from the command tree itself, so they
// never drift from --help. Packages install the man pages.
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
			sources, err := bindSources(c.Flags(), f.IO.env)
			if err != nil {
				return err
			}
			if iv := dirToWrite("--dir", dir); iv != nil {
				return nameSources(&providers.UsageError{Invalid: []providers.InvalidValue{*iv}}, sources)
			}
			man, md := filepath.Join(dir, "man"), filepath.Join(dir, "markdown")
			for _, d := range []string{man, md} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					return fmt.Errorf("--dir %s: %w", dir, err)
				}
			}
			root := c.Root()
			root.DisableAutoGenTag = true // the same pages from the same byob, whenever made
			v, _, built := buildInfo()
			header := &doc.GenManHeader{Section: "1", Source: "byob " + v, Manual: "byob manual"}
			if t, err := time.Parse(time.RFC3339, built); err == nil {
				header.Date = &t // the build's, not today's
			}
			if err := doc.GenManTree(root, header, man); err != nil {
				return fmt.Errorf("write manual pages: %w", err)
			}
			if err := doc.GenMarkdownTree(root, md); err != nil {
				return fmt.Errorf("write markdown pages: %w", err)
			}
			_, err = fmt.Fprintf(f.IO.Out, "Wrote %s and %s.\n", man, md)
			return err
		},
	}
	c.Flags().StringVar(&dir, "dir", "docs/reference", "directory to write man/ and markdown/ into")
	return c
}
