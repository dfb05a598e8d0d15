// Package decathlon opens the Medical Segmentation Decathlon layout
// (Antonelli et al., 2022; http://medicaldecathlon.com): a folder
// TaskNN_Name/ holding dataset.json, imagesTr/, labelsTr/ and imagesTs/ of
// gzipped NIfTI-1 volumes, 4D when a task has several modalities.
//
// Open reads dataset.json and checks that every listed file exists; Check
// reads every header and compares label and image shapes; cases are read
// only when asked for (Load). Problems are gathered into one
// *ProblemsError that lists them all. AppleDouble files ("._*", left by
// macOS in the official archives) are skipped everywhere.
package decathlon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/unetlab/unetlab/internal/atomicfile"
	"github.com/unetlab/unetlab/volume"
)

// ErrDataset is wrapped by every *ProblemsError: errors.Is(err, ErrDataset).
var ErrDataset = errors.New("decathlon: invalid dataset")

// Tasks are the folder names of the ten Decathlon tasks.
var Tasks = []string{
	"Task01_BrainTumour", "Task02_Heart", "Task03_Liver", "Task04_Hippocampus", "Task05_Prostate",
	"Task06_Lung", "Task07_Pancreas", "Task08_HepaticVessel", "Task09_Spleen", "Task10_Colon",
}

// ProblemsError lists everything wrong with a dataset.
type ProblemsError struct {
	Dir      string
	Problems []string
}

// Error lists the problems, one per line.
func (e *ProblemsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "decathlon: %s: %d problem(s):", e.Dir, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p)
	}
	return b.String()
}

// Unwrap returns ErrDataset.
func (e *ProblemsError) Unwrap() error { return ErrDataset }

// problems collects problems and turns them into an error.
type problems struct {
	dir  string
	list []string
}

func (p *problems) add(format string, args ...any) {
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &ProblemsError{Dir: p.dir, Problems: p.list}
}

// Case is one image (and its label for a training case), paths absolute.
type Case struct {
	ID    string // file name without .nii.gz, e.g. "la_003"
	Image string
	Label string // "" for a test case
}

// Dataset is an opened Decathlon task.
type Dataset struct {
	Dir             string
	Name            string
	Description     string
	Reference       string
	Licence         string
	Release         string
	TensorImageSize string   // "3D" or "4D"
	Modality        []string // by channel: Modality[0] is "MRI", "CT", "FLAIR", ...
	Labels          []string // by class value: Labels[0] is "background"
	Training        []Case
	Test            []Case
}

// Classes returns the number of classes, background included.
func (d *Dataset) Classes() int { return len(d.Labels) }

// Channels returns the number of modalities.
func (d *Dataset) Channels() int { return len(d.Modality) }

// String summarises the dataset.
func (d *Dataset) String() string {
	return fmt.Sprintf("%s: %d training and %d test cases, modalities %v, labels %v",
		d.Name, len(d.Training), len(d.Test), d.Modality, d.Labels)
}

// jsonDataset is dataset.json as the Decathlon writes it.
type jsonDataset struct {
	Name            string            `json:"name"`
	Description     string            `json:"description"`
	Reference       string            `json:"reference"`
	Licence         string            `json:"licence"`
	Release         string            `json:"release"`
	TensorImageSize string            `json:"tensorImageSize"`
	Modality        map[string]string `json:"modality"`
	Labels          map[string]string `json:"labels"`
	NumTraining     int               `json:"numTraining"`
	NumTest         int               `json:"numTest"`
	Training        []struct {
		Image string `json:"image"`
		Label string `json:"label"`
	} `json:"training"`
	Test []json.RawMessage `json:"test"` // paths, or {"image": path} in some copies
}

// isAppleDouble reports whether a file is macOS metadata ("._name").
func isAppleDouble(path string) bool { return strings.HasPrefix(filepath.Base(path), "._") }

// caseID strips the directory and the NIfTI extension.
func caseID(path string) string {
	b := filepath.Base(path)
	for _, ext := range []string{".nii.gz", ".nii"} {
		if strings.HasSuffix(b, ext) {
			return strings.TrimSuffix(b, ext)
		}
	}
	return b
}

// indexed turns {"0": a, "1": b} into [a, b], reporting gaps.
func indexed(field string, m map[string]string, p *problems) []string {
	out := make([]string, len(m))
	for k, v := range m {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= len(m) {
			p.add("dataset.json: %s key %q is not an index 0..%d", field, k, len(m)-1)
			continue
		}
		out[i] = v
	}
	return out
}

