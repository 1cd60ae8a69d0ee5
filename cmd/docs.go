package cmd

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newDocsCmd builds `byob docs`: the manual pages and a markdown
// reference, made from the command tree itself so they never drift from
// --help. Packages install the man pages.
func newDocsCmd(f *Factory) *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "docs",
		Short: "Write byob's manual pages and markdown reference",
		Long: `docs writes a manual page per command into <dir>/man (section 1, as
man byob-init reads it) and a markdown page per command into
<dir>/markdown, both from the same text --help prints.`,
		Example: `  byob docs --dir dist/docs && man -l dist/docs/man/byob.1`,
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			root := c.Root()
			root.DisableAutoGenTag = true // the same pages from the same byob
			man, md := filepath.Join(dir, "man"), filepath.Join(dir, "markdown")
			for _, d := range []string{man, md} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					return err
				}
			}
			v, _, _ := buildInfo()
			header := &doc.GenManHeader{Title: "BYOB", Section: "1", Source: "byob " + v, Manual: "byob manual"}
			if err := doc.GenManTree(root, header, man); err != nil {
				return fmt.Errorf("write manual pages: %w", err)
			}
			if err := doc.GenMarkdownTree(root, md); err != nil {
				return fmt.Errorf("write markdown: %w", err)
			}
			_, err := fmt.Fprintf(f.IO.Out, "Wrote %s and %s.\n", man, md)
			return err
		},
	}
	c.Flags().StringVar(&dir, "dir", "docs/reference", "directory to write man/ and markdown/ into")
	return c
}
