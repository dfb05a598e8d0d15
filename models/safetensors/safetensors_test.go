package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/unetlab/unetlab/internal/reftest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.safetensors")

func sample() *File {
	return &File{
		Metadata: map[string]string{"arch": "UNet", "format": "pt"},
		Tensors: []Tensor{
			{Name: "encoder.conv_blocks.0.conv_block_1.convolution.weight", Dtype: F32, Shape: []int{2, 1, 1, 1, 2}, F32: []float32{1, -2, 0.5, 3.25}},
			{Name: "bn.num_batches_tracked", Dtype: I64, Shape: []int{}, I64: []int64{7}},
			{Name: "a.bias", Dtype: F64, Shape: []int{3}, F64: []float64{0.1, -1e300, 42}},
			{Name: "empty", Dtype: F32, Shape: []int{0, 4}, F32: []float32{}},
		},
	}
}

func TestGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "golden.safetensors")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("Write differs from %s (run go test -update after checking)", golden)
	}
	n := binary.LittleEndian.Uint64(want)
	if n%8 != 0 || want[8] != '{' {
		t.Errorf("header length %d not padded to 8 or not a JSON object", n)
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.safetensors")
	in := sample()
	if err := WriteFile(path, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out.Metadata, in.Metadata) {
		t.Errorf("metadata %v", out.Metadata)
	}
	for _, w := range in.Tensors {
		g, ok := out.Get(w.Name)
		if !ok {
			t.Fatalf("missing %s", w.Name)
		}
		if g.Dtype != w.Dtype || !reflect.DeepEqual(g.Shape, w.Shape) || g.len() != w.len() ||
			!reflect.DeepEqual(g.F64, w.F64) && len(w.F64) > 0 || !reflect.DeepEqual(g.I64, w.I64) && len(w.I64) > 0 ||
			!reflect.DeepEqual(g.F32, w.F32) && len(w.F32) > 0 {
			t.Errorf("%s: got %+v, want %+v", w.Name, *g, w)
		}
	}
	// No temporary file is left behind.
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries after WriteFile", len(ents))
	}
	// Read of a stream gives the same.
	data, _ := os.ReadFile(path)
	s, err := Read(bytes.NewReader(data))
	if err != nil || len(s.Tensors) != len(in.Tensors) {
		t.Errorf("Read: %v", err)
	}
}

func header(h string, data int) []byte {
	b := make([]byte, 8, 8+len(h)+data)
	binary.LittleEndian.PutUint64(b, uint64(len(h)))
	b = append(b, h...)
	return append(b, make([]byte, data)...)
}

