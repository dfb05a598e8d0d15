package models

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/unetlab/unetlab/models/nn"
)

// torchCase is one entry of testdata/torch_counts.json, written by
// testdata/gen_torch.py from PyTorch definitions of the architectures.
type torchCase struct {
	Params int64 `json:"params"`
	State  []struct {
		Name   string `json:"name"`
		Shape  []int  `json:"shape"`
		Buffer bool   `json:"buffer"`
		Int64  bool   `json:"int64"`
	} `json:"state"`
	MACs          int64            `json:"macs"`
	MACsPerModule map[string]int64 `json:"macs_per_module"`
	Output        []int            `json:"output"`
}

// fixtureConfigs maps the fixture keys to the Go configurations.
func fixtureConfigs() map[string]Config {
	m := map[string]Config{}
	for _, a := range Archs {
		m[string(a)+"/paper"] = Paper(a)
		m[string(a)+"/small"] = Small(a)
	}
	orig := func(c Config) Config { c.ConvNeXt = ConvNeXtOptions{Variant: ConvNeXtOriginal}; return c }
	m["ConvNeXt/original/paper"] = orig(Config{Arch: ConvNeXt})
	m["ConvNeXt/original/small"] = orig(Small(ConvNeXt))
	qd := func(c Config) Config { c.TransUNet.Query = QueryDecoder; return c }
	m["TransUNet/query-decoder/paper"] = qd(Config{Arch: TransUNet})
	m["TransUNet/query-decoder/small"] = qd(Small(TransUNet))
	lu := func(c Config) Config { c.HalfUNet.Variant = HalfUNetLu; return c }
	m["HalfUNet/lu/paper"] = lu(Config{Arch: HalfUNet})
	m["HalfUNet/lu/small"] = lu(Small(HalfUNet))
	leg := Small(SwinUNETR)
	leg.Swin.Merging = MergingV2
	m["SwinUNETR/mergingv2/small"] = leg
	bn := Small(UNet)
	bn.Norm, bn.Up = nn.NormBatch, UpTrilinear
	m["UNet/batchnorm-affine-trilinear/small"] = bn
	ia := Small(UNet)
	ia.NormAffine, ia.Activation, ia.Skip = true, ActReLU, SkipAdd
	m["UNet/instance-affine-relu-add/small"] = ia
	return m
}

