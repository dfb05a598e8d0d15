package nn

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/unetlab/unetlab/internal/atomicfile"
	"gorgonia.org/tensor"
)

// ErrFormat is returned (wrapped) when a state file is not one SaveState wrote.
var ErrFormat = errors.New("nn: invalid state file")

const stateMagic = "UNLBNN01"

// SaveState writes the named tensors to w: the magic "UNLBNN01", the count
// (uint32), then per tensor its name (uint16 length + bytes), dtype
// (uint8: 0 float32, 1 float64), rank (uint8), dims (uint32 each) and the
// values, all little-endian.
func SaveState(w io.Writer, state []StateTensor) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(stateMagic)
	le := binary.LittleEndian
	var buf [8]byte
	le.PutUint32(buf[:4], uint32(len(state)))
	bw.Write(buf[:4])
	for _, s := range state {
		if len(s.Name) > math.MaxUint16 || s.Value == nil {
			return fmt.Errorf("%w: tensor %q", ErrConfig, s.Name)
		}
		le.PutUint16(buf[:2], uint16(len(s.Name)))
		bw.Write(buf[:2])
		bw.WriteString(s.Name)
		shape := s.Value.Shape()
		switch d := s.Value.Data().(type) {
		case []float32:
			bw.WriteByte(0)
			writeShape(bw, shape)
			for _, v := range d {
				le.PutUint32(buf[:4], math.Float32bits(v))
				bw.Write(buf[:4])
			}
		case []float64:
			bw.WriteByte(1)
			writeShape(bw, shape)
			for _, v := range d {
				le.PutUint64(buf[:8], math.Float64bits(v))
				bw.Write(buf[:8])
			}
		default:
			return fmt.Errorf("%w: tensor %q of %v", ErrDtype, s.Name, s.Value.Dtype())
		}
	}
	return bw.Flush()
}

func writeShape(w *bufio.Writer, s tensor.Shape) {
	w.WriteByte(byte(len(s)))
	var b [4]byte
	for _, d := range s {
		binary.LittleEndian.PutUint32(b[:], uint32(d))
		w.Write(b[:])
	}
}

// LoadState reads what SaveState wrote and copies each tensor into the
// entry of state with the same name, converting between float32 and
// float64. Every entry of state must be present with the same shape.
func LoadState(r io.Reader, state []StateTensor) error {
	br := bufio.NewReader(r)
	le := binary.LittleEndian
	magic := make([]byte, len(stateMagic))
	if _, err := io.ReadFull(br, magic); err != nil {
		return fmt.Errorf("%w: magic: %w", ErrFormat, unexpected(err))
	}
	if string(magic) != stateMagic {
		return fmt.Errorf("%w: magic %q, want %q", ErrFormat, magic, stateMagic)
	}
	var buf [8]byte
	if _, err := io.ReadFull(br, buf[:4]); err != nil {
		return fmt.Errorf("%w: count: %w", ErrFormat, unexpected(err))
	}
	n := le.Uint32(buf[:4])
	byName := map[string]*tensor.Dense{}
	for _, s := range state {
		byName[s.Name] = s.Value
	}
	seen := map[string]bool{}
	for i := uint32(0); i < n; i++ {
		if _, err := io.ReadFull(br, buf[:2]); err != nil {
			return fmt.Errorf("%w: tensor %d: %w", ErrFormat, i, unexpected(err))
		}
		name := make([]byte, le.Uint16(buf[:2]))
		if _, err := io.ReadFull(br, name); err != nil {
			return fmt.Errorf("%w: tensor %d name: %w", ErrFormat, i, unexpected(err))
		}
		var hdr [2]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return fmt.Errorf("%w: tensor %q: %w", ErrFormat, name, unexpected(err))
		}
		dt, rank := hdr[0], int(hdr[1])
		if dt > 1 {
			return fmt.Errorf("%w: tensor %q: dtype code %d", ErrFormat, name, dt)
		}
		shape := make(tensor.Shape, rank)
		size := 1
		for j := range shape {
			if _, err := io.ReadFull(br, buf[:4]); err != nil {
				return fmt.Errorf("%w: tensor %q shape: %w", ErrFormat, name, unexpected(err))
			}
			shape[j] = int(le.Uint32(buf[:4]))
			size *= shape[j]
			if size > 1<<34 {
				return fmt.Errorf("%w: tensor %q: shape too large", ErrFormat, name)
			}
		}
		dst, ok := byName[string(name)]
		if ok && !dst.Shape().Eq(shape) {
			return fmt.Errorf("%w: tensor %q: file shape %v, layer shape %v", ErrShape, name, shape, dst.Shape())
		}
		width := 4 << dt
		for j := 0; j < size; j++ {
			if _, err := io.ReadFull(br, buf[:width]); err != nil {
				return fmt.Errorf("%w: tensor %q values: %w", ErrFormat, name, unexpected(err))
			}
			if !ok {
				continue
			}
			var v float64
			if dt == 0 {
				v = float64(math.Float32frombits(le.Uint32(buf[:4])))
			} else {
				v = math.Float64frombits(le.Uint64(buf[:8]))
			}
			switch d := dst.Data().(type) {
			case []float32:
				d[j] = float32(v)
			case []float64:
				d[j] = v
			}
		}
		seen[string(name)] = true
	}
	for _, s := range state {
		if !seen[s.Name] {
			return fmt.Errorf("%w: tensor %q missing from the file", ErrFormat, s.Name)
		}
	}
	return nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// SaveStateFile writes the state to path atomically
// (internal/atomicfile: a synced temporary file in the same directory,
// renamed over path).
func SaveStateFile(path string, state []StateTensor) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { return SaveState(w, state) }); err != nil {
		return fmt.Errorf("nn: saving %s: %w", path, err)
	}
	return nil
}

// LoadStateFile reads a file SaveStateFile wrote into state.
func LoadStateFile(path string, state []StateTensor) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("nn: loading %s: %w", path, err)
	}
	defer f.Close()
	if err := LoadState(f, state); err != nil {
		return fmt.Errorf("nn: loading %s: %w", path, err)
	}
	return nil
}
