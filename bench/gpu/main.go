// Command gpucheck is the Go side of bench/gpu/check.sh, the prepared check
// of the CUDA backend on a GPU machine (make gpu-check). Every figure is
// printed as one line "RESULT {json}" on standard output as soon as it is
// measured, so a run cut short still has what it measured.
//
//	gpucheck grads -device cuda [-size 8] [-archs UNet,HalfUNet]
//	    one training step (forward, DiceCE loss, backward) of each network
//	    on the device and on the CPU engine, from the same weights and
//	    batch: the loss and every parameter's gradient compared, the
//	    executor's CPU fallbacks and host/device copies counted. -size 8
//	    is the tiny configuration (channels 4, 8 at 8^3); -size 32 the
//	    models.Small presets (SwinUNETR: always its Small preset, 64^3).
//	gpucheck fit -device cuda -arch UNet -paper -size 128 -batch 2 -epochs 2 -steps 2
//	    train.Fit on synthetic volumes (no validation): -steps optimiser
//	    steps an epoch; the first epoch warms up, the step time is the
//	    median over the later epochs of TrainSeconds / steps.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/models/nn"
	"github.com/unetlab/unetlab/train"
	"github.com/unetlab/unetlab/volume"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gpucheck grads|fit [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "grads":
		err = grads(os.Args[2:])
	case "fit":
		err = fit(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q (grads or fit)", os.Args[1])
	}
	if err != nil {
		result("error", map[string]any{"command": strings.Join(os.Args[1:], " "), "error": err.Error()})
		fmt.Fprintln(os.Stderr, "gpucheck:", err)
		os.Exit(1)
	}
}

// result prints one RESULT line.
func result(kind string, fields map[string]any) {
	fields["kind"] = kind
	fields["pid"] = os.Getpid()
	fields["time"] = time.Now().UTC().Format(time.RFC3339)
	b, err := json.Marshal(fields)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gpucheck: result:", err)
		return
	}
	fmt.Printf("RESULT %s\n", b)
}

// openDevice makes the named device current and prints the result.
func openDevice(name string) (*nn.Device, error) {
	d, err := nn.SetDevice(name)
	if err != nil {
		return nil, err
	}
	if d.Kind() == nn.DeviceCPU {
		return nil, fmt.Errorf("device %q is the CPU", name)
	}
	return d, nil
}

// archList parses -archs ("" or "all": every network).
func archList(s string) ([]models.Arch, error) {
	if s == "" || s == "all" {
		return models.Archs, nil
	}
	var out []models.Arch
	for _, a := range strings.Split(s, ",") {
		if !slices.Contains(models.Archs, models.Arch(a)) {
			return nil, fmt.Errorf("unknown network %q (have %v)", a, models.Archs)
		}
		out = append(out, models.Arch(a))
	}
	return out, nil
}

// gradConfig is the configuration grads checks at size.
func gradConfig(arch models.Arch, size int) models.Config {
	cfg := models.Small(arch)
	if arch == models.SwinUNETR {
		return cfg
	}
	cfg.InputSize = [3]int{size, size, size}
	if size <= 16 {
		cfg.Channels = []int{4, 8}
		cfg.TransUNet.TokensPerSide = 0
	}
	return cfg
}

func grads(args []string) error {
	fs := flag.NewFlagSet("grads", flag.ExitOnError)
	devName := fs.String("device", "cuda", "cuda or emulated")
	size := fs.Int("size", 8, "input side: 8 (tiny, channels 4 and 8) or 32 (models.Small)")
	archs := fs.String("archs", "all", "comma-separated networks, or all")
	fs.Parse(args)
	dev, err := openDevice(*devName)
	if err != nil {
		return err
	}
	list, err := archList(*archs)
	if err != nil {
		return err
	}
	failed := 0
	for _, arch := range list {
		r, err := gradCase(dev, gradConfig(arch, *size))
		if err != nil {
			r = map[string]any{"error": err.Error(), "pass": false}
		}
		r["arch"], r["device"], r["size"] = string(arch), dev.Name(), *size
		if p, _ := r["pass"].(bool); !p {
			failed++
		}
		result("grads", r)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d networks differ from the CPU engine (or failed)", failed, len(list))
	}
	return nil
}

