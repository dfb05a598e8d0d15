package worker

import (
	"errors"
	"testing"
)

// Positions are converted once: an error already in the cell's terms keeps
// its one "cell:" prefix; yaegi's (one line below, see padded) are moved.
func TestToCellErrorPositions(t *testing.T) {
	tests := []struct{ in, want string }{
		{"cell:3:5: undefined: x", "cell:3:5: undefined: x"},
		{"_.go:4:2: undefined: y", "cell:3:2: undefined: y"},
		{"4:2: undefined: z", "cell:3:2: undefined: z"},
		{"1:1: at the top", "cell:1:1: at the top"},
		{"cell:2:1: a\n5:3: b", "cell:2:1: a\ncell:4:3: b"},
	}
	for _, tc := range tests {
		if got := toCellError(errors.New(tc.in)).EValue; got != tc.want {
			t.Errorf("toCellError(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
