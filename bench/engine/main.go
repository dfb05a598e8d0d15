// Command engine times unetlab's models/nn on the cases of bench/engine/run.py
// and prints one JSON line per case: seconds per iteration (median), GFLOP/s
// and peak RSS. run.py runs it alternately with torch_bench.py.
//
//	go run ./bench/engine -case conv -iters 5
//	go run ./bench/engine -case unet -iters 3 -size 64
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"syscall"
	"time"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/unetlab/unetlab/models/nn"
	"github.com/unetlab/unetlab/rng"
	"github.com/unetlab/unetlab/train"
)

type result struct {
	Impl      string    `json:"impl"`
	Case      string    `json:"case"`
	Backend   string    `json:"backend"`
	Threads   int       `json:"threads"`
	Seconds   float64   `json:"seconds"`     // median per iteration
	CPU       float64   `json:"cpu_seconds"` // user+system CPU time per iteration (mean)
	All       []float64 `json:"all"`
	GFLOPs    float64   `json:"gflop_per_iter"`
	GFLOPperS float64   `json:"gflop_per_s"`
	PeakRSSMB float64   `json:"peak_rss_mb"`
}

func main() {
	which := flag.String("case", "conv", "conv or unet")
	iters := flag.Int("iters", 5, "timed iterations (after one warm-up)")
	size := flag.Int("size", 64, "volume side")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the timed iterations to this file")
	memprofile := flag.String("memprofile", "", "write a heap profile (what is live after the last iteration) to this file")
	flag.Parse()
	var step func() error
	var flops float64
	var err error
	switch *which {
	case "conv":
		step, flops, err = convCase(*size)
	case "unet":
		step, flops, err = unetCase(*size)
	default:
		err = fmt.Errorf("unknown case %q", *which)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "engine:", err)
		os.Exit(1)
	}
	if err := step(); err != nil { // warm-up
		fmt.Fprintln(os.Stderr, "engine:", err)
		os.Exit(1)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "engine:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	cpu0 := cpuSeconds()
	var times []float64
	for i := 0; i < *iters; i++ {
		t0 := time.Now()
		if err := step(); err != nil {
			fmt.Fprintln(os.Stderr, "engine:", err)
			os.Exit(1)
		}
		times = append(times, time.Since(t0).Seconds())
	}
	cpu := (cpuSeconds() - cpu0) / float64(*iters)
	if *memprofile != "" {
		f, err := os.Create(*memprofile)
		if err == nil {
			runtime.GC()
			err = pprof.WriteHeapProfile(f)
			f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "engine:", err)
			os.Exit(1)
		}
	}
	sorted := append([]float64(nil), times...)
	sort.Float64s(sorted)
	med := sorted[len(sorted)/2]
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	json.NewEncoder(os.Stdout).Encode(result{
		Impl: "go", Case: *which, Backend: nn.BLASBackend() + ", conv " + nn.ConvBackend(), Threads: runtime.GOMAXPROCS(0),
		Seconds: med, CPU: cpu, All: times, GFLOPs: flops / 1e9, GFLOPperS: flops / med / 1e9,
		PeakRSSMB: float64(ru.Maxrss) / 1024,
	})
}

func randDense(r *rng.Rand, shape ...int) *tensor.Dense {
	v := make([]float32, tensor.Shape(shape).TotalSize())
	for i := range v {
		v[i] = float32(r.Norm())
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
}

// convCase: Conv3d 32->32 k3 p1 with bias on 1x32xS^3, forward and backward
// (input, weight and bias gradients) with loss = sum(y).
func convCase(s int) (func() error, float64, error) {
	r := rng.New(1)
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float32, 5, gorgonia.WithShape(1, 32, s, s, s), gorgonia.WithValue(randDense(r, 1, 32, s, s, s)), gorgonia.WithName("x"))
	conv, err := nn.NewConv3d(g, "conv", nn.ConvConfig{InChannels: 32, OutChannels: 32, Kernel: [3]int{3, 3, 3},
		ConvOptions: nn.ConvOptions{Padding: [3]int{1, 1, 1}}}, &nn.LayerOptions{Rand: rng.New(1)})
	if err != nil {
		return nil, 0, err
	}
	y, err := conv.Forward(x)
	if err != nil {
		return nil, 0, err
	}
	loss, err := nn.Sum(y) // gorgonia.Sum would add a serial broadcast of its gradient
	if err != nil {
		return nil, 0, err
	}
	if _, err := gorgonia.Grad(loss, x, conv.Weight, conv.Bias); err != nil {
		return nil, 0, err
	}
	m := gorgonia.NewTapeMachine(g)
	flops := 3 * 2 * float64(s*s*s) * 32 * 32 * 27
	return func() error { m.Reset(); return m.RunAll() }, flops, nil
}

