package volume

import (
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/unetlab/unetlab/internal/reftest"
)

// testVolume returns a volume with distinct voxel values in [lo, hi] and a
// rotated, anisotropic, translated affine.
func testVolume(shape [3]int, channels int, lo, hi float64) *Volume {
	v := New(shape, channels)
	for i := range v.Data {
		v.Data[i] = float32(lo + (hi-lo)*float64((i*7919)%len(v.Data))/float64(max(1, len(v.Data)-1)))
	}
	v.Spacing = [3]float64{0.75, 1.25, 3}
	v.Affine = Affine{{0, -1.25, 0, 12.5}, {0.75, 0, 0, -30}, {0, 0, -3, 44}, {0, 0, 0, 1}}
	return v
}

type writeCase struct {
	name  string
	v     *Volume
	opt   *WriteOptions
	exact bool // integer values survive exactly
}

func writeCases() []writeCase {
	return []writeCase{
		{"float32.nii.gz", testVolume([3]int{5, 4, 3}, 1, -3.5, 7.25), nil, false},
		{"float64_be.nii", testVolume([3]int{5, 4, 3}, 1, -3.5, 7.25), &WriteOptions{Datatype: Float64, BigEndian: true}, false},
		{"uint8.nii", testVolume([3]int{5, 4, 3}, 1, 0, 59), &WriteOptions{Datatype: Uint8}, true},
		{"int8.nii", testVolume([3]int{5, 4, 3}, 1, -60, 59), &WriteOptions{Datatype: Int8}, true},
		{"int16_be.nii.gz", testVolume([3]int{5, 4, 3}, 1, -1000, 1000), &WriteOptions{Datatype: Int16, BigEndian: true}, false},
		{"uint16.nii", testVolume([3]int{5, 4, 3}, 1, 0, 60000), &WriteOptions{Datatype: Uint16}, false},
		{"int32.nii", testVolume([3]int{5, 4, 3}, 1, -1e6, 1e6), &WriteOptions{Datatype: Int32}, false},
		{"uint32.nii", testVolume([3]int{5, 4, 3}, 1, 0, 1e6), &WriteOptions{Datatype: Uint32}, false},
		{"int64.nii", testVolume([3]int{5, 4, 3}, 1, -1e6, 1e6), &WriteOptions{Datatype: Int64}, false},
		{"uint64.nii", testVolume([3]int{5, 4, 3}, 1, 0, 1e6), &WriteOptions{Datatype: Uint64}, false},
		{"scaled_int16.nii.gz", testVolume([3]int{5, 4, 3}, 1, -2, 2), &WriteOptions{Datatype: Int16, SclSlope: 0.001, SclInter: 0.5}, false},
		{"4d.nii.gz", testVolume([3]int{4, 3, 2}, 3, -1, 1), nil, false},
		{"nifti2_be_4d.nii", testVolume([3]int{4, 3, 2}, 2, -1, 1), &WriteOptions{Version: 2, BigEndian: true}, false},
	}
}

// roundTol is the tolerance for a written and re-read voxel.
func roundTol(c writeCase) float64 {
	if c.opt != nil && c.opt.Datatype != 0 && c.opt.Datatype != Float32 && c.opt.Datatype != Float64 {
		if c.opt.SclSlope != 0 {
			return c.opt.SclSlope/2 + 1e-6
		}
		return 0.5 + 1e-3
	}
	return 1e-6
}

func TestWriteReadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, c := range writeCases() {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name)
			if err := Write(path, c.v, c.opt); err != nil {
				t.Fatal(err)
			}
			got, err := Read(path)
			if err != nil {
				t.Fatal(err)
			}
			if got.Shape != c.v.Shape || got.Channels != c.v.Channels {
				t.Fatalf("shape %v x%d, want %v x%d", got.Shape, got.Channels, c.v.Shape, c.v.Channels)
			}
			affineClose(t, "affine", got.Affine, c.v.Affine)
			affineClose(t, "qform", got.Header.Qform(), c.v.Affine)
			if got.Spacing != c.v.Spacing {
				t.Errorf("spacing %v, want %v", got.Spacing, c.v.Spacing)
			}
			tol := roundTol(c)
			for i := range got.Data {
				if d := math.Abs(float64(got.Data[i] - c.v.Data[i])); d > tol*math.Max(1, math.Abs(float64(c.v.Data[i]))) {
					t.Fatalf("voxel %d = %g, want %g (tol %g)", i, got.Data[i], c.v.Data[i], tol)
				}
			}
		})
	}
}

