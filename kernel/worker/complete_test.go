package worker

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestCompleteAndInspect(t *testing.T) {
	s, _ := newTestSession(t)
	setup := "import \"strings\"\ntype Point struct{ X, Y int }\nfunc (p Point) Norm1() int { return p.X + p.Y }\nfunc (p *Point) Move(dx int) { p.X += dx }\nvar origin = Point{}\nmyCount := 3\nvar sb strings.Builder\npp := &Point{}"
	if _, err := s.execute(context.Background(), setup); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		code       string
		cursor     int // -1: end of code
		want       []string
		start, end int
	}{
		{"fmt.Prin", -1, []string{"Print", "Printf", "Println"}, 4, 8},
		{"x := strings.Has", -1, []string{"HasPrefix", "HasSuffix"}, 13, 16},
		{"filepath.Jo", -1, []string{"Join"}, 9, 11},                                 // not imported
		{"display.HT", -1, []string{"HTML"}, 8, 10},                                  // this module
		{"origin.", -1, []string{"X", "Y"}, 7, 7},                                    // struct fields
		{"sb.WriteS", -1, []string{"WriteString"}, 3, 9},                             // methods of a compiled type
		{"myC", -1, []string{"myCount"}, 0, 3},                                       // := variable
		{"Poi", -1, []string{"Point"}, 0, 3},                                         // user type
		{"retu", -1, []string{"return"}, 0, 4},                                       // keyword
		{"é := 1; fmt.Sprin", -1, []string{"Sprint", "Sprintf", "Sprintln"}, 12, 17}, // code points
		{"fmt.Prin(1)", 8, []string{"Print", "Printf", "Println"}, 4, 8},
		{"import \"encoding/js", -1, []string{"encoding/json"}, 8, 19},                        // import paths
		{"import (\n\t\"fmt\"\n\tm \"math/bi", -1, []string{"math/big", "math/bits"}, 20, 27}, // in a block, with an alias
		{"import \"github.com/unetlab/unetlab/disp", -1, []string{"github.com/unetlab/unetlab/display"}, 8, 39},
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			cursor := c.cursor
			if cursor < 0 {
				cursor = len([]rune(c.code))
			}
			res := s.complete(c.code, cursor)
			for _, w := range c.want {
				if !slices.Contains(res.Matches, w) {
					t.Errorf("matches %v lack %q", res.Matches, w)
				}
			}
			if res.CursorStart != c.start || res.CursorEnd != c.end {
				t.Errorf("range %d..%d, want %d..%d", res.CursorStart, res.CursorEnd, c.start, c.end)
			}
		})
	}

	inspects := []struct {
		code   string
		cursor int
		want   []string
	}{
		{"fmt.Println", 6, []string{"func Println(a ...any) (n int, err error)", "Println formats"}},
		{"strings.NewReader(", 18, []string{"func NewReader(s string) *Reader"}},
		{"display.HTML", 12, []string{"func HTML(s string) Bundle"}},
		{"myCount", 3, []string{"myCount: int = 3"}},
		{"origin", 6, []string{"origin: Point = {X:0 Y:0}"}},
		{"pp", 2, []string{"pp: *Point = "}},
		{"sb.Len", 6, []string{"Len returns"}},
	}
	for _, c := range inspects {
		t.Run("inspect "+c.code, func(t *testing.T) {
			res := s.inspect(c.code, c.cursor, 0)
			text, _ := res.Data["text/plain"].(string)
			if !res.Found {
				t.Fatalf("not found")
			}
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("inspect text %q lacks %q", text, w)
				}
			}
		})
	}
	if res := s.inspect("nothingHere", 5, 0); res.Found {
		t.Errorf("inspect of an unknown name found %v", res.Data)
	}
	// Completion and inspection leave the session as it was.
	o, err := s.execute(context.Background(), "pp.Move(2)\norigin.Norm1() + pp.Norm1() + myCount")
	if err != nil || o.result["text/plain"] != "5" {
		t.Errorf("after completion: %v, %v; want 5", o.result, err)
	}
}

func TestIsComplete(t *testing.T) {
	cases := []struct{ code, status, indent string }{
		{"x := 1", "complete", ""},
		{"", "complete", ""},
		{"func f() {", "incomplete", "\t"},
		{"for i := 0; i < 3; i++ {\n\tif i > 1 {", "incomplete", "\t\t"},
		{"x := []int{\n1,", "incomplete", "\t"},
		{"s := `raw", "incomplete", ""},
		{"x := 1 +", "incomplete", "\t"},
		{"x := )", "invalid", ""},
		{"}", "invalid", ""},
		{"func f() {\n}\nf()", "complete", ""},
	}
	for _, c := range cases {
		got := isComplete(c.code)
		if got.Status != c.status || got.Indent != c.indent {
			t.Errorf("isComplete(%q) = %+v, want %s %q", c.code, got, c.status, c.indent)
		}
	}
}

// A cell that fails to compile defines nothing (the type checker stops it
// before it runs); completing and inspecting its names afterwards must not
// panic.
func TestCompleteAfterFailedCell(t *testing.T) {
	s, _ := newTestSession(t)
	if _, err := s.execute(context.Background(), "halfA := 5\nhalfB := halfA + \"s\""); err == nil {
		t.Fatal("the cell compiled")
	}
	r := s.complete("halfA", len("halfA"))
	if slices.Contains(r.Matches, "halfA") {
		t.Errorf("completions %v have halfA of a cell that did not compile", r.Matches)
	}
	_ = s.inspect("halfA", len("halfA"), 0)
}

// Completion and inspection read the type checker: the fields and methods
// of a variable's static type (promoted ones and the methods of cell types
// included, also of a nil pointer), the signature and doc comment of a
// cell's own function and method.
func TestTypedCompletionAndInspection(t *testing.T) {
	s, _ := newTestSession(t)
	cell := `type Inner struct{ Depth int }
type Outer struct {
	Inner
	Name string
}

// Area is the area in mm².
func (o *Outer) Area(scale float64) float64 { return scale }

// Twice doubles n.
func Twice(n int) int { return 2 * n }
var nilOuter *Outer
o := Outer{Name: "a"}`
	if _, err := s.execute(context.Background(), cell); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		code string
		want []string
	}{
		{"o.", []string{"Area", "Depth", "Inner", "Name"}},
		{"nilOuter.", []string{"Area", "Depth", "Inner", "Name"}},
		{"o.Inner.", []string{"Depth"}},
		{"o.Na", []string{"Name"}},
	}
	for _, tc := range tests {
		r := s.complete(tc.code, len(tc.code))
		if !slices.Equal(r.Matches, tc.want) {
			t.Errorf("complete(%q) = %v, want %v", tc.code, r.Matches, tc.want)
		}
	}
	insp := []struct{ code, want string }{
		{"Twice", "func Twice(n int) int\n\nTwice doubles n."},
		{"o.Area", "func (o *Outer) Area(scale float64) float64\n\nArea is the area in mm²."},
	}
	for _, tc := range insp {
		r := s.inspect(tc.code, len(tc.code), 0)
		if got, _ := r.Data["text/plain"].(string); got != tc.want {
			t.Errorf("inspect(%q) = %q, want %q", tc.code, got, tc.want)
		}
	}
}
