package nn

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unsafe"

	"github.com/unetlab/unetlab/internal/cuda"
	"gonum.org/v1/gonum/graph"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ExecStats counts what an Executor did since it was made (or since
// ResetStats): the node evaluations on the device and on the CPU (the ops
// without a device kernel yet, by name), and the copies between host and
// device memory with their bytes.
//
// BatchNorm's running statistics live on the device: uploaded at their
// first use (2 copies of C float64 values), updated there by each training
// pass and read there in eval mode, downloaded only by SyncResident; a
// step makes no copies for them. PeakBytes is the
// most device memory in use at once during the runs (the device's, all
// holders: parameters, node values, the optimiser's moments, temporaries),
// and DeviceAllocs the allocations that reached the driver (the caching
// allocator serves a step's repeated requests: a second step makes none).
type ExecStats struct {
	DeviceOps, FallbackOps     int
	Fallbacks                  map[string]int
	HostToDevice, DeviceToHost int
	BytesHtoD, BytesDtoH       int64
	PeakBytes                  int64
	DeviceAllocs               int
}

// String summarises the counts in one line, the fallbacks by op name.
func (s ExecStats) String() string {
	var fb []string
	for name, n := range s.Fallbacks {
		fb = append(fb, fmt.Sprintf("%s x%d", name, n))
	}
	sort.Strings(fb)
	return fmt.Sprintf("%d device ops, %d CPU fallbacks [%s], %d host->device copies (%d B), %d device->host (%d B), peak %d B on the device, %d device allocations",
		s.DeviceOps, s.FallbackOps, strings.Join(fb, ", "), s.HostToDevice, s.BytesHtoD, s.DeviceToHost, s.BytesDtoH, s.PeakBytes, s.DeviceAllocs)
}

// Executor runs a gorgonia graph on a CUDA (or the emulated) device: the
// same topologically sorted nodes a TapeMachine runs, forward and symbolic
// gradient nodes alike, each node's op dispatched to its device kernel.
// Device memory is the executor's: a float32 buffer per node, from the
// device's caching allocator. A node's value is freed as soon as the last
// node reading it has run, unless it is a root or an input (liveness over
// the step's op list), so a step holds only the values still to be read;
// the freed memory serves later nodes and the next run without new device
// allocations. Resident input nodes (the parameters) are uploaded at the first Run
// and stay on the device; the other inputs (the batch) are uploaded at each
// Run; Value copies a node's result back. An op without a device kernel
// runs on the CPU from host copies of its inputs, and its result goes back
// to the device: ExecStats counts those fallbacks and every copy.
//
// Only float32 graphs run on a device. An Executor is for one goroutine.
type Executor struct {
	dev      *Device
	order    gorgonia.Nodes
	inputs   map[*gorgonia.Node][]*gorgonia.Node
	val      map[*gorgonia.Node]devTensor
	resident map[*gorgonia.Node]bool
	uploaded map[*gorgonia.Node]bool // resident inputs and constants already on the device
	host     map[*gorgonia.Node]*tensor.Dense
	stats    ExecStats
	last     map[*gorgonia.Node]int  // index in order of the last node reading it
	keep     map[*gorgonia.Node]bool // roots: kept after Run
	subsets  map[string]*nodeRun     // RunFor's node lists and liveness, by roots

	// Constant tables some ops need on the device (attention masks, gather
	// indices), uploaded at the op's first run and kept, keyed by the op;
	// scratch is one buffer of temporaries, grown as needed.
	masks   map[*attnSoftmaxOp]cuda.AttnMask
	gathers map[*gatherOp]*cuda.GatherIndex
	scr     cuda.Ptr
	scrLen  int

	bn bnResident // BatchNorm running statistics, resident on the device
}

// NewExecutor prepares to run the nodes that roots depend on, on d (a
// CUDA or emulated device). resident lists input nodes that live on the
// device between runs (the learnable parameters).
func NewExecutor(d *Device, resident gorgonia.Nodes, roots ...*gorgonia.Node) (*Executor, error) {
	if d == nil || d.kern == nil {
		return nil, fmt.Errorf("%w: an Executor needs a CUDA or emulated device, not %v", ErrDevice, d)
	}
	if len(roots) == 0 {
		return nil, fmt.Errorf("%w: Executor: no roots", ErrConfig)
	}
	g := roots[0].Graph()
	sub := g.SubgraphRoots(roots...)
	order, err := gorgonia.Sort(sub)
	if err != nil {
		return nil, fmt.Errorf("nn: Executor: %w", err)
	}
	for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 { // inputs first
		order[i], order[j] = order[j], order[i]
	}
	e := &Executor{dev: d, order: order, inputs: map[*gorgonia.Node][]*gorgonia.Node{},
		val: map[*gorgonia.Node]devTensor{}, resident: map[*gorgonia.Node]bool{}, uploaded: map[*gorgonia.Node]bool{},
		host: map[*gorgonia.Node]*tensor.Dense{}, stats: ExecStats{Fallbacks: map[string]int{}},
		masks: map[*attnSoftmaxOp]cuda.AttnMask{}, gathers: map[*gatherOp]*cuda.GatherIndex{},
		last: map[*gorgonia.Node]int{}, keep: map[*gorgonia.Node]bool{}}
	e.bn = bnResident{d: d, st: &e.stats}
	for _, n := range roots {
		e.keep[n] = true
	}
	for _, n := range resident {
		e.resident[n] = true
	}
	for _, n := range order {
		if n.Dtype() != tensor.Float32 {
			return nil, fmt.Errorf("%w: Executor: node %s is %v; devices run float32 graphs", ErrDtype, n.Name(), n.Dtype())
		}
		for _, c := range graph.NodesOf(g.From(n.ID())) {
			e.inputs[n] = append(e.inputs[n], c.(*gorgonia.Node))
		}
	}
	for i, n := range order {
		for _, c := range e.inputs[n] {
			e.last[c] = i
		}
	}
	return e, nil
}

// Stats returns the counts so far.
func (e *Executor) Stats() ExecStats {
	s := e.stats
	s.Fallbacks = make(map[string]int, len(e.stats.Fallbacks))
	for k, v := range e.stats.Fallbacks {
		s.Fallbacks[k] = v
	}
	return s
}

// ResetStats zeroes the counts.
func (e *Executor) ResetStats() { e.stats = ExecStats{Fallbacks: map[string]int{}} }

// Close frees the executor's device memory.
func (e *Executor) Close() error {
	var first error
	for n, t := range e.val {
		if err := e.dev.free(t); err != nil && first == nil {
			first = err
		}
		delete(e.val, n)
	}
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for o, a := range e.masks {
		keep(e.dev.dev.Free(a.Dense))
		keep(e.dev.dev.Free(a.Regions))
		delete(e.masks, o)
	}
	for o, g := range e.gathers {
		keep(g.Free())
		delete(e.gathers, o)
	}
	keep(e.dev.dev.Free(e.scr))
	e.scr, e.scrLen = 0, 0
	keep(e.bn.free())
	return first
}

// scratch returns device memory for n float32 temporaries, valid until the
// next scratch call.
func (e *Executor) scratch(n int) (cuda.Ptr, error) {
	if n <= e.scrLen {
		return e.scr, nil
	}
	if err := e.dev.dev.Free(e.scr); err != nil {
		return 0, err
	}
	e.scr, e.scrLen = 0, 0
	p, err := e.dev.dev.Alloc(cuda.F32Bytes(n))
	if err != nil {
		return 0, fmt.Errorf("nn: Executor scratch of %d values: %w", n, err)
	}
	e.scr, e.scrLen = p, n
	return p, nil
}

// attnMask returns the device form of o's shifted-window mask (dense or
// by regions), uploading it at o's first run (a host-to-device copy,
// counted). The bias is the caller's to fill in.
func (e *Executor) attnMask(o *attnSoftmaxOp) (cuda.AttnMask, error) {
	if a, ok := e.masks[o]; ok {
		return a, nil
	}
	var a cuda.AttnMask
	if o.mask != nil || o.regions != nil {
		a.Heads, a.L, a.NW = int32(o.xShape[1]), int32(o.xShape[2]), int32(o.nw)
		var err error
		if o.mask != nil {
			a.Dense, err = e.dev.kern.UploadFloat64(o.mask)
			e.countUpload(1, 8*len(o.mask))
		} else {
			a.Regions, err = e.dev.kern.UploadInt32(o.regions)
			e.countUpload(1, 4*len(o.regions))
		}
		if err != nil {
			return a, fmt.Errorf("%v: mask: %w", o, err)
		}
	}
	e.masks[o] = a
	return a, nil
}

// gatherIndex returns o's index (and its inverse, for the scatter-add) on
// the device, uploading it at first use (counted).
func (e *Executor) gatherIndex(o *gatherOp) (*cuda.GatherIndex, error) {
	if g, ok := e.gathers[o]; ok {
		return g, nil
	}
	g, err := e.dev.kern.NewGatherIndex(o.src, o.inShape.TotalSize())
	if err != nil {
		return nil, fmt.Errorf("%v: %w", o, err)
	}
	e.countUpload(3, int(g.Bytes())) // the index, its inverse's offsets and entries
	e.gathers[o] = g
	return g, nil
}

// countUpload counts copies host-to-device copies of n bytes in all.
func (e *Executor) countUpload(copies, n int) {
	e.stats.HostToDevice += copies
	e.stats.BytesHtoD += int64(n)
}

// buffer returns node n's device tensor, allocating it at first use.
func (e *Executor) buffer(n *gorgonia.Node) (devTensor, error) {
	if t, ok := e.val[n]; ok {
		return t, nil
	}
	t, err := e.dev.alloc(n.Shape())
	if err != nil {
		return t, fmt.Errorf("node %s: %w", n.Name(), err)
	}
	e.val[n] = t
	return t, nil
}

// hostBuf returns a float32 host tensor of n's shape, reused across runs.
func (e *Executor) hostBuf(n *gorgonia.Node) *tensor.Dense {
	h, ok := e.host[n]
	if !ok {
		s := n.Shape()
		if s.Dims() == 0 {
			s = tensor.Shape{1} // a scalar: one element
		}
		h = tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(s...))
		e.host[n] = h
	}
	return h
}

