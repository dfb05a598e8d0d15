package worker

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata/cells")

// TestCellPrograms runs the notebooks in testdata/cells: each file is a
// sequence of "-- cell --" sections, each followed by a "-- want --"
// section with what the cell printed, then "=> " and its result, "!! " and
// its error's traceback, "reset: " and the variables a rebuild reset. Run with -update
// to rewrite the want sections.
func TestCellPrograms(t *testing.T) {
	files, err := filepath.Glob("testdata/cells/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cell programs: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			cells, wants := parseCells(string(data))
			s, out := newTestSession(t)
			var got []string
			for _, code := range cells {
				out.Reset()
				o, err := s.execute(context.Background(), code)
				var b strings.Builder
				b.WriteString(out.String())
				if ce, ok := err.(*cellError); ok {
					for _, l := range ce.Traceback {
						fmt.Fprintf(&b, "!! %s\n", l)
					}
				} else if err != nil {
					fmt.Fprintf(&b, "!! %v\n", err)
				} else if o.result != nil {
					fmt.Fprintf(&b, "=> %v\n", o.result["text/plain"])
				}
				if len(o.reset) > 0 {
					fmt.Fprintf(&b, "reset: %s\n", strings.Join(o.reset, ","))
				}
				got = append(got, b.String())
			}
			if *update {
				var b bytes.Buffer
				for i, code := range cells {
					fmt.Fprintf(&b, "-- cell --\n%s\n-- want --\n%s", code, got[i])
				}
				if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for i := range cells {
				if i >= len(wants) || got[i] != wants[i] {
					w := ""
					if i < len(wants) {
						w = wants[i]
					}
					t.Errorf("cell %d:\n%s\ngot:\n%s\nwant:\n%s", i+1, cells[i], got[i], w)
				}
			}
		})
	}
}

// parseCells splits a cell program into cells and wanted transcripts.
func parseCells(s string) (cells, wants []string) {
	for _, sec := range strings.Split(s, "-- cell --\n")[1:] {
		code, want, _ := strings.Cut(sec, "-- want --\n")
		cells = append(cells, strings.TrimSuffix(code, "\n"))
		wants = append(wants, want)
	}
	return cells, wants
}