func loadTorchCounts(t *testing.T) map[string]torchCase {
	t.Helper()
	data, err := os.ReadFile("testdata/torch_counts.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases map[string]torchCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

// TestAgainstTorch compares, for every configuration of the fixture, the
// parameter count, the state names and shapes, the output shape and the
// thop-rule MACs (total and per module) with the PyTorch definitions.
func TestAgainstTorch(t *testing.T) {
	cases := loadTorchCounts(t)
	cfgs := fixtureConfigs()
	if len(cases) != len(cfgs) {
		t.Errorf("fixture has %d cases, Go side %d", len(cases), len(cfgs))
	}
	keys := make([]string, 0, len(cfgs))
	for k := range cfgs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		t.Run(key, func(t *testing.T) {
			want, ok := cases[key]
			if !ok {
				t.Fatalf("no fixture entry %q; rerun testdata/gen_torch.py", key)
			}
			s, err := Describe(cfgs[key])
			if err != nil {
				t.Fatal(err)
			}
			if s.Params != want.Params {
				t.Errorf("params %d, torch %d", s.Params, want.Params)
			}
			got := map[string]Param{}
			for _, p := range s.State() {
				if _, dup := got[p.Name]; dup {
					t.Errorf("state name %q twice", p.Name)
				}
				got[p.Name] = p
			}
			for _, w := range want.State {
				p, ok := got[w.Name]
				if !ok {
					t.Errorf("missing %s %v", w.Name, w.Shape)
					continue
				}
				if !slices.Equal(p.Shape, w.Shape) || p.Buffer != w.Buffer || p.Int64 != w.Int64 {
					t.Errorf("%s: %v buffer=%v int64=%v, torch %v buffer=%v int64=%v", w.Name, p.Shape, p.Buffer, p.Int64, w.Shape, w.Buffer, w.Int64)
				}
				delete(got, w.Name)
			}
			for n := range got {
				t.Errorf("extra state %s", n)
			}
			if want.Output == nil {
				return
			}
			if !slices.Equal(s.Output, want.Output) {
				t.Errorf("output %v, torch %v", s.Output, want.Output)
			}
			if s.MACs != want.MACs {
				t.Errorf("MACs %d, torch (thop rules) %d", s.MACs, want.MACs)
			}
			per := map[string]int64{}
			for name, v := range want.MACsPerModule {
				// MONAI's WindowAttention is one Go layer; its qkv and proj
				// Linear modules are counted into it.
				if i := strings.LastIndex(name, ".attn."); i >= 0 {
					name = name[:i+len(".attn")]
				}
				per[name] += v
			}
			for _, l := range s.Layers {
				if l.MACs == 0 {
					continue
				}
				if per[l.Name] != l.MACs {
					t.Errorf("%s (%s): MACs %d, torch %d", l.Name, l.Type, l.MACs, per[l.Name])
				}
			}
		})
	}
}

func TestPaperDefaults(t *testing.T) {
	c := Config{Arch: UNet}.WithDefaults()
	if !slices.Equal(c.Channels, []int{32, 64, 128, 256, 380, 512}) || c.InputSize != [3]int{128, 128, 128} ||
		c.Norm != nn.NormInstance || c.NormAffine || c.Activation != ActLeakyReLU || c.NegativeSlope != 0.01 ||
		c.Up != UpConvTranspose || c.Skip != SkipConcat || c.Batch != 2 || c.InChannels != 1 || c.Classes != 2 {
		t.Errorf("defaults %+v", c)
	}
	s, err := Describe(Config{Arch: UNet})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{2, 2, 128, 128, 128}; !slices.Equal(s.Output, want) {
		t.Errorf("output %v, want %v", s.Output, want)
	}
	// The bottleneck is 4^3 at 128^3.
	for _, l := range s.Layers {
		if l.Name == "encoder.conv_blocks.5.conv_block_2.convolution" && !slices.Equal(l.Output, []int{2, 512, 4, 4, 4}) {
			t.Errorf("bottleneck %v", l.Output)
		}
	}
}

// make65 returns 65 levels of one channel: 2^(levels-1) overflowed to 0 and
// Validate divided by it.
func make65() []int {
	c := make([]int, 65)
	for i := range c {
		c[i] = 1
	}
	return c
}

func TestValidate(t *testing.T) {
	ill := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"unknown arch", Config{Arch: "VNet"}, "Arch"},
		{"empty arch", Config{}, "Arch"},
		{"indivisible size", Config{Arch: UNet, InputSize: [3]int{100, 128, 128}}, "InputSize"},
		{"one level", Config{Arch: UNet, Channels: []int{8}}, "Channels"},
		{"65 levels", Config{Arch: UNet, Channels: make65()}, "Channels"},
		{"NaN slope", Config{Arch: UNet, NegativeSlope: math.NaN()}, "NegativeSlope"},
		{"zero channels", Config{Arch: UNet, Channels: []int{8, 0}}, "Channels"},
		{"negative input", Config{Arch: UNet, InputSize: [3]int{-32, 32, 32}}, "InputSize"},
		{"bad norm", Config{Arch: UNet, Norm: "layer"}, "Norm"},
		{"bad activation", Config{Arch: UNet, Activation: "tanh"}, "Activation"},
		{"bad up", Config{Arch: UNet, Up: "pixelshuffle"}, "Up"},
		{"add with interpolation", Config{Arch: UNet, Skip: SkipAdd, Up: UpNearest}, "Up"},
		{"one-voxel bottleneck", Config{Arch: UNet, Channels: []int{8, 16, 32}, InputSize: [3]int{4, 4, 4}}, "InputSize"},
		{"convnext even kernel", Config{Arch: ConvNeXt, ConvNeXt: ConvNeXtOptions{Kernel: 4}}, "ConvNeXt.Kernel"},
		{"transunet heads", Config{Arch: TransUNet, TransUNet: TransUNetOptions{Heads: 7}}, "TransUNet.Heads"},
		{"transunet odd tokens", Config{Arch: TransUNet, TransUNet: TransUNetOptions{TokensPerSide: 3}}, "TransUNet.TokensPerSide"},
		{"transunet small skip", Config{Arch: TransUNet, InputSize: [3]int{64, 64, 64}}, "InputSize"},
		{"halfunet interpolation", Config{Arch: HalfUNet, Up: UpTrilinear}, "Up"},
		{"halfunet variant", Config{Arch: HalfUNet, HalfUNet: HalfUNetOptions{Variant: "ghostnet"}}, "HalfUNet.Variant"},
		{"swin feature", Config{Arch: SwinUNETR, Swin: SwinOptions{FeatureSize: 16}}, "Swin.FeatureSize"},
		{"swin size", Config{Arch: SwinUNETR, InputSize: [3]int{96, 96, 80}}, "InputSize"},
		{"swin too small", Config{Arch: SwinUNETR, InputSize: [3]int{32, 32, 32}}, "InputSize"},
		{"swin depths", Config{Arch: SwinUNETR, Swin: SwinOptions{Depths: []int{2, 2}}}, "Swin.Depths"},
		{"swin heads", Config{Arch: SwinUNETR, Swin: SwinOptions{Heads: []int{5, 6, 12, 24}}}, "Swin.Heads"},
	}
	for _, tc := range ill {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("err %v, want ErrConfig", err)
			}
			if !strings.HasPrefix(err.Error(), "models: invalid configuration: "+tc.field+" ") {
				t.Errorf("error %q does not name field %s", err, tc.field)
			}
			if _, err := Describe(tc.cfg); !errors.Is(err, ErrConfig) {
				t.Errorf("Describe: %v", err)
			}
		})
	}
	for _, a := range Archs {
		for _, c := range []Config{Paper(a), Small(a), {Arch: a}} {
			if err := c.Validate(); err != nil {
				t.Errorf("%s: %v", a, err)
			}
		}
	}
}

