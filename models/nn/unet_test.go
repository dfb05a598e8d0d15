package nn

import (
	"fmt"
	"github.com/unetlab/unetlab/rng"
	"math"
	"os"
	"runtime"
	"testing"
	"time"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// tinyUNet is a 3-level 3D U-net built from this package's layers: two
// (Conv3d k3 p1, InstanceNorm, LeakyReLU) units per level, max pooling,
// ConvTranspose3d k2 s2 up, concatenated skips, a 1x1x1 head.
type tinyUNet struct {
	params []Param
	layers []interface{ Params() []Param }
}

func (u *tinyUNet) add(l interface{ Params() []Param }) {
	u.layers = append(u.layers, l)
	u.params = append(u.params, l.Params()...)
}

func buildUNet(g *gorgonia.ExprGraph, x *gorgonia.Node, in, classes int, ch []int, opt LayerOptions) (*gorgonia.Node, *tinyUNet, error) {
	u := &tinyUNet{}
	unit := func(name string, x *gorgonia.Node, cin, cout int) (*gorgonia.Node, error) {
		c, err := NewConv3d(g, name+".conv", ConvConfig{InChannels: cin, OutChannels: cout, Kernel: [3]int{3, 3, 3},
			ConvOptions: ConvOptions{Padding: [3]int{1, 1, 1}}}, &opt)
		if err != nil {
			return nil, err
		}
		u.add(c)
		y, err := c.Forward(x)
		if err != nil {
			return nil, err
		}
		if y, err = InstanceNorm3d(y, nil, nil, 0); err != nil {
			return nil, err
		}
		return LeakyReLU(y, 0.01)
	}
	double := func(name string, x *gorgonia.Node, cin, cout int) (*gorgonia.Node, error) {
		y, err := unit(name+".0", x, cin, cout)
		if err != nil {
			return nil, err
		}
		return unit(name+".1", y, cout, cout)
	}
	var skips []*gorgonia.Node
	h, cin := x, in
	var err error
	for i, c := range ch {
		if i > 0 {
			if h, err = MaxPool3d(h, &PoolOptions{Kernel: [3]int{2, 2, 2}}); err != nil {
				return nil, nil, err
			}
		}
		if h, err = double(fmt.Sprintf("enc%d", i), h, cin, c); err != nil {
			return nil, nil, err
		}
		skips = append(skips, h)
		cin = c
	}
	for i := len(ch) - 2; i >= 0; i-- {
		up, err := NewConvTranspose3d(g, fmt.Sprintf("up%d", i), ConvConfig{InChannels: ch[i+1], OutChannels: ch[i],
			Kernel: [3]int{2, 2, 2}, ConvOptions: ConvOptions{Stride: [3]int{2, 2, 2}}}, &opt)
		if err != nil {
			return nil, nil, err
		}
		u.add(up)
		if h, err = up.Forward(h); err != nil {
			return nil, nil, err
		}
		if h, err = ConcatChannels(skips[i], h); err != nil {
			return nil, nil, err
		}
		if h, err = double(fmt.Sprintf("dec%d", i), h, 2*ch[i], ch[i]); err != nil {
			return nil, nil, err
		}
	}
	head, err := NewConv3d(g, "head", ConvConfig{InChannels: ch[0], OutChannels: classes, Kernel: [3]int{1, 1, 1}}, &opt)
	if err != nil {
		return nil, nil, err
	}
	u.add(head)
	y, err := head.Forward(h)
	return y, u, err
}

// sphereTask returns an image (1, 1, s, s, s) of a noisy bright ball and its
// one-hot label (1, 2, s, s, s).
func sphereTask(s int) (img, onehot *tensor.Dense, fg []bool) {
	iv := make([]float32, s*s*s)
	ov := make([]float32, 2*s*s*s)
	fg = make([]bool, s*s*s)
	c := float64(s-1) / 2
	r := float64(s) / 3.2
	i := 0
	for d := 0; d < s; d++ {
		for h := 0; h < s; h++ {
			for w := 0; w < s; w++ {
				dist := math.Sqrt(math.Pow(float64(d)-c*0.9, 2) + math.Pow(float64(h)-c, 2) + math.Pow(float64(w)-c*1.1, 2))
				in := dist < r
				noise := 0.3 * math.Sin(float64(7*d+13*h+17*w))
				if in {
					iv[i] = float32(1 + noise)
					ov[s*s*s+i] = 1
				} else {
					iv[i] = float32(noise)
					ov[i] = 1
				}
				fg[i] = in
				i++
			}
		}
	}
	return tensor.New(tensor.WithShape(1, 1, s, s, s), tensor.WithBacking(iv)),
		tensor.New(tensor.WithShape(1, 2, s, s, s), tensor.WithBacking(ov)), fg
}

// TestUNetOverfits trains a small U-net with Adam on one synthetic volume
// and requires a foreground Dice above 0.95; it also checks that the heap
// does not grow from step to step once training runs.
func TestUNetOverfits(t *testing.T) {
	s := 16
	if os.Getenv("UNETLAB_SCALE") != "smoke" && !testing.Short() {
		s = 24
	}
	img, onehot, fg := sphereTask(s)
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float32, 5, gorgonia.WithShape(img.Shape()...), gorgonia.WithValue(img), gorgonia.WithName("x"))
	target := gorgonia.NewTensor(g, tensor.Float32, 5, gorgonia.WithShape(onehot.Shape()...), gorgonia.WithValue(onehot), gorgonia.WithName("y"))
	logits, net, err := buildUNet(g, x, 1, 2, []int{8, 16, 32}, LayerOptions{Rand: rng.New(42)})
	if err != nil {
		t.Fatal(err)
	}
	logp, err := LogSoftmax(logits)
	if err != nil {
		t.Fatal(err)
	}
	prod := gorgonia.Must(gorgonia.HadamardProd(logp, target))
	loss := gorgonia.Must(gorgonia.Neg(gorgonia.Must(gorgonia.Mean(prod))))
	params := Nodes(net.params)
	if _, err := gorgonia.Grad(loss, params...); err != nil {
		t.Fatal(err)
	}
	m := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(params...))
	defer m.Close()
	solver := gorgonia.NewAdamSolver(gorgonia.WithLearnRate(1e-2))
	start := time.Now()
	var dice float64
	var heap []uint64
	var allocAt [2]uint64
	steps := 0
	for step := 0; step < 300; step++ {
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		if err := solver.Step(gorgonia.NodesToValueGrads(params)); err != nil {
			t.Fatal(err)
		}
		steps++
		if step == 20 || step == 60 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			heap = append(heap, ms.HeapAlloc)
			allocAt[len(heap)-1] = ms.TotalAlloc
		}
		if step%10 == 9 {
			dice = foregroundDice(logits.Value().(*tensor.Dense), fg)
			if dice > 0.97 && step >= 60 {
				break
			}
		}
	}
	lv := loss.Value().Data().(float32)
	t.Logf("%d^3, %d steps in %v: loss %.4f, Dice %.4f, heap after step 20 / 60: %d / %d KiB, %d KiB allocated per step",
		s, steps, time.Since(start).Round(time.Millisecond), lv, dice, heap[0]>>10, heap[len(heap)-1]>>10,
		(allocAt[1]-allocAt[0])/40>>10)
	if dice < 0.95 {
		t.Fatalf("foreground Dice %.4f after %d steps, want > 0.95", dice, steps)
	}
	if len(heap) == 2 && float64(heap[1]) > 1.1*float64(heap[0])+(1<<20) {
		t.Errorf("heap grew from %d to %d bytes between steps 20 and 60", heap[0], heap[1])
	}
}

// foregroundDice thresholds the logits (N=1, 2 classes) by argmax.
func foregroundDice(logits *tensor.Dense, fg []bool) float64 {
	v := logits.Data().([]float32)
	n := len(fg)
	var inter, a, b float64
	for i := 0; i < n; i++ {
		pred := v[n+i] > v[i]
		if pred {
			a++
		}
		if fg[i] {
			b++
		}
		if pred && fg[i] {
			inter++
		}
	}
	return 2 * inter / (a + b)
}
