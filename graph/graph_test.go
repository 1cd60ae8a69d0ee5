package graph

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type node struct {
	id    string
	needs []string
}

func (n node) ID() string      { return n.id }
func (n node) Needs() []string { return n.needs }

func n(id string, needs ...string) node { return node{id, needs} }

func ids(g *Graph[node]) string {
	var out []string
	for _, x := range g.Nodes() {
		out = append(out, x.id)
	}
	return strings.Join(out, " ")
}

// TestOrder: each node comes after what it needs; the nodes waiting only
// for a node follow it; otherwise the given order holds.
func TestOrder(t *testing.T) {
	// An S3 + Snowflake plan, its steps given cloud by cloud.
	g, err := New([]node{
		n("bucket"), n("pab", "bucket"), n("encryption", "bucket"), n("policy"),
		n("role", "integration"), n("role-policy", "role", "policy"),
		n("user"), n("user-policy", "user", "policy"), n("key", "user"),
		n("integration"), n("grant", "integration"), n("stage", "integration"), n("stage-grants", "stage"),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "bucket pab encryption policy integration role role-policy grant stage stage-grants user user-policy key"
	if got := ids(g); got != want {
		t.Errorf("order\n%s\nwant\n%s", got, want)
	}
	for i, x := range g.Nodes() {
		for _, need := range x.needs {
			if j := strings.Index(ids(g), need); j > strings.Index(ids(g), x.id) {
				t.Errorf("%d %s comes before its need %s", i, x.id, need)
			}
		}
	}
}

func TestNewRefusesABadGraph(t *testing.T) {
	for _, tc := range []struct {
		nodes []node
		want  string
	}{
		{[]node{n("a"), n("b", "c")}, "b needs c, which is not in the graph"},
		{[]node{n("a", "c"), n("b", "a"), n("c", "b")}, "a → c → b → a need each other in a cycle"},
		{[]node{n("a", "a")}, "a → a need each other"},
		{[]node{n("a"), n("a")}, "two nodes are named a"},
	} {
		if _, err := New(tc.nodes); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%v) = %v, want %q", tc.nodes, err, tc.want)
		}
	}
}

// TestRun: a node starts only after its needs, sees their results, and
// independent nodes run at once up to the limit.
func TestRun(t *testing.T) {
	g, err := New([]node{n("a"), n("b"), n("c"), n("d", "a", "b", "c")})
	if err != nil {
		t.Fatal(err)
	}
	var running, most atomic.Int32
	var mu sync.Mutex
	var finished []string
	res := Run(context.Background(), g, 2, func(_ context.Context, x node, before []string) string {
		now := running.Add(1)
		for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
		}
		time.Sleep(10 * time.Millisecond)
		running.Add(-1)
		mu.Lock()
		defer mu.Unlock()
		if x.id == "d" && (len(before) != 3 || len(finished) != 3) {
			t.Errorf("d ran with %v after %v", before, finished)
		}
		finished = append(finished, x.id)
		return x.id + "!"
	})
	if most.Load() != 2 {
		t.Errorf("at most %d at once, want the limit 2", most.Load())
	}
	if strings.Join(res, " ") != "a! b! c! d!" {
		t.Errorf("results %v", res)
	}
}

// TestRunCriticalPathFirst: when more nodes are ready than the limit
// lets run, the one with the longest chain behind it goes first (the
// role before a grant: the role's policy and the proof wait behind it).
func TestRunCriticalPathFirst(t *testing.T) {
	g, err := New([]node{n("integration"), n("grant", "integration"), n("role", "integration"), n("role-policy", "role"), n("proof", "role-policy")})
	if err != nil {
		t.Fatal(err)
	}
	var order []string // one at a time: no lock needed
	Run(context.Background(), g, 1, func(_ context.Context, x node, _ []bool) bool {
		order = append(order, x.id)
		return true
	})
	if got := strings.Join(order, " "); got != "integration role role-policy grant proof" {
		t.Errorf("order %s", got)
	}
}

// TestRunReverse: a node runs once what needs it has run.
func TestRunReverse(t *testing.T) {
	g, err := New([]node{n("bucket"), n("policy", "bucket"), n("key", "policy")})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	RunReverse(context.Background(), g, 0, func(_ context.Context, x node, _ []bool) bool {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, x.id)
		return true
	})
	if got := strings.Join(order, " "); got != "key policy bucket" {
		t.Errorf("reverse order %s", got)
	}
}

func TestNeeds(t *testing.T) {
	g, err := New([]node{n("a"), n("b", "a"), n("c", "b"), n("d")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		a, b string
		want bool
	}{{"c", "a", true}, {"c", "b", true}, {"b", "c", false}, {"d", "a", false}, {"a", "a", false}, {"x", "a", false}} {
		if got := g.Needs(tc.a, tc.b); got != tc.want {
			t.Errorf("Needs(%s, %s) = %v", tc.a, tc.b, got)
		}
	}
}
