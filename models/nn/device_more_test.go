package nn

import (
	"fmt"
	"math/rand"
	"testing"

	"gorgonia.org/tensor"
)

// checkDeviceKernel compares kernel k's forward pass and the gradient of
// each differentiable input on every test device with the CPU engine's,
// for inputs in.
func checkDeviceKernel(t *testing.T, d *Device, r *rand.Rand, k kernel, in []*tensor.Dense, tol float64) {
	t.Helper()
	y := runOnCPU(t, k, in)
	compareF32(t, "forward", runOnDevice(t, d, k, in), y, tol)
	gin := append(append([]*tensor.Dense(nil), in...), y, f32Tensor(r, y.Shape()...))
	for i := range in {
		gk := k.grad(i)
		if gk == nil {
			continue
		}
		compareF32(t, fmt.Sprintf("gradient %d", i), runOnDevice(t, d, gk, gin), runOnCPU(t, gk, gin), tol)
	}
}

func TestDevicePool3d(t *testing.T) {
	r := rand.New(rand.NewSource(14))
	cases := []struct {
		name  string
		shape []int
		opt   PoolOptions
		max   bool
	}{
		{"max 2", []int{2, 3, 6, 4, 8}, PoolOptions{Kernel: [3]int{2, 2, 2}}, true},
		{"max 2 odd", []int{1, 2, 7, 5, 9}, PoolOptions{Kernel: [3]int{2, 2, 2}}, true},
		{"max 3 stride 2 pad 1", []int{1, 2, 7, 6, 5}, PoolOptions{Kernel: [3]int{3, 3, 3}, Stride: [3]int{2, 2, 2}, Padding: [3]int{1, 1, 1}}, true},
		{"max overlapping anisotropic", []int{2, 1, 5, 6, 7}, PoolOptions{Kernel: [3]int{3, 2, 3}, Stride: [3]int{1, 2, 2}, Padding: [3]int{1, 0, 1}}, true},
		{"avg 2", []int{2, 3, 6, 4, 8}, PoolOptions{Kernel: [3]int{2, 2, 2}}, false},
		{"avg 3 stride 2 pad 1", []int{1, 2, 7, 6, 5}, PoolOptions{Kernel: [3]int{3, 3, 3}, Stride: [3]int{2, 2, 2}, Padding: [3]int{1, 1, 1}}, false},
	}
	for _, d := range testDevices(t) {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/%s", d.Kind(), c.name), func(t *testing.T) {
				p, err := c.opt.params("pool")
				if err != nil {
					t.Fatal(err)
				}
				checkDeviceKernel(t, d, r, &poolKernel{p: p, max: c.max}, []*tensor.Dense{f32Tensor(r, c.shape...)}, 1e-6)
			})
		}
	}
}

func TestDeviceUpsample3d(t *testing.T) {
	r := rand.New(rand.NewSource(15))
	cases := []struct {
		name  string
		shape []int
		opt   UpsampleOptions
	}{
		{"nearest x2", []int{2, 3, 3, 4, 5}, UpsampleOptions{Scale: [3]float64{2, 2, 2}}},
		{"trilinear x2", []int{2, 3, 3, 4, 5}, UpsampleOptions{Scale: [3]float64{2, 2, 2}, Mode: Trilinear}},
		{"trilinear to size", []int{1, 2, 3, 5, 4}, UpsampleOptions{Size: [3]int{7, 6, 9}, Mode: Trilinear}},
		{"nearest to smaller size", []int{1, 2, 6, 5, 4}, UpsampleOptions{Size: [3]int{4, 5, 3}}},
		{"trilinear anisotropic", []int{1, 1, 4, 3, 5}, UpsampleOptions{Scale: [3]float64{1, 2, 3}, Mode: Trilinear}},
	}
	for _, d := range testDevices(t) {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/%s", d.Kind(), c.name), func(t *testing.T) {
				checkDeviceKernel(t, d, r, &upsampleKernel{opt: c.opt}, []*tensor.Dense{f32Tensor(r, c.shape...)}, 1e-6)
			})
		}
	}
}

