package nn

import (
	"context"
	"fmt"
	"math/rand"
	"testing"

	"github.com/unetlab/unetlab/internal/devtest"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// execNet builds a small float32 network x -> Conv3d -> InstanceNorm3d ->
// LeakyReLU -> MaxPool3d -> ConvTranspose3d -> Upsample3d -> LogSoftmax ->
// Mean, with affine norm parameters when affine, and returns its input,
// parameters, loss and the loss's gradients.
func execNet(t *testing.T, r *rand.Rand, affine bool) (x *gorgonia.Node, params gorgonia.Nodes, loss *gorgonia.Node, grads gorgonia.Nodes) {
	t.Helper()
	g := gorgonia.NewGraph()
	param := func(name string, shape ...int) *gorgonia.Node {
		n := gorgonia.NewTensor(g, tensor.Float32, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name),
			gorgonia.WithValue(f32Tensor(r, shape...)))
		params = append(params, n)
		return n
	}
	x = gorgonia.NewTensor(g, tensor.Float32, 5, gorgonia.WithShape(2, 2, 6, 5, 7), gorgonia.WithName("x"))
	w1, b1 := param("w1", 4, 2, 3, 3, 3), param("b1", 4)
	var gamma, beta *gorgonia.Node
	if affine {
		gamma, beta = param("gamma", 4), param("beta", 4)
	}
	w2, b2 := param("w2", 4, 3, 2, 2, 2), param("b2", 3)
	must := func(n *gorgonia.Node, err error) *gorgonia.Node {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	h := must(Conv3d(x, w1, b1, &ConvOptions{Padding: [3]int{1, 1, 1}}))
	h = must(InstanceNorm3d(h, gamma, beta, 0))
	h = must(LeakyReLU(h, 0.01))
	h = must(MaxPool3d(h, &PoolOptions{Kernel: [3]int{2, 2, 2}}))
	h = must(ConvTranspose3d(h, w2, b2, &ConvOptions{Stride: [3]int{2, 2, 2}}))
	h = must(Upsample3d(h, &UpsampleOptions{Scale: [3]float64{1.5, 1, 1.5}, Mode: Trilinear}))
	h = must(LogSoftmax(h))
	loss = must(Mean(h))
	var err error
	if grads, err = gorgonia.Grad(loss, params...); err != nil {
		t.Fatal(err)
	}
	return x, params, loss, grads
}

// tapeReference runs g once on gorgonia's TapeMachine with the gradients
// of params bound, calls read (when not nil) while the machine's values are
// live, and returns a copy of each param's gradient: the reference an
// Executor's run is compared with.
func tapeReference(t *testing.T, g *gorgonia.ExprGraph, params gorgonia.Nodes, read func()) []*tensor.Dense {
	t.Helper()
	m := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(params...))
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	if read != nil {
		read()
	}
	grads := make([]*tensor.Dense, len(params))
	for i, p := range params {
		gv, err := p.Grad()
		if err != nil {
			t.Fatalf("gradient of %s: %v", p.Name(), err)
		}
		grads[i] = gv.(*tensor.Dense).Clone().(*tensor.Dense)
	}
	return grads
}

