package volume_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/unetlab/unetlab/volume"
)

func ExampleRead() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "ct.nii.gz")

	v := volume.New([3]int{4, 3, 2}, 1) // X, Y, Z
	v.Spacing = [3]float64{0.8, 0.8, 2.5}
	v.Affine = volume.Diag(v.Spacing)
	v.Set(0, 3, 2, 1, -1000) // channel 0, x=3, y=2, z=1
	if err := volume.Write(path, v, &volume.WriteOptions{Datatype: volume.Int16}); err != nil {
		panic(err)
	}

	h, err := volume.ReadHeader(path)
	if err != nil {
		panic(err)
	}
	fmt.Println(h.Datatype, h.Shape(), h.Spacing())
	w, err := volume.Read(path)
	if err != nil {
		panic(err)
	}
	fmt.Println(w, w.At(0, 3, 2, 1))
	// Output:
	// int16 [4 3 2] [0.800000011920929 0.800000011920929 2.5]
	// Volume(shape 4x3x2, 1 channel(s), spacing 0.8x0.8x2.5 mm) -1000
}

func ExampleNormalize() {
	v := volume.New([3]int{4, 1, 1}, 1)
	copy(v.Data, []float32{-1000, 0, 40, 1000})
	n, err := volume.Normalize(v, volume.ZScoreMinMax)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.2f\n", n.Data)
	// Output: [0.00 0.50 0.52 1.00]
}

func ExampleResize() {
	v := volume.New([3]int{2, 1, 1}, 1)
	copy(v.Data, []float32{0, 1})
	// as torch.nn.functional.interpolate(x, size=(1, 1, 4), mode="trilinear")
	w, err := volume.Resize(context.Background(), v, [3]int{4, 1, 1})
	if err != nil {
		panic(err)
	}
	fmt.Println(w.Data, w.Spacing)
	// Output: [0 0.25 0.75 1] [0.5 1 1]
}

func ExampleResizeLabels() {
	lab := volume.New([3]int{4, 1, 1}, 1)
	copy(lab.Data, []float32{0, 1, 1, 2})
	small, err := volume.ResizeLabels(context.Background(), lab, [3]int{2, 1, 1}, 3, volume.LabelLinear)
	if err != nil {
		panic(err)
	}
	near, _ := volume.ResizeLabels(context.Background(), lab, [3]int{2, 1, 1}, 3, volume.LabelNearest)
	fmt.Println(small.Data, near.Data)
	// Output: [0 1] [0 1]
}

func ExampleVolume_CDHW() {
	v := volume.New([3]int{3, 2, 1}, 1) // X=3, Y=2, Z=1
	copy(v.Data, []float32{1, 2, 3, 4, 5, 6})
	zyx, s1 := v.CDHW(nil, volume.AxesZYX)
	zxy, s2 := v.CDHW(nil, volume.AxesZXY) // the authors' (C, Z, X, Y)
	fmt.Println(s1, zyx)
	fmt.Println(s2, zxy)
	// Output:
	// [1 1 2 3] [1 2 3 4 5 6]
	// [1 1 3 2] [1 4 2 5 3 6]
}

// A prediction made at 128^3 goes back to the original grid and is written
// with the original image's affine and header.
func ExampleRestoreLabels() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	img := volume.New([3]int{40, 30, 20}, 1)
	img.Spacing = [3]float64{1.25, 1.25, 3}
	img.Affine = volume.Diag(img.Spacing)

	pred := volume.New([3]int{16, 16, 16}, 1) // an argmax of the network's output
	for x := 0; x < 8; x++ {
		pred.Set(0, x, 8, 8, 1)
	}
	back, err := volume.RestoreLabels(ctx, pred, img, 2, volume.LabelNearest)
	if err != nil {
		panic(err)
	}
	path := filepath.Join(dir, "pred.nii.gz")
	if err := volume.Write(path, back, &volume.WriteOptions{Datatype: volume.Uint8}); err != nil {
		panic(err)
	}
	w, _ := volume.Read(path)
	fmt.Println(w.Shape, w.Affine == img.Affine, w.Header.Datatype)
	// Output: [40 30 20] true uint8
}

func ExampleAffine_AxisCodes() {
	// A scanner-style affine: x toward the patient's left, y toward
	// posterior, z toward superior, 0.8 x 0.8 x 2.5 mm voxels.
	a := volume.Affine{
		{-0.8, 0, 0, 100},
		{0, -0.8, 0, 120},
		{0, 0, 2.5, -60},
		{0, 0, 0, 1},
	}
	fmt.Println(a.AxisCodes())
	// Output: LPS
}