func TestWriteRangeError(t *testing.T) {
	v := testVolume([3]int{2, 2, 2}, 1, 0, 300)
	err := Write(filepath.Join(t.TempDir(), "x.nii"), v, &WriteOptions{Datatype: Uint8})
	if err == nil {
		t.Fatal("300 written as uint8 without error")
	}
	t.Log(err)
}

// TestNibabelReadsOurFiles writes files with Write and reads them back with
// nibabel (Debian python3-nibabel).
func TestNibabelReadsOurFiles(t *testing.T) {
	reftest.Require(t, "nibabel", "numpy")
	dir := t.TempDir()
	cases := writeCases()
	var paths []string
	for _, c := range cases {
		p := filepath.Join(dir, c.name)
		if err := Write(p, c.v, c.opt); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	out, err := exec.Command(debianPython, append([]string{"testdata/read_nibabel.py"}, paths...)...).Output()
	if err != nil {
		t.Fatalf("read_nibabel.py: %v", err)
	}
	var got map[string]struct {
		Shape  []int         `json:"shape"`
		Affine [4][4]float64 `json:"affine"`
		Zooms  [3]float64    `json:"zooms"`
		Data   []float64     `json:"data"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, ok := got[paths[i]]
			if !ok {
				t.Fatal("nibabel gave nothing")
			}
			want := []int{c.v.Shape[0], c.v.Shape[1], c.v.Shape[2]}
			if c.v.Channels > 1 {
				want = append(want, c.v.Channels)
			}
			if len(g.Shape) != len(want) {
				t.Fatalf("nibabel shape %v, want %v", g.Shape, want)
			}
			for k := range want {
				if g.Shape[k] != want[k] {
					t.Fatalf("nibabel shape %v, want %v", g.Shape, want)
				}
			}
			affineClose(t, "nibabel affine", g.Affine, c.v.Affine)
			for k := range g.Zooms {
				if !closeTo(g.Zooms[k], c.v.Spacing[k], 1e-6) {
					t.Errorf("nibabel zooms %v, want %v", g.Zooms, c.v.Spacing)
				}
			}
			tol := roundTol(c)
			for k, x := range g.Data {
				w := float64(c.v.Data[k])
				if math.Abs(x-w) > tol*math.Max(1, math.Abs(w)) {
					t.Fatalf("nibabel voxel %d = %g, want %g", k, x, w)
				}
			}
		})
	}
}

func TestWriteKeepsSourceHeader(t *testing.T) {
	src, err := Read("testdata/nibabel/nifti2_bigendian_4d.nii")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "copy.nii")
	if err := Write(path, src, nil); err != nil {
		t.Fatal(err)
	}
	h, err := ReadHeader(path)
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != 2 || h.Channels() != 2 || h.SformCode != src.Header.SformCode {
		t.Errorf("rewritten header: version %d, %d channels, sform code %d", h.Version, h.Channels(), h.SformCode)
	}
	// A one-channel prediction written with a 4D image's header is 3D.
	lab := src.Like(1)
	if err := Write(path, lab, &WriteOptions{Datatype: Uint8, Version: 1}); err != nil {
		t.Fatal(err)
	}
	if h, _ = ReadHeader(path); h.Dim[0] != 3 || h.Version != 1 || h.Datatype != Uint8 {
		t.Errorf("label header: dim %v version %d %v", h.Dim, h.Version, h.Datatype)
	}
}