// uploadValue copies a host value into n's device tensor.
func (e *Executor) uploadValue(n *gorgonia.Node, v gorgonia.Value) error {
	t, err := e.buffer(n)
	if err != nil {
		return err
	}
	d, err := asDense(v)
	if err != nil {
		return fmt.Errorf("node %s: %w", n.Name(), err)
	}
	data, ok := d.Data().([]float32)
	if !ok {
		if s, ok2 := d.Data().(float32); ok2 {
			data = []float32{s}
		} else {
			return fmt.Errorf("%w: node %s holds %T", ErrDtype, n.Name(), d.Data())
		}
	}
	if len(data) != t.size() {
		return fmt.Errorf("%w: node %s: value of %d elements, shape %v", ErrShape, n.Name(), len(data), t.shape)
	}
	if len(data) > 0 {
		if err := e.dev.dev.CopyHtoD(t.p, unsafe.Pointer(&data[0]), cuda.F32Bytes(len(data))); err != nil {
			return fmt.Errorf("node %s: %w", n.Name(), err)
		}
	}
	e.stats.HostToDevice++
	e.stats.BytesHtoD += int64(cuda.F32Bytes(len(data)))
	return nil
}

// download copies n's device tensor into its host buffer.
func (e *Executor) download(n *gorgonia.Node) (*tensor.Dense, error) {
	t, ok := e.val[n]
	if !ok {
		return nil, fmt.Errorf("%w: node %s has no device value (not run, not in the executor, or freed after its last use: only roots and inputs are kept)", ErrConfig, n.Name())
	}
	h := e.hostBuf(n)
	if err := e.dev.download(h, t); err != nil {
		return nil, fmt.Errorf("node %s: %w", n.Name(), err)
	}
	e.stats.DeviceToHost++
	e.stats.BytesDtoH += int64(cuda.F32Bytes(t.size()))
	return h, nil
}

