package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/unetlab/unetlab/internal/cuda"
	"github.com/unetlab/unetlab/internal/devtest"
)

// TestAdamDevice runs five Adam (and AdamW) steps with the device kernel on
// the emulated device and with adamUpdate, from the same parameters and
// gradients, and compares parameters and moments.
func TestAdamDevice(t *testing.T) {
	dev, k := devtest.Emulated(t)
	r := rand.New(rand.NewPCG(7, 8))
	for _, o := range []AdamOptions{{}, {Decoupled: true, WeightDecay: 0.01}, {Beta1: 0.5, Beta2: 0.9, Eps: 1e-6, WeightDecay: -1}} {
		o, err := o.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		const n, lr = 1003, 1e-3
		w, m, v := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range w {
			w[i] = float32(r.NormFloat64())
		}
		ptr := map[string]cuda.Ptr{}
		for _, name := range []string{"w", "g", "m", "v"} {
			p, err := dev.Alloc(4 * n)
			if err != nil {
				t.Fatal(err)
			}
			defer dev.Free(p)
			ptr[name] = p
		}
		for _, c := range []struct {
			name string
			v    []float32
		}{{"w", w}, {"m", m}, {"v", v}} {
			if err := dev.CopyHtoD(ptr[c.name], unsafe.Pointer(&c.v[0]), 4*n); err != nil {
				t.Fatal(err)
			}
		}
		for step := 1; step <= 5; step++ {
			g := make([]float32, n)
			for i := range g {
				g[i] = float32(r.NormFloat64())
			}
			if err := dev.CopyHtoD(ptr["g"], unsafe.Pointer(&g[0]), 4*n); err != nil {
				t.Fatal(err)
			}
			bc1 := 1 - math.Pow(o.Beta1, float64(step))
			bc2 := 1 - math.Pow(o.Beta2, float64(step))
			a := cuda.AdamParams{Beta1: o.Beta1, Beta2: o.Beta2, Eps: o.Eps, WeightDecay: o.WeightDecay, LR: lr,
				StepSize: lr / bc1, SqrtBC2: math.Sqrt(bc2)}
			if o.Decoupled {
				a.Decoupled = 1
			}
			if err := k.Adam(n, a, ptr["w"], ptr["g"], ptr["m"], ptr["v"]); err != nil {
				t.Fatal(err)
			}
			adamUpdate(w, g, m, v, o, lr, lr/bc1, math.Sqrt(bc2))
		}
		for _, c := range []struct {
			name string
			want []float32
		}{{"w", w}, {"m", m}, {"v", v}, {"g", make([]float32, n)}} {
			got := make([]float32, n)
			if err := dev.CopyDtoH(unsafe.Pointer(&got[0]), ptr[c.name], 4*n); err != nil {
				t.Fatal(err)
			}
			devtest.CompareF32(t, fmt.Sprintf("%+v: %s after 5 steps", o, c.name), got, c.want, 0, 0)
		}
	}
}
