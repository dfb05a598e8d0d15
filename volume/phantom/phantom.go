// Package phantom writes synthetic twins of the ten Medical Segmentation
// Decathlon tasks. THE DATA ARE SYNTHETIC: geometric phantoms drawn from a
// seed, not patient images, and no result obtained on them says anything
// about medical images. They exist so that every notebook and test can run
// where the real Decathlon is absent.
//
// Each twin has the real task's folder layout (TaskNN_Name/ with
// dataset.json, imagesTr/, labelsTr/, imagesTs/, gzipped NIfTI-1), the
// same modality count and label set, and the task's character:
//
//	Task01_BrainTumour   4 MRI modalities; edema, non-enhancing and enhancing tumour nested in a brain
//	Task02_Heart         MRI; one large smooth left atrium beside other bright blood pools
//	Task03_Liver         CT; liver with hypodense lesions inside, spleen and kidneys around
//	Task04_Hippocampus   MRI crop; two small adjacent structures (anterior, posterior) in grey matter
//	Task05_Prostate      2 MRI modalities (T2, ADC); peripheral and transition zones
//	Task06_Lung          CT; one or two tumours, denser than the vessels, in lungs full of vessels
//	Task07_Pancreas      CT; thin pancreas with a lesion inside, bowel loops around
//	Task08_HepaticVessel CT; thin branching vessels and a tumour in the liver
//	Task09_Spleen        CT; spleen beside a liver of similar density
//	Task10_Colon         CT; a small wall lesion on a gas-filled colon
//
// Shapes vary from case to case (positions, sizes, rotations, smooth
// warps); images carry texture, multiplicative (MRI) or additive (CT)
// intensity inhomogeneity, per-case contrast changes, partial-volume blur
// and Gaussian noise, so that the tasks are learnable but not trivial.
// Everything is drawn from rng streams derived from (seed, task,
// case), so a case is the same whatever the case count, on every machine.
package phantom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/unetlab/unetlab/internal/atomicfile"
	"github.com/unetlab/unetlab/internal/invalid"
	"github.com/unetlab/unetlab/rng"
	"github.com/unetlab/unetlab/volume"
	"github.com/unetlab/unetlab/volume/decathlon"
)

// ErrTask reports an unknown task name.
var ErrTask = errors.New("phantom: unknown task")

// ErrOccupied reports a task folder that Write and Ensure will not
// replace: it holds something other than a phantom (a dataset.json of real
// data, or files without a dataset.json).
var ErrOccupied = errors.New("phantom: task folder holds other data")

// Options controls the generator. The zero value writes 8 training and 2
// test cases per task at the task's default size with seed 0. Functions
// take it by pointer, nil meaning that zero value, and never change it.
type Options struct {
	Seed uint64
	// Shape fixes the grid (X, Y, Z voxels) of every case; zero means the
	// task's default (see DefaultShape), with Z varying by +-15% per case
	// as real scans do.
	Shape [3]int
	// Training is the number of training cases (0 means 8; negative is
	// refused).
	Training int
	// Test is the number of test cases (0 means 2, negative means none).
	Test int
	// AppleDouble also writes "._*" junk files beside the volumes, as the
	// official archives hold, to exercise loaders.
	AppleDouble bool
	// Log receives the line by which Ensure says it replaced a phantom
	// written with other options; nil means os.Stderr (a notebook shows
	// it under the cell).
	Log io.Writer
}

// ErrOptions reports an invalid Options field; the message names the field,
// its value and the rule.
var ErrOptions = errors.New("phantom: invalid options")

// check names the first invalid field of o.
func (o *Options) check() error {
	if o.Training < 0 {
		return invalid.Field(ErrOptions, "Training", o.Training, "must be >= 0 (0: 8)")
	}
	return nil
}

func (o *Options) counts() (train, test int) {
	train, test = o.Training, o.Test
	if train <= 0 {
		train = 8
	}
	if test == 0 {
		test = 2
	}
	return train, max(test, 0)
}

// taskInfo describes one Decathlon task and its phantom.
type taskInfo struct {
	name     string // folder name
	prefix   string // case file prefix
	modality []string
	labels   []string
	shape    [3]int     // default grid
	extent   [3]float64 // physical field of view in mm
	ct       bool
	build    func(b *builder)
}

