package train

import (
	"context"
	"errors"
	"github.com/unetlab/unetlab/volume/decathlon"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/stats"
	"github.com/unetlab/unetlab/volume"
)

func TestCompareModels(t *testing.T) {
	dir := t.TempDir()
	res1 := tinyModel(16)
	res1.Arch = models.ResBlock1
	opt := CVOptions{Options: tinyOptions(t, "", 1), Folds: 3, Dir: dir}
	rs, err := CompareModels(context.Background(), &opt, []models.Config{tinyModel(16), res1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Model != "UNet" || rs[1].Model != "ResBlock1" {
		t.Fatalf("results %v", rs)
	}
	var all []int
	for f := range 3 {
		a, b := rs[0].Folds[f], rs[1].Folds[f]
		if !slices.Equal(a.Val, b.Val) || !slices.Equal(a.Train, b.Train) {
			t.Fatalf("fold %d differs between the models", f)
		}
		if !slices.Equal(a.Run.Settings.Val, a.Val) || len(a.Run.Epochs) != 1 {
			t.Fatalf("fold %d: run trained on val %v, want %v", f, a.Run.Settings.Val, a.Val)
		}
		if a.ValDice != a.Run.Epochs[0].ValDice || math.IsNaN(a.TrainDice) {
			t.Fatalf("fold %d: scores %g %g, record %+v", f, a.TrainDice, a.ValDice, a.Run.Epochs[0])
		}
		all = append(all, a.Val...)
		if _, err := os.Stat(filepath.Join(dir, "ResBlock1", "fold-1", RecordFile)); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(all)
	if len(all) != 12 || all[0] != 0 || all[11] != 11 {
		t.Fatalf("validation folds cover %v", all)
	}
	fs := rs[1].FoldScores()
	if fs.Model != "ResBlock1" || len(fs.Val) != 3 || len(fs.Train) != 3 || len(rs[0].Runs()) != 3 {
		t.Fatalf("fold scores %+v", fs)
	}
	rows, err := Table1Rows("Heart", rs, 0, &stats.BootstrapOptions{Resamples: 200})
	if err != nil {
		t.Fatal(err)
	}
	if !rows[0].Baseline || rows[1].Baseline || rows[1].ValP <= 0 || rows[1].ValP > 1 || rows[0].Folds != 3 || rows[1].Folds != 3 {
		t.Fatalf("rows %+v", rows)
	}
	d, _ := stats.FoldDifferences(fs.Val, rs[0].FoldScores().Val)
	if math.Abs(rows[1].ValFWDMean-stats.Summarize(d).Mean) > 1e-12 || math.Abs(rows[0].ValMean-stats.Summarize(rs[0].FoldScores().Val).Mean) > 1e-12 {
		t.Fatalf("row %+v", rows[1])
	}
	// Running it again reads the finished folds back without training.
	again, err := CrossValidate(context.Background(), &CVOptions{Options: tinyOptions(t, "", 1), Folds: 3, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for f := range 3 {
		if again.Folds[f].ValDice != rs[0].Folds[f].ValDice || again.Folds[f].Run.Resumes != 0 {
			t.Fatalf("fold %d was trained again", f)
		}
	}
	if _, err := Table1Rows("Heart", rs, 2, nil); !errors.Is(err, ErrOptions) {
		t.Fatalf("baseline out of range: %v", err)
	}
}

// TestPredictFile predicts a phantom case at another resolution than the
// model's and checks the grid, affine and values of the written label map.
func TestPredictFile(t *testing.T) {
	data := heartAt(t, 16)
	_ = data
	m, err := models.New(tinyModel(16))
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPredictor(m)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	in := filepath.Join(heartDir, "Task02_Heart", "imagesTr")
	entries, err := os.ReadDir(in)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(in, entries[0].Name())
	out := filepath.Join(t.TempDir(), "pred", "case.nii.gz")
	if err := p.PredictFile(context.Background(), src, out, nil); err != nil {
		t.Fatal(err)
	}
	img, err := volume.Read(src)
	if err != nil {
		t.Fatal(err)
	}
	lab, err := volume.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if lab.Shape != img.Shape || lab.Affine != img.Affine || lab.Channels != 1 {
		t.Fatalf("prediction %v affine %v, image %v affine %v", lab.Shape, lab.Affine, img.Shape, img.Affine)
	}
	if lab.Header == nil || lab.Header.Datatype != volume.Uint8 {
		t.Fatalf("prediction header %+v, want uint8", lab.Header)
	}
	for _, v := range lab.Data {
		if v != 0 && v != 1 {
			t.Fatalf("label value %g", v)
		}
	}
	// Every test case of the task, written beside each other.
	ds, err := decathlon.Open(filepath.Join(heartDir, "Task02_Heart"))
	if err != nil {
		t.Fatal(err)
	}
	paths, err := p.PredictTest(context.Background(), ds, filepath.Join(t.TempDir(), "test"), nil)
	if err != nil || len(paths) != len(ds.Test) || filepath.Base(paths[0]) != ds.Test[0].ID+".nii.gz" {
		t.Fatalf("PredictTest: %v %v", paths, err)
	}
	scores, err := p.Evaluate(context.Background(), ds, []int{0, 1}, nil)
	if err != nil || len(scores) != 2 || len(scores[0]) != 1 {
		t.Fatalf("Evaluate: %v %v", scores, err)
	}
	// Wrong channel count: an error, not a panic.
	two := volume.New(img.Shape, 2)
	if _, err := p.Predict(context.Background(), two, nil); !errors.Is(err, ErrShape) {
		t.Fatalf("2-channel image: %v", err)
	}
	// A cancelled context stops it.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Predict(ctx, img, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestLRObjective(t *testing.T) {
	opt := tinyOptions(t, "ignored", 1)
	opt.Root = t.TempDir()
	f := LRObjective(&opt)
	v, err := f(context.Background(), 1e-3)
	if err != nil || v < 0 || v > 1 {
		t.Fatalf("objective %g, %v", v, err)
	}
	dirs, _ := os.ReadDir(opt.Root)
	if len(dirs) != 1 {
		t.Fatalf("%d run directories, want 1", len(dirs))
	}
	r, err := ReadRun(filepath.Join(opt.Root, dirs[0].Name()))
	if err != nil || r.Settings.LR != 1e-3 || r.Name != "UNet lr 0.001" || (r.BestValDice != v && !(math.IsNaN(r.BestValDice) && v == 0)) {
		t.Fatalf("record %+v, %v", r, err)
	}
	if _, err := f(context.Background(), -1); !errors.Is(err, ErrOptions) {
		t.Fatalf("negative lr: %v", err)
	}
}
