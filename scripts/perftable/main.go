// Command perftable runs byob's process benchmarks and writes their
// results into the README's performance table, between the lines
// <!-- perf:start --> and <!-- perf:end -->. Run it from the repository:
//
//	go run ./scripts/perftable
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
)

const (
	readme = "README.md"
	start  = "<!-- perf:start -->"
	end    = "<!-- perf:end -->"
	runs   = 10
)

// budgets are the most each metric may be (the README says why); a
// table that breaks one is still written, and perftable exits 1.
var budgets = []struct {
	metric string
	max    float64
}{
	{"wall/floor", 1.3}, {"help_ms", 25}, {"help_pty_ms", 100}, {"binary_MB", 80}, {"help_rss_MiB", 45}, {"dryrun_rss_MiB", 45},
}

// result is one benchmark line's metrics, by unit.
type result map[string]string

var line = regexp.MustCompile(`^Benchmark(\w+)/?([\w-]*?)(-\d+)?\s+\d+\s+(.*)$`)

func main() {
	cmd := exec.Command("go", "test", "./cmd", "-run", "^$", "-bench", "BenchmarkProcess|BenchmarkStart", "-benchtime", fmt.Sprintf("%dx", runs))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "perftable: the benchmarks failed: %v\n%s", err, out)
		os.Exit(1)
	}
	results := map[string]result{}
	var order []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		name := m[2]
		if name == "" {
			name = m[1]
		}
		r := result{}
		f := strings.Fields(m[4])
		for i := 0; i+1 < len(f); i += 2 {
			r[f[i+1]] = f[i]
		}
		results[name] = r
		order = append(order, name)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", start)
	fmt.Fprintf(&b, "Each command as the built binary, from exec to exit, with 50 ms added before every request (`go run ./scripts/perftable`, the median of %d runs, %s/%s, %d CPUs):\n\n", runs, runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	b.WriteString("| command | wall | requests | floor (chain × 50 ms + start-up) | wall / floor |\n| --- | --- | --- | --- | --- |\n")
	for _, name := range order {
		r := results[name]
		if r["wall_ms"] == "" {
			continue
		}
		fmt.Fprintf(&b, "| %s | %s ms | %s | %s ms | %s |\n", name, trim(r["wall_ms"]), trim(r["requests"]), trim(r["floor_ms"]), r["wall/floor"])
	}
	if r := results["Start"]; r != nil {
		fmt.Fprintf(&b, "\nRelease build (goreleaser's flags): `byob --help` %s ms, of which package initialisation %s ms (the median of `GODEBUG=inittrace=1`), and %s ms in a pseudo-terminal that never answers a query; peak RSS %s MiB (a dry run %s MiB); binary %s MB.\n",
			r["help_ms"], r["init_ms"], r["help_pty_ms"], r["help_rss_MiB"], r["dryrun_rss_MiB"], r["binary_MB"])
	}
	b.WriteString("\nBudgets: every wall / floor ≤ 1.3; `byob --help` ≤ 25 ms, ≤ 100 ms in a terminal that never answers; binary ≤ 80 MB; peak RSS of `--help` and of a dry run ≤ 45 MiB.\n")
	var over []string
	for _, name := range order {
		for _, bg := range budgets {
			if v, err := strconv.ParseFloat(results[name][bg.metric], 64); err == nil && v > bg.max {
				over = append(over, fmt.Sprintf("%s %s %g > %g", name, bg.metric, v, bg.max))
			}
		}
	}
	b.WriteString(end)
	doc, err := os.ReadFile(readme)
	if err != nil {
		fmt.Fprintf(os.Stderr, "perftable: %v (run it from the repository's root)\n", err)
		os.Exit(1)
	}
	i, j := bytes.Index(doc, []byte(start)), bytes.Index(doc, []byte(end))
	if i < 0 || j < i {
		fmt.Fprintf(os.Stderr, "perftable: %s has no %s ... %s section\n", readme, start, end)
		os.Exit(1)
	}
	doc = append(doc[:i:i], append([]byte(b.String()), doc[j+len(end):]...)...)
	if err := os.WriteFile(readme, doc, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "perftable: %v\n", err)
		os.Exit(1)
	}
	fmt.Print(b.String(), "\n")
	if len(over) > 0 {
		fmt.Fprintf(os.Stderr, "perftable: over budget: %s (a busy machine can be the cause: run it again)\n", strings.Join(over, "; "))
		os.Exit(1)
	}
}

// trim drops a whole number's ".0".
func trim(n string) string { return strings.TrimSuffix(strings.TrimSuffix(n, ".00"), ".0") }
