package volume

import (
	"context"
	"errors"
	"math"
	"testing"
)

func TestCDHWRoundTrip(t *testing.T) {
	v := testVolume([3]int{4, 3, 2}, 2, 0, 100)
	for _, axes := range []Axes{AxesZYX, AxesZXY} {
		data, shape := v.CDHW(nil, axes)
		want := map[Axes][4]int{AxesZYX: {2, 2, 3, 4}, AxesZXY: {2, 2, 4, 3}}[axes]
		if shape != want {
			t.Fatalf("%v: shape %v, want %v", axes, shape, want)
		}
		// Element (c, d, h, w) must be voxel (x, y, z) as the order says.
		c, z, x, y := 1, 1, 3, 2
		var got float32
		if axes == AxesZYX {
			got = data[((c*shape[1]+z)*shape[2]+y)*shape[3]+x]
		} else {
			got = data[((c*shape[1]+z)*shape[2]+x)*shape[3]+y]
		}
		if got != v.At(c, x, y, z) {
			t.Errorf("%v: element %g, want voxel %g", axes, got, v.At(c, x, y, z))
		}
		w, err := FromCDHW(data, shape, axes, v)
		if err != nil {
			t.Fatal(err)
		}
		if w.Shape != v.Shape || w.Channels != v.Channels || w.Affine != v.Affine {
			t.Fatalf("%v: geometry %v", axes, w)
		}
		for i := range w.Data {
			if w.Data[i] != v.Data[i] {
				t.Fatalf("%v: voxel %d differs", axes, i)
			}
		}
	}
	if _, err := FromCDHW(make([]float32, 5), [4]int{1, 2, 2, 2}, AxesZYX, nil); !errors.Is(err, ErrShape) {
		t.Errorf("short tensor: %v", err)
	}
}

// TestResizeGeometry checks that the resized volume occupies the same
// physical extent: the world position of the grid's outer corner is kept.
func TestResizeGeometry(t *testing.T) {
	v := testVolume([3]int{10, 8, 6}, 1, 0, 1)
	for _, shape := range [][3]int{{5, 4, 3}, {20, 16, 12}, {7, 13, 2}} {
		w, err := Resize(context.Background(), v, shape)
		if err != nil {
			t.Fatal(err)
		}
		for _, corner := range [][2][3]float64{
			{{-0.5, -0.5, -0.5}, {-0.5, -0.5, -0.5}},
			{{9.5, 7.5, 5.5}, {float64(shape[0]) - 0.5, float64(shape[1]) - 0.5, float64(shape[2]) - 0.5}},
		} {
			a, b := v.Affine.Apply(corner[0]), w.Affine.Apply(corner[1])
			for i := range a {
				if math.Abs(a[i]-b[i]) > 1e-9 {
					t.Errorf("shape %v: corner %v at %v, want %v", shape, corner[1], b, a)
				}
			}
		}
		for i := range w.Spacing {
			if want := v.Spacing[i] * float64(v.Shape[i]) / float64(shape[i]); math.Abs(w.Spacing[i]-want) > 1e-12 {
				t.Errorf("spacing %v", w.Spacing)
			}
		}
	}
}

func TestResizeCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	v := testVolume([3]int{4, 4, 4}, 1, 0, 1)
	if _, err := Resize(ctx, v, [3]int{8, 8, 8}); !errors.Is(err, context.Canceled) {
		t.Errorf("Resize on a cancelled context: %v", err)
	}
	if _, err := Resize(context.Background(), v, [3]int{0, 8, 8}); !errors.Is(err, ErrShape) {
		t.Errorf("empty target: %v", err)
	}
}

func TestRestoreLabels(t *testing.T) {
	ctx := context.Background()
	img := testVolume([3]int{30, 20, 10}, 1, 0, 1)
	lab := img.Like(1)
	for z := 2; z < 8; z++ {
		for y := 5; y < 15; y++ {
			for x := 10; x < 25; x++ {
				lab.Set(0, x, y, z, 1)
			}
		}
	}
	small, err := ResizeLabels(ctx, lab, [3]int{16, 16, 16}, 2, LabelLinear)
	if err != nil {
		t.Fatal(err)
	}
	back, err := RestoreLabels(ctx, small, img, 2, LabelNearest)
	if err != nil {
		t.Fatal(err)
	}
	if back.Shape != img.Shape || back.Affine != img.Affine || back.Spacing != img.Spacing {
		t.Fatalf("restored geometry %v", back)
	}
	diff := 0
	for i := range back.Data {
		if back.Data[i] != lab.Data[i] {
			diff++
		}
	}
	// Only boundary voxels may change through 16^3 and back.
	if frac := float64(diff) / float64(len(lab.Data)); frac > 0.08 {
		t.Errorf("%.1f%% of voxels changed", 100*frac)
	}
	bad := lab.Clone()
	bad.Data[3] = 2.5
	if _, err := ResizeLabels(ctx, bad, [3]int{4, 4, 4}, 3, LabelLinear); !errors.Is(err, ErrLabel) {
		t.Errorf("fractional label: %v", err)
	}
}

func TestNormalizeConstant(t *testing.T) {
	v := New([3]int{2, 2, 2}, 2)
	for i := range v.Data {
		v.Data[i] = 5
	}
	v.Data[8] = 1 // channel 1 is not constant
	n, err := Normalize(v, ZScoreMinMax)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range n.Channel(0) {
		if f != 0 {
			t.Fatalf("constant channel voxel %d = %g, want 0", i, f)
		}
	}
	if n.Data[8] != 0 || n.Data[9] != 1 {
		t.Errorf("channel 1: %v", n.Channel(1))
	}
}

