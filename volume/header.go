package volume

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// Errors returned by the NIfTI reader and writer. They are wrapped with the
// file name and the field at fault; test them with errors.Is.
var (
	// ErrFormat reports a file that is not valid NIfTI-1 or NIfTI-2.
	ErrFormat = errors.New("volume: invalid NIfTI")
	// ErrUnsupported reports valid NIfTI that this package does not handle
	// (complex or RGB datatypes, two-file .hdr/.img pairs).
	ErrUnsupported = errors.New("volume: unsupported NIfTI")
	// ErrTooLarge reports a header whose dimensions exceed MaxVoxels or the
	// data actually present in the file, a value that does not fit the
	// datatype being written, or a resize or one-hot target of more than
	// MaxVoxels voxels.
	ErrTooLarge = errors.New("volume: NIfTI data too large")
	// ErrShape reports volumes or arguments whose shapes do not agree.
	ErrShape = errors.New("volume: shape mismatch")
)

// MaxVoxels bounds the number of voxels (all channels together) that Read
// accepts before allocating: 2^31, 8 GiB of float32.
const MaxVoxels = 1 << 31

// Datatype is the NIfTI datatype code of the stored voxels.
type Datatype int16

// The NIfTI datatypes this package reads and writes.
const (
	Uint8   Datatype = 2
	Int16   Datatype = 4
	Int32   Datatype = 8
	Float32 Datatype = 16
	Float64 Datatype = 64
	Int8    Datatype = 256
	Uint16  Datatype = 512
	Uint32  Datatype = 768
	Int64   Datatype = 1024
	Uint64  Datatype = 1280
)

// Size returns the bytes per voxel of d, or 0 for a datatype this package
// does not handle.
func (d Datatype) Size() int {
	switch d {
	case Uint8, Int8:
		return 1
	case Int16, Uint16:
		return 2
	case Int32, Uint32, Float32:
		return 4
	case Int64, Uint64, Float64:
		return 8
	}
	return 0
}

// String returns the NumPy-style name of d ("int16", "float32", ...).
func (d Datatype) String() string {
	switch d {
	case Uint8:
		return "uint8"
	case Int8:
		return "int8"
	case Int16:
		return "int16"
	case Uint16:
		return "uint16"
	case Int32:
		return "int32"
	case Uint32:
		return "uint32"
	case Int64:
		return "int64"
	case Uint64:
		return "uint64"
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	}
	return fmt.Sprintf("datatype(%d)", int16(d))
}

// Transform codes for QformCode and SformCode.
const (
	XformUnknown   = 0 // arbitrary coordinates (method 1: pixdim only)
	XformScanner   = 1 // scanner-based anatomical coordinates
	XformAligned   = 2 // coordinates aligned to another file or an anatomical truth
	XformTalairach = 3 // Talairach-Tournoux atlas coordinates
	XformMNI152    = 4 // MNI 152 normalised coordinates
)

// Header is a NIfTI-1 or NIfTI-2 header, version-independent: every field is
// held in the widest type either version uses. The unused Analyze fields of
// NIfTI-1 (data_type, db_name, extents, session_error, regular, glmax,
// glmin) are dropped.
type Header struct {
	Version   int              // 1 (348-byte header) or 2 (540-byte header)
	ByteOrder binary.ByteOrder // binary.LittleEndian or binary.BigEndian
	DimInfo   uint8
	// Dim[0] is the number of dimensions (1..7); Dim[1..3] are X, Y, Z in
	// voxels; Dim[4] is time or, in the Decathlon, the modality.
	Dim        [8]int64
	IntentP1   float64
	IntentP2   float64
	IntentP3   float64
	IntentCode int32
	Datatype   Datatype
	Bitpix     int16
	SliceStart int64
	// Pixdim[1..3] are the voxel sizes along X, Y, Z in XYZTUnits (mm
	// usually); Pixdim[0] is qfac, the sign of the qform's third axis.
	Pixdim        [8]float64
	VoxOffset     int64 // byte offset of the voxel data in a .nii file
	SclSlope      float64
	SclInter      float64
	SliceEnd      int64
	SliceCode     int32
	XYZTUnits     int32
	CalMax        float64
	CalMin        float64
	SliceDuration float64
	Toffset       float64
	Descrip       string // at most 79 bytes
	AuxFile       string // at most 23 bytes
	QformCode     int32
	SformCode     int32
	QuaternB      float64
	QuaternC      float64
	QuaternD      float64
	QoffsetX      float64
	QoffsetY      float64
	QoffsetZ      float64
	SrowX         [4]float64
	SrowY         [4]float64
	SrowZ         [4]float64
	IntentName    string // at most 15 bytes
	Magic         string // "n+1", "ni1", "n+2" or "ni2"
	// Extensions are the header extensions between the header and the
	// voxels, in file order (nil when the extension flag is 0). Read
	// keeps them and Write writes them back, so that a CIFTI file (its
	// XML is extension ExtCIFTI) stays one.
	Extensions []Extension
}