var tasks = []taskInfo{
	{"Task01_BrainTumour", "BRATS", []string{"FLAIR", "T1w", "t1gd", "T2w"}, []string{"background", "edema", "non-enhancing tumor", "enhancing tumour"}, [3]int{64, 64, 48}, [3]float64{240, 240, 155}, false, buildBrain},
	{"Task02_Heart", "la", []string{"MRI"}, []string{"background", "left atrium"}, [3]int{64, 64, 40}, [3]float64{400, 400, 170}, false, buildHeart},
	{"Task03_Liver", "liver", []string{"CT"}, []string{"background", "liver", "cancer"}, [3]int{64, 64, 48}, [3]float64{400, 400, 300}, true, buildLiver},
	{"Task04_Hippocampus", "hippocampus", []string{"MRI"}, []string{"background", "Anterior", "Posterior"}, [3]int{32, 48, 32}, [3]float64{35, 51, 35}, false, buildHippocampus},
	{"Task05_Prostate", "prostate", []string{"T2", "ADC"}, []string{"background", "PZ", "TZ"}, [3]int{64, 64, 20}, [3]float64{200, 200, 72}, false, buildProstate},
	{"Task06_Lung", "lung", []string{"CT"}, []string{"background", "cancer"}, [3]int{64, 64, 48}, [3]float64{380, 380, 300}, true, buildLung},
	{"Task07_Pancreas", "pancreas", []string{"CT"}, []string{"background", "pancreas", "cancer"}, [3]int{64, 64, 48}, [3]float64{400, 400, 250}, true, buildPancreas},
	{"Task08_HepaticVessel", "hepaticvessel", []string{"CT"}, []string{"background", "Vessel", "Tumour"}, [3]int{64, 64, 48}, [3]float64{400, 400, 250}, true, buildHepaticVessel},
	{"Task09_Spleen", "spleen", []string{"CT"}, []string{"background", "spleen"}, [3]int{64, 64, 40}, [3]float64{400, 400, 250}, true, buildSpleen},
	{"Task10_Colon", "colon", []string{"CT"}, []string{"background", "colon cancer primaries"}, [3]int{64, 64, 48}, [3]float64{400, 400, 300}, true, buildColon},
}

// lookup finds a task by folder name ("Task02_Heart"), short name
// ("Heart", case-insensitive) or number ("02", "2").
func lookup(task string) (int, *taskInfo, error) {
	for i := range tasks {
		t := &tasks[i]
		short := t.name[7:]
		if strings.EqualFold(task, t.name) || strings.EqualFold(task, short) ||
			task == t.name[4:6] || task == fmt.Sprint(i+1) {
			return i, t, nil
		}
	}
	return 0, nil, fmt.Errorf("%w: %q (want one of %v)", ErrTask, task, decathlon.Tasks)
}

// DefaultShape returns the default grid (X, Y, Z voxels) of a task's
// phantom.
func DefaultShape(task string) ([3]int, error) {
	_, t, err := lookup(task)
	if err != nil {
		return [3]int{}, err
	}
	return t.shape, nil
}

// Generate returns case index of a task's phantom: the image (one channel
// per modality; CT in Hounsfield units, MRI in arbitrary units 0..~1200)
// and its label map (one channel of class values). task is a folder name
// such as "Task02_Heart", a short name ("Heart") or a number ("02").
func Generate(task string, seed uint64, index int, opt *Options) (image, label *volume.Volume, err error) {
	if opt == nil {
		opt = &Options{}
	}
	if err := opt.check(); err != nil {
		return nil, nil, err
	}
	ti, t, err := lookup(task)
	if err != nil {
		return nil, nil, err
	}
	r := rng.Derive(seed, uint64(ti+1), uint64(index))
	shape := opt.Shape
	if shape == ([3]int{}) {
		shape = t.shape
		shape[2] = max(4, int(math.Round(float64(shape[2])*r.Uniform(0.85, 1.15))))
	}
	for i, s := range shape {
		if s < 4 || s > 1024 {
			return nil, nil, fmt.Errorf("%w: phantom: shape %v: axis %d must be 4..1024", volume.ErrShape, shape, i)
		}
	}
	if n := len(t.modality) * shape[0] * shape[1] * shape[2]; n > volume.MaxVoxels {
		return nil, nil, fmt.Errorf("%w: phantom: shape %v with %d modalities: %d voxels, more than volume.MaxVoxels", volume.ErrTooLarge, shape, len(t.modality), n)
	}
	b := &builder{r: r, mods: len(t.modality), ct: t.ct}
	t.build(b)
	image, label = b.render(shape)
	base := t.shape // the grid the field of view was made for
	if opt.Shape != ([3]int{}) {
		base = opt.Shape
	}
	for i := range image.Spacing {
		image.Spacing[i] = t.extent[i] / float64(base[i]) * r.Uniform(0.95, 1.05)
	}
	sp := image.Spacing
	image.Affine = volume.Affine{
		{-sp[0], 0, 0, sp[0] * float64(shape[0]-1) / 2},
		{0, -sp[1], 0, sp[1] * float64(shape[1]-1) / 2},
		{0, 0, sp[2], -sp[2] * float64(shape[2]-1) / 2},
		{0, 0, 0, 1},
	}
	label.Spacing, label.Affine = image.Spacing, image.Affine
	return image, label, nil
}

