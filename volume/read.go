package volume

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	gzip "github.com/klauspost/compress/gzip"
	"io"
	"math"
	"os"
)

// ReadHeader reads the NIfTI header of the .nii or .nii.gz file at path
// (gzip is recognised by its magic bytes, not by the name) without reading
// the voxels. It checks the header's fields but not that the data exist.
func ReadHeader(path string) (*Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("volume: %w", err)
	}
	defer f.Close()
	r, _, closeFn, err := openStream(f, path)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	return readHeader(r, path)
}

// Read reads the NIfTI-1 or NIfTI-2 file at path (.nii or .nii.gz, either
// byte order, any integer or float datatype) into a float32 volume,
// applying scl_slope and scl_inter. Dimensions beyond the third become
// channels. Spacing comes from pixdim (in mm), the affine from the sform
// or qform as Header.Affine chooses.
//
// A truncated file gives an error wrapping io.ErrUnexpectedEOF; a header
// whose sizes do not fit the file gives ErrTooLarge or
// io.ErrUnexpectedEOF before any large allocation; every error names the
// file and the field.
func Read(path string) (*Volume, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("volume: %w", err)
	}
	defer f.Close()
	r, avail, closeFn, err := openStream(f, path)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	h, err := readHeader(r, path)
	if err != nil {
		return nil, err
	}
	v, err := readData(r, h, path, avail)
	if err != nil {
		return nil, err
	}
	if err := drainGzip(r, path); err != nil {
		return nil, err
	}
	return v, nil
}

// drainGzip reads a gzip stream to its end so that its checksum is
// verified; plain readers are left alone.
func drainGzip(r io.Reader, name string) error {
	if _, ok := r.(*gzip.Reader); !ok {
		return nil
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("volume: %s: gzip stream after the data: %w", name, err)
	}
	return nil
}

// ReadFrom reads a NIfTI stream (plain or gzip) from r; name is used in
// errors. Without a file size to check against, the voxels are read in
// growing chunks, so a lying header costs no more memory than the data
// actually present.
func ReadFrom(r io.Reader, name string) (*Volume, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: gzip: %w", ErrFormat, name, err)
		}
		defer zr.Close()
		src = zr
	}
	h, err := readHeader(src, name)
	if err != nil {
		return nil, err
	}
	v, err := readData(src, h, name, -1)
	if err != nil {
		return nil, err
	}
	if err := drainGzip(src, name); err != nil {
		return nil, err
	}
	return v, nil
}

// openStream returns a reader over the (decompressed) NIfTI stream of f and
// the number of bytes it is expected to hold: the file size for plain
// files, the gzip trailer's ISIZE (mod 2^32) for gzip, -1 when unknown.
func openStream(f *os.File, path string) (io.Reader, int64, func(), error) {
	st, err := f.Stat()
	if err != nil {
		return nil, 0, nil, fmt.Errorf("volume: %w", err)
	}
	br := bufio.NewReaderSize(f, 1<<20)
	magic, _ := br.Peek(2)
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return br, st.Size(), func() {}, nil
	}
	avail := int64(-1)
	if st.Size() >= 18 {
		var tail [4]byte
		if _, err := f.ReadAt(tail[:], st.Size()-4); err == nil {
			// The trailer's ISIZE is the stream size mod 2^32, and it is
			// only a claim: readData trusts it for a stream under 4 GiB
			// that deflate could have produced from this many bytes
			// (deflate expands at most 1032:1).
			isize := int64(binary.LittleEndian.Uint32(tail[:]))
			if isize <= maxInflate*st.Size() {
				avail = isize | gzipHint
			}
		}
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, 0, nil, fmt.Errorf("volume: %s: gzip header: %w", path, err)
	}
	return zr, avail, func() { zr.Close() }, nil
}

const (
	// gzipHint flags an expected size taken from a gzip trailer.
	gzipHint = 1 << 62
	// maxInflate bounds deflate's expansion ratio.
	maxInflate = 1032
)

// chunkBytes is the size of the raw chunks decoded at a time.
const chunkBytes = 1 << 20