// Extension is one NIfTI header extension: esize (8 + len(Data), a
// multiple of 16), ecode, then Data.
type Extension struct {
	// Code is the ecode, from the registry of NIfTI extension codes
	// (ExtComment, ExtAFNI, ExtCIFTI, ...).
	Code int32
	// Data is the content (edata). As read it holds all esize-8 bytes,
	// the writer's zero padding included; Write pads it with zeros to a
	// multiple of 16 bytes (with the 8-byte esize and ecode).
	Data []byte
}

// NIfTI extension codes (ecode) of the registry most often met.
const (
	ExtDICOM   int32 = 2  // DICOM attributes
	ExtAFNI    int32 = 4  // AFNI attributes, XML
	ExtComment int32 = 6  // plain ASCII text
	ExtXCEDE   int32 = 8  // XCEDE metadata
	ExtMIND    int32 = 18 // MIND diffusion data
	ExtCIFTI   int32 = 32 // CIFTI-2 XML header (NIfTI-2 files)
)

// extensionBytes is the on-disk size of e (esize): 8 + len(Data) rounded
// up to a multiple of 16.
func extensionBytes(e Extension) int64 { return (8 + int64(len(e.Data)) + 15) / 16 * 16 }

// ExtensionsSize returns the bytes the extensions take after the 4-byte
// extension flag (the sum of their esize).
func (h *Header) ExtensionsSize() int64 {
	var n int64
	for _, e := range h.Extensions {
		n += extensionBytes(e)
	}
	return n
}

// Shape returns the number of voxels along X, Y and Z (1 for absent axes).
func (h *Header) Shape() [3]int {
	s := [3]int{1, 1, 1}
	for i := 0; i < 3 && i < int(h.Dim[0]); i++ {
		s[i] = int(h.Dim[i+1])
	}
	return s
}

// Channels returns the product of the dimensions beyond the third (Dim[4]
// to Dim[7]): the modalities of a 4D Decathlon image, 1 for a 3D volume.
func (h *Header) Channels() int {
	c := 1
	for i := 4; i <= int(h.Dim[0]) && i <= 7; i++ {
		c *= int(h.Dim[i])
	}
	return c
}

// NumVoxels returns the number of stored voxels, all channels together.
func (h *Header) NumVoxels() int64 {
	n := int64(1)
	for i := 1; i <= int(h.Dim[0]) && i <= 7; i++ {
		n *= h.Dim[i]
	}
	return n
}

// Spacing returns the voxel sizes along X, Y and Z in millimetres
// (Pixdim[1..3] converted from XYZTUnits; absolute values).
func (h *Header) Spacing() [3]float64 {
	f := h.unitToMM()
	var s [3]float64
	for i := range s {
		p := math.Abs(h.Pixdim[i+1])
		if p == 0 || math.IsNaN(p) || math.IsInf(p, 0) {
			p = 1
		}
		s[i] = p * f
	}
	return s
}

// unitToMM returns the factor from the header's spatial unit to mm; an
// unknown unit is taken as mm.
func (h *Header) unitToMM() float64 {
	switch h.XYZTUnits & 7 {
	case 1: // metres
		return 1000
	case 3: // micrometres
		return 0.001
	}
	return 1
}

// Scaling returns the slope and intercept to apply to stored values and
// whether they apply: a slope of 0 or a non-finite slope or intercept means
// no scaling, as nibabel reads it.
func (h *Header) Scaling() (slope, inter float64, ok bool) {
	s, b := h.SclSlope, h.SclInter
	if s == 0 || math.IsNaN(s) || math.IsInf(s, 0) {
		return 1, 0, false
	}
	if math.IsNaN(b) || math.IsInf(b, 0) {
		b = 0
	}
	if s == 1 && b == 0 {
		return 1, 0, false
	}
	return s, b, true
}

const (
	sizeofHdr1 = 348
	sizeofHdr2 = 540
)

// headerError builds an ErrFormat error naming the file and the field.
func headerError(name, field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s %s", ErrFormat, name, field, fmt.Sprintf(format, args...))
}