func BenchmarkResize128(b *testing.B) {
	v := testVolume([3]int{320, 320, 130}, 1, 0, 1)
	b.SetBytes(int64(len(v.Data) * 4))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Resize(context.Background(), v, [3]int{128, 128, 128}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead reads a 256x256x64 int16 .nii.gz (CT-like values).
func BenchmarkRead(b *testing.B) {
	v := testVolume([3]int{256, 256, 64}, 1, -1000, 1000)
	for i := range v.Data {
		v.Data[i] = float32(int(v.Data[i]) / 8 * 8) // some redundancy, as in scans
	}
	path := b.TempDir() + "/ct.nii.gz"
	if err := Write(path, v, &WriteOptions{Datatype: Int16}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(v.Data) * 2))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Read(path); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLabelValuesOutOfRange feeds label maps whose values are not classes
// but survive a float-to-int conversion (huge, infinite, NaN, negative):
// every label function must return ErrLabel, never panic.
func TestLabelValuesOutOfRange(t *testing.T) {
	ctx := context.Background()
	for _, f := range []float32{float32(math.Inf(1)), 1e30, 3e9, float32(math.NaN()), -1, 3} {
		lab := New([3]int{4, 4, 4}, 1)
		lab.Data[5] = f
		if _, err := OneHot(lab, 3); !errors.Is(err, ErrLabel) {
			t.Errorf("OneHot with value %g: err = %v, want ErrLabel", f, err)
		}
		if _, err := ResizeLabels(ctx, lab, [3]int{2, 2, 2}, 3, LabelLinear); !errors.Is(err, ErrLabel) {
			t.Errorf("ResizeLabels with value %g: err = %v, want ErrLabel", f, err)
		}
		if _, err := ResizeOneHot(ctx, lab, [3]int{2, 2, 2}, 3); !errors.Is(err, ErrLabel) {
			t.Errorf("ResizeOneHot with value %g: err = %v, want ErrLabel", f, err)
		}
	}
}

// TestNormalizeConstantKeepsNaN: a constant channel becomes zeros, but its
// NaN voxels stay NaN, as Normalize promises for every channel.
func TestNormalizeConstantKeepsNaN(t *testing.T) {
	for _, mode := range []Intensity{ZScoreMinMax, ZScore, MinMax} {
		v := New([3]int{2, 2, 1}, 1)
		for i := range v.Data {
			v.Data[i] = 7
		}
		v.Data[2] = float32(math.NaN())
		n, err := Normalize(v, mode)
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range n.Data {
			if want := i == 2; math.IsNaN(float64(f)) != want || (!want && f != 0) {
				t.Errorf("%v: voxel %d = %g, want %s", mode, i, f, map[bool]string{true: "NaN", false: "0"}[want])
			}
		}
	}
}

// TestCheckOverflow: a shape whose voxel count overflows int must not pass
// Check with a short Data slice.
func TestCheckOverflow(t *testing.T) {
	v := &Volume{Shape: [3]int{1 << 32, 1 << 32, 1}, Channels: 1}
	if err := v.Check(); !errors.Is(err, ErrShape) {
		t.Fatalf("Check of shape %v with no data: %v, want ErrShape", v.Shape, err)
	}
	v = &Volume{Shape: [3]int{1 << 21, 1 << 21, 1 << 22}, Channels: 1}
	if err := v.Check(); !errors.Is(err, ErrShape) {
		t.Fatalf("Check of shape %v with no data: %v, want ErrShape", v.Shape, err)
	}
}

// TestFromCDHWOverflow: a tensor shape whose size wraps to len(data) is
// refused.
func TestFromCDHWOverflow(t *testing.T) {
	if _, err := FromCDHW(nil, [4]int{1, 1 << 32, 1 << 32, 1}, AxesZYX, nil); !errors.Is(err, ErrShape) {
		t.Fatalf("FromCDHW of shape (1, 2^32, 2^32, 1) with no data: %v, want ErrShape", err)
	}
}

// TestResizeTooLarge: a target whose axes are each legal but whose volume
// is not is refused before allocating.
func TestResizeTooLarge(t *testing.T) {
	v := New([3]int{2, 2, 2}, 1)
	for _, f := range []func() error{
		func() error { _, err := Resize(context.Background(), v, [3]int{1 << 16, 1 << 16, 1 << 16}); return err },
		func() error {
			_, err := ResizeNearest(context.Background(), v, [3]int{1 << 16, 1 << 16, 1 << 10})
			return err
		},
		func() error {
			_, err := ResizeLabels(context.Background(), v, [3]int{1 << 16, 1 << 16, 1 << 16}, 2, LabelLinear)
			return err
		},
	} {
		if err := f(); !errors.Is(err, ErrTooLarge) {
			t.Errorf("err = %v, want ErrTooLarge", err)
		}
	}
}

// TestOneHotTooLarge: a class count whose one-hot volume cannot be
// allocated is an error.
func TestOneHotTooLarge(t *testing.T) {
	if _, err := OneHot(New([3]int{64, 64, 64}, 1), 1<<30); !errors.Is(err, ErrTooLarge) {
		t.Errorf("OneHot with 2^30 classes: err = %v, want ErrTooLarge", err)
	}
}