// gradCase runs one training step of cfg on dev and on the CPU engine.
func gradCase(dev *nn.Device, cfg models.Config) (map[string]any, error) {
	m, err := models.NewWithOptions(cfg, &models.Options{Seed: 1})
	if err != nil {
		return nil, err
	}
	cfg = m.Config()
	x := m.Input("x", 1)
	d, h, w := cfg.InputSize[0], cfg.InputSize[1], cfg.InputSize[2]
	y := gorgonia.NewTensor(m.Graph(), tensor.Float32, 5, gorgonia.WithShape(1, 1, d, h, w), gorgonia.WithName("target"))
	logits, err := m.Forward(x)
	if err != nil {
		return nil, err
	}
	loss, err := train.Loss(logits, y, &train.LossOptions{})
	if err != nil {
		return nil, err
	}
	gs, err := gorgonia.Grad(loss, m.Learnables()...)
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(1, 2))
	xv := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(x.Shape()...))
	for i := range xv.Data().([]float32) {
		xv.Data().([]float32)[i] = float32(r.NormFloat64())
	}
	yv := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(1, 1, d, h, w))
	for i := range yv.Data().([]float32) {
		yv.Data().([]float32)[i] = float32(r.IntN(cfg.Classes))
	}
	gorgonia.Let(x, xv)
	gorgonia.Let(y, yv)
	t0 := time.Now()
	vm := gorgonia.NewTapeMachine(m.Graph().SubgraphRoots(append(gorgonia.Nodes{loss}, gs...)...),
		gorgonia.BindDualValues(m.Learnables()...))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		return nil, fmt.Errorf("CPU engine: %w", err)
	}
	cpuSeconds := time.Since(t0).Seconds()
	wantLoss := float64(loss.Value().Data().(float32))
	var want [][]float32
	global := 0.0
	for _, p := range m.Learnables() {
		g, err := p.Grad()
		if err != nil {
			return nil, err
		}
		c := slices.Clone(g.Data().([]float32))
		for _, v := range c {
			global = math.Max(global, math.Abs(float64(v)))
		}
		want = append(want, c)
	}
	e, err := nn.NewExecutor(dev, m.Learnables(), append(gorgonia.Nodes{loss}, gs...)...)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	t0 = time.Now()
	if err := e.Run(context.Background()); err != nil {
		return nil, err
	}
	devSeconds := time.Since(t0).Seconds()
	st := e.Stats()
	lv, err := e.Value(loss)
	if err != nil {
		return nil, err
	}
	gotLoss := float64(lv.Data().([]float32)[0])
	// The gradient error of a parameter is relative to its largest
	// gradient, floored at 1e-2 of the network's largest (as the tests).
	worst, worstName := 0.0, ""
	for i, gn := range gs {
		gv, err := e.Value(gn)
		if err != nil {
			return nil, err
		}
		got := gv.Data().([]float32)
		scale := 1e-2 * global
		for _, v := range want[i] {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
		for j := range got {
			d := math.Abs(float64(got[j])-float64(want[i][j])) / math.Max(scale, 1e-30)
			if !(d <= worst) { // NaN counts as worst
				worst, worstName = d, m.Learnables()[i].Name()
				if math.IsNaN(d) {
					worst = math.Inf(1)
				}
			}
		}
	}
	lossErr := math.Abs(gotLoss-wantLoss) / (1 + math.Abs(wantLoss))
	pass := lossErr <= 1e-4 && worst <= 1e-3 && st.FallbackOps == 0
	fb := []string{}
	for k, v := range st.Fallbacks {
		fb = append(fb, fmt.Sprintf("%s x%d", k, v))
	}
	sort.Strings(fb)
	return map[string]any{"pass": pass, "loss": gotLoss, "cpu_loss": wantLoss, "loss_rel_err": lossErr,
		"grad_rel_err": worst, "grad_worst_param": worstName, "params": len(gs), "channels": cfg.Channels,
		"input": cfg.InputSize, "fallbacks": st.FallbackOps, "fallback_ops": fb, "device_ops": st.DeviceOps,
		"htod_copies": st.HostToDevice, "dtoh_copies": st.DeviceToHost, "device_seconds": devSeconds, "cpu_seconds": cpuSeconds}, nil
}

// synthetic is a batch.Source of n random volumes whose label is 1 where
// the image is positive (a learnable task), made once.
type synthetic struct {
	img, lab []*volume.Volume
}

func newSynthetic(n int, in [3]int, seed uint64) *synthetic {
	// The default axes put D=Z, H=Y, W=X: the volume is (X, Y, Z) = (W, H, D).
	shape := [3]int{in[2], in[1], in[0]}
	r := rand.New(rand.NewPCG(seed, 7))
	s := &synthetic{}
	for range n {
		img, lab := volume.New(shape, 1), volume.New(shape, 1)
		for i := range img.Data {
			v := float32(r.NormFloat64())
			img.Data[i] = v
			if v > 0 {
				lab.Data[i] = 1
			}
		}
		s.img, s.lab = append(s.img, img), append(s.lab, lab)
	}
	return s
}

