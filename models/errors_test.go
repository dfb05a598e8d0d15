package models

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unetlab/unetlab/models/safetensors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// editState returns a copy of good (its F32 values copied) changed by f.
func editState(good *safetensors.File, f func(*safetensors.File)) *safetensors.File {
	c := &safetensors.File{}
	for _, x := range good.Tensors {
		x.F32 = append([]float32(nil), x.F32...)
		c.Tensors = append(c.Tensors, x)
	}
	f(c)
	return c
}

func TestLoadErrors(t *testing.T) {
	cfg := tiny(UNet)
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	good, err := m.StateFile()
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(*safetensors.File)) *safetensors.File { return editState(good, f) }
	cases := []struct {
		name string
		f    *safetensors.File
		want string
	}{
		{"missing", edit(func(f *safetensors.File) { f.Tensors = f.Tensors[1:] }), "missing tensor"},
		{"shape", edit(func(f *safetensors.File) {
			f.Tensors[0].Shape = []int{f.Tensors[0].Numel()}
		}), "has shape"},
		{"extra", edit(func(f *safetensors.File) {
			f.Tensors = append(f.Tensors, safetensors.Tensor{Name: "head.weight", Dtype: safetensors.F32, Shape: []int{1}, F32: []float32{1}})
		}), "unexpected tensors head.weight"},
		{"int64 weight", edit(func(f *safetensors.File) {
			x := &f.Tensors[0]
			x.Dtype, x.I64, x.F32 = safetensors.I64, make([]int64, x.Numel()), nil
		}), "is I64"},
	}
	dir := t.TempDir()
	before, _ := m.StateFile()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".safetensors")
			if err := safetensors.WriteFile(path, tc.f); err != nil {
				t.Fatal(err)
			}
			err := m.Load(path)
			if !errors.Is(err, ErrWeights) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("%v, want ErrWeights with %q and the path", err, tc.want)
			}
		})
	}
	// A model of another architecture does not load.
	other, _ := New(tiny(ResBlock1))
	p := filepath.Join(dir, "unet.safetensors")
	m.Save(p)
	if err := other.Load(p); !errors.Is(err, ErrWeights) {
		t.Errorf("ResBlock1 loading UNet weights: %v", err)
	}
	// Corrupt and missing files.
	os.WriteFile(filepath.Join(dir, "bad"), []byte("garbage!"), 0o644)
	if err := m.Load(filepath.Join(dir, "bad")); !errors.Is(err, safetensors.ErrFormat) {
		t.Errorf("corrupt: %v", err)
	}
	if err := m.Load(filepath.Join(dir, "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	// Nothing changed.
	after, _ := m.StateFile()
	for i := range before.Tensors {
		for j, v := range before.Tensors[i].F32 {
			if after.Tensors[i].F32[j] != v {
				t.Fatalf("%s changed by a failed load", before.Tensors[i].Name)
			}
		}
	}
	// Float64 weights load into a float32 model.
	m64, _ := NewWithOptions(cfg, &Options{Float64: true, Seed: 5})
	p64 := filepath.Join(dir, "f64.safetensors")
	if err := m64.Save(p64); err != nil {
		t.Fatal(err)
	}
	if err := m.Load(p64); err != nil {
		t.Errorf("F64 into float32: %v", err)
	}
}

// TestLoadStateFileByHand: LoadStateFile takes a File built in memory,
// which Read's checks never saw: values that do not match the shape,
// duplicate names, a nil file give ErrWeights, not a panic or a partial
// load.
func TestLoadStateFileByHand(t *testing.T) {
	m, err := New(tiny(UNet))
	if err != nil {
		t.Fatal(err)
	}
	good, err := m.StateFile()
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(*safetensors.File)) *safetensors.File { return editState(good, f) }
	cases := map[string]*safetensors.File{
		"nil":          nil,
		"extra values": edit(func(f *safetensors.File) { f.Tensors[0].F32 = append(f.Tensors[0].F32, 1, 2, 3) }),
		"short values": edit(func(f *safetensors.File) { f.Tensors[0].F32 = f.Tensors[0].F32[:1] }),
		"wrong slice":  edit(func(f *safetensors.File) { f.Tensors[0].F64, f.Tensors[0].F32 = []float64{1}, nil }),
		"duplicate":    edit(func(f *safetensors.File) { f.Tensors = append(f.Tensors, f.Tensors[0]) }),
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			if err := m.LoadStateFile(f); !errors.Is(err, ErrWeights) {
				t.Errorf("err = %v, want ErrWeights", err)
			}
		})
	}
	if err := m.LoadStateFile(good); err != nil {
		t.Errorf("the model's own state: %v", err)
	}
}

func TestForwardErrors(t *testing.T) {
	m, err := New(tiny(TransUNet))
	if err != nil {
		t.Fatal(err)
	}
	other := gorgonia.NewGraph()
	cases := []struct {
		name string
		x    *gorgonia.Node
		want string
	}{
		{"nil", nil, "nil input"},
		{"other graph", gorgonia.NewTensor(other, tensor.Float32, 5, gorgonia.WithShape(1, 1, 16, 16, 16), gorgonia.WithName("y")), "not in the model's graph"},
		{"channels", gorgonia.NewTensor(m.Graph(), tensor.Float32, 5, gorgonia.WithShape(1, 3, 16, 16, 16), gorgonia.WithName("c")), "want (N, 1, D, H, W)"},
		{"rank", gorgonia.NewTensor(m.Graph(), tensor.Float32, 4, gorgonia.WithShape(1, 1, 16, 16), gorgonia.WithName("r")), "want (N, 1, D, H, W)"},
		{"dtype", gorgonia.NewTensor(m.Graph(), tensor.Float64, 5, gorgonia.WithShape(1, 1, 16, 16, 16), gorgonia.WithName("d")), "is float64"},
		{"indivisible", gorgonia.NewTensor(m.Graph(), tensor.Float32, 5, gorgonia.WithShape(1, 1, 16, 16, 18), gorgonia.WithName("i")), "not divisible"},
		{"other patches", gorgonia.NewTensor(m.Graph(), tensor.Float32, 5, gorgonia.WithShape(1, 1, 32, 32, 32), gorgonia.WithName("p")), "other parameters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Forward(tc.x)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v, want %q", err, tc.want)
			}
		})
	}
	// A larger batch and a larger volume are fine for a U-net.
	u, _ := New(tiny(UNet))
	x := gorgonia.NewTensor(u.Graph(), tensor.Float32, 5, gorgonia.WithShape(2, 1, 32, 16, 24), gorgonia.WithName("big"))
	y, err := u.Forward(x)
	if err != nil || y.Shape()[0] != 2 || y.Shape()[4] != 24 {
		t.Errorf("U-net on (2, 1, 32, 16, 24): %v %v", y, err)
	}
}
