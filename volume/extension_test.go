package volume

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/unetlab/unetlab/internal/reftest"
)

// extensionVolume is a small volume carrying two header extensions: a
// comment (code 6, 22 bytes, padded on write) and an AFNI-style XML block
// (code 4, 24 bytes: esize 32, no padding).
func extensionVolume() *Volume {
	v := testVolume([3]int{3, 2, 2}, 1, -1, 1)
	v.Header = &Header{Extensions: []Extension{
		{Code: ExtComment, Data: []byte("unetlab golden comment")},
		{Code: ExtAFNI, Data: []byte("<AFNI_attributes ncols/>")},
	}}
	return v
}

// TestExtensionsGolden writes extensions in each NIfTI version and byte
// order, compares the bytes with golden files (testdata/ext_*.nii, -update
// rewrites them), and reads them back: the codes and contents survive, the
// data padded with zeros to whole 16-byte blocks.
func TestExtensionsGolden(t *testing.T) {
	want := []Extension{
		{Code: ExtComment, Data: append([]byte("unetlab golden comment"), 0, 0)},
		{Code: ExtAFNI, Data: []byte("<AFNI_attributes ncols/>")},
	}
	cases := []struct {
		name string
		opt  *WriteOptions
		off  int64
	}{
		{"ext_v1.nii", &WriteOptions{}, 348 + 4 + 32 + 32},
		{"ext_v2_be.nii", &WriteOptions{Version: 2, BigEndian: true}, 540 + 4 + 32 + 32},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteTo(&buf, extensionVolume(), c.opt); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", c.name)
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			golden, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test -run TestExtensionsGolden -update writes it)", err)
			}
			if !bytes.Equal(buf.Bytes(), golden) {
				t.Errorf("written bytes differ from %s", path)
			}
			v, err := Read(path)
			if err != nil {
				t.Fatal(err)
			}
			if v.Header.VoxOffset != c.off {
				t.Errorf("vox_offset %d, want %d", v.Header.VoxOffset, c.off)
			}
			if !reflect.DeepEqual(v.Header.Extensions, want) {
				t.Errorf("extensions %+v, want %+v", v.Header.Extensions, want)
			}
			// Written again from what was read: the same bytes.
			var again bytes.Buffer
			if err := WriteTo(&again, v, c.opt); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again.Bytes(), golden) {
				t.Errorf("read and written again, %s changes", path)
			}
		})
	}
}

// TestExtensionsInvalid reads files whose extensions do not fit: each is an
// ErrFormat naming the extension.
func TestExtensionsInvalid(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTo(&buf, extensionVolume(), nil); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	le := func(b []byte, off int, v uint32) {
		b[off], b[off+1], b[off+2], b[off+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
	cases := []struct {
		name string
		edit func(b []byte)
	}{
		{"esize below 8", func(b []byte) { le(b, 352, 4) }},
		{"esize past vox_offset", func(b []byte) { le(b, 352, 4096) }},
		{"second esize past vox_offset", func(b []byte) { le(b, 384, 48) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Clone(good)
			c.edit(b)
			_, err := ReadFrom(bytes.NewReader(b), "bad.nii")
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("err %v, want ErrFormat", err)
			}
		})
	}
	// No extension flag: the bytes before vox_offset are skipped, none kept.
	b := bytes.Clone(good)
	b[348] = 0
	v, err := ReadFrom(bytes.NewReader(b), "noflag.nii")
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Header.Extensions) != 0 {
		t.Errorf("extensions %v without the flag", v.Header.Extensions)
	}
}

// TestNibabelReadsOurExtensions has nibabel read the golden files'
// extensions: the same codes and contents as Read (nibabel drops the zero
// padding of a comment).
func TestNibabelReadsOurExtensions(t *testing.T) {
	reftest.Require(t, "nibabel", "numpy")
	for _, name := range []string{"ext_v1.nii", "ext_v2_be.nii"} {
		path := filepath.Join("testdata", name)
		out, err := exec.Command(debianPython, "testdata/cifti_nibabel.py", "ext", path).Output()
		if err != nil {
			t.Fatalf("nibabel on %s: %v", name, err)
		}
		var got [][2]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		v, err := Read(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(v.Header.Extensions) {
			t.Fatalf("%s: nibabel reads %d extensions, we %d", name, len(got), len(v.Header.Extensions))
		}
		for i, e := range v.Header.Extensions {
			if got[i][0] != float64(e.Code) || got[i][1] != hex.EncodeToString(bytes.TrimRight(e.Data, "\x00")) {
				t.Errorf("%s extension %d: nibabel %v, we code %d data %x", name, i, got[i], e.Code, e.Data)
			}
		}
	}
}

// TestNibabelReadsOurCIFTI has nibabel write a CIFTI-2 dense scalar file,
// reads and writes it with volume, and checks that nibabel reads the
// written file as the same CIFTI-2 image: its XML header extension (code
// 32), axes and data survive. A writer that drops the extension gives a
// file nibabel refuses as CIFTI.
func TestNibabelReadsOurCIFTI(t *testing.T) {
	reftest.Require(t, "nibabel", "numpy")
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "in.dscalar.nii"), filepath.Join(dir, "out.dscalar.nii")
	if out, err := exec.Command(debianPython, "testdata/cifti_nibabel.py", "make", src).CombinedOutput(); err != nil {
		t.Fatalf("cifti_nibabel.py make: %v\n%s", err, out)
	}
	v, err := Read(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Header.Extensions) != 1 || v.Header.Extensions[0].Code != ExtCIFTI ||
		!bytes.Contains(v.Header.Extensions[0].Data, []byte("<CIFTI")) {
		t.Fatalf("extensions read from nibabel's CIFTI file: %d, want one CIFTI XML (code 32)", len(v.Header.Extensions))
	}
	if err := Write(dst, v, nil); err != nil {
		t.Fatal(err)
	}
	check := func(path string) map[string]any {
		out, err := exec.Command(debianPython, "testdata/cifti_nibabel.py", "check", path).Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				t.Fatalf("nibabel on %s: %v\n%s", filepath.Base(path), err, ee.Stderr)
			}
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	want, got := check(src), check(dst)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("nibabel reads our file as\n%v\nand its own as\n%v", got, want)
	}
}