func (s *synthetic) Len() int { return len(s.img) }

func (s *synthetic) Sample(ctx context.Context, i int) (*volume.Volume, *volume.Volume, error) {
	return s.img[i], s.lab[i], nil
}

func fit(args []string) error {
	fs := flag.NewFlagSet("fit", flag.ExitOnError)
	devName := fs.String("device", "cuda", "cuda, emulated or cpu")
	arch := fs.String("arch", "UNet", "network")
	paper := fs.Bool("paper", false, "the paper's configuration (models.Paper), else models.Small")
	size := fs.Int("size", 128, "input side (D = H = W)")
	bs := fs.Int("batch", 2, "batch size")
	epochs := fs.Int("epochs", 2, "epochs (the first warms up)")
	steps := fs.Int("steps", 2, "optimiser steps an epoch")
	lr := fs.Float64("lr", 1e-3, "learning rate")
	dir := fs.String("dir", "", "run directory (default: a temporary one, removed)")
	chans := fs.String("channels", "", "channels per level, comma-separated (default: the configuration's)")
	fs.Parse(args)
	dev, err := nn.SetDevice(*devName)
	if err != nil {
		return err
	}
	list, err := archList(*arch)
	if err != nil || len(list) != 1 {
		return fmt.Errorf("-arch: one network: %v", err)
	}
	cfg := models.Small(list[0])
	if *paper {
		cfg = models.Paper(list[0])
	}
	cfg.InputSize = [3]int{*size, *size, *size}
	cfg.Batch = *bs
	if *chans != "" {
		cfg.Channels = nil
		for _, c := range strings.Split(*chans, ",") {
			var v int
			if _, err := fmt.Sscan(c, &v); err != nil {
				return fmt.Errorf("-channels %q: %w", *chans, err)
			}
			cfg.Channels = append(cfg.Channels, v)
		}
	}
	n := *bs * *steps
	src := newSynthetic(n, cfg.InputSize, 1)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	runDir := *dir
	if runDir == "" {
		tmp, err := os.MkdirTemp("", "gpucheck-fit")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		runDir = tmp + "/run"
	}
	rec := map[string]any{"arch": *arch, "paper": *paper, "size": *size, "batch": *bs, "channels": cfg.Channels,
		"steps_per_epoch": *steps, "device": dev.String()}
	// SIGTERM (check.sh's time limit) cancels the run: Fit stops within a
	// step and the epochs done are still reported.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// Each epoch's figures as soon as its record is written, so that a run
	// killed at its limit still reports the epochs it finished.
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		seen := 0
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			stopped := false
			select {
			case <-done:
				stopped = true
			case <-tick.C:
			}
			if r, err := train.ReadRun(runDir); err == nil {
				for _, e := range r.Epochs[min(seen, len(r.Epochs)):] {
					result("epoch", map[string]any{"arch": *arch, "size": *size, "batch": *bs, "epoch": e.Epoch,
						"loss": e.TrainLoss, "steps": e.Steps, "step_seconds": e.TrainSeconds / float64(max(e.Steps, 1))})
				}
				seen = max(seen, len(r.Epochs))
			}
			if stopped {
				return
			}
		}
	}()
	t0 := time.Now()
	run, err := train.Fit(ctx, &train.Options{Model: cfg, Data: src, Train: idx, Val: []int{}, Epochs: *epochs,
		BatchSize: *bs, LR: *lr, NoPlateau: true, Seed: 1, Dir: runDir, Progress: train.ProgressText, Device: dev})
	rec["wall_seconds"] = time.Since(t0).Seconds()
	close(done)
	<-watched
	if run != nil {
		var losses, secs []float64
		for _, e := range run.Epochs {
			losses = append(losses, e.TrainLoss)
			secs = append(secs, e.TrainSeconds/float64(max(e.Steps, 1)))
		}
		rec["epoch_loss"], rec["epoch_step_seconds"], rec["record_device"] = losses, secs, run.Settings.Device
		if len(secs) > 1 {
			later := slices.Clone(secs[1:])
			slices.Sort(later)
			rec["step_seconds"] = later[len(later)/2]
		} else if len(secs) == 1 {
			rec["step_seconds_with_warmup"] = secs[0]
		}
	}
	if err != nil {
		rec["error"] = err.Error()
	}
	result("fit", rec)
	return err
}
