package nn

import (
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestSumMean: the loss Sum(x ⊙ r) (Mean: divided by the count) has the
// value of a plain float64 sum and the gradient r (r/n) with respect to x,
// in float64 and float32, run twice on one machine (the gradient buffer is
// reused), for shapes of one to five axes. A central finite difference
// checks a few elements as well.
func TestSumMean(t *testing.T) {
	for _, shape := range [][]int{{7}, {3, 5}, {2, 3, 4, 5, 6}, {1, 4, 70, 80, 3}} {
		for _, mean := range []bool{false, true} {
			for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
				rng := rand.New(rand.NewSource(int64(len(shape))))
				xv, rv := randTensor(rng, shape...), randTensor(rng, shape...)
				n := xv.Shape().TotalSize()
				var want float64
				for i, v := range xv.Data().([]float64) {
					want += v * rv.Data().([]float64)[i]
				}
				if mean {
					want /= float64(n)
				}
				if dt == tensor.Float32 {
					xv, rv = convertDense(xv, tensor.Float32), convertDense(rv, tensor.Float32)
				}
				g := gorgonia.NewGraph()
				x := gorgonia.NewTensor(g, dt, len(shape), gorgonia.WithShape(shape...), gorgonia.WithValue(xv), gorgonia.WithName("x"))
				r := gorgonia.NewTensor(g, dt, len(shape), gorgonia.WithShape(shape...), gorgonia.WithValue(rv), gorgonia.WithName("r"))
				prod, err := gorgonia.HadamardProd(x, r)
				if err != nil {
					t.Fatal(err)
				}
				reduce := Sum
				if mean {
					reduce = Mean
				}
				loss, err := reduce(prod)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := gorgonia.Grad(loss, x); err != nil {
					t.Fatal(err)
				}
				m := gorgonia.NewTapeMachine(g)
				for run := 0; run < 2; run++ {
					m.Reset()
					if err := m.RunAll(); err != nil {
						t.Fatal(err)
					}
					got, err := ScalarValue(loss.Value())
					if err != nil {
						t.Fatal(err)
					}
					tol := 1e-12
					if dt == tensor.Float32 {
						tol = 1e-5
					}
					if math.Abs(got-want) > tol*(1+math.Abs(want)) {
						t.Fatalf("%v mean=%v %v: value %g, want %g", shape, mean, dt, got, want)
					}
					gv, err := x.Grad()
					if err != nil {
						t.Fatal(err)
					}
					r64, g64 := toF64(rv), toF64(gv.(*tensor.Dense))
					for i := 0; i < n; i++ {
						rw, gw := r64[i], g64[i]
						if mean {
							rw /= float64(n)
						}
						if math.Abs(gw-rw) > 1e-6*math.Abs(rw)+1e-12 {
							t.Fatalf("%v mean=%v %v run %d: gradient[%d] %g, want %g", shape, mean, dt, run, i, gw, rw)
						}
					}
				}
				m.Close()
			}
		}
	}
	// Finite differences, float64, through the op's own Do.
	rng := rand.New(rand.NewSource(9))
	xv := randTensor(rng, 3, 4)
	op := &reduceOp{mean: true, dims: 2}
	f := func() float64 {
		v, err := op.Do(xv)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := ScalarValue(v)
		return s
	}
	d := xv.Data().([]float64)
	for _, i := range []int{0, 5, 11} {
		const h = 1e-6
		old := d[i]
		d[i] = old + h
		up := f()
		d[i] = old - h
		down := f()
		d[i] = old
		if fd := (up - down) / (2 * h); math.Abs(fd-1.0/12) > 1e-8 {
			t.Errorf("finite difference at %d: %g, want %g", i, fd, 1.0/12)
		}
	}
}

// TestSumErrors: a nil node and an integer tensor are errors, not panics.
func TestSumErrors(t *testing.T) {
	if _, err := Sum(nil); err == nil {
		t.Error("Sum(nil): no error")
	}
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Int, 1, gorgonia.WithShape(3), gorgonia.WithName("x"))
	if _, err := Mean(x); err == nil {
		t.Error("Mean of an int tensor: no error")
	}
}
