package phantom

import (
	"context"
	"errors"
	"math"
	"os"
	"sort"
	"testing"

	"github.com/unetlab/unetlab/volume"
	"github.com/unetlab/unetlab/volume/decathlon"
)

// TestEveryTask generates one case of each task and checks the label set,
// the modality count, that every class is present, and that the labelled
// structures differ in intensity from their surroundings without being
// separable by intensity alone.
func TestEveryTask(t *testing.T) {
	for ti, task := range decathlon.Tasks {
		t.Run(task, func(t *testing.T) {
			info := tasks[ti]
			img, lab, err := Generate(task, 1, 0, &Options{Shape: [3]int{48, 48, 36}})
			if err != nil {
				t.Fatal(err)
			}
			if img.Channels != len(info.modality) || lab.Channels != 1 || img.Shape != lab.Shape {
				t.Fatalf("image %v, label %v", img, lab)
			}
			count := make([]int, len(info.labels))
			for _, f := range lab.Data {
				c := int(f)
				if float32(c) != f || c < 0 || c >= len(count) {
					t.Fatalf("label value %g", f)
				}
				count[c]++
			}
			for c, n := range count {
				if n == 0 {
					t.Errorf("class %d (%s) absent", c, info.labels[c])
				}
			}
			t.Logf("%v, class voxels %v", img, count)
			for _, f := range img.Data {
				if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
					t.Fatal("non-finite voxel")
				}
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	small := &Options{Shape: [3]int{32, 32, 24}}
	a, la, err := Generate("Heart", 7, 3, small)
	if err != nil {
		t.Fatal(err)
	}
	b, lb, _ := Generate("Task02_Heart", 7, 3, small)
	for i := range a.Data {
		if a.Data[i] != b.Data[i] {
			t.Fatalf("voxel %d differs between two runs", i)
		}
	}
	for i := range la.Data {
		if la.Data[i] != lb.Data[i] {
			t.Fatalf("label %d differs", i)
		}
	}
	c, _, _ := Generate("02", 8, 3, &Options{Shape: a.Shape})
	same := 0
	for i := range a.Data {
		if a.Data[i] == c.Data[i] {
			same++
		}
	}
	if same > len(a.Data)/2 {
		t.Errorf("seeds 7 and 8 give %d of %d equal voxels", same, len(a.Data))
	}
	if _, _, err := Generate("Task11_Nothing", 1, 0, nil); !errors.Is(err, ErrTask) {
		t.Errorf("unknown task: %v", err)
	}
}

// bestThresholdDice returns the best Dice that one intensity threshold
// (above or below) on channel 0 reaches for class cls.
func bestThresholdDice(img, lab *volume.Volume, cls int) (float64, int) {
	type vp struct {
		v  float32
		fg bool
	}
	var ps []vp
	nfg := 0
	for i, f := range img.Channel(0) {
		fg := lab.Data[i] == float32(cls)
		if fg {
			nfg++
		}
		ps = append(ps, vp{f, fg})
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].v < ps[j].v })
	best, tp := 0.0, 0
	for k := len(ps) - 1; k >= 0; k-- { // predict fg above a threshold
		if ps[k].fg {
			tp++
		}
		best = math.Max(best, 2*float64(tp)/float64(len(ps)-k+nfg))
	}
	tp = 0
	for k := range ps { // below a threshold
		if ps[k].fg {
			tp++
		}
		best = math.Max(best, 2*float64(tp)/float64(k+1+nfg))
	}
	return best, nfg
}

// TestNotTrivial checks that no labelled class can be segmented by one
// intensity threshold (Dice < 0.9): shape and context are needed.
func TestNotTrivial(t *testing.T) {
	for ti, task := range decathlon.Tasks {
		img, lab, err := Generate(task, 2, 1, &Options{Shape: [3]int{40, 40, 28}})
		if err != nil {
			t.Fatal(err)
		}
		for cls := 1; cls < len(tasks[ti].labels); cls++ {
			d, n := bestThresholdDice(img, lab, cls)
			if n == 0 {
				continue // a small class may miss a small grid
			}
			if d >= 0.9 {
				t.Errorf("%s class %d: one threshold gives Dice %.3f", task, cls, d)
			}
		}
	}
}

func TestEnsure(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	opt := &Options{Shape: [3]int{16, 16, 12}, Training: 2, Test: -1}
	ds, synthetic, err := Ensure(ctx, root, "Spleen", opt)
	if err != nil || !synthetic || len(ds.Training) != 2 || len(ds.Test) != 0 {
		t.Fatalf("first Ensure: %v %v %v", ds, synthetic, err)
	}
	st, _ := os.Stat(ds.Training[0].Image)
	ds2, _, err := Ensure(ctx, root, "Spleen", opt)
	if err != nil || len(ds2.Training) != 2 {
		t.Fatal(err)
	}
	if st2, _ := os.Stat(ds2.Training[0].Image); !st2.ModTime().Equal(st.ModTime()) {
		t.Error("same options: the phantom was written again")
	}
	ds3, _, err := Ensure(ctx, root, "Spleen", &Options{Shape: [3]int{16, 16, 12}, Training: 3, Test: -1})
	if err != nil || len(ds3.Training) != 3 {
		t.Fatalf("other options: %v %v", ds3, err)
	}
	// A real dataset (no phantom release) is returned as it is.
	ds3.Release = "1.0 04/05/2018"
	if err := ds3.WriteJSON(); err != nil {
		t.Fatal(err)
	}
	_, synthetic, err = Ensure(ctx, root, "Spleen", opt)
	if err != nil || synthetic {
		t.Errorf("real data taken for a phantom: %v %v", synthetic, err)
	}
}

func TestDefaultShapeVaries(t *testing.T) {
	def, err := DefaultShape("Hippocampus")
	if err != nil {
		t.Fatal(err)
	}
	zs := map[int]bool{}
	for i := 0; i < 4; i++ {
		img, _, err := Generate("Hippocampus", 1, i, nil)
		if err != nil {
			t.Fatal(err)
		}
		if img.Shape[0] != def[0] || img.Shape[1] != def[1] || math.Abs(float64(img.Shape[2]-def[2])) > 0.15*float64(def[2])+1 {
			t.Errorf("case %d shape %v, default %v", i, img.Shape, def)
		}
		zs[img.Shape[2]] = true
	}
	if len(zs) < 2 {
		t.Errorf("Z never varies: %v", zs)
	}
}

// TestGenerateShapeErrors: a shape outside 4..1024 a side, or one whose
// voxels (all modalities) exceed volume.MaxVoxels, is refused with a
// volume sentinel before anything is allocated.
func TestGenerateShapeErrors(t *testing.T) {
	if _, _, err := Generate("Heart", 0, 0, &Options{Shape: [3]int{2, 32, 32}}); !errors.Is(err, volume.ErrShape) {
		t.Errorf("2x32x32: err = %v, want volume.ErrShape", err)
	}
	if _, _, err := Generate("BrainTumour", 0, 0, &Options{Shape: [3]int{1024, 1024, 1024}}); !errors.Is(err, volume.ErrTooLarge) {
		t.Errorf("4 x 1024^3: err = %v, want volume.ErrTooLarge", err)
	}
}