func TestSummaryRender(t *testing.T) {
	s, err := Describe(Small(ResBlock1))
	if err != nil {
		t.Fatal(err)
	}
	b := s.Render()
	h, _ := b["text/html"].(string)
	txt, _ := b["text/plain"].(string)
	if !strings.Contains(h, "<table style=") || !strings.Contains(h, "encoder.conv_blocks.0.skip_resize") {
		t.Errorf("html lacks the table or a layer:\n%.300s", h)
	}
	if txt != s.String() || !strings.Contains(txt, "total: 356026 parameters") {
		t.Errorf("text:\n%s", txt)
	}
	if strings.Count(h, "<tr>") != len(s.Layers)+2 {
		t.Errorf("html has %d rows, want %d", strings.Count(h, "<tr>"), len(s.Layers)+2)
	}
}

// TestTrueFLOPs checks the true count on one convolution and one transposed
// convolution by hand.
func TestTrueFLOPs(t *testing.T) {
	b := &builder{cfg: Small(UNet)}
	x := val{shape: []int{2, 4, 8, 8, 8}}
	y := b.conv("c", x, 6, 3, 1, 1, 1, true)
	z := b.convT("t", y, 3, 2, true)
	if b.err != nil {
		t.Fatal(b.err)
	}
	out := int64(2 * 6 * 8 * 8 * 8)
	if l := b.layers[0]; l.MACs != out*4*27 || l.FLOPs != 2*out*4*27+out {
		t.Errorf("conv MACs %d FLOPs %d", l.MACs, l.FLOPs)
	}
	tout := int64(2 * 3 * 16 * 16 * 16)
	if l := b.layers[1]; l.MACs != tout*6*8 || l.FLOPs != 2*out*3*8+tout {
		t.Errorf("convT MACs %d (thop: by output) FLOPs %d (by input)", l.MACs, l.FLOPs)
	}
	if !slices.Equal(z.shape, []int{2, 3, 16, 16, 16}) {
		t.Errorf("convT shape %v", z.shape)
	}
}
