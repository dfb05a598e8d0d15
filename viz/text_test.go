package viz

import (
	"math"
	"testing"

	"gonum.org/v1/plot/font"
)

// TestSpacedTextKeepsSpaces checks that the text handler of every figure
// and view keeps the full width of a space after "A": Liberation Sans kerns
// that pair, which at 11 px erased the space in "(A left, S up)".
func TestSpacedTextKeepsSpaces(t *testing.T) {
	h := textStyle(viewCaptionPt).Handler
	fnt := font.From(sansFont, viewCaptionPt)
	width := func(s string) float64 {
		w, _, _ := h.Box(s, fnt)
		return float64(w)
	}
	for _, tc := range []struct{ text, left, right string }{
		{"A up", "A", " up"},
		{"(A left, S up)", "(A", " left, S up)"},
		{"R left, A up", "R left,", " A up"},
	} {
		got, want := width(tc.text), width(tc.left)+width(tc.right)
		if math.Abs(got-want) > 0.01 {
			t.Errorf("width of %q = %.2f pt, want %.2f (%q + %q, no kerning across the space)", tc.text, got, want, tc.left, tc.right)
		}
	}
}
