package nn

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// naivePool3d is the textbook max or average pool (average counts the zero
// padding, as PyTorch's count_include_pad).
func naivePool3d(x []float64, xs []int, k, st, pad [3]int, maxPool bool) []float64 {
	var o [3]int
	for i := range o {
		o[i] = (xs[2+i]+2*pad[i]-k[i])/st[i] + 1
	}
	var y []float64
	for nc := 0; nc < xs[0]*xs[1]; nc++ {
		for od := 0; od < o[0]; od++ {
			for oh := 0; oh < o[1]; oh++ {
				for ow := 0; ow < o[2]; ow++ {
					acc := 0.0
					if maxPool {
						acc = math.Inf(-1)
					}
					for kd := 0; kd < k[0]; kd++ {
						for kh := 0; kh < k[1]; kh++ {
							for kw := 0; kw < k[2]; kw++ {
								d, h, w := od*st[0]-pad[0]+kd, oh*st[1]-pad[1]+kh, ow*st[2]-pad[2]+kw
								if d < 0 || h < 0 || w < 0 || d >= xs[2] || h >= xs[3] || w >= xs[4] {
									continue
								}
								v := x[((nc*xs[2]+d)*xs[3]+h)*xs[4]+w]
								if maxPool {
									acc = math.Max(acc, v)
								} else {
									acc += v
								}
							}
						}
					}
					if !maxPool {
						acc /= float64(k[0] * k[1] * k[2])
					}
					y = append(y, acc)
				}
			}
		}
	}
	return y
}

// TestPoolRandomGeometry draws pools with random sizes, windows, strides
// and paddings (at most half the window) and checks them against
// naivePool3d in float64 and float32, and every fourth case's gradient
// against finite differences.
func TestPoolRandomGeometry(t *testing.T) {
	r := rand.New(rand.NewSource(17))
	trials := 60
	if testing.Short() {
		trials = 15
	}
	for trial := 0; trial < trials; trial++ {
		var o PoolOptions
		xs := []int{1 + r.Intn(2), 1 + r.Intn(3), 1 + r.Intn(7), 1 + r.Intn(7), 1 + r.Intn(7)}
		ok := true
		for i := 0; i < 3; i++ {
			o.Kernel[i] = 1 + r.Intn(3)
			o.Stride[i] = 1 + r.Intn(3)
			o.Padding[i] = r.Intn(o.Kernel[i]/2 + 1)
			if xs[2+i]+2*o.Padding[i] < o.Kernel[i] {
				ok = false
			}
		}
		if !ok {
			trial--
			continue
		}
		maxPool := r.Intn(2) == 0
		name := fmt.Sprintf("trial %d: x %v %+v max %v", trial, xs, o, maxPool)
		build := func(n []*gorgonia.Node) (*gorgonia.Node, error) {
			if maxPool {
				return MaxPool3d(n[0], &o)
			}
			return AvgPool3d(n[0], &o)
		}
		in := []*tensor.Dense{randTensor(rand.New(rand.NewSource(int64(trial))), xs...)}
		want := naivePool3d(in[0].Data().([]float64), xs, o.Kernel, o.Stride, o.Padding, maxPool)
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			got, _ := runForward(t, build, in, dt)
			if len(got) != len(want) {
				t.Fatalf("%s %v: %d outputs, want %d", name, dt, len(got), len(want))
			}
			for i := range want {
				if math.Abs(got[i]-want[i]) > 1e-6*(1+math.Abs(want[i])) {
					t.Fatalf("%s %v: element %d = %v, want %v", name, dt, i, got[i], want[i])
				}
			}
		}
		if trial%4 == 0 {
			if err := gradCheck(build, in); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
	}
}
