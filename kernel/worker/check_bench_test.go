package worker

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkCellAfterDeclarations times the cell `x + 1` in a session whose
// earlier cells declared 40 functions, 20 types and 40 variables: the type
// check reads them all through the session file.
func BenchmarkCellAfterDeclarations(b *testing.B) {
	unverified(b)
	s, _ := newTestSession(&testing.T{})
	ctx := context.Background()
	var setup strings.Builder
	for i := range 40 {
		fmt.Fprintf(&setup, "func f%d(n int) int { return n + %d }\n", i, i)
		if i%2 == 0 {
			fmt.Fprintf(&setup, "type T%d struct{ A, B int; S []string }\n", i)
		}
	}
	for i := range 40 {
		fmt.Fprintf(&setup, "v%d := f%d(%d)\n", i, i, i)
	}
	setup.WriteString("x := 1\n")
	if _, err := s.execute(ctx, setup.String()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := s.execute(ctx, "x + 1"); err != nil {
			b.Fatal(err)
		}
	}
}
