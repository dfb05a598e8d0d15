package decathlon_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unetlab/unetlab/volume"
	"github.com/unetlab/unetlab/volume/decathlon"
	"github.com/unetlab/unetlab/volume/phantom"
)

var small = &phantom.Options{Seed: 5, Shape: [3]int{20, 18, 12}, Training: 3, Test: 1, AppleDouble: true}

// TestPhantomRoundTrip writes every task's phantom, opens it through
// dataset.json and checks that every case reads back as generated.
func TestPhantomRoundTrip(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	for _, task := range decathlon.Tasks {
		t.Run(task, func(t *testing.T) {
			ds, err := phantom.Write(ctx, root, task, small)
			if err != nil {
				t.Fatal(err)
			}
			again, err := decathlon.Open(filepath.Join(root, task))
			if err != nil {
				t.Fatal(err)
			}
			if again.Name != ds.Name || len(again.Training) != 3 || len(again.Test) != 1 || !strings.Contains(again.Description, "SYNTHETIC") {
				t.Fatalf("reopened: %v", again)
			}
			if err := ds.Check(ctx); err != nil {
				t.Fatal(err)
			}
			for i := range ds.Training {
				s, err := ds.Load(ctx, i)
				if err != nil {
					t.Fatal(err)
				}
				img, lab, err := phantom.Generate(task, small.Seed, i, small)
				if err != nil {
					t.Fatal(err)
				}
				if s.Image.Channels != ds.Channels() || s.Image.Shape != img.Shape {
					t.Fatalf("case %d: %v, want %v", i, s.Image, img)
				}
				for k := range img.Data {
					if s.Image.Data[k] != img.Data[k] {
						t.Fatalf("case %d: image voxel %d = %g, generated %g", i, k, s.Image.Data[k], img.Data[k])
					}
				}
				for k := range lab.Data {
					if s.Label.Data[k] != lab.Data[k] {
						t.Fatalf("case %d: label voxel %d = %g, generated %g", i, k, s.Label.Data[k], lab.Data[k])
					}
				}
				for r := 0; r < 3; r++ {
					for c := 0; c < 4; c++ {
						if d := s.Image.Affine[r][c] - img.Affine[r][c]; d > 1e-4 || d < -1e-4 {
							t.Fatalf("case %d: affine %v, generated %v", i, s.Image.Affine, img.Affine)
						}
					}
				}
			}
			ts, err := ds.LoadTest(ctx, 0)
			if err != nil || ts.Label != nil || ts.Image.Channels != ds.Channels() {
				t.Fatalf("test case: %v %v", ts, err)
			}
		})
	}
}

// TestProblems breaks a phantom in several ways and expects one error
// listing every problem.
func TestProblems(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	ds, err := phantom.Write(ctx, root, "Heart", small)
	if err != nil {
		t.Fatal(err)
	}
	// A label of the wrong shape for case 0, a missing image for case 1.
	wrong := volume.New([3]int{5, 5, 5}, 1)
	if err := volume.Write(ds.Training[0].Label, wrong, &volume.WriteOptions{Datatype: volume.Uint8}); err != nil {
		t.Fatal(err)
	}
	if err := ds.Check(ctx); err == nil || !strings.Contains(err.Error(), "label shape [5 5 5] differs") {
		t.Errorf("Check: %v", err)
	}
	if _, err := ds.Load(ctx, 0); !errors.Is(err, decathlon.ErrDataset) {
		t.Errorf("Load of a mismatched case: %v", err)
	}
	if err := os.Remove(ds.Training[1].Image); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(ds.Test[0].Image); err != nil {
		t.Fatal(err)
	}
	_, err = decathlon.Open(ds.Dir)
	var pe *decathlon.ProblemsError
	if !errors.As(err, &pe) || !errors.Is(err, decathlon.ErrDataset) {
		t.Fatalf("Open: %v", err)
	}
	if len(pe.Problems) != 2 || !strings.Contains(err.Error(), "la_002.nii.gz is missing") || !strings.Contains(err.Error(), "test image") {
		t.Errorf("problems: %v", err)
	}
	t.Log(err)
}

func TestScanWithoutLists(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	ds, err := phantom.Write(ctx, root, "Hippocampus", small)
	if err != nil {
		t.Fatal(err)
	}
	js := `{"name": "Hippocampus", "modality": {"0": "MRI"}, "labels": {"0": "background", "1": "Anterior", "2": "Posterior"}}`
	if err := os.WriteFile(filepath.Join(ds.Dir, "dataset.json"), []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	// A real dataset.json now: without the phantom's marker, or Open
	// refuses the mix (ErrMixed).
	if err := os.Remove(filepath.Join(ds.Dir, decathlon.PhantomMarker)); err != nil {
		t.Fatal(err)
	}
	got, err := decathlon.Open(ds.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Training) != 3 { // the ._ junk in imagesTr/ is skipped
		t.Errorf("scanned %d cases: %v", len(got.Training), got.Training)
	}
	if _, err := got.Load(ctx, 2); err != nil {
		t.Error(err)
	}
}

func TestPrepared(t *testing.T) {
	ctx := context.Background()
	ds, err := phantom.Write(ctx, t.TempDir(), "Prostate", small)
	if err != nil {
		t.Fatal(err)
	}
	p := ds.Prepare(&decathlon.PrepareOptions{Shape: [3]int{16, 16, 16}})
	img, lab, err := p.Sample(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if img.Shape != [3]int{16, 16, 16} || img.Channels != 2 || lab.Channels != 1 {
		t.Fatalf("%v %v", img, lab)
	}
	for c := 0; c < 2; c++ {
		lo, hi := float32(1), float32(0)
		for _, f := range img.Channel(c) {
			lo, hi = min(lo, f), max(hi, f)
		}
		if lo < 0 || hi > 1 || hi-lo < 0.5 {
			t.Errorf("channel %d in [%g, %g]", c, lo, hi)
		}
	}
	img2, _, _ := p.Sample(ctx, 1)
	if img2 != img {
		t.Error("second Sample did not come from the cache")
	}
}