// Value copies node n's result of the last Run to the host: a root's, an
// input's or a constant's (other values are freed after their last use).
// The tensor is the executor's, overwritten by the next Value of n.
func (e *Executor) Value(n *gorgonia.Node) (*tensor.Dense, error) { return e.download(n) }

// SyncResident copies every resident node back into its host value, and
// every BatchNorm's running statistics (resident on the device since their
// first use) into its BatchNormStats, for a checkpoint or the CPU engine.
func (e *Executor) SyncResident() error {
	if err := e.bn.sync(); err != nil {
		return err
	}
	for n := range e.resident {
		if !e.uploaded[n] {
			continue
		}
		h, err := e.download(n)
		if err != nil {
			return err
		}
		dst, ok := n.Value().Data().([]float32)
		if !ok || len(dst) != h.Shape().TotalSize() {
			return fmt.Errorf("%w: resident node %s: host value %T", ErrShape, n.Name(), n.Value().Data())
		}
		copy(dst, h.Data().([]float32))
	}
	return nil
}

// Run evaluates every node once, in order, checking ctx between nodes, and
// frees each value after its last use; roots are kept until the next Run,
// inputs and constants for good.
func (e *Executor) Run(ctx context.Context) error {
	return e.runNodes(ctx, &nodeRun{nodes: e.order, last: e.last, keep: e.keep})
}

