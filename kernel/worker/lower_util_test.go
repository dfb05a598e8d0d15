package worker

import (
	"context"
	"strings"
	"testing"
)

// lowered runs code through the passes up to lower-apply in a fresh
// session and returns the parts' source as yaegi would get it, or the
// error of the first pass that failed.
func lowered(t *testing.T, code string) (string, error) {
	t.Helper()
	s, _ := newTestSession(t)
	u := &cellUnit{ctx: context.Background(), code: code}
	for _, p := range cellPasses {
		if err := p.run(s, u); err != nil {
			return "", err
		}
		if p.name == "lower-apply" {
			break
		}
	}
	var b strings.Builder
	for _, p := range u.parts {
		b.WriteString(p.Src)
		if p.Expr != "" {
			b.WriteString("\n" + p.Expr)
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}

// lowerCase is a cell and what its lowered source must (or must not)
// contain.
type lowerCase struct {
	name, code  string
	has, hasNot []string
	err         string // substring of the pass's error; "" for none
}

func runLowerCases(t *testing.T, cases []lowerCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := lowered(t, c.code)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one with %q; lowered:\n%s", err, c.err, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range c.has {
				if !strings.Contains(got, h) {
					t.Errorf("lowered source lacks %q:\n%s", h, got)
				}
			}
			for _, h := range c.hasNot {
				if strings.Contains(got, h) {
					t.Errorf("lowered source has %q:\n%s", h, got)
				}
			}
		})
	}
}

func TestLowerApplyReplacement(t *testing.T) {
	// A replacement and insertions at its edges: the insertions surround
	// the replacement text.
	u := &cellUnit{code: "f(abc)\n", parts: []part{{Kind: partStmt, Line: 1, Col: 1, Src: "f(abc)\n"}}}
	u.applyEdits([]edit{
		{line: 1, col: 3, text: "<"},
		{line: 1, col: 6, text: ">"},
		{line: 1, col: 3, text: "X", del: 3},
	})
	if got := u.parts[0].Src; got != "f(<X>)\n" {
		t.Errorf("got %q, want %q", got, "f(<X>)\n")
	}
}
