package augment

import (
	"errors"
	"fmt"
	"testing"

	"github.com/unetlab/unetlab/rng"
	"github.com/unetlab/unetlab/volume"
)

// pair returns an image with distinct voxel values and the label map
// "value > threshold", so that any permutation of voxels keeps the label
// equal to the thresholded image.
func pair(shape [3]int, channels int) (*volume.Volume, *volume.Volume) {
	img := volume.New(shape, channels)
	for i := range img.Data {
		img.Data[i] = float32((i*7919)%len(img.Data)) / float32(len(img.Data))
	}
	lab := img.Like(1)
	for i, f := range img.Channel(0) {
		if f > 0.7 {
			lab.Data[i] = 1
		}
	}
	return img, lab
}

func consistent(t *testing.T, img, lab *volume.Volume) {
	t.Helper()
	for i, f := range img.Channel(0) {
		if (f > 0.7) != (lab.Data[i] == 1) {
			t.Fatalf("voxel %d: image %g but label %g", i, f, lab.Data[i])
		}
	}
}

func equal(a, b *volume.Volume) bool {
	if a.Shape != b.Shape || len(a.Data) != len(b.Data) {
		return false
	}
	for i := range a.Data {
		if a.Data[i] != b.Data[i] {
			return false
		}
	}
	return true
}

func TestPermutationsKeepLabels(t *testing.T) {
	img, lab := pair([3]int{6, 6, 4}, 2)
	p := New(3, Flip{Prob: 0.7}, Rot90{Prob: 1})
	changed := 0
	for idx := 0; idx < 20; idx++ {
		a, l, err := p.Apply(img, lab, 0, idx)
		if err != nil {
			t.Fatal(err)
		}
		if a.Shape != img.Shape {
			t.Fatalf("shape %v", a.Shape)
		}
		consistent(t, a, l)
		if !equal(a, img) {
			changed++
		}
	}
	if changed < 15 {
		t.Errorf("only %d of 20 samples changed", changed)
	}
}

func TestInverses(t *testing.T) {
	img, _ := pair([3]int{5, 5, 5}, 1)
	for axis := 0; axis < 3; axis++ {
		w := img.Clone()
		flip(w, axis)
		if equal(w, img) {
			t.Errorf("flip %d did nothing", axis)
		}
		flip(w, axis)
		if !equal(w, img) {
			t.Errorf("flip %d twice is not the identity", axis)
		}
	}
	for _, pl := range [][2]int{{0, 1}, {0, 2}, {1, 2}} {
		once := rot90(img, pl, 1)
		if got, want := once.At(0, 0, 0, 0), img.At(0, 0, 4, 0); pl == [2]int{0, 1} && got != want {
			t.Errorf("rot90 XY: out(0,0,0) = %g, want in(0,4,0) = %g", got, want)
		}
		if equal(rot90(img, pl, 2), img) || !equal(rot90(rot90(img, pl, 3), pl, 1), img) {
			t.Errorf("plane %v: rotations do not compose", pl)
		}
	}
}