// nodeRun is a list of nodes to evaluate in order, with its liveness: the
// index of the last node reading each value, and the values kept after the
// run (its roots).
type nodeRun struct {
	nodes gorgonia.Nodes
	last  map[*gorgonia.Node]int
	keep  map[*gorgonia.Node]bool
}

// runNodes evaluates r's nodes (see Run).
func (e *Executor) runNodes(ctx context.Context, r *nodeRun) error {
	e.dev.mem.ResetPeak()
	allocs := e.dev.mem.MemStats().Mallocs
	defer func() {
		m := e.dev.mem.MemStats()
		e.stats.PeakBytes = max(e.stats.PeakBytes, m.PeakInUse)
		e.stats.DeviceAllocs += m.Mallocs - allocs
	}()
	// The last run's roots go back to the cache first, so that each run
	// makes the same requests in the same order and the cache, filled by
	// the first run, serves all of them.
	for _, n := range e.order {
		if t, ok := e.val[n]; ok && n.Op() != nil && len(e.inputs[n]) > 0 {
			delete(e.val, n)
			if err := e.dev.free(t); err != nil {
				return fmt.Errorf("nn: Executor on %s: node %s: %w", e.dev.Name(), n.Name(), err)
			}
		}
	}
	for i, n := range r.nodes {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("nn: Executor: %w", err)
		}
		if err := e.runNode(n); err != nil {
			return fmt.Errorf("nn: Executor on %s: %w", e.dev.Name(), err)
		}
		if err := e.release(r, i, n); err != nil {
			return fmt.Errorf("nn: Executor on %s: %w", e.dev.Name(), err)
		}
	}
	return e.dev.dev.Sync()
}

// release frees the values that node n, at index i of r's nodes, was the
// last to read: not r's roots, not inputs or constants (uploaded once).
func (e *Executor) release(r *nodeRun, i int, n *gorgonia.Node) error {
	for _, c := range e.inputs[n] {
		if r.last[c] != i || r.keep[c] || c.Op() == nil || len(e.inputs[c]) == 0 {
			continue
		}
		t, ok := e.val[c]
		if !ok {
			continue
		}
		delete(e.val, c)
		if err := e.dev.free(t); err != nil {
			return fmt.Errorf("node %s: %w", c.Name(), err)
		}
	}
	return nil
}

