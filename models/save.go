package models

import (
	"fmt"
	"slices"
	"strings"

	"github.com/unetlab/unetlab/models/nn"
	"github.com/unetlab/unetlab/models/safetensors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// stateEntry binds one state tensor name to where its values live.
type stateEntry struct {
	p     Param
	node  *gorgonia.Node     // a parameter
	stats *nn.BatchNormStats // running_mean, running_var, num_batches_tracked
	index []int              // relative_position_index
}

func (m *Model) stateEntries() ([]stateEntry, error) {
	nodes := map[string]*gorgonia.Node{}
	for _, p := range m.eng.params() {
		nodes[p.Name] = p.Node
	}
	var es []stateEntry
	for _, p := range m.summary.State() {
		e := stateEntry{p: p}
		switch {
		case !p.Buffer:
			e.node = nodes[p.Name]
		case strings.HasSuffix(p.Name, ".relative_position_index"):
			w := m.cfg.Swin.Window
			idx, err := nn.RelativePositionIndex([3]int{w, w, w})
			if err != nil {
				return nil, err
			}
			e.index = idx
		default:
			mod := p.Name[:strings.LastIndex(p.Name, ".")]
			if n, ok := m.eng.mods[mod].(*nn.Norm); ok {
				e.stats = n.Stats
			}
		}
		if e.node == nil && e.stats == nil && e.index == nil {
			return nil, fmt.Errorf("models: %s: state tensor %s has no value in the graph", m.cfg.Arch, p.Name)
		}
		es = append(es, e)
	}
	return es, nil
}

func floats(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float32:
		v := make([]float64, len(d))
		for i, x := range d {
			v[i] = float64(x)
		}
		return v
	case []float64:
		return slices.Clone(d)
	}
	return nil
}

// StateFile returns the model's state (parameters and buffers) as a
// safetensors File under PyTorch's state_dict names: what Save writes.
func (m *Model) StateFile() (*safetensors.File, error) {
	es, err := m.stateEntries()
	if err != nil {
		return nil, err
	}
	f := &safetensors.File{Metadata: map[string]string{"arch": string(m.cfg.Arch), "format": "pt", "producer": "unetlab"}}
	f64 := m.Dtype() == tensor.Float64
	put := func(name string, shape []int, v []float64) {
		t := safetensors.Tensor{Name: name, Shape: shape}
		if f64 {
			t.Dtype, t.F64 = safetensors.F64, v
		} else {
			t.Dtype, t.F32 = safetensors.F32, make([]float32, len(v))
			for i, x := range v {
				t.F32[i] = float32(x)
			}
		}
		f.Tensors = append(f.Tensors, t)
	}
	for _, e := range es {
		name, shape := e.p.Name, e.p.Shape
		switch {
		case e.node != nil:
			d, ok := e.node.Value().(*tensor.Dense)
			if !ok {
				return nil, fmt.Errorf("models: parameter %s has no value", name)
			}
			put(name, shape, floats(d))
		case e.index != nil:
			v := make([]int64, len(e.index))
			for i, x := range e.index {
				v[i] = int64(x)
			}
			f.Tensors = append(f.Tensors, safetensors.Tensor{Name: name, Dtype: safetensors.I64, Shape: shape, I64: v})
		case strings.HasSuffix(name, ".running_mean"):
			put(name, shape, slices.Clone(e.stats.Mean))
		case strings.HasSuffix(name, ".running_var"):
			put(name, shape, slices.Clone(e.stats.Var))
		default: // num_batches_tracked
			f.Tensors = append(f.Tensors, safetensors.Tensor{Name: name, Dtype: safetensors.I64, Shape: []int{}, I64: []int64{e.stats.Batches}})
		}
	}
	return f, nil
}

// Save writes the model's state to path in the safetensors format with
// PyTorch's state_dict names, atomically (temporary file, then rename).
// PyTorch loads it with load_state_dict after reading the file.
func (m *Model) Save(path string) error {
	f, err := m.StateFile()
	if err != nil {
		return err
	}
	return safetensors.WriteFile(path, f)
}

