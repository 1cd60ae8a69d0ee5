package safetext

import "testing"

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"plain text, with tabs\tand\nnewlines": "plain text, with tabs\tand\nnewlines",
		"unicode é ✓ 日本":                       "unicode é ✓ 日本",
		"title \x1b]0;pwned\x07 here":          `title \x1b]0;pwned\x07 here`,
		"clear \x1b[2J\x1b[H screen":           `clear \x1b[2J\x1b[H screen`,
		"over\rwrite":                          `over\x0dwrite`,
		"back\bspace\x7f":                      `back\x08space\x7f`,
		"c1 csi \u009b31m":                     `c1 csi \u009b31m`,
		"raw c1 byte \x9b31m":                  `raw c1 byte \x9b31m`,
		"bidi \u202egnp.exe":                   `bidi \u202egnp.exe`,
		"nul\x00":                              `nul\x00`,
		"a real replacement char \ufffd stays": "a real replacement char \ufffd stays",
	} {
		if got := String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzString(f *testing.F) {
	f.Add("\x1b[31mred\x1b[0m\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range String(s) {
			if unsafe(r) {
				t.Fatalf("String(%q) keeps %U", s, r)
			}
		}
	})
}