func (e *Executor) runNode(n *gorgonia.Node) error {
	op := n.Op()
	in := e.inputs[n]
	if op == nil || len(in) == 0 {
		// An input (op nil) or a constant: resident ones and constants go up
		// once, the batch every run.
		if e.uploaded[n] {
			return nil
		}
		v := n.Value()
		if v == nil && op != nil {
			var err error
			if v, err = op.Do(); err != nil {
				return fmt.Errorf("constant %s: %w", n.Name(), err)
			}
		}
		if v == nil {
			return fmt.Errorf("%w: input %s has no value (gorgonia.Let it before Run)", ErrConfig, n.Name())
		}
		if err := e.uploadValue(n, v); err != nil {
			return err
		}
		if op != nil || e.resident[n] {
			e.uploaded[n] = true
		}
		return nil
	}
	out, err := e.buffer(n)
	if err != nil {
		return err
	}
	args := make([]devTensor, len(in))
	for i, c := range in {
		t, ok := e.val[c]
		if !ok {
			return fmt.Errorf("%w: node %s: input %s not computed", ErrConfig, n.Name(), c.Name())
		}
		args[i] = t
	}
	err = e.deviceOp(op, out, args)
	if err == nil {
		e.stats.DeviceOps++
		return nil
	}
	if !isNoDeviceOp(err) {
		return fmt.Errorf("%s (%s): %w", n.Name(), op, err)
	}
	return e.fallback(n, op, in)
}

// deviceOp runs one op on the device.
func (e *Executor) deviceOp(gop gorgonia.Op, out devTensor, in []devTensor) error {
	kn := e.dev.kern
	switch o := gop.(type) {
	case *op:
		return e.dev.deviceForwardWith(o.k, out, in, &e.bn)
	case *reduceOp:
		scale := 1.0
		if o.mean && in[0].size() > 0 {
			scale = 1 / float64(in[0].size())
		}
		return kn.Sum(in[0].size(), in[0].p, scale, out.p)
	case DeviceOp:
		din := make([]DeviceTensor, len(in))
		for i, t := range in {
			din[i] = DeviceTensor{Ptr: t.p, Shape: t.shape}
		}
		return o.DeviceDo(kn, DeviceTensor{Ptr: out.p, Shape: out.shape}, din)
	case *matmulOp:
		return kn.Sgemm(matmulGemm(o, in[0].p, in[1].p, out.p))
	case *addTrailingOp:
		nb := in[1].size()
		if err := kn.Axpby(out.size(), 1, in[0].p, 0, out.p); err != nil {
			return err
		}
		return kn.AddBias(out.size()/max(nb, 1), nb, 1, in[1].p, out.p)
	case *sumLeadingOp:
		// One block per output element, its thread 0 summing the rows: right,
		// not fast (bias gradients are small).
		nb := out.size()
		return kn.ChannelSum(in[0].size()/max(nb, 1), nb, 1, in[0].p, out.p)
	case *attnSoftmaxOp:
		a, err := e.attnMask(o)
		if err != nil {
			return err
		}
		if o.bShape != nil {
			a.Bias, a.NB = in[1].p, int32(in[1].size())
		}
		m := o.xShape[o.xShape.Dims()-1]
		return kn.AttentionSoftmaxMasked(out.size()/m, m, o.scale, a, in[0].p, out.p)
	case *attnSoftmaxBackOp:
		m := o.fwd.xShape[o.fwd.xShape.Dims()-1]
		n := o.fwd.xShape.TotalSize()
		if o.outShape.Eq(o.fwd.xShape) {
			return kn.AttentionSoftmaxGrad(n/m, m, o.mul, in[0].p, in[1].p, out.p)
		}
		// The bias gradient when the scale is 0: the softmax gradient in
		// scratch memory, summed down to the bias.
		tmp, err := e.scratch(n)
		if err != nil {
			return err
		}
		if err := kn.AttentionSoftmaxGrad(n/m, m, o.mul, in[0].p, in[1].p, tmp); err != nil {
			return err
		}
		return kn.ReduceRows(out.size(), n/max(out.size(), 1), 1, tmp, out.p)
	case *attnReduceOp:
		return kn.ReduceRows(out.size(), in[0].size()/max(out.size(), 1), o.mul, in[0].p, out.p)
	case *gatherOp:
		gi, err := e.gatherIndex(o)
		if err != nil {
			return err
		}
		return kn.Gather(gi, in[0].p, out.p)
	case *scatterAddOp:
		gi, err := e.gatherIndex(o.fwd)
		if err != nil {
			return err
		}
		return kn.GatherSum(gi, in[0].p, out.p)
	case *rollOp:
		r, err := cuda.NewRoll(o.shape, o.shift)
		if err != nil {
			return err
		}
		return kn.RollForward(r, in[0].p, out.p)
	case *stridedOp:
		sv, err := cuda.NewStrided(o.iter, o.strides, o.offset)
		if err != nil {
			return err
		}
		return kn.StridedGather(sv, in[0].p, out.p)
	case *stridedScatterOp:
		sv, err := cuda.NewStrided(o.fwd.iter, o.fwd.strides, o.fwd.offset)
		if err != nil {
			return err
		}
		return kn.StridedScatter(sv, in[0].p, out.p, out.size())
	case *reduceGradOp:
		div := 1.0
		if o.fwd.mean && out.size() > 0 {
			div = float64(out.size())
		}
		return kn.FillDiv(out.size(), in[1].p, div, out.p)
	}
	// gorgonia's own elementwise addition (residual connections, gradient
	// accumulation) prints as "+ <retSame>"; its type is unexported. Only
	// the unbroadcast form runs here.
	if s := gop.String(); strings.HasPrefix(s, "+ ") && len(in) == 2 && in[0].shape.Eq(out.shape) && in[1].shape.Eq(out.shape) {
		return kn.Add(out.size(), in[0].p, in[1].p, out.p)
	}
	return fmt.Errorf("%w: %s (%T)", errNoDeviceOp, gop, gop)
}