// Write writes a task's phantom under root/TaskNN_Name/ in the Decathlon
// layout and returns it opened with decathlon.Open. opt may be nil.
//
// The phantom is written whole into a hidden folder beside it
// (root/.TaskNN_Name.tmp-*) and renamed into place by
// internal/atomicfile.ReplaceDir, so that the task folder never holds a
// half-written phantom, nor files of an earlier one: a phantom already
// there is replaced (moved aside, then removed; put back when the swap
// fails). A
// folder that is not a phantom is left alone: Write returns ErrOccupied.
// If the process dies while writing, the hidden folder stays behind; it
// can be deleted.
func Write(ctx context.Context, root, task string, opt *Options) (*decathlon.Dataset, error) {
	if opt == nil {
		opt = &Options{}
	}
	if err := opt.check(); err != nil {
		return nil, err
	}
	_, t, err := lookup(task)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, t.name)
	if _, err := occupant(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("phantom: %w", err)
	}
	var werr error // writeTo's own error, already prefixed
	err = atomicfile.ReplaceDir(dir, func(tmp string) error {
		werr = writeTo(ctx, tmp, t, opt)
		return werr
	})
	switch {
	case werr != nil:
		return nil, werr
	case err != nil:
		return nil, fmt.Errorf("phantom: replacing %s: %w", dir, err)
	}
	return decathlon.Open(dir)
}

// occupant says what the task folder dir holds: "" when it does not exist
// or is empty, else the release line of its phantom (marked damaged when
// it does not open). Anything else is an ErrOccupied error.
func occupant(dir string) (release string, err error) {
	ds, err := decathlon.Open(dir)
	if err == nil {
		if !ds.Synthetic() {
			return "", fmt.Errorf("%w: %s holds a dataset released as %q, not a phantom", ErrOccupied, dir, ds.Release)
		}
		return ds.Release, nil
	}
	entries, rerr := os.ReadDir(dir)
	switch {
	case errors.Is(rerr, os.ErrNotExist):
		return "", nil
	case rerr != nil:
		return "", fmt.Errorf("phantom: %w", rerr)
	case len(entries) == 0:
		return "", nil
	}
	if raw, rerr := os.ReadFile(filepath.Join(dir, "dataset.json")); rerr == nil {
		// A phantom that no longer opens (a case file deleted, say) is
		// still ours to replace.
		var j struct{ Release string }
		if json.Unmarshal(raw, &j) == nil && strings.HasPrefix(j.Release, decathlon.PhantomRelease) {
			return j.Release + " (damaged: " + err.Error() + ")", nil
		}
		return "", fmt.Errorf("%w: %s: %w", ErrOccupied, dir, err)
	}
	return "", fmt.Errorf("%w: %s holds %d entries but no dataset.json (an interrupted copy of the real task?); move it away or complete it",
		ErrOccupied, dir, len(entries))
}

// writeTo writes the phantom of t into the empty folder dir.
func writeTo(ctx context.Context, dir string, t *taskInfo, opt *Options) error {
	for _, sub := range []string{"imagesTr", "labelsTr", "imagesTs"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return fmt.Errorf("phantom: %w", err)
		}
	}
	// The marker makes a real archive unpacked over this folder an error
	// (decathlon.ErrMixed) instead of a silent mix of the two.
	marker := "unetlab synthetic phantom: real data must not be unpacked here (see decathlon.Extract)\n"
	if err := os.WriteFile(filepath.Join(dir, decathlon.PhantomMarker), []byte(marker), 0o644); err != nil {
		return fmt.Errorf("phantom: %w", err)
	}
	ntrain, ntest := opt.counts()
	ds := &decathlon.Dataset{
		Dir:  dir,
		Name: strings.TrimPrefix(t.name[7:], "_"),
		Description: fmt.Sprintf("SYNTHETIC phantom twin of the Decathlon's %s, generated by "+
			"github.com/unetlab/unetlab/volume/phantom with seed %d; not patient data", t.name, opt.Seed),
		Reference:       "synthetic (unetlab volume/phantom)",
		Licence:         "CC0 (synthetic)",
		Release:         release(opt),
		TensorImageSize: "3D",
		Modality:        t.modality,
		Labels:          t.labels,
	}
	if len(t.modality) > 1 {
		ds.TensorImageSize = "4D"
	}
	type job struct {
		index int
		test  bool
		name  string
	}
	var jobs []job
	for i := 0; i < ntrain; i++ {
		name := fmt.Sprintf("%s_%03d.nii.gz", t.prefix, i+1)
		jobs = append(jobs, job{i, false, name})
		ds.Training = append(ds.Training, decathlon.Case{ID: strings.TrimSuffix(name, ".nii.gz"),
			Image: filepath.Join(dir, "imagesTr", name), Label: filepath.Join(dir, "labelsTr", name)})
	}
	for i := 0; i < ntest; i++ {
		name := fmt.Sprintf("%s_%03d.nii.gz", t.prefix, ntrain+i+1)
		jobs = append(jobs, job{ntrain + i, true, name})
		ds.Test = append(ds.Test, decathlon.Case{ID: strings.TrimSuffix(name, ".nii.gz"), Image: filepath.Join(dir, "imagesTs", name)})
	}
	work := make(chan job)
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), 4); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				errs[j.index] = writeCase(ctx, t, dir, j.name, j.index, j.test, opt)
			}
		}()
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		work <- j
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("phantom: %w", err)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := ds.WriteJSON(); err != nil {
		return err
	}
	if opt.AppleDouble {
		for _, p := range []string{"._dataset.json", "imagesTr/._" + jobs[0].name, "labelsTr/._" + jobs[0].name} {
			if err := os.WriteFile(filepath.Join(dir, p), []byte("\x00\x05\x16\x07AppleDouble junk"), 0o644); err != nil {
				return fmt.Errorf("phantom: %w", err)
			}
		}
	}
	return nil
}

