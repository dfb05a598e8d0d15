// Package safetensors reads and writes the safetensors format
// (https://huggingface.co/docs/safetensors): an 8-byte little-endian header
// length n, n bytes of JSON mapping each tensor name to
// {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
// byte buffer after the header) plus an optional "__metadata__" map of
// strings, then the little-endian tensor data, packed without gaps.
//
// Supported dtypes are F32, F64 and I64 (PyTorch's num_batches_tracked).
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"

	"github.com/unetlab/unetlab/internal/atomicfile"
)

// ErrFormat is returned (wrapped) for a file that is not valid safetensors;
// the message names the file, the tensor and what is wrong. A file cut
// short also wraps io.ErrUnexpectedEOF.
var ErrFormat = errors.New("safetensors: invalid file")

// ErrDtype is returned (wrapped) for a dtype this package does not handle.
var ErrDtype = errors.New("safetensors: unsupported dtype")

// maxHeader bounds the JSON header (the reference implementation's limit).
const maxHeader = 100 << 20

// Dtype is a tensor element type as the header spells it.
type Dtype string

// Supported dtypes.
const (
	F32 Dtype = "F32"
	F64 Dtype = "F64"
	I64 Dtype = "I64"
)

func (d Dtype) size() int {
	switch d {
	case F32:
		return 4
	case F64, I64:
		return 8
	}
	return 0
}

// Tensor is one named tensor; exactly the slice matching Dtype is set and it
// holds prod(Shape) elements in row-major (C) order.
type Tensor struct {
	Name  string
	Dtype Dtype
	Shape []int
	F32   []float32
	F64   []float64
	I64   []int64
}

// Numel is the number of elements prod(Shape) (1 for a scalar).
func (t *Tensor) Numel() int {
	n := 1
	for _, s := range t.Shape {
		n *= s
	}
	return n
}

func (t *Tensor) len() int {
	switch t.Dtype {
	case F32:
		return len(t.F32)
	case F64:
		return len(t.F64)
	case I64:
		return len(t.I64)
	}
	return -1
}

// File is the content of a safetensors file: tensors sorted by name, and the
// free-form string metadata (nil when absent).
type File struct {
	Tensors  []Tensor
	Metadata map[string]string
}

// Get returns the tensor named name.
func (f *File) Get(name string) (*Tensor, bool) {
	for i := range f.Tensors {
		if f.Tensors[i].Name == name {
			return &f.Tensors[i], true
		}
	}
	return nil, false
}