func TestDeviceSoftmax(t *testing.T) {
	r := rand.New(rand.NewSource(16))
	cases := []struct {
		shape []int
		axis  int
		log   bool
	}{
		{[]int{2, 3, 4, 5, 3}, 1, false},
		{[]int{2, 3, 4, 5, 3}, 1, true},
		{[]int{3, 7}, 1, false},
		{[]int{2, 4, 9}, 2, true},
		{[]int{5, 2, 3}, 0, false},
	}
	for _, d := range testDevices(t) {
		for _, c := range cases {
			k := &softmaxKernel{axis: c.axis, log: c.log}
			t.Run(fmt.Sprintf("%s/%s%v", d.Kind(), k, c.shape), func(t *testing.T) {
				x := f32Tensor(r, c.shape...)
				for i, v := range x.Data().([]float32) {
					x.Data().([]float32)[i] = 8 * v // a wide range: the max shift matters
				}
				checkDeviceKernel(t, d, r, k, []*tensor.Dense{x}, 1e-6)
			})
		}
	}
}

func TestDeviceNorms(t *testing.T) {
	r := rand.New(rand.NewSource(17))
	eval := NewBatchNormStats(3)
	eval.Training = false
	for i := range eval.Mean {
		eval.Mean[i], eval.Var[i] = 0.1*float64(i), 0.5+float64(i)
	}
	cases := []struct {
		k     *normKernel
		shape []int
	}{
		{&normKernel{layout: layoutGroups, groups: 3, eps: 1e-5, name: "InstanceNorm3d"}, []int{2, 3, 4, 5, 3}},
		// Groups over 512 values: a block per group (above, a thread each).
		{&normKernel{layout: layoutGroups, groups: 2, eps: 1e-5, name: "InstanceNorm3d, large groups"}, []int{2, 2, 9, 8, 8}},
		{&normKernel{layout: layoutLast, eps: 1e-5, name: "LayerNorm, large groups"}, []int{3, 600}},
		{&normKernel{layout: layoutGroups, groups: 2, eps: 1e-5, name: "GroupNorm"}, []int{2, 4, 3, 3, 5}},
		{&normKernel{layout: layoutChannels, eps: 1e-5, name: "LayerNormChannels"}, []int{2, 5, 3, 4, 3}},
		{&normKernel{layout: layoutLast, eps: 1e-5, name: "LayerNorm"}, []int{3, 7, 12}},
		{&normKernel{layout: layoutBatch, eps: 1e-5, bn: eval, name: "BatchNorm3d eval"}, []int{2, 3, 4, 3, 5}},
	}
	for _, d := range testDevices(t) {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/%s", d.Kind(), c.k.name), func(t *testing.T) {
				x := f32Tensor(r, c.shape...)
				for i, v := range x.Data().([]float32) {
					x.Data().([]float32)[i] = 3*v + 1 // an offset mean
				}
				checkDeviceKernel(t, d, r, c.k, []*tensor.Dense{x}, 1e-5)
			})
		}
		t.Run(fmt.Sprintf("%s/affine", d.Kind()), func(t *testing.T) {
			k := &affineKernel{axis: 1, name: "InstanceNorm3d"}
			in := []*tensor.Dense{f32Tensor(r, 2, 3, 4, 5, 3), f32Tensor(r, 3), f32Tensor(r, 3)}
			checkDeviceKernel(t, d, r, k, in, 1e-5)
		})
		t.Run(fmt.Sprintf("%s/BatchNorm3d training", d.Kind()), func(t *testing.T) {
			cpu, dev := NewBatchNormStats(3), NewBatchNormStats(3)
			x := f32Tensor(r, 2, 3, 4, 3, 5)
			kc := &normKernel{layout: layoutBatch, eps: 1e-5, bn: cpu, name: "BatchNorm3d"}
			kd := &normKernel{layout: layoutBatch, eps: 1e-5, bn: dev, name: "BatchNorm3d"}
			compareF32(t, "forward", runOnDevice(t, d, kd, []*tensor.Dense{x}), runOnCPU(t, kc, []*tensor.Dense{x}), 1e-5)
			for i := range cpu.Mean {
				if diff(cpu.Mean[i], dev.Mean[i]) > 1e-9 || diff(cpu.Var[i], dev.Var[i]) > 1e-9 || cpu.Batches != dev.Batches {
					t.Errorf("running statistics: device %v %v (%d), CPU %v %v (%d)", dev.Mean, dev.Var, dev.Batches, cpu.Mean, cpu.Var, cpu.Batches)
					break
				}
			}
		})
	}
}

func diff(a, b float64) float64 {
	if a > b {
		return a - b
	}
	return b - a
}