// release records the generator's version and options in dataset.json,
// so that Ensure can tell whether a folder holds these very phantoms.
func release(opt *Options) string {
	train, test := opt.counts()
	return fmt.Sprintf("%s 2 seed=%d shape=%v training=%d test=%d", decathlon.PhantomRelease, opt.Seed, opt.Shape, train, test)
}

// Ensure returns the task found in root (root/TaskNN_Name/dataset.json),
// real or synthetic, and otherwise writes its phantom there first.
// synthetic reports whether the returned dataset is a phantom. opt may be
// nil.
//
// A phantom written with the same options (seed, shape, case counts) is
// returned as it is, not written again. One written with other options is
// replaced, as Write replaces it (whole, never mixing the two), and Ensure
// says so on opt.Log: notebooks of different scales may share a data
// folder, and each gets the phantom it asked for. A folder that holds
// neither a dataset.json nor a phantom is not touched: Ensure returns
// ErrOccupied.
func Ensure(ctx context.Context, root, task string, opt *Options) (ds *decathlon.Dataset, synthetic bool, err error) {
	if opt == nil {
		opt = &Options{}
	}
	_, t, err := lookup(task)
	if err != nil {
		return nil, false, err
	}
	dir := filepath.Join(root, t.name)
	if ds, err := decathlon.Open(dir); err == nil && !ds.Synthetic() {
		return ds, false, nil // real data
	} else if err == nil && ds.Release == release(opt) {
		return ds, true, nil
	}
	was, err := occupant(dir)
	if err != nil {
		return nil, false, err
	}
	ds, err = Write(ctx, root, task, opt)
	if err != nil {
		return nil, true, err
	}
	if was != "" {
		log := opt.Log
		if log == nil {
			log = os.Stderr
		}
		fmt.Fprintf(log, "phantom: replaced %s, written with other options (%s), by %s\n", dir, was, ds.Release)
	}
	return ds, true, nil
}

// WriteAll writes the phantoms of all ten tasks under root.
func WriteAll(ctx context.Context, root string, opt *Options) ([]*decathlon.Dataset, error) {
	var out []*decathlon.Dataset
	for _, t := range tasks {
		ds, err := Write(ctx, root, t.name, opt)
		if err != nil {
			return nil, err
		}
		out = append(out, ds)
	}
	return out, nil
}

func writeCase(ctx context.Context, t *taskInfo, dir, name string, index int, test bool, opt *Options) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	img, lab, err := Generate(t.name, opt.Seed, index, opt)
	if err != nil {
		return err
	}
	img.Header = &volume.Header{Descrip: "unetlab synthetic phantom", QformCode: volume.XformScanner, SformCode: volume.XformScanner}
	lab.Header = img.Header
	dt := volume.Float32
	if t.ct {
		dt = volume.Int16
	}
	sub := "imagesTr"
	if test {
		sub = "imagesTs"
	}
	if err := volume.Write(filepath.Join(dir, sub, name), img, &volume.WriteOptions{Datatype: dt}); err != nil {
		return err
	}
	if test {
		return nil
	}
	return volume.Write(filepath.Join(dir, "labelsTr", name), lab, &volume.WriteOptions{Datatype: volume.Uint8})
}