// unetCase: one training step (forward, backward, Adam) of a 5-resolution
// 3D U-net (16-32-64-128-256), two Conv3d k3 + InstanceNorm + ReLU units per
// level, max pooling, ConvTranspose3d k2 s2 up, concatenated skips, 1x1x1
// head to 2 classes, cross-entropy loss, on 1x1xS^3.
func unetCase(s int) (func() error, float64, error) {
	r := rng.New(1)
	g := gorgonia.NewGraph()
	img := randDense(r, 1, 1, s, s, s)
	lab := make([]float32, 2*s*s*s)
	for i := 0; i < s*s*s; i++ {
		if img.Data().([]float32)[i] > 0 {
			lab[s*s*s+i] = 1
		} else {
			lab[i] = 1
		}
	}
	x := gorgonia.NewTensor(g, tensor.Float32, 5, gorgonia.WithShape(1, 1, s, s, s), gorgonia.WithValue(img), gorgonia.WithName("x"))
	target := gorgonia.NewTensor(g, tensor.Float32, 5, gorgonia.WithShape(1, 2, s, s, s),
		gorgonia.WithValue(tensor.New(tensor.WithShape(1, 2, s, s, s), tensor.WithBacking(lab))), gorgonia.WithName("target"))
	opt := nn.LayerOptions{Rand: rng.New(1)}
	var params []nn.Param
	var flops float64 // forward conv FLOPs
	unit := func(name string, h *gorgonia.Node, cin, cout int) (*gorgonia.Node, error) {
		c, err := nn.NewConv3d(g, name, nn.ConvConfig{InChannels: cin, OutChannels: cout, Kernel: [3]int{3, 3, 3},
			ConvOptions: nn.ConvOptions{Padding: [3]int{1, 1, 1}}}, &opt)
		if err != nil {
			return nil, err
		}
		params = append(params, c.Params()...)
		y, err := c.Forward(h)
		if err != nil {
			return nil, err
		}
		flops += 2 * float64(y.Shape().TotalSize()) * float64(cin) * 27
		if y, err = nn.InstanceNorm3d(y, nil, nil, 0); err != nil {
			return nil, err
		}
		return nn.ReLU(y)
	}
	ch := []int{16, 32, 64, 128, 256}
	var skips []*gorgonia.Node
	h, cin := x, 1
	var err error
	for i, c := range ch {
		if i > 0 {
			if h, err = nn.MaxPool3d(h, &nn.PoolOptions{Kernel: [3]int{2, 2, 2}}); err != nil {
				return nil, 0, err
			}
		}
		if h, err = unit(fmt.Sprintf("enc%d.0", i), h, cin, c); err != nil {
			return nil, 0, err
		}
		if h, err = unit(fmt.Sprintf("enc%d.1", i), h, c, c); err != nil {
			return nil, 0, err
		}
		skips = append(skips, h)
		cin = c
	}
	for i := len(ch) - 2; i >= 0; i-- {
		up, err := nn.NewConvTranspose3d(g, fmt.Sprintf("up%d", i), nn.ConvConfig{InChannels: ch[i+1], OutChannels: ch[i],
			Kernel: [3]int{2, 2, 2}, ConvOptions: nn.ConvOptions{Stride: [3]int{2, 2, 2}}}, &opt)
		if err != nil {
			return nil, 0, err
		}
		params = append(params, up.Params()...)
		flops += 2 * float64(h.Shape().TotalSize()) * float64(ch[i]) * 8
		if h, err = up.Forward(h); err != nil {
			return nil, 0, err
		}
		if h, err = nn.ConcatChannels(skips[i], h); err != nil {
			return nil, 0, err
		}
		if h, err = unit(fmt.Sprintf("dec%d.0", i), h, 2*ch[i], ch[i]); err != nil {
			return nil, 0, err
		}
		if h, err = unit(fmt.Sprintf("dec%d.1", i), h, ch[i], ch[i]); err != nil {
			return nil, 0, err
		}
	}
	head, err := nn.NewConv3d(g, "head", nn.ConvConfig{InChannels: ch[0], OutChannels: 2, Kernel: [3]int{1, 1, 1}}, &opt)
	if err != nil {
		return nil, 0, err
	}
	params = append(params, head.Params()...)
	logits, err := head.Forward(h)
	if err != nil {
		return nil, 0, err
	}
	flops += 2 * float64(logits.Shape().TotalSize()) * float64(ch[0])
	logp, err := nn.LogSoftmax(logits)
	if err != nil {
		return nil, 0, err
	}
	prod, err := gorgonia.HadamardProd(logp, target)
	if err != nil {
		return nil, 0, err
	}
	mean, err := nn.Mean(prod)
	if err != nil {
		return nil, 0, err
	}
	loss, err := gorgonia.Neg(mean)
	if err != nil {
		return nil, 0, err
	}
	nodes := nn.Nodes(params)
	if _, err := gorgonia.Grad(loss, nodes...); err != nil {
		return nil, 0, err
	}
	m := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(nodes...))
	// train.Adam is the optimiser train.Fit uses (in place, no copies).
	solver, err := train.NewAdam(params, 1e-3, nil)
	if err != nil {
		return nil, 0, err
	}
	step := func() error {
		m.Reset()
		if err := m.RunAll(); err != nil {
			return err
		}
		return solver.Step()
	}
	return step, 3 * flops, nil
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
