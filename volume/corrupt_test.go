package volume

import (
	"bytes"
	"encoding/binary"
	"errors"
	gzip "github.com/klauspost/compress/gzip"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// validNIfTI returns an uncompressed little-endian NIfTI-1 int16 file of
// shape 8x6x4.
func validNIfTI(t testing.TB) []byte {
	t.Helper()
	v := testVolume([3]int{8, 6, 4}, 1, -100, 100)
	var b bytes.Buffer
	if err := WriteTo(&b, v, &WriteOptions{Datatype: Int16}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func put16(b []byte, off int, v int16) []byte {
	b = append([]byte(nil), b...)
	binary.LittleEndian.PutUint16(b[off:], uint16(v))
	return b
}

func TestCorruptFiles(t *testing.T) {
	good := validNIfTI(t)
	withDims := func(d ...int16) []byte {
		b := append([]byte(nil), good...)
		for i, x := range d {
			binary.LittleEndian.PutUint16(b[40+2*i:], uint16(x))
		}
		return b
	}
	voxOff := func(f float32) []byte {
		b := append([]byte(nil), good...)
		binary.LittleEndian.PutUint32(b[108:], math.Float32bits(f))
		return b
	}
	magic := func(m string) []byte {
		b := append([]byte(nil), good...)
		copy(b[344:348], m)
		return b
	}
	forged := gz(withDims(3, 1000, 1000, 1000))
	binary.LittleEndian.PutUint32(forged[len(forged)-4:], uint32(352+2*1000*1000*1000)) // ISIZE claims it all
	badCRC := gz(good)
	badCRC[len(badCRC)-6] ^= 0xff
	cases := []struct {
		name   string
		data   []byte
		target error  // errors.Is target
		field  string // must appear in the message
	}{
		{"empty.nii", nil, io.ErrUnexpectedEOF, "sizeof_hdr"},
		{"short_header.nii", good[:100], io.ErrUnexpectedEOF, "header"},
		{"sizeof_hdr.nii", put16(good, 0, 347), ErrFormat, "sizeof_hdr"},
		{"magic.nii", magic("xyz\x00"), ErrFormat, "magic"},
		{"two_file.nii", magic("ni1\x00"), ErrUnsupported, "magic"},
		{"dim0_zero.nii", withDims(0), ErrFormat, "dim[0]"},
		{"dim0_nine.nii", withDims(9), ErrFormat, "dim[0]"},
		{"dim_negative.nii", withDims(3, 8, -6, 4), ErrFormat, "dim[2]"},
		{"dim_zero.nii", withDims(3, 8, 6, 0), ErrFormat, "dim[3]"},
		{"absurd_dims.nii", withDims(7, 32767, 32767, 32767, 32767, 32767, 32767, 32767), ErrTooLarge, "dim"},
		{"lying_dims.nii", withDims(3, 1000, 1000, 1000), io.ErrUnexpectedEOF, "data"},
		{"lying_dims.nii.gz", gz(withDims(3, 1000, 1000, 1000)), io.ErrUnexpectedEOF, "data"},
		{"datatype.nii", put16(good, 70, 3), ErrFormat, "datatype"},
		{"complex.nii", put16(put16(good, 70, 32), 72, 64), ErrUnsupported, "datatype"},
		{"bitpix.nii", put16(good, 72, 8), ErrFormat, "bitpix"},
		{"vox_offset_small.nii", voxOff(100), ErrFormat, "vox_offset"},
		{"vox_offset_frac.nii", voxOff(352.5), ErrFormat, "vox_offset"},
		{"vox_offset_past_end.nii", voxOff(1 << 20), io.ErrUnexpectedEOF, "vox_offset"},
		{"forged_isize.nii.gz", forged, gzip.ErrChecksum, "data"}, // and no 8 GB allocation
		{"truncated_data.nii", good[:len(good)-10], io.ErrUnexpectedEOF, "data"},
		{"truncated.nii.gz", gz(good)[:len(gz(good))/2], io.ErrUnexpectedEOF, ""},
		{"gzip_header.nii.gz", []byte{0x1f, 0x8b, 8}, io.ErrUnexpectedEOF, "gzip"},
		{"bad_crc.nii.gz", badCRC, gzip.ErrChecksum, ""},
		{"plain_gzip_name.nii", gz(good), nil, ""}, // gzip recognised by its magic: reads fine
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name)
			if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			_, err := Read(path)
			runtime.ReadMemStats(&ms1)
			if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 64<<20 {
				t.Errorf("allocated %d MiB for a %d-byte file", alloc>>20, len(c.data))
			}
			if c.target == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, c.target) {
				t.Errorf("error %q is not %v", err, c.target)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.field) {
				t.Errorf("error %q does not name the file and %q", err, c.field)
			}
			// ReadFrom (no size known) must fail the same way.
			if _, err := ReadFrom(bytes.NewReader(c.data), c.name); err == nil {
				t.Errorf("ReadFrom: no error")
			}
		})
	}
}

func TestReadHeaderOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.nii.gz")
	// Header says 1000^3 voxels: ReadHeader must not care about the data.
	b := validNIfTI(t)
	for i, x := range []int16{3, 1000, 1000, 1000} {
		binary.LittleEndian.PutUint16(b[40+2*i:], uint16(x))
	}
	if err := os.WriteFile(path, gz(b), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := ReadHeader(path)
	if err != nil {
		t.Fatal(err)
	}
	if h.Shape() != [3]int{1000, 1000, 1000} || h.Datatype != Int16 {
		t.Errorf("header shape %v %v", h.Shape(), h.Datatype)
	}
}

func FuzzReadHeader(f *testing.F) {
	good := validNIfTI(f)
	f.Add(good[:sizeofHdr1])
	var b2 bytes.Buffer
	WriteTo(&b2, testVolume([3]int{2, 2, 2}, 2, 0, 1), &WriteOptions{Version: 2, BigEndian: true})
	f.Add(b2.Bytes()[:sizeofHdr2])
	f.Add([]byte{0x5c, 1, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := readHeader(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		// A header that validates must re-encode to one with the same
		// geometry and type.
		h2, err := readHeader(bytes.NewReader(h.encode()), "re-encoded")
		if err != nil {
			t.Fatalf("re-encoded header rejected: %v", err)
		}
		if h2.Dim != h.Dim || h2.Datatype != h.Datatype || h2.VoxOffset != h.VoxOffset {
			t.Fatalf("re-encoded header differs: %v %v %d vs %v %v %d", h2.Dim, h2.Datatype, h2.VoxOffset, h.Dim, h.Datatype, h.VoxOffset)
		}
		_ = h.Affine()
		_ = h.Spacing()
	})
}

func FuzzReadFrom(f *testing.F) {
	good := validNIfTI(f)
	f.Add(good)
	f.Add(gz(good))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ReadFrom(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		if err := v.Check(); err != nil {
			t.Fatal(err)
		}
	})
}
