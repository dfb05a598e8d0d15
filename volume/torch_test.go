package volume

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"testing"

	"github.com/unetlab/unetlab/internal/reftest"
)

type torchGolden struct {
	Image struct {
		Shape [4]int    `json:"shape"`
		Data  []float32 `json:"data"`
	} `json:"image"`
	Normalized []float32 `json:"normalized"`
	Resize     []struct {
		Size      [3]int    `json:"size"` // D, H, W
		Trilinear []float32 `json:"trilinear"`
		Nearest   []float32 `json:"nearest"`
	} `json:"resize"`
	Labels struct {
		Shape   [4]int    `json:"shape"`
		Classes int       `json:"classes"`
		Data    []float32 `json:"data"`
	} `json:"labels"`
	LabelResize []struct {
		Size    [3]int    `json:"size"`
		Argmax  []float32 `json:"argmax"`
		Rounded []float32 `json:"rounded"`
		Nearest []float32 `json:"nearest"`
	} `json:"label_resize"`
}

func loadTorchGolden(t *testing.T) *torchGolden {
	t.Helper()
	if *update {
		if len(reftest.Missing("torch")) > 0 {
			t.Fatalf("-update needs %s with torch", debianPython)
		}
		if out, err := exec.Command(debianPython, "testdata/gen_torch.py").CombinedOutput(); err != nil {
			t.Fatalf("gen_torch.py: %v\n%s", err, out)
		}
	}
	b, err := os.ReadFile("testdata/torch/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var g torchGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

// dhw converts a torch (D, H, W) size to a Volume shape (X, Y, Z).
func dhw(s [3]int) [3]int { return [3]int{s[2], s[1], s[0]} }

func compareSlices(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > tol*math.Max(1, math.Abs(float64(want[i]))) {
			t.Fatalf("%s: value %d = %g, want %g", what, i, got[i], want[i])
		}
	}
}

func TestTorchGolden(t *testing.T) {
	g := loadTorchGolden(t)
	ctx := context.Background()
	img, err := FromCDHW(g.Image.Data, g.Image.Shape, AxesZYX, nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := Normalize(img, ZScoreMinMax)
	if err != nil {
		t.Fatal(err)
	}
	compareSlices(t, "normalized", n.Data, g.Normalized, 1e-6)
	for _, r := range g.Resize {
		shape := dhw(r.Size)
		got, err := Resize(ctx, img, shape)
		if err != nil {
			t.Fatal(err)
		}
		compareSlices(t, "trilinear to "+fmtShape(r.Size), got.Data, r.Trilinear, 2e-6)
		got, err = ResizeNearest(ctx, img, shape)
		if err != nil {
			t.Fatal(err)
		}
		compareSlices(t, "nearest to "+fmtShape(r.Size), got.Data, r.Nearest, 0)
	}
	lab, err := FromCDHW(g.Labels.Data, g.Labels.Shape, AxesZYX, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range g.LabelResize {
		shape := dhw(r.Size)
		got, err := ResizeLabels(ctx, lab, shape, g.Labels.Classes, LabelLinear)
		if err != nil {
			t.Fatal(err)
		}
		compareSlices(t, "label argmax to "+fmtShape(r.Size), got.Data, r.Argmax, 0)
		got, err = ResizeLabels(ctx, lab, shape, g.Labels.Classes, LabelNearest)
		if err != nil {
			t.Fatal(err)
		}
		compareSlices(t, "label nearest to "+fmtShape(r.Size), got.Data, r.Nearest, 0)
		got, err = ResizeOneHot(ctx, lab, shape, g.Labels.Classes)
		if err != nil {
			t.Fatal(err)
		}
		compareSlices(t, "one-hot rounded to "+fmtShape(r.Size), got.Data, r.Rounded, 0)
	}
}

func fmtShape(s [3]int) string {
	b, _ := json.Marshal(s)
	return string(b)
}
