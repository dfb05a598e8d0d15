package volume

import (
	"encoding/binary"
	"fmt"
	gzip "github.com/klauspost/compress/gzip"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/unetlab/unetlab/internal/atomicfile"
)

// WriteOptions controls Write. The zero value writes little-endian NIfTI-1
// float32 voxels without scaling, gzip level 6 for .gz.
type WriteOptions struct {
	// Datatype of the stored voxels; 0 means Float32. Integer types round
	// each (scaled) value to the nearest integer and fail on values out of
	// the type's range.
	Datatype Datatype
	// Version is 1 or 2; 0 means the version of v.Header, or 1 without one.
	Version int
	// BigEndian writes big-endian data and header.
	BigEndian bool
	// SclSlope and SclInter are stored in the header; the voxels are
	// written as (v - SclInter) / SclSlope so that a reader gets v back.
	// A zero SclSlope means no scaling.
	SclSlope, SclInter float64
	// GzipLevel is the compression level for .gz files (0 means 6).
	GzipLevel int
}

// Write writes v to path as NIfTI: gzip-compressed when path ends in
// ".gz". It starts from v.Header when present (keeping its description,
// units, intent and transform codes) and stores v.Affine as both the sform
// and the qform, v's shape as dim (4D when v has several channels). The
// file is written to a temporary name beside path, synced and renamed into
// place (mode 0644), so that a reader never sees a partial file.
// opt may be nil for the defaults.
func Write(path string, v *Volume, opt *WriteOptions) error {
	if opt == nil {
		opt = &WriteOptions{}
	}
	if err := v.Check(); err != nil {
		return fmt.Errorf("volume: writing %s: %w", path, err)
	}
	h, err := writeHeader(v, opt)
	if err != nil {
		return fmt.Errorf("volume: writing %s: %w", path, err)
	}
	err = atomicfile.Write(path, func(w io.Writer) error {
		if !strings.HasSuffix(path, ".gz") {
			return encode(w, h, v)
		}
		level := opt.GzipLevel
		if level == 0 {
			level = 6
		}
		zw, err := gzip.NewWriterLevel(w, level)
		if err != nil {
			return err
		}
		if err := encode(zw, h, v); err != nil {
			return err
		}
		return zw.Close()
	})
	if err != nil {
		return fmt.Errorf("volume: writing %s: %w", path, err)
	}
	return nil
}

// WriteTo writes v as an uncompressed NIfTI stream to w.
func WriteTo(w io.Writer, v *Volume, opt *WriteOptions) error {
	if opt == nil {
		opt = &WriteOptions{}
	}
	if err := v.Check(); err != nil {
		return err
	}
	h, err := writeHeader(v, opt)
	if err != nil {
		return err
	}
	return encode(w, h, v)
}

// writeHeader builds the header Write stores for v.
func writeHeader(v *Volume, opt *WriteOptions) (*Header, error) {
	h := &Header{}
	if v.Header != nil {
		*h = *v.Header
	}
	switch opt.Version {
	case 0: // the source's version, else 1
		if h.Version != 2 {
			h.Version = 1
		}
	case 1, 2:
		h.Version = opt.Version
	default:
		return nil, fmt.Errorf("%w: NIfTI version %d, want 1 or 2", ErrUnsupported, opt.Version)
	}
	h.ByteOrder = binary.LittleEndian
	if opt.BigEndian {
		h.ByteOrder = binary.BigEndian
	}
	dt := opt.Datatype
	if dt == 0 {
		dt = Float32
	}
	if dt.Size() == 0 {
		return nil, fmt.Errorf("%w: datatype %d", ErrUnsupported, dt)
	}
	h.Datatype, h.Bitpix = dt, int16(8*dt.Size())
	limit := int64(math.MaxInt16)
	if h.Version == 2 {
		limit = math.MaxInt64
	}
	for i, s := range v.Shape {
		if int64(s) > limit {
			return nil, fmt.Errorf("%w: dim[%d] %d does not fit NIfTI-1; use Version 2", ErrTooLarge, i+1, s)
		}
	}
	// Keep the source's dims beyond the third when they still describe the
	// channels (for example a time series); else one 4th dimension.
	keep := v.Header != nil && v.Header.Dim[0] >= 4 && v.Header.Channels() == v.Channels
	var dim [8]int64
	dim[1], dim[2], dim[3] = int64(v.Shape[0]), int64(v.Shape[1]), int64(v.Shape[2])
	switch {
	case keep:
		dim[0] = v.Header.Dim[0]
		copy(dim[4:], v.Header.Dim[4:])
	case v.Channels > 1:
		dim[0], dim[4] = 4, int64(v.Channels)
	default:
		dim[0] = 3
	}
	for i := int(dim[0]) + 1; i < 8; i++ {
		dim[i] = 1
	}
	if int64(v.Channels) > limit {
		return nil, fmt.Errorf("%w: %d channels do not fit NIfTI-1; use Version 2", ErrTooLarge, v.Channels)
	}
	h.Dim = dim
	h.SclSlope, h.SclInter = opt.SclSlope, opt.SclInter
	if opt.SclSlope == 0 {
		h.SclSlope, h.SclInter = 0, 0
		if h.Datatype != Float32 && h.Datatype != Float64 {
			h.SclSlope = 1 // explicit identity scaling
		}
	}
	h.CalMin, h.CalMax = 0, 0
	// The source's header extensions (CIFTI XML, comments, ...) go back
	// between the header and the voxels.
	h.Extensions = slices.Clone(h.Extensions)
	h.VoxOffset = sizeofHdr1 + 4 + h.ExtensionsSize()
	if h.Version == 2 {
		h.VoxOffset = sizeofHdr2 + 4 + h.ExtensionsSize()
	}
	// The affine is in mm: say so, keeping the time unit.
	h.XYZTUnits = h.XYZTUnits&^7 | 2
	scode, qcode := h.SformCode, h.QformCode
	if scode <= 0 {
		scode = XformAligned
	}
	if qcode <= 0 {
		qcode = XformAligned
	}
	h.SetSform(v.Affine, scode)
	h.SetQform(v.Affine, qcode)
	for i := 4; i < 8; i++ {
		if h.Pixdim[i] == 0 {
			h.Pixdim[i] = 1
		}
	}
	h.Magic = "n+1"
	if h.Version == 2 {
		h.Magic = "n+2"
	}
	return h, nil
}