// Open reads dir/dataset.json, resolves the training and test lists
// (skipping "._*" entries) and checks that every listed file exists. When
// the json lists no training cases, imagesTr/ and labelsTr/ are scanned
// instead. All problems found come back together as a *ProblemsError.
func Open(dir string) (*Dataset, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("decathlon: %w", err)
	}
	raw, err := os.ReadFile(filepath.Join(abs, "dataset.json"))
	if err != nil {
		return nil, fmt.Errorf("decathlon: %w", err)
	}
	var j jsonDataset
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, fmt.Errorf("%w: %s: dataset.json: %w", ErrDataset, abs, err)
	}
	if _, err := os.Stat(filepath.Join(abs, PhantomMarker)); err == nil && !strings.HasPrefix(j.Release, PhantomRelease) {
		return nil, fmt.Errorf("%w: %s holds a phantom's %s beside a real dataset.json (release %q): real data was unpacked over a phantom; remove the folder and unpack the archive again (Extract)",
			ErrMixed, abs, PhantomMarker, j.Release)
	}
	p := &problems{dir: abs}
	d := &Dataset{
		Dir: abs, Name: j.Name, Description: j.Description, Reference: j.Reference,
		Licence: j.Licence, Release: j.Release, TensorImageSize: j.TensorImageSize,
		Modality: indexed("modality", j.Modality, p),
		Labels:   indexed("labels", j.Labels, p),
	}
	if len(d.Modality) == 0 {
		p.add("dataset.json: no modality")
	}
	if len(d.Labels) < 2 {
		p.add("dataset.json: labels %v: want background and at least one class", d.Labels)
	}
	resolve := func(rel string) string {
		if filepath.IsAbs(rel) {
			return rel
		}
		return filepath.Join(abs, filepath.FromSlash(rel))
	}
	for i, t := range j.Training {
		if isAppleDouble(t.Image) || isAppleDouble(t.Label) {
			continue
		}
		if t.Image == "" || t.Label == "" {
			p.add("dataset.json: training[%d]: image %q, label %q: both are needed", i, t.Image, t.Label)
			continue
		}
		d.Training = append(d.Training, Case{ID: caseID(t.Image), Image: resolve(t.Image), Label: resolve(t.Label)})
	}
	for i, r := range j.Test {
		var path string
		if err := json.Unmarshal(r, &path); err != nil {
			var obj struct {
				Image string `json:"image"`
			}
			if err := json.Unmarshal(r, &obj); err != nil || obj.Image == "" {
				p.add("dataset.json: test[%d]: %s is neither a path nor {\"image\": path}", i, r)
				continue
			}
			path = obj.Image
		}
		if isAppleDouble(path) {
			continue
		}
		d.Test = append(d.Test, Case{ID: caseID(path), Image: resolve(path)})
	}
	if len(j.Training) == 0 {
		d.Training = scan(abs, p)
	} else if j.NumTraining != 0 && j.NumTraining != len(j.Training) {
		p.add("dataset.json: numTraining %d but %d training entries", j.NumTraining, len(j.Training))
	}
	if j.NumTest != 0 && len(j.Test) != 0 && j.NumTest != len(j.Test) {
		p.add("dataset.json: numTest %d but %d test entries", j.NumTest, len(j.Test))
	}
	for _, c := range d.Training {
		exists(c.Image, "training image", p)
		exists(c.Label, "training label", p)
	}
	for _, c := range d.Test {
		exists(c.Image, "test image", p)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return d, nil
}

func exists(path, what string, p *problems) {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		p.add("%s %s is missing", what, path)
	case st.IsDir():
		p.add("%s %s is a directory", what, path)
	}
}

// scan lists imagesTr/*.nii.gz with their labelsTr/ twins, skipping
// AppleDouble files.
func scan(dir string, p *problems) []Case {
	ents, err := os.ReadDir(filepath.Join(dir, "imagesTr"))
	if err != nil {
		p.add("no training list in dataset.json and imagesTr/ unreadable: %v", err)
		return nil
	}
	var cases []Case
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || isAppleDouble(n) || !(strings.HasSuffix(n, ".nii.gz") || strings.HasSuffix(n, ".nii")) {
			continue
		}
		cases = append(cases, Case{ID: caseID(n), Image: filepath.Join(dir, "imagesTr", n), Label: filepath.Join(dir, "labelsTr", n)})
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].ID < cases[j].ID })
	return cases
}

