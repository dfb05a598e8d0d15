package models

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/unetlab/unetlab/models/safetensors"
)

// monaiFixture is MONAI 1.1's SwinUNETR (feature size 12, input 64x32x32,
// its default, legacy patch merging) with its exported weights, input and
// output: testdata/gen_monai.py made it with MONAI itself, so this test needs
// neither MONAI nor PyTorch.
const monaiFixture = "testdata/monai11_swin.safetensors.gz"

func readMONAIFixture(t *testing.T) *safetensors.File {
	t.Helper()
	fh, err := os.Open(monaiFixture)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		t.Fatalf("%s: %v", monaiFixture, err)
	}
	f, err := safetensors.Read(zr)
	if err != nil {
		t.Fatalf("%s: %v", monaiFixture, err)
	}
	return f
}

// monaiConfig is the Config matching the fixture's arguments.
func monaiConfig(t *testing.T, f *safetensors.File, merging SwinMerging) Config {
	t.Helper()
	var args struct {
		ImgSize     []int `json:"img_size"`
		InChannels  int   `json:"in_channels"`
		OutChannels int   `json:"out_channels"`
		FeatureSize int   `json:"feature_size"`
	}
	if err := json.Unmarshal([]byte(f.Metadata["args"]), &args); err != nil || len(args.ImgSize) != 3 {
		t.Fatalf("%s: metadata args %q: %v", monaiFixture, f.Metadata["args"], err)
	}
	return Config{Arch: SwinUNETR, InChannels: args.InChannels, Classes: args.OutChannels, Batch: 1,
		InputSize: [3]int(args.ImgSize), Swin: SwinOptions{FeatureSize: args.FeatureSize, Merging: merging}}
}

// TestMONAISwinUNETR checks the default SwinUNETR against MONAI 1.1's: the
// same state_dict keys and shapes, the same parameter count, and MONAI's
// output on the fixture's input once MONAI's weights are loaded; the
// corrected merging (MergingV2) must give another output.
func TestMONAISwinUNETR(t *testing.T) {
	if testing.Short() {
		t.Skip("SwinUNETR at 64x32x32 skipped under -short")
	}
	f := readMONAIFixture(t)
	if f.Metadata["monai"] != "1.1.0" || f.Metadata["merging"] != "PatchMerging" {
		t.Fatalf("%s: made with MONAI %q, merging %q; want 1.1.0 and its legacy PatchMerging", monaiFixture, f.Metadata["monai"], f.Metadata["merging"])
	}
	var keys map[string][]int
	if err := json.Unmarshal([]byte(f.Metadata["keys"]), &keys); err != nil {
		t.Fatalf("%s: metadata keys: %v", monaiFixture, err)
	}
	want, err := strconv.ParseInt(f.Metadata["params"], 10, 64)
	if err != nil {
		t.Fatalf("%s: metadata params: %v", monaiFixture, err)
	}
	index, ok := f.Get("relative_position_index")
	if !ok {
		t.Fatalf("%s: no relative_position_index", monaiFixture)
	}
	outputs := map[SwinMerging][]float32{}
	for _, merging := range []SwinMerging{"", MergingV2} {
		cfg := monaiConfig(t, f, merging)
		m, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.NumParams(); got != want {
			t.Errorf("merging %q: %d parameters, MONAI %d", merging, got, want)
		}
		own, err := m.StateFile()
		if err != nil {
			t.Fatal(err)
		}
		// The same state_dict keys with the same shapes; MONAI's
		// relative_position_index (stored once) equals ours in every block.
		state := &safetensors.File{}
		for _, ot := range own.Tensors {
			shape, ok := keys[ot.Name]
			if !ok {
				t.Errorf("our tensor %s %v is not in MONAI's state_dict", ot.Name, ot.Shape)
				continue
			}
			if !slices.Equal(shape, ot.Shape) {
				t.Errorf("%s: shape %v, MONAI %v", ot.Name, ot.Shape, shape)
			}
			if strings.HasSuffix(ot.Name, ".relative_position_index") {
				if !slices.Equal(ot.I64, index.I64) {
					t.Errorf("%s differs from MONAI's", ot.Name)
				}
				state.Tensors = append(state.Tensors, ot)
				continue
			}
			mt, ok := f.Get(ot.Name)
			if !ok {
				t.Fatalf("%s: no tensor %s", monaiFixture, ot.Name)
			}
			state.Tensors = append(state.Tensors, *mt)
		}
		if len(own.Tensors) != len(keys) {
			t.Errorf("%d state tensors, MONAI %d", len(own.Tensors), len(keys))
		}
		if t.Failed() {
			t.FailNow()
		}
		if err := m.LoadStateFile(state); err != nil {
			t.Fatal(err)
		}
		m.SetTraining(false)
		out, vm := run(t, m, denseOf(t, f, "input"), false)
		outputs[merging] = slices.Clone(out.Value().Data().([]float32))
		vm.Close()
	}
	y := denseOf(t, f, "output").Data().([]float32)
	compareOutputs(t, outputs[""], y)
	diff := 0.0
	for i, v := range outputs[MergingV2] {
		diff = max(diff, float64(abs32(v-y[i])))
	}
	if diff < 1e-2 {
		t.Errorf("MergingV2 gives MONAI's legacy output (max difference %g): the fixture cannot tell the mergings apart", diff)
	}
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}