func TestCorrupt(t *testing.T) {
	var good bytes.Buffer
	Write(&good, sample())
	g := good.Bytes()
	cases := []struct {
		name string
		data []byte
		eof  bool
		dt   bool
	}{
		{"empty", nil, true, false},
		{"short length", g[:5], true, false},
		{"truncated header", g[:20], true, false},
		{"truncated data", g[:len(g)-3], true, false},
		{"huge header length", append([]byte{255, 255, 255, 255, 255, 255, 255, 0}, g[8:]...), false, false},
		{"not an object", header(`[1,2]   `, 0), false, false},
		{"bad json", header(`{"a":   `, 0), false, false},
		{"unknown dtype", header(`{"a":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}`, 2), false, true},
		{"offsets vs shape", header(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 4), false, false},
		{"negative shape", header(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}`, 0), false, false},
		{"missing shape", header(`{"a":{"dtype":"F32","data_offsets":[0,0]}}`, 0), false, false},
		{"gap", header(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), false, false},
		{"overlap", header(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4), false, false},
		{"trailing bytes", header(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 9), false, false},
		{"unknown field", header(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, 4), false, false},
		{"bad metadata", header(`{"__metadata__":{"a":1}}`, 0), false, false},
	}
	dir := t.TempDir()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			os.WriteFile(path, tc.data, 0o644)
			_, err := ReadFile(path)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.dt {
				if !errors.Is(err, ErrDtype) {
					t.Errorf("%v, want ErrDtype", err)
				}
			} else if !errors.Is(err, ErrFormat) {
				t.Errorf("%v, want ErrFormat", err)
			}
			if tc.eof != errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("%v: ErrUnexpectedEOF %v, want %v", err, !tc.eof, tc.eof)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("%v does not name the file", err)
			}
			if _, err := Read(bytes.NewReader(tc.data)); err == nil && !strings.HasPrefix(tc.name, "trailing") {
				t.Errorf("Read accepted it")
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	bad := []File{
		{Tensors: []Tensor{{Name: "a", Dtype: F32, Shape: []int{2}, F32: []float32{1}}}},
		{Tensors: []Tensor{{Name: "a", Dtype: "F16", Shape: []int{1}}}},
		{Tensors: []Tensor{{Name: "", Dtype: F32, Shape: []int{1}, F32: []float32{1}}}},
		{Tensors: []Tensor{{Name: "a", Dtype: F32, Shape: []int{1}, F32: []float32{1}}, {Name: "a", Dtype: F32, Shape: []int{1}, F32: []float32{1}}}},
	}
	for i, f := range bad {
		if err := Write(io.Discard, &f); err == nil {
			t.Errorf("case %d: no error", i)
		}
	}
	if err := WriteFile(filepath.Join(t.TempDir(), "no", "such", "dir", "x"), &bad[0]); err == nil {
		t.Error("WriteFile into a missing directory: no error")
	}
}

// TestPython reads a file written by Go with the hand-written reader of
// ../testdata/gen_torch.py and writes it back; skipped without Debian's
// python3-torch.
func TestPython(t *testing.T) {
	reftest.Require(t, "torch", "numpy")
	py := reftest.Python
	dir := t.TempDir()
	in := filepath.Join(dir, "go.safetensors")
	out := filepath.Join(dir, "py.safetensors")
	if err := WriteFile(in, sample()); err != nil {
		t.Fatal(err)
	}
	script := `import sys, runpy
m = runpy.run_path(sys.argv[1])
t = m["load_safetensors"](sys.argv[2])
t["a.bias"] = t["a.bias"] * 2
m["save_safetensors"](sys.argv[3], t, {"from": "python"})`
	cmd := exec.Command(py, "-c", script, "../testdata/gen_torch.py", in, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	f, err := ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := f.Get("a.bias")
	w, _ := f.Get("encoder.conv_blocks.0.conv_block_1.convolution.weight")
	n, _ := f.Get("bn.num_batches_tracked")
	if a == nil || w == nil || n == nil || a.F64[2] != 84 || w.F32[3] != 3.25 || n.I64[0] != 7 || f.Metadata["from"] != "python" {
		t.Errorf("python round trip: %+v", f)
	}
}

func ExampleWrite() {
	var buf bytes.Buffer
	f := &File{Tensors: []Tensor{{Name: "output_layer.bias", Dtype: F32, Shape: []int{2}, F32: []float32{0.5, -1}}}}
	if err := Write(&buf, f); err != nil {
		fmt.Println(err)
		return
	}
	g, err := Read(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	t, _ := g.Get("output_layer.bias")
	fmt.Println(t.Name, t.Dtype, t.Shape, t.F32)
	// Output: output_layer.bias F32 [2] [0.5 -1]
}

// TestReadLyingStream: a stream (size unknown) whose header claims far more
// data than follows must fail with io.ErrUnexpectedEOF after reading what
// is there, without allocating what the header claims (2^40 bytes here).
func TestReadLyingStream(t *testing.T) {
	data := header(`{"a":{"dtype":"F64","shape":[137438953472],"data_offsets":[0,1099511627776]}}`, 64)
	_, err := Read(bytes.NewReader(data))
	if !errors.Is(err, ErrFormat) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want ErrFormat and io.ErrUnexpectedEOF", err)
	}
}

// FuzzRead: any byte stream decodes or fails with ErrFormat or ErrDtype,
// without panicking; what decodes writes back to the same tensors.
func FuzzRead(f *testing.F) {
	var good bytes.Buffer
	Write(&good, sample())
	f.Add(good.Bytes())
	f.Add(header(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4))
	f.Add(header(`{"a":{"dtype":"F64","shape":[137438953472],"data_offsets":[0,1099511627776]}}`, 8))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Read(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrDtype) {
				t.Fatalf("error %v wraps neither ErrFormat nor ErrDtype", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := Write(&buf, file); err != nil {
			t.Fatalf("decoded file does not write back: %v", err)
		}
		again, err := Read(&buf)
		if err != nil {
			t.Fatalf("written file does not read back: %v", err)
		}
		if len(again.Tensors) != len(file.Tensors) {
			t.Fatalf("%d tensors after a round trip, want %d", len(again.Tensors), len(file.Tensors))
		}
	})
}