// Check reads the header of every case and reports, in one
// *ProblemsError, every image whose channel count differs from the
// modality count, every label that is not 3D or whose shape differs from
// its image's, and every unreadable file.
func (d *Dataset) Check(ctx context.Context) error {
	p := &problems{dir: d.Dir}
	check := func(c Case) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("decathlon: Check: %w", err)
		}
		ih, err := volume.ReadHeader(c.Image)
		if err != nil {
			p.add("%s: %v", c.ID, err)
			return nil
		}
		if ih.Channels() != len(d.Modality) {
			p.add("%s: image has %d channel(s), dataset.json lists %d modalities", c.ID, ih.Channels(), len(d.Modality))
		}
		if c.Label == "" {
			return nil
		}
		lh, err := volume.ReadHeader(c.Label)
		if err != nil {
			p.add("%s: %v", c.ID, err)
			return nil
		}
		if lh.Channels() != 1 {
			p.add("%s: label has %d channels, want 1", c.ID, lh.Channels())
		}
		if lh.Shape() != ih.Shape() {
			p.add("%s: label shape %v differs from image shape %v", c.ID, lh.Shape(), ih.Shape())
		}
		return nil
	}
	for _, c := range d.Training {
		if err := check(c); err != nil {
			return err
		}
	}
	for _, c := range d.Test {
		if err := check(c); err != nil {
			return err
		}
	}
	return p.err()
}

// Sample is one loaded case. Image has one channel per modality; Label is
// a one-channel map of class values 0..Classes()-1, nil for a test case.
type Sample struct {
	Case  Case
	Image *volume.Volume
	Label *volume.Volume
}

// Load reads training case i (image and label) and checks that they agree:
// the modality count, the label's shape and its values in the label set.
func (d *Dataset) Load(ctx context.Context, i int) (*Sample, error) {
	if i < 0 || i >= len(d.Training) {
		return nil, fmt.Errorf("decathlon: %s: training case %d of %d", d.Name, i, len(d.Training))
	}
	return d.load(ctx, d.Training[i])
}

// LoadTest reads test case i (image only).
func (d *Dataset) LoadTest(ctx context.Context, i int) (*Sample, error) {
	if i < 0 || i >= len(d.Test) {
		return nil, fmt.Errorf("decathlon: %s: test case %d of %d", d.Name, i, len(d.Test))
	}
	return d.load(ctx, d.Test[i])
}

func (d *Dataset) load(ctx context.Context, c Case) (*Sample, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("decathlon: %w", err)
	}
	img, err := volume.Read(c.Image)
	if err != nil {
		return nil, fmt.Errorf("decathlon: %s: %w", c.ID, err)
	}
	p := &problems{dir: d.Dir}
	if img.Channels != len(d.Modality) {
		p.add("%s: image has %d channel(s), dataset.json lists %d modalities", c.ID, img.Channels, len(d.Modality))
	}
	s := &Sample{Case: c, Image: img}
	if c.Label != "" {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("decathlon: %w", err)
		}
		lab, err := volume.Read(c.Label)
		if err != nil {
			return nil, fmt.Errorf("decathlon: %s: %w", c.ID, err)
		}
		if lab.Channels != 1 {
			p.add("%s: label has %d channels, want 1", c.ID, lab.Channels)
		}
		if lab.Shape != img.Shape {
			p.add("%s: label shape %v differs from image shape %v", c.ID, lab.Shape, img.Shape)
		}
		for k, f := range lab.Data {
			if !(f >= 0 && int(f) < len(d.Labels) && float32(int(f)) == f) {
				p.add("%s: label voxel %d has value %g, not a class of %v", c.ID, k, f, d.Labels)
				break
			}
		}
		s.Label = lab
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// WriteJSON writes d's metadata and case lists to d.Dir/dataset.json in
// the Decathlon's format, paths relative ("./imagesTr/x.nii.gz"),
// atomically (temporary file and rename).
func (d *Dataset) WriteJSON() error {
	j := map[string]any{
		"name": d.Name, "description": d.Description, "reference": d.Reference,
		"licence": d.Licence, "release": d.Release, "tensorImageSize": d.TensorImageSize,
		"numTraining": len(d.Training), "numTest": len(d.Test),
	}
	mod := map[string]string{}
	for i, m := range d.Modality {
		mod[strconv.Itoa(i)] = m
	}
	lab := map[string]string{}
	for i, l := range d.Labels {
		lab[strconv.Itoa(i)] = l
	}
	j["modality"], j["labels"] = mod, lab
	rel := func(path string) string {
		r, err := filepath.Rel(d.Dir, path)
		if err != nil {
			return path
		}
		return "./" + filepath.ToSlash(r)
	}
	train := []map[string]string{}
	for _, c := range d.Training {
		train = append(train, map[string]string{"image": rel(c.Image), "label": rel(c.Label)})
	}
	test := []string{}
	for _, c := range d.Test {
		test = append(test, rel(c.Image))
	}
	j["training"], j["test"] = train, test
	b, err := json.MarshalIndent(j, "", "    ")
	if err != nil {
		return fmt.Errorf("decathlon: %w", err)
	}
	path := filepath.Join(d.Dir, "dataset.json")
	if err := atomicfile.WriteFile(path, append(b, '\n')); err != nil {
		return fmt.Errorf("decathlon: writing %s: %w", path, err)
	}
	return nil
}