// readHeader reads and validates a NIfTI-1 or NIfTI-2 header from r; name
// is used in errors. It consumes exactly 348 or 540 bytes.
func readHeader(r io.Reader, name string) (*Header, error) {
	var buf [sizeofHdr2]byte
	if _, err := io.ReadFull(r, buf[:4]); err != nil {
		return nil, truncated(name, "sizeof_hdr", err)
	}
	var order binary.ByteOrder
	size := binary.LittleEndian.Uint32(buf[:4])
	switch {
	case size == sizeofHdr1 || size == sizeofHdr2:
		order = binary.LittleEndian
	case bswap32(size) == sizeofHdr1 || bswap32(size) == sizeofHdr2:
		order = binary.BigEndian
		size = bswap32(size)
	default:
		if buf[0] == 0x1f && buf[1] == 0x8b {
			return nil, headerError(name, "sizeof_hdr", "is a gzip magic: compressed data in a file read as plain")
		}
		return nil, headerError(name, "sizeof_hdr", "%d, want 348 (NIfTI-1) or 540 (NIfTI-2)", int32(binary.LittleEndian.Uint32(buf[:4])))
	}
	if _, err := io.ReadFull(r, buf[4:size]); err != nil {
		return nil, truncated(name, "header", err)
	}
	var h *Header
	if size == sizeofHdr1 {
		h = decode1(buf[:sizeofHdr1], order)
	} else {
		h = decode2(buf[:sizeofHdr2], order)
	}
	if err := h.validate(name); err != nil {
		return nil, err
	}
	return h, nil
}

// truncated wraps a short read as io.ErrUnexpectedEOF naming the field.
func truncated(name, field string, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("volume: %s: reading %s: %w", name, field, err)
}