type entry struct {
	Dtype       Dtype    `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// Write encodes f to w. Tensors are written sorted by name, the header is
// padded with spaces to a multiple of 8 bytes.
func Write(w io.Writer, f *File) error {
	ts := make([]*Tensor, len(f.Tensors))
	for i := range f.Tensors {
		ts[i] = &f.Tensors[i]
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	header := map[string]any{}
	var off int64
	for i, t := range ts {
		if t.Name == "" || t.Name == "__metadata__" {
			return fmt.Errorf("safetensors: tensor %d: invalid name %q", i, t.Name)
		}
		if i > 0 && ts[i-1].Name == t.Name {
			return fmt.Errorf("safetensors: tensor %q given twice", t.Name)
		}
		if t.Dtype.size() == 0 {
			return fmt.Errorf("%w: tensor %q: %q, want F32, F64 or I64", ErrDtype, t.Name, t.Dtype)
		}
		for _, s := range t.Shape {
			if s < 0 {
				return fmt.Errorf("safetensors: tensor %q: negative shape %v", t.Name, t.Shape)
			}
		}
		if t.len() != t.Numel() {
			return fmt.Errorf("safetensors: tensor %q: %d %s values for shape %v (%d elements)", t.Name, t.len(), t.Dtype, t.Shape, t.Numel())
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		n := int64(t.Numel() * t.Dtype.size())
		header[t.Name] = entry{t.Dtype, shape, [2]int64{off, off + n}}
		off += n
	}
	if len(f.Metadata) > 0 {
		header["__metadata__"] = f.Metadata
	}
	h, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("safetensors: header: %w", err)
	}
	if pad := (8 - len(h)%8) % 8; pad > 0 {
		h = append(h, bytes.Repeat([]byte{' '}, pad)...)
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(h)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(h); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	flush := func() error {
		_, err := w.Write(buf)
		buf = buf[:0]
		return err
	}
	for _, t := range ts {
		for i := 0; i < t.Numel(); i++ {
			switch t.Dtype {
			case F32:
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(t.F32[i]))
			case F64:
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(t.F64[i]))
			case I64:
				buf = binary.LittleEndian.AppendUint64(buf, uint64(t.I64[i]))
			}
			if len(buf) >= 1<<16-8 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// WriteFile writes f to path atomically: to a temporary file in the same
// directory, synced, then renamed over path.
func WriteFile(path string, f *File) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { return Write(w, f) }); err != nil {
		return fmt.Errorf("safetensors: writing %s: %w", path, err)
	}
	return nil
}

// ReadFile reads and checks the safetensors file at path.
func ReadFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	f, err := read(fh, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Read decodes a safetensors stream of unknown size from r. Memory grows
// with the bytes actually read, never with what the header claims.
func Read(r io.Reader) (*File, error) { return read(r, -1) }

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// read decodes from r; size is the total length when known (-1 otherwise).
func read(r io.Reader, size int64) (*File, error) {
	var nb [8]byte
	if _, err := io.ReadFull(r, nb[:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%w: header length: %w", ErrFormat, err)
	}
	n := binary.LittleEndian.Uint64(nb[:])
	if n > maxHeader {
		return nil, formatErr("header length %d exceeds the %d-byte limit", n, maxHeader)
	}
	if size >= 0 && int64(n) > size-8 {
		return nil, fmt.Errorf("%w: header length %d exceeds the file (%d bytes): %w", ErrFormat, n, size, io.ErrUnexpectedEOF)
	}
	h := make([]byte, n)
	if _, err := io.ReadFull(r, h); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%w: header of %d bytes: %w", ErrFormat, n, err)
	}
	if len(bytes.TrimLeft(h, " \t\r\n")) == 0 || bytes.TrimLeft(h, " \t\r\n")[0] != '{' {
		return nil, formatErr("header is not a JSON object")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(h, &raw); err != nil {
		return nil, fmt.Errorf("%w: header JSON: %w", ErrFormat, err)
	}
	f := &File{}
	type span struct {
		name       string
		begin, end int64
	}
	var spans []span
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &f.Metadata); err != nil {
				return nil, fmt.Errorf("%w: __metadata__ is not a map of strings: %w", ErrFormat, err)
			}
			continue
		}
		var e entry
		dec := json.NewDecoder(bytes.NewReader(msg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %w", ErrFormat, name, err)
		}
		if e.Dtype.size() == 0 {
			return nil, fmt.Errorf("%w: tensor %q: %q, want F32, F64 or I64", ErrDtype, name, e.Dtype)
		}
		if e.Shape == nil {
			return nil, formatErr("tensor %q: no shape", name)
		}
		numel := int64(1)
		for _, s := range e.Shape {
			if s < 0 || (s > 0 && numel > math.MaxInt64/int64(s)/8) {
				return nil, formatErr("tensor %q: invalid shape %v", name, e.Shape)
			}
			numel *= int64(s)
		}
		b, end := e.DataOffsets[0], e.DataOffsets[1]
		if b < 0 || end < b || end-b != numel*int64(e.Dtype.size()) {
			return nil, formatErr("tensor %q: data_offsets %v hold %d bytes, shape %v of %s needs %d", name, e.DataOffsets, end-b, e.Shape, e.Dtype, numel*int64(e.Dtype.size()))
		}
		f.Tensors = append(f.Tensors, Tensor{Name: name, Dtype: e.Dtype, Shape: e.Shape})
		spans = append(spans, span{name, b, end})
	}
	// The buffer must be covered exactly, in order, without gaps or overlaps.
	idx := make([]int, len(spans))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		return spans[idx[a]].begin < spans[idx[b]].begin || (spans[idx[a]].begin == spans[idx[b]].begin && spans[idx[a]].end < spans[idx[b]].end)
	})
	var pos int64
	for _, i := range idx {
		if spans[i].begin != pos {
			return nil, formatErr("tensor %q starts at byte %d of the data, want %d (gap or overlap)", spans[i].name, spans[i].begin, pos)
		}
		pos = spans[i].end
	}
	if size >= 0 && 8+int64(n)+pos < size {
		return nil, formatErr("data is %d bytes, the header describes %d (trailing bytes)", size-8-int64(n), pos)
	}
	if size >= 0 && 8+int64(n)+pos > size {
		return nil, fmt.Errorf("%w: data is %d bytes, the header describes %d: %w", ErrFormat, size-8-int64(n), pos, io.ErrUnexpectedEOF)
	}
	var data []byte
	if size >= 0 {
		// The file's size bounds pos (checked above): read it in one go.
		data = make([]byte, pos)
		if _, err := io.ReadFull(r, data); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("%w: data of %d bytes: %w", ErrFormat, pos, err)
		}
	} else {
		// A stream's header is only a claim: let the buffer grow with the
		// bytes actually present, so that a lying header cannot make us
		// allocate what it claims.
		var err error
		if data, err = io.ReadAll(io.LimitReader(r, pos)); err != nil {
			return nil, fmt.Errorf("%w: data of %d bytes: %w", ErrFormat, pos, err)
		}
		if int64(len(data)) < pos {
			return nil, fmt.Errorf("%w: data is %d bytes, the header describes %d: %w", ErrFormat, len(data), pos, io.ErrUnexpectedEOF)
		}
	}
	for i := range f.Tensors {
		t := &f.Tensors[i]
		buf := data[spans[i].begin:spans[i].end]
		k := t.Numel()
		switch t.Dtype {
		case F32:
			t.F32 = make([]float32, k)
			for j := range k {
				t.F32[j] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*j:]))
			}
		case F64:
			t.F64 = make([]float64, k)
			for j := range k {
				t.F64[j] = math.Float64frombits(binary.LittleEndian.Uint64(buf[8*j:]))
			}
		case I64:
			t.I64 = make([]int64, k)
			for j := range k {
				t.I64[j] = int64(binary.LittleEndian.Uint64(buf[8*j:]))
			}
		}
	}
	sort.Slice(f.Tensors, func(a, b int) bool { return f.Tensors[a].Name < f.Tensors[b].Name })
	return f, nil
}