func isNoDeviceOp(err error) bool { return errors.Is(err, errNoDeviceOp) }

// fallback runs op on the CPU from host copies of its inputs and uploads
// the result.
func (e *Executor) fallback(n *gorgonia.Node, op gorgonia.Op, in []*gorgonia.Node) error {
	vals := make([]gorgonia.Value, len(in))
	for i, c := range in {
		h, err := e.download(c)
		if err != nil {
			return err
		}
		if c.IsScalar() {
			vals[i] = gorgonia.NewF32(h.Data().([]float32)[0])
		} else {
			vals[i] = h
		}
	}
	v, err := op.Do(vals...)
	if err != nil {
		return fmt.Errorf("%s (%s) on the CPU: %w", n.Name(), op, err)
	}
	e.stats.FallbackOps++
	e.stats.Fallbacks[op.String()]++
	return e.uploadValue(n, v)
}

// DeviceTensor is a float32 tensor in an Executor's device memory, laid out
// as the CPU engine's (row-major, NCDHW).
type DeviceTensor struct {
	Ptr   cuda.Ptr
	Shape tensor.Shape
}

// DeviceOp is implemented by gorgonia ops of other packages (train's loss)
// that run on a device: DeviceDo computes out from in with the project's
// kernels. The Executor calls it instead of the op's Do.
type DeviceOp interface {
	DeviceDo(k *cuda.Kernels, out DeviceTensor, in []DeviceTensor) error
}

// Tensor returns node n's device tensor (a root's value after the last
// Run, until the next; a resident node's current value), for device code
// outside package nn such as the optimiser. ok is false for a node whose
// value was freed after its last use.
func (e *Executor) Tensor(n *gorgonia.Node) (DeviceTensor, bool) {
	t, ok := e.val[n]
	return DeviceTensor{Ptr: t.p, Shape: t.shape}, ok
}

// Kernels returns the device's kernels.
func (e *Executor) Kernels() *cuda.Kernels { return e.dev.kern }

// Alloc returns zeroed device memory of n float32 values owned by the
// executor's device (the optimiser's moments); FreeBuffer releases it.
func (e *Executor) Alloc(n int) (cuda.Ptr, error) {
	p, err := e.dev.dev.Alloc(cuda.F32Bytes(n))
	if err != nil {
		return 0, err
	}
	if err := e.dev.dev.Memset32(p, 0, n); err != nil {
		e.dev.dev.Free(p)
		return 0, err
	}
	return p, nil
}

