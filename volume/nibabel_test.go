package volume

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/unetlab/unetlab/internal/reftest"
)

var update = flag.Bool("update", false, "regenerate golden fixtures with Debian's python (nibabel, torch)")

// debianPython is the interpreter with python3-nibabel and python3-torch.
const debianPython = reftest.Python

type nibabelFixture struct {
	File       string        `json:"file"`
	Note       string        `json:"note"`
	Version    int           `json:"version"`
	Shape      [3]int        `json:"shape"`
	Channels   int           `json:"channels"`
	Datatype   int           `json:"datatype"`
	Endianness string        `json:"endianness"`
	Zooms      [3]float64    `json:"zooms"`
	QformCode  int32         `json:"qform_code"`
	SformCode  int32         `json:"sform_code"`
	Affine     [4][4]float64 `json:"affine"`
	Qform      [4][4]float64 `json:"qform"`
	Sform      [4][4]float64 `json:"sform"`
	Slope      float64       `json:"slope"`
	Inter      float64       `json:"inter"`
	Data       []float64     `json:"data"`
}

func loadNibabelFixtures(t *testing.T) []nibabelFixture {
	t.Helper()
	if *update {
		if len(reftest.Missing("nibabel")) > 0 {
			t.Fatalf("-update needs %s with nibabel", debianPython)
		}
		cmd := exec.Command(debianPython, "testdata/gen_nibabel.py")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gen_nibabel.py: %v\n%s", err, out)
		}
	}
	b, err := os.ReadFile("testdata/nibabel/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Fixtures []nibabelFixture `json:"fixtures"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Fixtures) < 15 {
		t.Fatalf("only %d fixtures", len(doc.Fixtures))
	}
	return doc.Fixtures
}

func closeTo(a, b, rel float64) bool {
	return math.Abs(a-b) <= rel*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func affineClose(t *testing.T, what string, got Affine, want [4][4]float64) {
	t.Helper()
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			if !closeTo(got[i][j], want[i][j], 1e-5) {
				t.Errorf("%s:\n got %v\nwant %v", what, got, want)
				return
			}
		}
	}
}

// TestNibabelGolden reads every fixture nibabel wrote and compares with what
// nibabel itself reads back.
func TestNibabelGolden(t *testing.T) {
	for _, fx := range loadNibabelFixtures(t) {
		t.Run(fx.File, func(t *testing.T) {
			path := filepath.Join("testdata/nibabel", fx.File)
			v, err := Read(path)
			if err != nil {
				t.Fatal(err)
			}
			h, err := ReadHeader(path)
			if err != nil {
				t.Fatal(err)
			}
			if h.Version != fx.Version || int(h.Datatype) != fx.Datatype || h.QformCode != fx.QformCode || h.SformCode != fx.SformCode {
				t.Errorf("header: version %d datatype %d codes q%d s%d, want %d %d q%d s%d",
					h.Version, h.Datatype, h.QformCode, h.SformCode, fx.Version, fx.Datatype, fx.QformCode, fx.SformCode)
			}
			if (h.ByteOrder.String() == "BigEndian") != (fx.Endianness == ">") {
				t.Errorf("byte order %v, nibabel says %q", h.ByteOrder, fx.Endianness)
			}
			if v.Shape != fx.Shape || v.Channels != fx.Channels {
				t.Fatalf("shape %v x%d, want %v x%d", v.Shape, v.Channels, fx.Shape, fx.Channels)
			}
			for i := range v.Spacing {
				if !closeTo(v.Spacing[i], fx.Zooms[i], 1e-6) {
					t.Errorf("spacing %v, want %v", v.Spacing, fx.Zooms)
				}
			}
			if s, b, _ := h.Scaling(); !closeTo(s, fx.Slope, 1e-6) || !closeTo(b, fx.Inter, 1e-6) {
				t.Errorf("scaling %g %g, want %g %g", s, b, fx.Slope, fx.Inter)
			}
			affineClose(t, "affine", v.Affine, fx.Affine)
			if fx.QformCode > 0 {
				affineClose(t, "qform", h.Qform(), fx.Qform)
			}
			if fx.SformCode > 0 {
				affineClose(t, "sform", h.Sform(), fx.Sform)
			}
			if len(v.Data) != len(fx.Data) {
				t.Fatalf("%d voxels, want %d", len(v.Data), len(fx.Data))
			}
			for i, want := range fx.Data {
				if got := float64(v.Data[i]); !closeTo(got, float64(float32(want)), 1e-6) {
					t.Fatalf("voxel %d = %g, want %g", i, got, want)
				}
			}
		})
	}
}