func bswap32(x uint32) uint32 {
	return x>>24 | x>>8&0xff00 | x<<8&0xff0000 | x<<24
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func decode1(b []byte, o binary.ByteOrder) *Header {
	f32 := func(off int) float64 { return float64(math.Float32frombits(o.Uint32(b[off:]))) }
	i16 := func(off int) int64 { return int64(int16(o.Uint16(b[off:]))) }
	h := &Header{Version: 1, ByteOrder: o}
	h.DimInfo = b[39]
	for i := range h.Dim {
		h.Dim[i] = i16(40 + 2*i)
	}
	h.IntentP1, h.IntentP2, h.IntentP3 = f32(56), f32(60), f32(64)
	h.IntentCode = int32(i16(68))
	h.Datatype = Datatype(i16(70))
	h.Bitpix = int16(i16(72))
	h.SliceStart = i16(74)
	for i := range h.Pixdim {
		h.Pixdim[i] = f32(76 + 4*i)
	}
	h.VoxOffset = int64(f32(108))
	if v := f32(108); v != math.Trunc(v) || math.IsNaN(v) {
		h.VoxOffset = -1 // caught by validate
	}
	h.SclSlope, h.SclInter = f32(112), f32(116)
	h.SliceEnd = i16(120)
	h.SliceCode = int32(b[122])
	h.XYZTUnits = int32(b[123])
	h.CalMax, h.CalMin = f32(124), f32(128)
	h.SliceDuration, h.Toffset = f32(132), f32(136)
	h.Descrip = cstring(b[148:228])
	h.AuxFile = cstring(b[228:252])
	h.QformCode, h.SformCode = int32(i16(252)), int32(i16(254))
	h.QuaternB, h.QuaternC, h.QuaternD = f32(256), f32(260), f32(264)
	h.QoffsetX, h.QoffsetY, h.QoffsetZ = f32(268), f32(272), f32(276)
	for i := 0; i < 4; i++ {
		h.SrowX[i] = f32(280 + 4*i)
		h.SrowY[i] = f32(296 + 4*i)
		h.SrowZ[i] = f32(312 + 4*i)
	}
	h.IntentName = cstring(b[328:344])
	h.Magic = cstring(b[344:348])
	return h
}

func decode2(b []byte, o binary.ByteOrder) *Header {
	f64 := func(off int) float64 { return math.Float64frombits(o.Uint64(b[off:])) }
	i64 := func(off int) int64 { return int64(o.Uint64(b[off:])) }
	i32 := func(off int) int32 { return int32(o.Uint32(b[off:])) }
	h := &Header{Version: 2, ByteOrder: o}
	h.Magic = cstring(b[4:12])
	h.Datatype = Datatype(int16(o.Uint16(b[12:])))
	h.Bitpix = int16(o.Uint16(b[14:]))
	for i := range h.Dim {
		h.Dim[i] = i64(16 + 8*i)
	}
	h.IntentP1, h.IntentP2, h.IntentP3 = f64(80), f64(88), f64(96)
	for i := range h.Pixdim {
		h.Pixdim[i] = f64(104 + 8*i)
	}
	h.VoxOffset = i64(168)
	h.SclSlope, h.SclInter = f64(176), f64(184)
	h.CalMax, h.CalMin = f64(192), f64(200)
	h.SliceDuration, h.Toffset = f64(208), f64(216)
	h.SliceStart, h.SliceEnd = i64(224), i64(232)
	h.Descrip = cstring(b[240:320])
	h.AuxFile = cstring(b[320:344])
	h.QformCode, h.SformCode = i32(344), i32(348)
	h.QuaternB, h.QuaternC, h.QuaternD = f64(352), f64(360), f64(368)
	h.QoffsetX, h.QoffsetY, h.QoffsetZ = f64(376), f64(384), f64(392)
	for i := 0; i < 4; i++ {
		h.SrowX[i] = f64(400 + 8*i)
		h.SrowY[i] = f64(432 + 8*i)
		h.SrowZ[i] = f64(464 + 8*i)
	}
	h.SliceCode = i32(496)
	h.XYZTUnits = i32(500)
	h.IntentCode = i32(504)
	h.IntentName = cstring(b[508:524])
	h.DimInfo = b[524]
	return h
}

// validate checks the fields Read relies on.
func (h *Header) validate(name string) error {
	switch {
	case h.Version == 1 && (h.Magic == "n+1" || h.Magic == "ni1"):
	case h.Version == 2 && (h.Magic == "n+2\x00\r\n\x1a\n" || strings.HasPrefix(h.Magic, "n+2") || strings.HasPrefix(h.Magic, "ni2")):
		h.Magic = h.Magic[:3]
	default:
		return headerError(name, "magic", "%q, want \"n+%d\"", h.Magic, h.Version)
	}
	if h.Dim[0] < 1 || h.Dim[0] > 7 {
		return headerError(name, "dim[0]", "%d, want 1..7", h.Dim[0])
	}
	n := int64(1)
	for i := 1; i <= int(h.Dim[0]); i++ {
		d := h.Dim[i]
		if d < 1 {
			return headerError(name, fmt.Sprintf("dim[%d]", i), "%d, want >= 1", d)
		}
		if d > MaxVoxels || n > MaxVoxels/d {
			return fmt.Errorf("%w: %s: dim %v: more than %d voxels", ErrTooLarge, name, h.Dim[1:h.Dim[0]+1], int64(MaxVoxels))
		}
		n *= d
	}
	sz := h.Datatype.Size()
	if sz == 0 {
		switch h.Datatype {
		case 1, 32, 128, 1536, 1792, 2048, 2304:
			return fmt.Errorf("%w: %s: datatype %d (binary, complex or RGB)", ErrUnsupported, name, h.Datatype)
		}
		return headerError(name, "datatype", "%d is not a NIfTI datatype", h.Datatype)
	}
	if int(h.Bitpix) != 8*sz {
		return headerError(name, "bitpix", "%d, want %d for %v", h.Bitpix, 8*sz, h.Datatype)
	}
	if h.Magic[1] == 'i' {
		return fmt.Errorf("%w: %s: magic %q: two-file .hdr/.img NIfTI", ErrUnsupported, name, h.Magic)
	}
	minOff := int64(sizeofHdr1 + 4)
	if h.Version == 2 {
		minOff = sizeofHdr2 + 4
	}
	if h.VoxOffset < minOff || h.VoxOffset > 1<<30 {
		return headerError(name, "vox_offset", "%d, want %d..%d", h.VoxOffset, minOff, 1<<30)
	}
	return nil
}

// encode returns the header as bytes in h.ByteOrder for h.Version (1 or 2),
// followed by the 4-byte extension flag and the extensions, each padded
// with zeros to its esize.
func (h *Header) encode() []byte {
	b := h.encodeFixed()
	if len(h.Extensions) == 0 {
		return b
	}
	o := h.ByteOrder
	if o == nil {
		o = binary.LittleEndian
	}
	b[len(b)-4] = 1
	for _, e := range h.Extensions {
		n := extensionBytes(e)
		blk := make([]byte, n)
		o.PutUint32(blk[0:], uint32(n))
		o.PutUint32(blk[4:], uint32(e.Code))
		copy(blk[8:], e.Data)
		b = append(b, blk...)
	}
	return b
}

// encodeFixed returns the header and the 4-byte extension flag (0).
func (h *Header) encodeFixed() []byte {
	o := h.ByteOrder
	if o == nil {
		o = binary.LittleEndian
	}
	if h.Version == 2 {
		b := make([]byte, sizeofHdr2+4)
		p64 := func(off int, v float64) { o.PutUint64(b[off:], math.Float64bits(v)) }
		o.PutUint32(b[0:], sizeofHdr2)
		copy(b[4:12], "n+2\x00\r\n\x1a\n")
		o.PutUint16(b[12:], uint16(h.Datatype))
		o.PutUint16(b[14:], uint16(h.Bitpix))
		for i, d := range h.Dim {
			o.PutUint64(b[16+8*i:], uint64(d))
		}
		p64(80, h.IntentP1)
		p64(88, h.IntentP2)
		p64(96, h.IntentP3)
		for i, p := range h.Pixdim {
			p64(104+8*i, p)
		}
		o.PutUint64(b[168:], uint64(h.VoxOffset))
		p64(176, h.SclSlope)
		p64(184, h.SclInter)
		p64(192, h.CalMax)
		p64(200, h.CalMin)
		p64(208, h.SliceDuration)
		p64(216, h.Toffset)
		o.PutUint64(b[224:], uint64(h.SliceStart))
		o.PutUint64(b[232:], uint64(h.SliceEnd))
		putString(b[240:320], h.Descrip)
		putString(b[320:344], h.AuxFile)
		o.PutUint32(b[344:], uint32(h.QformCode))
		o.PutUint32(b[348:], uint32(h.SformCode))
		p64(352, h.QuaternB)
		p64(360, h.QuaternC)
		p64(368, h.QuaternD)
		p64(376, h.QoffsetX)
		p64(384, h.QoffsetY)
		p64(392, h.QoffsetZ)
		for i := 0; i < 4; i++ {
			p64(400+8*i, h.SrowX[i])
			p64(432+8*i, h.SrowY[i])
			p64(464+8*i, h.SrowZ[i])
		}
		o.PutUint32(b[496:], uint32(h.SliceCode))
		o.PutUint32(b[500:], uint32(h.XYZTUnits))
		o.PutUint32(b[504:], uint32(h.IntentCode))
		putString(b[508:524], h.IntentName)
		b[524] = h.DimInfo
		return b
	}
	b := make([]byte, sizeofHdr1+4)
	p32 := func(off int, v float64) { o.PutUint32(b[off:], math.Float32bits(float32(v))) }
	p16 := func(off int, v int64) { o.PutUint16(b[off:], uint16(int16(v))) }
	o.PutUint32(b[0:], sizeofHdr1)
	b[38] = 'r'
	b[39] = h.DimInfo
	for i, d := range h.Dim {
		p16(40+2*i, d)
	}
	p32(56, h.IntentP1)
	p32(60, h.IntentP2)
	p32(64, h.IntentP3)
	p16(68, int64(h.IntentCode))
	p16(70, int64(h.Datatype))
	p16(72, int64(h.Bitpix))
	p16(74, h.SliceStart)
	for i, p := range h.Pixdim {
		p32(76+4*i, p)
	}
	p32(108, float64(h.VoxOffset))
	p32(112, h.SclSlope)
	p32(116, h.SclInter)
	p16(120, h.SliceEnd)
	b[122] = byte(h.SliceCode)
	b[123] = byte(h.XYZTUnits)
	p32(124, h.CalMax)
	p32(128, h.CalMin)
	p32(132, h.SliceDuration)
	p32(136, h.Toffset)
	putString(b[148:228], h.Descrip)
	putString(b[228:252], h.AuxFile)
	p16(252, int64(h.QformCode))
	p16(254, int64(h.SformCode))
	p32(256, h.QuaternB)
	p32(260, h.QuaternC)
	p32(264, h.QuaternD)
	p32(268, h.QoffsetX)
	p32(272, h.QoffsetY)
	p32(276, h.QoffsetZ)
	for i := 0; i < 4; i++ {
		p32(280+4*i, h.SrowX[i])
		p32(296+4*i, h.SrowY[i])
		p32(312+4*i, h.SrowZ[i])
	}
	putString(b[328:344], h.IntentName)
	copy(b[344:348], "n+1\x00")
	return b
}

// putString copies s into the fixed field b, always leaving a final NUL.
func putString(b []byte, s string) {
	if len(s) > len(b)-1 {
		s = s[:len(b)-1]
	}
	copy(b, s)
}
