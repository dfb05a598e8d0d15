package nn

import (
	"context"
	"errors"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
)

// TestExecutorRunFor: RunFor(loss) evaluates only the forward nodes the
// loss needs (fewer device ops than the whole step with its gradients),
// leaves the gradients unrun until asked, gives the whole step's loss,
// uploads only the batch once every node has run, and refuses a node the
// executor was not built for.
func TestExecutorRunFor(t *testing.T) {
	d, err := openDevice("emulated")
	if err != nil {
		t.Skipf("skipped: %v", err)
	}
	defer d.close()
	r := rand.New(rand.NewSource(5))
	x, params, loss, grads := execNet(t, r, false)
	if err := gorgonia.Let(x, f32Tensor(r, x.Shape()...)); err != nil {
		t.Fatal(err)
	}
	e, err := NewExecutor(d, params, append(gorgonia.Nodes{loss}, grads...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	if err := e.RunFor(ctx, loss); err != nil {
		t.Fatal(err)
	}
	fwd := e.Stats().DeviceOps
	if _, ok := e.Tensor(grads[0]); ok {
		t.Error("RunFor(loss) computed a gradient")
	}
	lf, err := e.Value(loss)
	if err != nil {
		t.Fatal(err)
	}
	forward := lf.Data().([]float32)[0]
	e.ResetStats()
	if err := e.RunFor(ctx, append(gorgonia.Nodes{loss}, grads...)...); err != nil {
		t.Fatal(err)
	}
	all := e.Stats().DeviceOps
	if fwd == 0 || fwd >= all {
		t.Errorf("RunFor(loss) ran %d device ops, the whole step %d: want fewer, and some", fwd, all)
	}
	// Once every node has run, a run uploads the batch alone: the
	// parameters and constants stay.
	e.ResetStats()
	if err := e.RunFor(ctx, append(gorgonia.Nodes{loss}, grads...)...); err != nil {
		t.Fatal(err)
	}
	if st := e.Stats(); st.HostToDevice != 1 || st.DeviceOps != all {
		t.Errorf("third RunFor: %v; want %d device ops and one upload (the batch)", st, all)
	}
	lv, err := e.Value(loss)
	if err != nil {
		t.Fatal(err)
	}
	if got := lv.Data().([]float32)[0]; got != forward {
		t.Errorf("loss %v after the whole step, %v from RunFor(loss)", got, forward)
	}
	other := gorgonia.NewScalar(x.Graph(), gorgonia.Float32, gorgonia.WithName("stranger"))
	if err := e.RunFor(ctx, other); !errors.Is(err, ErrConfig) {
		t.Errorf("RunFor of a node outside the executor: %v, want ErrConfig", err)
	}
}