// readData reads the voxels that follow the header h in r. avail is the
// stream's total size when known (see openStream), -1 otherwise.
func readData(r io.Reader, h *Header, name string, avail int64) (*Volume, error) {
	hdrSize := int64(sizeofHdr1)
	if h.Version == 2 {
		hdrSize = sizeofHdr2
	}
	if skip := h.VoxOffset - hdrSize; skip > 0 {
		if avail >= 0 && avail&gzipHint == 0 && h.VoxOffset > avail {
			return nil, fmt.Errorf("volume: %s: vox_offset %d beyond the file's %d bytes: %w", name, h.VoxOffset, avail, io.ErrUnexpectedEOF)
		}
		if err := readExtensions(r, h, name, hdrSize, skip); err != nil {
			return nil, err
		}
	}
	nvox := h.NumVoxels()
	size := int64(h.Datatype.Size())
	need := h.VoxOffset + nvox*size
	trusted := false
	switch {
	case avail < 0:
	case avail&gzipHint != 0: // gzip ISIZE
		trusted = need < 1<<32 && need == avail&^gzipHint
	default:
		if need > avail {
			return nil, fmt.Errorf("volume: %s: data: dim %v of %v need %d bytes, the file has %d: %w",
				name, h.Dim[1:h.Dim[0]+1], h.Datatype, need, avail, io.ErrUnexpectedEOF)
		}
		trusted = true
	}
	var out []float32
	if trusted {
		out = make([]float32, nvox)
	} else {
		out = make([]float32, 0, min(nvox, chunkBytes))
	}
	slope, inter, scaled := h.Scaling()
	conv := converter(h.Datatype, h.ByteOrder)
	chunks := readChunks(r, nvox*size, int(size))
	var pos int64
	for pos < nvox {
		c, ok := <-chunks
		if !ok {
			break
		}
		if c.err != nil {
			return nil, truncated(name, fmt.Sprintf("data (voxel %d of %d, dim %v)", pos+int64(c.n)/size, nvox, h.Dim[1:h.Dim[0]+1]), c.err)
		}
		k := int64(c.n) / size
		if !trusted {
			out = append(out, make([]float32, k)...)
		}
		dst := out[pos : pos+k]
		conv(dst, c.buf[:c.n])
		if scaled {
			scale(dst, slope, inter)
		}
		pos += k
		c.release()
	}
	v := &Volume{
		Data:     out,
		Shape:    h.Shape(),
		Channels: h.Channels(),
		Spacing:  h.Spacing(),
		Affine:   h.Affine(),
		Header:   h,
	}
	return v, nil
}

// readExtensions reads the skip bytes between the header (hdrSize bytes)
// and the voxels: the 4-byte extension flag and, when its first byte is
// not 0, the extensions into h.Extensions. Bytes left after the last
// extension (fewer than 8, or after a zero esize's end marker) are
// skipped. An extension that does not fit before vox_offset is ErrFormat.
func readExtensions(r io.Reader, h *Header, name string, hdrSize, skip int64) error {
	pos := hdrSize // file offset, for errors
	short := func(what string, err error) error {
		return truncated(name, fmt.Sprintf("%s (vox_offset %d, at byte %d)", what, h.VoxOffset, pos), err)
	}
	h.Extensions = nil
	if skip < 4 {
		if _, err := io.CopyN(io.Discard, r, skip); err != nil {
			return short("extension flag", err)
		}
		return nil
	}
	var flag [4]byte
	if _, err := io.ReadFull(r, flag[:]); err != nil {
		return short("extension flag", err)
	}
	pos += 4
	o := h.ByteOrder
	for flag[0] != 0 && h.VoxOffset-pos >= 8 {
		var head [8]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return short("extension header", err)
		}
		esize, code := int64(int32(o.Uint32(head[0:]))), int32(o.Uint32(head[4:]))
		if esize < 8 || esize > h.VoxOffset-pos {
			return headerError(name, fmt.Sprintf("extension %d", len(h.Extensions)+1),
				"esize %d at byte %d (ecode %d): want 8 to %d, the bytes left before vox_offset %d",
				esize, pos, code, h.VoxOffset-pos, h.VoxOffset)
		}
		// Read as the bytes arrive (a gzipped file's vox_offset is not
		// checked against its size: a corrupt esize must not allocate
		// up to 2 GiB before the read fails).
		var buf bytes.Buffer
		if n, err := io.CopyN(&buf, r, esize-8); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return short(fmt.Sprintf("extension %d data (%d of %d bytes)", len(h.Extensions)+1, n, esize-8), err)
		}
		data := buf.Bytes()
		h.Extensions = append(h.Extensions, Extension{Code: code, Data: data})
		pos += esize
	}
	if rest := h.VoxOffset - pos; rest > 0 {
		if _, err := io.CopyN(io.Discard, r, rest); err != nil {
			return short("bytes before the voxels", err)
		}
	}
	return nil
}

// chunk is a block of raw voxel bytes read ahead.
type chunk struct {
	buf     []byte
	n       int
	err     error
	release func() // hands buf back to the reader
}