// TestExecutorTrainingStep runs the forward and backward pass of execNet
// with a TapeMachine and with the Executor on the emulated device, twice
// (the second run must upload only the batch), and compares the loss and
// every gradient; no op may fall back to the CPU, and the second run
// uploads only the batch.
func TestExecutorTrainingStep(t *testing.T) {
	for _, affine := range []bool{false, true} {
		d, err := openDevice("emulated")
		if err != nil {
			t.Skipf("skipped: %v", err)
		}
		defer d.close()
		r := rand.New(rand.NewSource(21))
		x, params, loss, grads := execNet(t, r, affine)
		xv := f32Tensor(r, x.Shape()...)
		if err := gorgonia.Let(x, xv); err != nil {
			t.Fatal(err)
		}
		var wantLoss float32
		wantGrads := tapeReference(t, x.Graph(), params, func() { wantLoss = loss.Value().Data().(float32) })

		e, err := NewExecutor(d, params, append(gorgonia.Nodes{loss}, grads...)...)
		if err != nil {
			t.Fatal(err)
		}
		for run := 0; run < 2; run++ {
			e.ResetStats()
			if err := e.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			st := e.Stats()
			l, err := e.Value(loss)
			if err != nil {
				t.Fatal(err)
			}
			devtest.Loss(t, fmt.Sprintf("affine=%v run %d", affine, run), float64(l.Data().([]float32)[0]), float64(wantLoss), 1e-5)
			for i, gn := range grads {
				gv, err := e.Value(gn)
				if err != nil {
					t.Fatal(err)
				}
				compareF32(t, "gradient of "+params[i].Name(), gv, wantGrads[i], 1e-4)
			}
			t.Logf("affine=%v run %d: %v", affine, run, st)
			wantUp := 1 // the batch
			if run == 0 {
				wantUp = len(params) + 1 + st.FallbackOps // plus constants and fallback results, counted below
			}
			if st.FallbackOps != 0 {
				t.Errorf("run %d: %d ops fell back to the CPU: %v", run, st.FallbackOps, st.Fallbacks)
			}
			if run == 1 && st.HostToDevice != wantUp {
				t.Errorf("run %d: %d host->device copies, want %d (the batch)", run, st.HostToDevice, wantUp)
			}
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestExecutorFallback runs a graph with gorgonia's own elementwise
// product, which has no device kernel: it runs on the CPU from host copies,
// the result equals the TapeMachine's, and the fallbacks and copies are
// counted.
func TestExecutorFallback(t *testing.T) {
	d, err := openDevice("emulated")
	if err != nil {
		t.Skipf("skipped: %v", err)
	}
	defer d.close()
	r := rand.New(rand.NewSource(22))
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float32, 5, gorgonia.WithShape(1, 2, 3, 4, 5), gorgonia.WithName("x"),
		gorgonia.WithValue(f32Tensor(r, 1, 2, 3, 4, 5)))
	w := gorgonia.NewTensor(g, tensor.Float32, 5, gorgonia.WithShape(1, 2, 3, 4, 5), gorgonia.WithName("w"),
		gorgonia.WithValue(f32Tensor(r, 1, 2, 3, 4, 5)))
	h, err := gorgonia.HadamardProd(x, w)
	if err != nil {
		t.Fatal(err)
	}
	a, err := ReLU(h)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := Sum(a)
	if err != nil {
		t.Fatal(err)
	}
	grads, err := gorgonia.Grad(loss, w)
	if err != nil {
		t.Fatal(err)
	}
	m := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(w))
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	wantLoss := loss.Value().Data().(float32)
	gv, _ := w.Grad()
	wantGrad := gv.(*tensor.Dense).Clone().(*tensor.Dense)
	m.Close()

	e, err := NewExecutor(d, gorgonia.Nodes{w}, loss, grads[0])
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := e.Stats()
	l, err := e.Value(loss)
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Data().([]float32)[0]; diff(float64(got), float64(wantLoss)) > 1e-5 {
		t.Errorf("loss %v, CPU %v", got, wantLoss)
	}
	dg, err := e.Value(grads[0])
	if err != nil {
		t.Fatal(err)
	}
	compareF32(t, "gradient", dg, wantGrad, 1e-6)
	t.Log(st)
	if st.FallbackOps != 2 {
		t.Errorf("%d fallbacks counted, want 2 (the product and its gradient): %v", st.FallbackOps, st)
	}
	if st.DeviceToHost < st.FallbackOps || st.HostToDevice < 2+st.FallbackOps {
		t.Errorf("copies not counted: %v", st)
	}
}

// TestExecutorAttentionSoftmax compares the device attention softmax,
// without and with a bias, and its gradients with the CPU's at odd sizes,
// through the executor, with no CPU fallback (device_swin_test.go tests
// the masks).
func TestExecutorAttentionSoftmax(t *testing.T) {
	d, err := openDevice("emulated")
	if err != nil {
		t.Skipf("skipped: %v", err)
	}
	defer d.close()
	r := rand.New(rand.NewSource(23))
	for _, withBias := range []bool{false, true} {
		g := gorgonia.NewGraph()
		x := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(2, 3, 5, 7), gorgonia.WithName("x"),
			gorgonia.WithValue(f32Tensor(r, 2, 3, 5, 7)))
		params := gorgonia.Nodes{x}
		var bias *gorgonia.Node
		if withBias {
			bias = gorgonia.NewTensor(g, tensor.Float32, 3, gorgonia.WithShape(3, 5, 7), gorgonia.WithName("bias"),
				gorgonia.WithValue(f32Tensor(r, 3, 5, 7)))
			params = append(params, bias)
		}
		y, err := AttentionSoftmax(x, 0.7, bias, nil)
		if err != nil {
			t.Fatal(err)
		}
		h, err := LeakyReLU(y, 0.3) // a loss whose gradient is not constant
		if err != nil {
			t.Fatal(err)
		}
		loss, err := Sum(h)
		if err != nil {
			t.Fatal(err)
		}
		grads, err := gorgonia.Grad(loss, params...)
		if err != nil {
			t.Fatal(err)
		}
		var wantY *tensor.Dense
		wantG := tapeReference(t, g, params, func() { wantY = y.Value().(*tensor.Dense).Clone().(*tensor.Dense) })
		e, err := NewExecutor(d, params, append(gorgonia.Nodes{y, loss}, grads...)...)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		st := e.Stats()
		gotY, err := e.Value(y)
		if err != nil {
			t.Fatal(err)
		}
		compareF32(t, "softmax", gotY, wantY, 1e-6)
		for i, gn := range grads {
			gv, err := e.Value(gn)
			if err != nil {
				t.Fatal(err)
			}
			compareF32(t, "gradient of "+params[i].Name(), gv, wantG[i], 1e-5)
		}
		if st.FallbackOps > 0 {
			t.Errorf("bias %v: %v", withBias, st)
		}
		e.Close()
	}
}

