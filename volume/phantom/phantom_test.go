package phantom

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
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

// listTree returns the files under dir, relative, sorted.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestEnsure(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	dir := filepath.Join(root, "Task09_Spleen")
	var log bytes.Buffer
	five := &Options{Shape: [3]int{16, 16, 12}, Training: 5, Test: 1, Log: &log}
	ds, synthetic, err := Ensure(ctx, root, "Spleen", five)
	if err != nil || !synthetic || len(ds.Training) != 5 || len(ds.Test) != 1 {
		t.Fatalf("first Ensure: %v %v %v", ds, synthetic, err)
	}
	if log.Len() != 0 {
		t.Errorf("first Ensure said %q, want nothing (nothing replaced)", log.String())
	}

	// Same options: left alone, silently.
	st, _ := os.Stat(ds.Training[0].Image)
	ds2, _, err := Ensure(ctx, root, "Spleen", &Options{Shape: [3]int{16, 16, 12}, Training: 5, Test: 1, Log: &log})
	if err != nil || len(ds2.Training) != 5 {
		t.Fatal(err)
	}
	if st2, _ := os.Stat(ds2.Training[0].Image); !os.SameFile(st, st2) || !st2.ModTime().Equal(st.ModTime()) {
		t.Error("same options: the phantom was written again")
	}
	if log.Len() != 0 {
		t.Errorf("same options: Ensure said %q", log.String())
	}

	// Other options: replaced whole, no file of the old phantom left,
	// no hidden work folder left, and Ensure says so.
	two := &Options{Shape: [3]int{16, 16, 12}, Training: 2, Test: -1, Log: &log}
	ds3, synthetic, err := Ensure(ctx, root, "Spleen", two)
	if err != nil || !synthetic || len(ds3.Training) != 2 || len(ds3.Test) != 0 {
		t.Fatalf("other options: %v %v %v", ds3, synthetic, err)
	}
	want := []string{decathlon.PhantomMarker, "dataset.json", "imagesTr/spleen_001.nii.gz", "imagesTr/spleen_002.nii.gz",
		"labelsTr/spleen_001.nii.gz", "labelsTr/spleen_002.nii.gz"}
	if got := listTree(t, dir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("after replacing: %v, want %v", got, want)
	}
	if !strings.Contains(log.String(), "phantom: replaced "+dir) || !strings.Contains(log.String(), "training=5 test=1") ||
		!strings.Contains(log.String(), "training=2 test=0") {
		t.Errorf("replacing said %q, want the folder and both option sets", log.String())
	}
	if entries, _ := os.ReadDir(root); len(entries) != 1 {
		t.Errorf("root holds %v, want only the task folder", entries)
	}

	// An interrupted replacement leaves the phantom there as it was.
	log.Reset()
	before := listTree(t, dir)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := Ensure(cancelled, root, "Spleen", five); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Ensure: %v, want context.Canceled", err)
	}
	if got := listTree(t, dir); strings.Join(got, " ") != strings.Join(before, " ") {
		t.Errorf("after a cancelled replacement: %v, want %v", got, before)
	}
	if ds, err := decathlon.Open(dir); err != nil || ds.Release != release(two) {
		t.Errorf("after a cancelled replacement: %v, %v", ds, err)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 1 {
		t.Errorf("root holds %v after a cancelled replacement, want only the task folder", entries)
	}

	// A damaged phantom (a case deleted) is replaced too.
	if err := os.Remove(filepath.Join(dir, "labelsTr", "spleen_002.nii.gz")); err != nil {
		t.Fatal(err)
	}
	if _, err := decathlon.Open(dir); err == nil {
		t.Fatal("the damaged phantom still opens; the case below tests nothing")
	}
	if ds, _, err := Ensure(ctx, root, "Spleen", two); err != nil || len(ds.Training) != 2 {
		t.Fatalf("damaged phantom: %v %v", ds, err)
	}
	if !strings.Contains(log.String(), "damaged") {
		t.Errorf("replacing a damaged phantom said %q", log.String())
	}

	// A real dataset.json beside the phantom's marker (an archive
	// unpacked over a phantom) is a mix: neither used nor overwritten.
	ds4, _ := decathlon.Open(dir)
	ds4.Release = "1.0 04/05/2018"
	if err := ds4.WriteJSON(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Ensure(ctx, root, "Spleen", five); !errors.Is(err, decathlon.ErrMixed) {
		t.Errorf("Ensure over a mixed folder: %v, want decathlon.ErrMixed", err)
	}
	// A real dataset (no phantom release, no marker) is returned as it is
	// and never overwritten.
	if err := os.Remove(filepath.Join(dir, decathlon.PhantomMarker)); err != nil {
		t.Fatal(err)
	}
	log.Reset()
	if _, synthetic, err := Ensure(ctx, root, "Spleen", five); err != nil || synthetic || log.Len() != 0 {
		t.Errorf("real data taken for a phantom: %v %v %q", synthetic, err, log.String())
	}
	if _, err := Write(ctx, root, "Spleen", five); !errors.Is(err, ErrOccupied) {
		t.Errorf("Write over real data: %v, want ErrOccupied", err)
	}
	if ds, err := decathlon.Open(dir); err != nil || ds.Release != "1.0 04/05/2018" || len(ds.Training) != 2 {
		t.Errorf("real data changed: %v %v", ds, err)
	}
}

// TestEnsureFolderStates checks what Ensure does with a task folder that
// holds no dataset.json: empty, it is filled; with files, it is left alone.
func TestEnsureFolderStates(t *testing.T) {
	ctx := context.Background()
	opt := &Options{Shape: [3]int{16, 16, 12}, Training: 2, Test: -1, Log: io.Discard}
	cases := []struct {
		name  string
		setup func(dir string) error
		err   error
	}{
		{"missing", func(string) error { return nil }, nil},
		{"empty", func(dir string) error { return os.MkdirAll(dir, 0o755) }, nil},
		{"files without dataset.json", func(dir string) error {
			if err := os.MkdirAll(filepath.Join(dir, "imagesTr"), 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "imagesTr", "la_003.nii.gz"), []byte("half a download"), 0o644)
		}, ErrOccupied},
		{"unreadable dataset.json", func(dir string) error {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "dataset.json"), []byte("{not json"), 0o644)
		}, ErrOccupied},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "Task02_Heart")
			if err := c.setup(dir); err != nil {
				t.Fatal(err)
			}
			var before []string
			if c.err != nil {
				before = listTree(t, dir)
			}
			ds, _, err := Ensure(ctx, root, "Heart", opt)
			if c.err == nil {
				if err != nil || len(ds.Training) != 2 {
					t.Fatalf("Ensure: %v %v", ds, err)
				}
				return
			}
			if !errors.Is(err, c.err) {
				t.Fatalf("Ensure: %v, want %v", err, c.err)
			}
			if got := listTree(t, dir); strings.Join(got, " ") != strings.Join(before, " ") {
				t.Errorf("folder changed: %v, was %v", got, before)
			}
		})
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

// TestOptionsInvalid: a negative Training count is refused with ErrOptions
// naming the field, by Generate and by Write, before anything is written.
func TestOptionsInvalid(t *testing.T) {
	want := "phantom: invalid options: Training -1: must be >= 0 (0: 8)"
	opt := &Options{Training: -1}
	if _, _, err := Generate("Heart", 0, 0, opt); !errors.Is(err, ErrOptions) || err.Error() != want {
		t.Fatalf("Generate: %v, want %s", err, want)
	}
	root := t.TempDir()
	if _, err := Write(context.Background(), root, "Heart", opt); !errors.Is(err, ErrOptions) || err.Error() != want {
		t.Fatalf("Write: %v, want %s", err, want)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Fatalf("Write left %d entries after refusing its options", len(ents))
	}
}