// FreeBuffer releases memory from Alloc.
func (e *Executor) FreeBuffer(p cuda.Ptr) error { return e.dev.dev.Free(p) }

// CopyToHost copies n float32 values at p into dst and counts the copy.
func (e *Executor) CopyToHost(dst []float32, p cuda.Ptr) error {
	if len(dst) == 0 {
		return nil
	}
	if err := e.dev.dev.CopyDtoH(unsafe.Pointer(&dst[0]), p, cuda.F32Bytes(len(dst))); err != nil {
		return err
	}
	e.stats.DeviceToHost++
	e.stats.BytesDtoH += int64(cuda.F32Bytes(len(dst)))
	return nil
}

// CopyToDevice copies src to device memory at p and counts the copy.
func (e *Executor) CopyToDevice(p cuda.Ptr, src []float32) error {
	if len(src) == 0 {
		return nil
	}
	if err := e.dev.dev.CopyHtoD(p, unsafe.Pointer(&src[0]), cuda.F32Bytes(len(src))); err != nil {
		return err
	}
	e.stats.HostToDevice++
	e.stats.BytesHtoD += int64(cuda.F32Bytes(len(src)))
	return nil
}

// matmulGemm maps an attention matmul (batched, shared weight or
// contraction) to one (batched) SGEMM, as matmulRun does on the CPU.
func matmulGemm(o *matmulOp, a, b, c cuda.Ptr) cuda.Gemm {
	m, n, k := o.m, o.n, o.k
	g := cuda.Gemm{M: m, N: n, K: k, Alpha: 1, A: a, B: b, C: c, LDC: n}
	switch o.mode {
	case mmShared:
		g.TransB, g.LDA, g.LDB = o.transB, k, n
		if o.transB {
			g.LDB = k
		}
	case mmContract:
		g.TransA, g.LDA, g.LDB = true, m, n
	default:
		g.TransA, g.TransB, g.LDA, g.LDB = o.transA, o.transB, k, n
		if o.transA {
			g.LDA = m
		}
		if o.transB {
			g.LDB = k
		}
		g.Batch, g.SA, g.SB, g.SC = o.batch, m*k, k*n, m*n
	}
	return g
}

// RunFor evaluates, once and in order, only the nodes that roots depend on
// (roots must be among the executor's), checking ctx between nodes, with
// Run's liveness: the values of the last Run or RunFor go back to the
// cache, and this run's roots are kept until the next. One executor built
// with the roots of a training step and of a forward-only pass (validation)
// shares the resident parameters between both: RunFor(ctx, stepRoots...)
// trains, RunFor(ctx, logits) evaluates.
func (e *Executor) RunFor(ctx context.Context, roots ...*gorgonia.Node) error {
	key := make([]byte, 0, 8*len(roots))
	for _, r := range roots {
		key = fmt.Appendf(key, "%d,", r.ID())
	}
	if e.subsets == nil {
		e.subsets = map[string]*nodeRun{}
	}
	sub, ok := e.subsets[string(key)]
	if !ok {
		need := map[*gorgonia.Node]bool{}
		known := map[*gorgonia.Node]bool{}
		for _, n := range e.order {
			known[n] = true
		}
		stack := make([]*gorgonia.Node, 0, len(roots))
		sub = &nodeRun{last: map[*gorgonia.Node]int{}, keep: map[*gorgonia.Node]bool{}}
		for _, r := range roots {
			if !known[r] {
				return fmt.Errorf("%w: Executor.RunFor: node %s is not one the executor runs", ErrConfig, r.Name())
			}
			stack = append(stack, r)
			sub.keep[r] = true
		}
		for len(stack) > 0 {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if need[n] {
				continue
			}
			need[n] = true
			stack = append(stack, e.inputs[n]...)
		}
		for _, n := range e.order {
			if need[n] {
				sub.nodes = append(sub.nodes, n)
			}
		}
		for i, n := range sub.nodes {
			for _, c := range e.inputs[n] {
				sub.last[c] = i
			}
		}
		e.subsets[string(key)] = sub
	}
	return e.runNodes(ctx, sub)
}
