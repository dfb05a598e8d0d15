package worker

import (
	"context"
	"go/parser"
	"go/token"
	"testing"
)

func TestSyntaxOf(t *testing.T) {
	tests := []struct {
		body string
		want syntax
	}{
		{"_ = 1 + 1", 0},
		{"defer f()", synDefer},
		{"go f()", synGo},
		{"for {}", synFor},
		{"for i := 0; i < 3; i++ {}", synFor},
		{"for range 3 {}", synRange},
		{"select {}", synSelect},
		{"switch {}", synSwitch},
		{"switch x.(type) {}", synAssert},
		{"_, _ = x.(int)", synAssert},
		{"_ = 1 << n", synShift},
		{"n >>= 2", synShift},
		{"_ = a == b", synEqual},
		{"_ = a != b", synEqual},
		{"_ = &a", synAddr},
		{"_ = <-c", synRecv},
		{"c <- 1", 0},
		{"func() { for range c { defer g(<-c == 1) } }()", synRange | synDefer | synRecv | synEqual},
	}
	for _, tt := range tests {
		f, err := parser.ParseFile(token.NewFileSet(), "", "package p; func _() {"+tt.body+"}", 0)
		if err != nil {
			t.Fatalf("%s: %v", tt.body, err)
		}
		if got := syntaxOf(f); got != tt.want {
			t.Errorf("%s: syntax %b, want %b", tt.body, got, tt.want)
		}
	}
}

// BenchmarkCellOnePlusOne times the cell `1+1` after one declaration: the
// worker's share of bench/kernel's round trip, without the pipes.
func BenchmarkCellOnePlusOne(b *testing.B) {
	unverified(b)
	s, _ := newTestSession(&testing.T{})
	ctx := context.Background()
	if _, err := s.execute(ctx, "x := 1"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := s.execute(ctx, "1+1"); err != nil {
			b.Fatal(err)
		}
	}
}