// readChunks reads total bytes from r in chunks of about chunkBytes (a
// multiple of size) in a goroutine, so that decompression overlaps the
// conversion of the previous chunk; three buffers circulate. The channel
// closes after the last chunk or after a chunk carrying an error. The
// consumer must release every chunk it receives; the reader stops touching
// r before it sends the final chunk.
func readChunks(r io.Reader, total int64, size int) <-chan chunk {
	out := make(chan chunk, 2)
	step := int64(chunkBytes - chunkBytes%size)
	nbuf := 3
	if total <= 2*step {
		nbuf = 1
	}
	free := make(chan []byte, nbuf)
	for i := 0; i < nbuf; i++ {
		free <- make([]byte, min(step, max(total, 1)))
	}
	go func() {
		defer close(out)
		for done := int64(0); done < total; {
			buf := <-free
			want := min(int64(len(buf)), total-done)
			n, err := io.ReadFull(r, buf[:want])
			out <- chunk{buf: buf, n: n, err: err, release: func() { free <- buf }}
			if err != nil {
				return
			}
			done += want
		}
	}()
	return out
}

// scale applies v*slope+inter in float64, as nibabel does, then rounds.
func scale(dst []float32, slope, inter float64) {
	for i, f := range dst {
		dst[i] = float32(float64(f)*slope + inter)
	}
}

// converter returns the function decoding raw voxels of datatype dt in
// byte order o into float32. Big-endian chunks are byte-swapped in place
// first, so every loop below is a plain little-endian load: no interface
// call per voxel. dt must be valid (Header.validate).
func converter(dt Datatype, o binary.ByteOrder) func(dst []float32, src []byte) {
	dec := decoderLE(dt)
	if o != binary.BigEndian || dt.Size() == 1 {
		return dec
	}
	size := dt.Size()
	return func(dst []float32, src []byte) {
		swapBytes(src[:size*len(dst)], size)
		dec(dst, src)
	}
}

// swapBytes reverses the byte order of each size-byte word of b in place.
func swapBytes(b []byte, size int) {
	switch size {
	case 2:
		for i := 0; i+1 < len(b); i += 2 {
			b[i], b[i+1] = b[i+1], b[i]
		}
	case 4:
		for i := 0; i+3 < len(b); i += 4 {
			binary.LittleEndian.PutUint32(b[i:], binary.BigEndian.Uint32(b[i:]))
		}
	case 8:
		for i := 0; i+7 < len(b); i += 8 {
			binary.LittleEndian.PutUint64(b[i:], binary.BigEndian.Uint64(b[i:]))
		}
	}
}

func decoderLE(dt Datatype) func(dst []float32, src []byte) {
	le := binary.LittleEndian
	switch dt {
	case Uint8:
		return func(dst []float32, src []byte) {
			src = src[:len(dst)]
			for i, b := range src {
				dst[i] = float32(b)
			}
		}
	case Int8:
		return func(dst []float32, src []byte) {
			src = src[:len(dst)]
			for i, b := range src {
				dst[i] = float32(int8(b))
			}
		}
	case Int16:
		return func(dst []float32, src []byte) {
			src = src[:2*len(dst)]
			for i := range dst {
				dst[i] = float32(int16(le.Uint16(src[2*i:])))
			}
		}
	case Uint16:
		return func(dst []float32, src []byte) {
			src = src[:2*len(dst)]
			for i := range dst {
				dst[i] = float32(le.Uint16(src[2*i:]))
			}
		}
	case Int32:
		return func(dst []float32, src []byte) {
			src = src[:4*len(dst)]
			for i := range dst {
				dst[i] = float32(int32(le.Uint32(src[4*i:])))
			}
		}
	case Uint32:
		return func(dst []float32, src []byte) {
			src = src[:4*len(dst)]
			for i := range dst {
				dst[i] = float32(le.Uint32(src[4*i:]))
			}
		}
	case Int64:
		return func(dst []float32, src []byte) {
			src = src[:8*len(dst)]
			for i := range dst {
				dst[i] = float32(float64(int64(le.Uint64(src[8*i:]))))
			}
		}
	case Uint64:
		return func(dst []float32, src []byte) {
			src = src[:8*len(dst)]
			for i := range dst {
				dst[i] = float32(float64(le.Uint64(src[8*i:])))
			}
		}
	case Float32:
		return func(dst []float32, src []byte) {
			src = src[:4*len(dst)]
			for i := range dst {
				dst[i] = math.Float32frombits(le.Uint32(src[4*i:]))
			}
		}
	case Float64:
		return func(dst []float32, src []byte) {
			src = src[:8*len(dst)]
			for i := range dst {
				dst[i] = float32(math.Float64frombits(le.Uint64(src[8*i:])))
			}
		}
	}
	panic("volume: converter: unchecked datatype " + dt.String())
}
