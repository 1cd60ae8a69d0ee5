// Package graph orders and runs nodes that need one another: the steps of
// a plan, verify's checks, and (in reverse) what destroy undoes. A graph
// is checked when it is built: an unknown need or a cycle is an error
// naming the nodes, never a run that hangs.
package graph

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Node is what a graph holds: an ID and the IDs of the nodes it needs.
type Node interface {
	ID() string
	Needs() []string
}

// Graph is a checked set of nodes in a display order.
type Graph[N Node] struct {
	nodes      []N // in order
	index      map[string]int
	needs      [][]int // by position in nodes
	dependents [][]int
}

// New checks the nodes (IDs unique, every need known, no cycle) and orders
// them: every node after the nodes it needs. The order is derived, not
// kept by hand: nodes are taken in the order given, each after its needs,
// and right after a node come the nodes that were waiting only for it
// (in the order given), so a chain reads as one story.
func New[N Node](nodes []N) (*Graph[N], error) {
	given := map[string]int{}
	for i, n := range nodes {
		if _, dup := given[n.ID()]; dup {
			return nil, fmt.Errorf("two nodes are named %s", n.ID())
		}
		given[n.ID()] = i
	}
	for _, n := range nodes {
		for _, need := range n.Needs() {
			if _, ok := given[need]; !ok {
				return nil, fmt.Errorf("%s needs %s, which is not in the graph", n.ID(), need)
			}
		}
	}
	if cycle := findCycle(nodes, given); cycle != nil {
		return nil, fmt.Errorf("%s need each other in a cycle", strings.Join(cycle, " → "))
	}
	dependents := make([][]int, len(nodes))
	for i, n := range nodes {
		for _, need := range n.Needs() {
			dependents[given[need]] = append(dependents[given[need]], i)
		}
	}
	done := make([]bool, len(nodes))
	var order []int
	var visit func(i int)
	visit = func(i int) {
		if done[i] {
			return
		}
		for _, need := range nodes[i].Needs() {
			visit(given[need])
		}
		if done[i] { // a need's visit reached it
			return
		}
		done[i] = true
		order = append(order, i)
		for _, d := range dependents[i] { // in the order given
			if !done[d] && !slices.ContainsFunc(nodes[d].Needs(), func(need string) bool { return !done[given[need]] }) {
				visit(d)
			}
		}
	}
	for i := range nodes {
		visit(i)
	}
	g := &Graph[N]{index: map[string]int{}, needs: make([][]int, len(nodes)), dependents: make([][]int, len(nodes))}
	for _, i := range order {
		g.index[nodes[i].ID()] = len(g.nodes)
		g.nodes = append(g.nodes, nodes[i])
	}
	for i, n := range g.nodes {
		for _, need := range n.Needs() {
			g.needs[i] = append(g.needs[i], g.index[need])
			g.dependents[g.index[need]] = append(g.dependents[g.index[need]], i)
		}
	}
	return g, nil
}

// findCycle returns the IDs of a cycle (its first node repeated at the
// end), nil when there is none.
func findCycle[N Node](nodes []N, index map[string]int) []string {
	const (
		unseen = iota
		open
		closed
	)
	state := make([]int, len(nodes))
	var path []string
	var walk func(i int) []string
	walk = func(i int) []string {
		state[i] = open
		path = append(path, nodes[i].ID())
		for _, need := range nodes[i].Needs() {
			j := index[need]
			switch state[j] {
			case open:
				start := slices.Index(path, need)
				return append(slices.Clone(path[start:]), need)
			case unseen:
				if c := walk(j); c != nil {
					return c
				}
			}
		}
		state[i] = closed
		path = path[:len(path)-1]
		return nil
	}
	for i := range nodes {
		if state[i] == unseen {
			if c := walk(i); c != nil {
				return c
			}
		}
	}
	return nil
}

// Needs reports whether the node a waits, directly or not, for the node b.
func (g *Graph[N]) Needs(a, b string) bool {
	i, ok := g.index[a]
	j, ok2 := g.index[b]
	if !ok || !ok2 {
		return false
	}
	seen := map[int]bool{}
	var walk func(k int) bool
	walk = func(k int) bool {
		for _, n := range g.needs[k] {
			if n == j || !seen[n] && func() bool { seen[n] = true; return walk(n) }() {
				return true
			}
		}
		return false
	}
	return walk(i)
}

// Nodes are the nodes in display order.
func (g *Graph[N]) Nodes() []N { return slices.Clone(g.nodes) }

// Node returns the node with the ID.
func (g *Graph[N]) Node(id string) (N, bool) {
	i, ok := g.index[id]
	if !ok {
		var zero N
		return zero, false
	}
	return g.nodes[i], true
}

// Visit is called for a node once the nodes it waits for have finished;
// before holds their results, in display order. It returns the node's
// result.
type Visit[N Node, R any] func(ctx context.Context, n N, before []R) R

// Run visits every node once the nodes it needs have been visited, with
// at most limit visits at a time (no limit when limit <= 0), and returns
// the results in display order. Whether a node whose needs failed runs is
// visit's to decide.
func Run[N Node, R any](ctx context.Context, g *Graph[N], limit int, visit Visit[N, R]) []R {
	return run(ctx, g, g.needs, limit, visit)
}

// RunReverse is Run with every edge turned around: a node is visited once
// the nodes that need it have been, as when undoing a plan.
func RunReverse[N Node, R any](ctx context.Context, g *Graph[N], limit int, visit Visit[N, R]) []R {
	return run(ctx, g, g.dependents, limit, visit)
}

func run[N Node, R any](ctx context.Context, g *Graph[N], waitFor [][]int, limit int, visit Visit[N, R]) []R {
	n := len(g.nodes)
	results := make([]R, n)
	waiters := make([][]int, n) // the nodes that wait for each
	left := make([]int, n)      // how many of its own it still waits for
	var ready []int
	for i, ws := range waitFor {
		left[i] = len(ws)
		if len(ws) == 0 {
			ready = append(ready, i)
		}
		for _, j := range ws {
			waiters[j] = append(waiters[j], i)
		}
	}
	rank := heights(waiters)
	finished := make(chan int)
	for running, done := 0, 0; done < n; {
		// A free place goes to the ready node with the longest chain
		// behind it, so that a bounded run does not hold back its
		// critical path; among equals, to the first in display order.
		for len(ready) > 0 && (limit <= 0 || running < limit) {
			k := 0
			for x, i := range ready {
				if rank[i] > rank[ready[k]] || rank[i] == rank[ready[k]] && i < ready[k] {
					k = x
				}
			}
			i := ready[k]
			ready = slices.Delete(ready, k, k+1)
			running++
			before := make([]R, len(waitFor[i]))
			for x, j := range waitFor[i] {
				before[x] = results[j]
			}
			go func() {
				results[i] = visit(ctx, g.nodes[i], before)
				finished <- i
			}()
		}
		i := <-finished
		running--
		done++
		for _, w := range waiters[i] {
			if left[w]--; left[w] == 0 {
				ready = append(ready, w)
			}
		}
	}
	return results
}

// heights are, for each node, the length of the longest chain through the
// nodes that wait for it (waiters), itself included.
func heights(waiters [][]int) []int {
	h := make([]int, len(waiters))
	var height func(i int) int
	height = func(i int) int {
		if h[i] == 0 {
			h[i] = 1
			for _, w := range waiters[i] {
				h[i] = max(h[i], 1+height(w))
			}
		}
		return h[i]
	}
	for i := range h {
		height(i)
	}
	return h
}