// encode writes the header, the extension flag, the extensions and the
// voxels.
func encode(w io.Writer, h *Header, v *Volume) error {
	if _, err := w.Write(h.encode()); err != nil {
		return err
	}
	slope, inter, scaled := h.Scaling()
	size := h.Datatype.Size()
	const chunk = 1 << 16
	buf := make([]byte, chunk*size)
	tmp := make([]float64, chunk)
	le := h.ByteOrder != binary.BigEndian
	for pos := 0; pos < len(v.Data); pos += chunk {
		src := v.Data[pos:min(pos+chunk, len(v.Data))]
		vals := tmp[:len(src)]
		for i, f := range src {
			x := float64(f)
			if scaled {
				x = (x - inter) / slope
			}
			vals[i] = x
		}
		out := buf[:len(src)*size]
		if err := put(out, vals, h.Datatype, pos); err != nil {
			return err
		}
		if !le && size > 1 {
			swapBytes(out, size)
		}
		if _, err := w.Write(out); err != nil {
			return err
		}
	}
	return nil
}

// put stores vals little-endian as datatype dt; integers are rounded to the
// nearest and range-checked. base is the index of vals[0] for errors.
func put(out []byte, vals []float64, dt Datatype, base int) error {
	le := binary.LittleEndian
	lo, hi := intRange(dt)
	for i, x := range vals {
		if dt != Float32 && dt != Float64 {
			x = math.RoundToEven(x)
			if !(x >= lo && x <= hi) {
				return fmt.Errorf("%w: voxel %d: value %g does not fit %v (use SclSlope or a wider datatype)", ErrTooLarge, base+i, vals[i], dt)
			}
		}
		switch dt {
		case Uint8:
			out[i] = uint8(x)
		case Int8:
			out[i] = uint8(int8(x))
		case Int16:
			le.PutUint16(out[2*i:], uint16(int16(x)))
		case Uint16:
			le.PutUint16(out[2*i:], uint16(x))
		case Int32:
			le.PutUint32(out[4*i:], uint32(int32(x)))
		case Uint32:
			le.PutUint32(out[4*i:], uint32(x))
		case Int64:
			le.PutUint64(out[8*i:], uint64(int64(x)))
		case Uint64:
			le.PutUint64(out[8*i:], uint64(x))
		case Float32:
			le.PutUint32(out[4*i:], math.Float32bits(float32(x)))
		case Float64:
			le.PutUint64(out[8*i:], math.Float64bits(x))
		}
	}
	return nil
}

// intRange returns the representable range of an integer datatype as
// float64 (exclusive of values that would overflow on conversion).
func intRange(dt Datatype) (lo, hi float64) {
	switch dt {
	case Uint8:
		return 0, math.MaxUint8
	case Int8:
		return math.MinInt8, math.MaxInt8
	case Int16:
		return math.MinInt16, math.MaxInt16
	case Uint16:
		return 0, math.MaxUint16
	case Int32:
		return math.MinInt32, math.MaxInt32
	case Uint32:
		return 0, math.MaxUint32
	case Int64:
		return math.MinInt64, 0x1p63 - 1024
	case Uint64:
		return 0, 0x1p64 - 2048
	}
	return math.Inf(-1), math.Inf(1)
}