// TestExecutorMemory: values are freed after their last use, so a step
// holds less than all its nodes' values; the second run makes no device
// allocation (the caching allocator serves it) and gives the same loss;
// an intermediate node's value is gone after Run, a root's is kept.
func TestExecutorMemory(t *testing.T) {
	d, err := openDevice("emulated")
	if err != nil {
		t.Skipf("skipped: %v", err)
	}
	defer d.close()
	r := rand.New(rand.NewSource(24))
	x, params, loss, grads := execNet(t, r, true)
	if err := gorgonia.Let(x, f32Tensor(r, x.Shape()...)); err != nil {
		t.Fatal(err)
	}
	before := d.mem.MemStats().InUse
	e, err := NewExecutor(d, params, append(gorgonia.Nodes{loss}, grads...)...)
	if err != nil {
		t.Fatal(err)
	}
	all := int64(0) // every node's value, as the executor held them before liveness
	for _, n := range e.order {
		all += int64(4 * max(n.Shape().TotalSize(), 1))
	}
	var losses []float32
	for run := 0; run < 2; run++ {
		e.ResetStats()
		if err := e.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		st := e.Stats()
		t.Logf("run %d: %v (all values: %d B)", run, st, all)
		if st.PeakBytes <= 0 || st.PeakBytes >= all {
			t.Errorf("run %d: peak %d B on the device, want below the %d B of all node values", run, st.PeakBytes, all)
		}
		if run == 0 && st.DeviceAllocs == 0 {
			t.Errorf("run 0: no device allocation counted")
		}
		if run == 1 && st.DeviceAllocs != 0 {
			t.Errorf("run 1: %d device allocations, want 0 (cached)", st.DeviceAllocs)
		}
		l, err := e.Value(loss)
		if err != nil {
			t.Fatal(err)
		}
		losses = append(losses, l.Data().([]float32)[0])
	}
	if losses[0] != losses[1] {
		t.Errorf("losses of two runs differ: %v", losses)
	}
	inner := 0
	for _, n := range e.order {
		if n.Op() != nil && len(e.inputs[n]) > 0 && !e.keep[n] {
			inner++
			if _, err := e.Value(n); err == nil {
				t.Errorf("intermediate node %s still has a device value after Run", n.Name())
			}
		}
	}
	if inner == 0 {
		t.Fatal("no intermediate nodes")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.kern.Close(); err != nil { // Sum's scratch, the kernels'
		t.Fatal(err)
	}
	if m := d.mem.MemStats(); m.InUse != before {
		t.Errorf("%d B in use after Close, %d B before the executor", m.InUse, before)
	}
}

// TestExecutorBatchNormCopies: BatchNorm's running statistics stay on the
// device. They go up once (2 copies of C float64 values) at the first run;
// later training steps update them in place and eval-mode runs read them
// there, with no copies (only the batch goes up); SyncResident brings them
// down (2 copies). After the same training steps the synced statistics are
// the CPU engine's, and eval mode's output is the CPU's, on the executor
// that trained and on a fresh one that uploads the synced statistics.
func TestExecutorBatchNormCopies(t *testing.T) {
	d, err := openDevice("emulated")
	if err != nil {
		t.Skipf("skipped: %v", err)
	}
	defer d.close()
	r := rand.New(rand.NewSource(25))
	const c, steps = 3, 4
	xs := make([]*tensor.Dense, steps+1)
	for i := range xs {
		xs[i] = f32Tensor(r, 2, c, 3, 4, 5)
	}
	build := func(stats *BatchNormStats) (*gorgonia.Node, *gorgonia.Node) {
		g := gorgonia.NewGraph()
		x := gorgonia.NewTensor(g, tensor.Float32, 5, gorgonia.WithShape(2, c, 3, 4, 5), gorgonia.WithName("x"), gorgonia.WithValue(xs[0].Clone()))
		y, err := BatchNorm3d(x, nil, nil, stats, 0)
		if err != nil {
			t.Fatal(err)
		}
		return x, y
	}
	cpu, dev := NewBatchNormStats(c), NewBatchNormStats(c)
	xc, yc := build(cpu)
	m := gorgonia.NewTapeMachine(yc.Graph())
	defer m.Close()
	xd, yd := build(dev)
	e, err := NewExecutor(d, nil, yd)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	run := func(i int, what string) *tensor.Dense {
		t.Helper()
		if err := gorgonia.Let(xc, xs[i].Clone()); err != nil {
			t.Fatal(err)
		}
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		if err := gorgonia.Let(xd, xs[i].Clone()); err != nil {
			t.Fatal(err)
		}
		if err := e.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		got, err := e.Value(yd)
		if err != nil {
			t.Fatal(err)
		}
		compareF32(t, what, got, yc.Value().(*tensor.Dense), 1e-5)
		return got
	}
	sameStats := func(what string, a, b *BatchNormStats) {
		t.Helper()
		for i := range a.Mean {
			if diff(a.Mean[i], b.Mean[i]) > 1e-9 || diff(a.Var[i], b.Var[i]) > 1e-9 {
				t.Errorf("%s: running statistics %v %v, CPU %v %v", what, b.Mean, b.Var, a.Mean, a.Var)
				return
			}
		}
		if a.Batches != b.Batches {
			t.Errorf("%s: %d batches tracked, CPU %d", what, b.Batches, a.Batches)
		}
	}
	// The first step uploads the statistics with the batch.
	run(0, "training step 0")
	if st := e.Stats(); st.HostToDevice != 1+2 || st.BytesHtoD != int64(4*xs[0].Size()+2*8*c) || st.DeviceToHost != 1 {
		t.Errorf("first step: %v; want the batch and the 2 statistics up, y down", st)
	}
	for i := 1; i < steps; i++ {
		e.ResetStats()
		run(i, fmt.Sprintf("training step %d", i))
		if st := e.Stats(); st.HostToDevice != 1 || st.DeviceToHost != 1 {
			t.Errorf("training step %d: %v; want only the batch up and y down", i, st)
		}
	}
	if cpu.Mean[0] == 0 || cpu.Var[0] == 1 {
		t.Fatalf("CPU running statistics %v %v not updated", cpu.Mean, cpu.Var)
	}
	if dev.Mean[0] != 0 || dev.Var[0] != 1 {
		t.Errorf("host running statistics %v %v changed before SyncResident", dev.Mean, dev.Var)
	}
	e.ResetStats()
	if err := e.SyncResident(); err != nil {
		t.Fatal(err)
	}
	if st := e.Stats(); st.DeviceToHost != 2 || st.BytesDtoH != 2*8*c || st.HostToDevice != 0 {
		t.Errorf("SyncResident: %v; want the 2 statistics down", st)
	}
	sameStats(fmt.Sprintf("after %d steps", steps), cpu, dev)

	// Eval mode reads the resident statistics: no copies for them.
	cpu.Training, dev.Training = false, false
	e.ResetStats()
	want := run(steps, "eval mode").Clone().(*tensor.Dense)
	if st := e.Stats(); st.HostToDevice != 1 || st.DeviceToHost != 1 {
		t.Errorf("eval mode: %v; want only the batch up and y down", st)
	}
	// A fresh executor (a loaded checkpoint) uploads the host statistics.
	_, y2 := build(dev)
	e2, err := NewExecutor(d, nil, y2)
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	if err := gorgonia.Let(y2.Graph().ByName("x")[0], xs[steps].Clone()); err != nil {
		t.Fatal(err)
	}
	if err := e2.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := e2.Value(y2)
	if err != nil {
		t.Fatal(err)
	}
	compareF32(t, "eval mode, fresh executor", got, want, 0)
	if st := e2.Stats(); st.HostToDevice != 1+2 {
		t.Errorf("fresh executor: %v; want the batch and the 2 statistics up", st)
	}
}