func TestAffineIdentityAndLabels(t *testing.T) {
	img, lab := pair([3]int{8, 7, 6}, 1)
	id := Affine{Prob: 1, MaxRotate: -1, MaxScale: -1, MaxShift: -1}
	a, l, err := New(1, id).Apply(img, lab, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !equal(a, img) || !equal(l, lab) {
		t.Error("zero-size affine changed the volume")
	}
	a, l, err = New(1, Affine{Prob: 1, MaxRotate: 20}).Apply(img, lab, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if equal(a, img) {
		t.Error("affine did nothing")
	}
	for i, f := range l.Data {
		if f != 0 && f != 1 {
			t.Fatalf("label voxel %d = %g after affine", i, f)
		}
	}
}

func TestIntensity(t *testing.T) {
	img, lab := pair([3]int{4, 4, 4}, 2)
	a, l, err := New(2, Intensity{Prob: 1, Scale: 0.5, Shift: 0.5}).Apply(img, lab, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !equal(l, lab) {
		t.Error("labels changed")
	}
	// each channel is an affine function of the original
	for c := 0; c < 2; c++ {
		x, y := img.Channel(c), a.Channel(c)
		scale := (y[1] - y[0]) / (x[1] - x[0])
		for i := range x {
			if d := y[i] - (y[0] + scale*(x[i]-x[0])); d > 1e-5 || d < -1e-5 {
				t.Fatalf("channel %d not affine at %d", c, i)
			}
		}
	}
}

func TestCropBalance(t *testing.T) {
	img := volume.New([3]int{40, 40, 40}, 1)
	lab := img.Like(1)
	lab.Set(0, 30, 31, 32, 1) // one foreground voxel
	img.Set(0, 30, 31, 32, 5)
	p := New(4, Crop{Size: [3]int{8, 8, 8}, Foreground: 0.5})
	withFG := 0
	const n = 200
	for i := 0; i < n; i++ {
		a, l, err := p.Apply(img, lab, 1, i)
		if err != nil {
			t.Fatal(err)
		}
		if a.Shape != [3]int{8, 8, 8} || l.Shape != a.Shape {
			t.Fatalf("crop shape %v", a.Shape)
		}
		fg := false
		for k, f := range l.Data {
			if f == 1 {
				fg = true
				if a.Data[k] != 5 {
					t.Fatal("image and label windows differ")
				}
			}
		}
		if fg {
			withFG++
		}
	}
	// Random crops of 8^3 in 40^3 almost never hit one voxel: the share
	// with foreground is the Foreground probability.
	if withFG < n*35/100 || withFG > n*65/100 {
		t.Errorf("%d of %d crops hold foreground, want about half", withFG, n)
	}
	// Padding: a crop larger than the volume.
	small, slab := pair([3]int{3, 3, 3}, 1)
	a, _, err := New(1, Crop{Size: [3]int{5, 4, 3}}).Apply(small, slab, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a.Shape != [3]int{5, 4, 3} || a.At(0, 0, 0, 0) != 0 || a.At(0, 1, 0, 0) != small.At(0, 0, 0, 0) {
		t.Errorf("padded crop %v: %v", a.Shape, a.Data[:10])
	}
	if _, _, err := New(1, Crop{}).Apply(small, slab, 0, 0); !errors.Is(err, ErrAugment) {
		t.Errorf("crop without size: %v", err)
	}
}

func TestDeterministic(t *testing.T) {
	img, lab := pair([3]int{8, 8, 8}, 1)
	p := Default(11)
	a1, _, _ := p.Apply(img, lab, 2, 5)
	a2, _, _ := p.Apply(img, lab, 2, 5)
	if !equal(a1, a2) {
		t.Error("same (seed, epoch, index), different augmentation")
	}
	diff := 0
	for i := 0; i < 10; i++ {
		b, _, _ := p.Apply(img, lab, 3, i)
		if !equal(a1, b) {
			diff++
		}
	}
	if diff < 8 {
		t.Errorf("only %d of 10 other samples differ", diff)
	}
	if _, _, err := p.Apply(img, volume.New([3]int{2, 2, 2}, 1), 0, 0); !errors.Is(err, ErrAugment) {
		t.Errorf("mismatched label: %v", err)
	}
}

// Custom transforms implement Transform.
type invert struct{}

func (invert) Apply(r *rng.Rand, img, lab *volume.Volume) (*volume.Volume, *volume.Volume, error) {
	for i, f := range img.Data {
		img.Data[i] = 1 - f
	}
	return img, lab, nil
}

func ExamplePipeline() {
	img := volume.New([3]int{4, 4, 4}, 1)
	lab := img.Like(1)
	lab.Set(0, 1, 2, 3, 1)
	p := New(42, Flip{}, Rot90{}, Crop{Size: [3]int{2, 2, 2}, Foreground: 1}, invert{})
	a, l, err := p.Apply(img, lab, 0, 0)
	if err != nil {
		panic(err)
	}
	fg := 0
	for _, f := range l.Data {
		fg += int(f)
	}
	fmt.Println(a.Shape, a.Data[0], "foreground voxels in the crop:", fg)
	// Output: [2 2 2] 1 foreground voxels in the crop: 1
}

// TestTransformsCheckInput: every Transform called on its own (as a cell
// may) refuses a label of another shape, an image whose Data does not
// match its shape, and a crop too large to allocate, with an error.
func TestTransformsCheckInput(t *testing.T) {
	img, _ := pair([3]int{6, 6, 4}, 1)
	_, other := pair([3]int{6, 4, 6}, 1)
	broken := img.Clone()
	broken.Data = broken.Data[:10]
	transforms := []Transform{Flip{Prob: 1}, Rot90{Prob: 1}, Affine{Prob: 1}, Intensity{Prob: 1}, Crop{Size: [3]int{2, 2, 2}}}
	for _, tr := range transforms {
		name := fmt.Sprintf("%T", tr)
		if _, _, err := tr.Apply(rng.New(1), img.Clone(), other.Clone()); !errors.Is(err, ErrAugment) {
			t.Errorf("%s with a label of shape %v for an image %v: err = %v, want ErrAugment", name, other.Shape, img.Shape, err)
		}
		if _, _, err := tr.Apply(rng.New(1), broken, nil); !errors.Is(err, volume.ErrShape) {
			t.Errorf("%s with %d voxels for shape %v: err = %v, want volume.ErrShape", name, len(broken.Data), broken.Shape, err)
		}
	}
	if _, _, err := (Crop{Size: [3]int{1 << 21, 1 << 21, 1 << 21}}).Apply(rng.New(1), img, nil); !errors.Is(err, ErrAugment) {
		t.Errorf("crop of 2^63 voxels: err = %v, want ErrAugment", err)
	}
}
