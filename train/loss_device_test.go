package train

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/unetlab/unetlab/internal/cuda"
	"github.com/unetlab/unetlab/internal/devtest"
	"github.com/unetlab/unetlab/models/nn"
	"gorgonia.org/tensor"
)

// TestLossDevice compares the device loss and its gradient with
// lossCompute for every kind and option, on the emulated device.
func TestLossDevice(t *testing.T) {
	dev, k := devtest.Emulated(t)
	r := rand.New(rand.NewPCG(9, 10))
	up := func(v []float32) cuda.Ptr {
		p, err := dev.Alloc(4 * len(v))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dev.Free(p) })
		if err := dev.CopyHtoD(p, unsafe.Pointer(&v[0]), 4*len(v)); err != nil {
			t.Fatal(err)
		}
		return p
	}
	down := func(p cuda.Ptr, n int) []float32 {
		v := make([]float32, n)
		if err := dev.CopyDtoH(unsafe.Pointer(&v[0]), p, 4*n); err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name      string
		opt       LossOptions
		n, c, v   int
		oneHot    bool
		badTarget bool
	}{
		{"dicece", LossOptions{}, 2, 3, 77, false, false},
		{"dice only, background out", LossOptions{Kind: DiceOnly, ExcludeBackground: true}, 1, 4, 50, false, false},
		{"ce only weighted", LossOptions{Kind: CEOnly, LambdaCE: 0.5}, 2, 2, 33, false, false},
		{"softmaxed, one-hot target", LossOptions{Softmaxed: true, LambdaDice: 2, SmoothNr: 1e-3, SmoothDr: 2e-3}, 2, 3, 40, true, false},
		{"bad target", LossOptions{}, 1, 3, 20, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := c.opt.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			x := make([]float32, c.n*c.c*c.v)
			for i := range x {
				x[i] = float32(2 * r.NormFloat64())
			}
			if o.Softmaxed { // probabilities per voxel
				for b := 0; b < c.n; b++ {
					for i := 0; i < c.v; i++ {
						var s float32
						for k := 0; k < c.c; k++ {
							x[(b*c.c+k)*c.v+i] = r.Float32() + 0.01
							s += x[(b*c.c+k)*c.v+i]
						}
						for k := 0; k < c.c; k++ {
							x[(b*c.c+k)*c.v+i] /= s
						}
					}
				}
			}
			tc := 1
			if c.oneHot {
				tc = c.c
			}
			tg := make([]float32, c.n*tc*c.v)
			for b := 0; b < c.n; b++ {
				for i := 0; i < c.v; i++ {
					cls := r.IntN(c.c)
					if c.oneHot {
						tg[(b*c.c+cls)*c.v+i] = 1
					} else {
						tg[b*c.v+i] = float32(cls)
					}
				}
			}
			if c.badTarget {
				tg[3] = 1.5
			}
			s := lossShape{n: c.n, c: c.c, v: c.v, tc: tc}
			op := &lossOp{opt: o, dims: 3}
			shape := func(ch int) []int { return []int{c.n, ch, c.v} }
			xp, tp := up(x), up(tg)
			p, err := op.lossParams(devT(xp, shape(c.c)), devT(tp, shape(tc)))
			if err != nil {
				t.Fatal(err)
			}
			out := up([]float32{0})
			if err := k.Loss(p, xp, tp, out); err != nil {
				t.Fatal(err)
			}
			got := float64(down(out, 1)[0])
			want, err := lossCompute(x, tg, s, o, nil, 0)
			if c.badTarget {
				if err == nil || !math.IsNaN(got) {
					t.Fatalf("bad target: device loss %v (want NaN), CPU error %v", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			devtest.Loss(t, c.name, got, want, 1e-6)
			wantDx := make([]float32, len(x))
			if _, err := lossCompute(x, tg, s, o, wantDx, 0.7); err != nil {
				t.Fatal(err)
			}
			dout, dx := up([]float32{0.7}), up(make([]float32, len(x)))
			if err := k.LossGrad(p, xp, tp, dout, dx); err != nil {
				t.Fatal(err)
			}
			gotDx := down(dx, len(x))
			for i := range gotDx {
				if math.Abs(float64(gotDx[i]-wantDx[i])) > 1e-6*(1e-3+math.Abs(float64(wantDx[i]))) {
					t.Fatalf("gradient [%d] = %v, CPU %v", i, gotDx[i], wantDx[i])
				}
			}
		})
	}
}

func devT(p cuda.Ptr, shape []int) nn.DeviceTensor {
	return nn.DeviceTensor{Ptr: p, Shape: tensor.Shape(shape)}
}