// Load reads weights saved by Save or by PyTorch (a state_dict written as
// safetensors) into the model. Every tensor of the model must be present
// with its shape, and no other; F32 and F64 files load into models of
// either dtype. The error wraps ErrWeights and names the tensor and the
// shapes, or wraps safetensors.ErrFormat for a corrupt file. Nothing is
// changed when an error is returned.
func (m *Model) Load(path string) error {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return err
	}
	if err := m.LoadStateFile(f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// LoadStateFile is Load from a decoded file.
func (m *Model) LoadStateFile(f *safetensors.File) error {
	es, err := m.stateEntries()
	if err != nil {
		return err
	}
	if f == nil {
		return fmt.Errorf("%w: %s: nil state file", ErrWeights, m.cfg.Arch)
	}
	byName := map[string]*safetensors.Tensor{}
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if _, dup := byName[t.Name]; dup {
			return fmt.Errorf("%w: %s: tensor %s given twice", ErrWeights, m.cfg.Arch, t.Name)
		}
		byName[t.Name] = t
	}
	// Check everything first so that a failed load changes nothing.
	src := make([]*safetensors.Tensor, len(es))
	for k, e := range es {
		t, ok := byName[e.p.Name]
		if !ok {
			return fmt.Errorf("%w: %s: missing tensor %s %v", ErrWeights, m.cfg.Arch, e.p.Name, e.p.Shape)
		}
		if !slices.Equal(t.Shape, e.p.Shape) {
			return fmt.Errorf("%w: %s: tensor %s has shape %v, the model %v", ErrWeights, m.cfg.Arch, e.p.Name, t.Shape, e.p.Shape)
		}
		if e.p.Int64 != (t.Dtype == safetensors.I64) {
			return fmt.Errorf("%w: %s: tensor %s is %s", ErrWeights, m.cfg.Arch, e.p.Name, t.Dtype)
		}
		// A File built by hand (not read) may hold another count of
		// values than its shape, or none in the slice of its dtype.
		if n := valueCount(t); n != e.p.Numel() {
			return fmt.Errorf("%w: %s: tensor %s holds %d %s values for shape %v (%d elements)",
				ErrWeights, m.cfg.Arch, e.p.Name, n, t.Dtype, t.Shape, e.p.Numel())
		}
		src[k] = t
		delete(byName, e.p.Name)
	}
	if len(byName) > 0 {
		extra := make([]string, 0, len(byName))
		for n := range byName {
			extra = append(extra, n)
		}
		slices.Sort(extra)
		return fmt.Errorf("%w: %s: unexpected tensors %s", ErrWeights, m.cfg.Arch, strings.Join(extra, ", "))
	}
	for k, e := range es {
		t := src[k]
		vals := t.F64
		if t.Dtype == safetensors.F32 {
			vals = make([]float64, len(t.F32))
			for i, x := range t.F32 {
				vals[i] = float64(x)
			}
		}
		switch {
		case e.node != nil:
			d := e.node.Value().(*tensor.Dense)
			switch dst := d.Data().(type) {
			case []float32:
				for i, x := range vals {
					dst[i] = float32(x)
				}
			case []float64:
				copy(dst, vals)
			}
		case e.index != nil:
			// Derived from the window; kept for PyTorch's strict loading.
		case strings.HasSuffix(e.p.Name, ".running_mean"):
			copy(e.stats.Mean, vals)
		case strings.HasSuffix(e.p.Name, ".running_var"):
			copy(e.stats.Var, vals)
		default:
			e.stats.Batches = t.I64[0]
		}
	}
	return nil
}

// valueCount returns the number of values t holds in the slice of its
// dtype, -1 for a dtype Load does not take.
func valueCount(t *safetensors.Tensor) int64 {
	switch t.Dtype {
	case safetensors.F32:
		return int64(len(t.F32))
	case safetensors.F64:
		return int64(len(t.F64))
	case safetensors.I64:
		return int64(len(t.I64))
	}
	return -1
}
