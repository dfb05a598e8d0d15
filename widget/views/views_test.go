package views

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unetlab/unetlab/comm"
	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/stats"
	"github.com/unetlab/unetlab/train"
	"github.com/unetlab/unetlab/viz"
	"github.com/unetlab/unetlab/volume"
	"github.com/unetlab/unetlab/volume/decathlon"
	"github.com/unetlab/unetlab/volume/phantom"
	"github.com/unetlab/unetlab/widget"
)

// fakeKernel stands in for the worker's comm transport.
type fakeKernel struct {
	mu    sync.Mutex
	opens map[string]map[string]any // comm id to comm_open content
	bufs  map[string][][]byte       // comm id to comm_open buffers
}

func (f *fakeKernel) SendComm(typ string, content map[string]any) error {
	return f.SendCommMessage(typ, content, nil, nil)
}

func (f *fakeKernel) SendCommMessage(typ string, content, _ map[string]any, buffers [][]byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if typ == "comm_open" {
		id := content["comm_id"].(string)
		f.opens[id] = content
		f.bufs[id] = buffers
	}
	return nil
}

func install(t *testing.T) *fakeKernel {
	t.Helper()
	f := &fakeKernel{opens: map[string]map[string]any{}, bufs: map[string][][]byte{}}
	old := comm.SetTransport(f)
	t.Cleanup(func() { comm.SetTransport(old) })
	return f
}

// fromFront sets state keys of model id as the front end does.
func fromFront(id string, state map[string]any) {
	comm.Deliver("comm_msg", map[string]any{"comm_id": id, "data": map[string]any{"method": "update", "state": state}})
}

// volumes is a 12x10x8 gradient image, a box of truth and a shifted box
// of prediction.
func volumes() (img, truth, pred *volume.Volume) {
	sh := [3]int{12, 10, 8}
	img, truth, pred = volume.New(sh, 1), volume.New(sh, 1), volume.New(sh, 1)
	for z := range sh[2] {
		for y := range sh[1] {
			for x := range sh[0] {
				img.Set(0, x, y, z, float32(x+2*y+3*z))
				if x >= 3 && x < 8 && y >= 2 && y < 7 && z >= 2 && z < 6 {
					truth.Set(0, x, y, z, 1)
				}
				if x >= 4 && x < 9 && y >= 2 && y < 7 && z >= 3 && z < 7 {
					pred.Set(0, x, y, z, 1)
				}
			}
		}
	}
	return img, truth, pred
}

func slicePNG(t *testing.T, s *Slicer, panel int) []byte {
	t.Helper()
	o := s.ViewOptions(panel)
	v, err := viz.Slice(s.panels[panel].Image, s.ShownPlane(), s.Index.Value(), &o)
	if err != nil {
		t.Fatal(err)
	}
	png, err := v.PNG()
	if err != nil {
		t.Fatal(err)
	}
	return png
}

func TestSlicerFollowsControls(t *testing.T) {
	install(t)
	img, truth, pred := volumes()
	s, err := Compare(img, truth, pred, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Images) != 3 {
		t.Fatalf("%d panels, want 3", len(s.Images))
	}
	// The first slice is the truth's centre along Z.
	if got, want := s.Index.Value(), viz.LabelCentre(truth)[2]; got != want {
		t.Errorf("first index %d, want the labels' centre %d", got, want)
	}
	check := func(when string) {
		t.Helper()
		for i, im := range s.Images {
			if !bytes.Equal(im.Value(), slicePNG(t, s, i)) {
				t.Errorf("%s: panel %d is not viz.Slice's PNG", when, i)
			}
		}
		labels, dice, err := stats.SliceDice(pred, truth, 2, s.Index.Value())
		if s.ShownPlane() == viz.Axial && err == nil && s.Dice.Value() != DiceText(labels, dice) {
			t.Errorf("%s: Dice %q, want %q", when, s.Dice.Value(), DiceText(labels, dice))
		}
	}
	check("at first")
	before := s.Images[1].Value()
	fromFront(s.Index.ID(), map[string]any{"value": 2.0})
	if s.Index.Value() != 2 {
		t.Fatalf("index %d after the front end set 2", s.Index.Value())
	}
	check("slice 2")
	if bytes.Equal(before, s.Images[1].Value()) {
		t.Error("the truth panel did not change with the slice")
	}
	if !strings.Contains(s.Dice.Value(), "class 1 0.000") {
		t.Errorf("slice 2 has truth and no prediction: Dice %q", s.Dice.Value())
	}
	plain, overlay := s.Images[0].Value(), s.Images[1].Value()
	fromFront(s.Opacity.ID(), map[string]any{"value": 0.9})
	check("opacity 0.9")
	if bytes.Equal(overlay, s.Images[1].Value()) {
		t.Error("the truth panel did not change with the opacity")
	}
	if !bytes.Equal(plain, s.Images[0].Value()) {
		t.Error("the image panel (no labels) changed with the opacity")
	}
	fromFront(s.Width.ID(), map[string]any{"value": 5.0})
	check("window width 5")
	if bytes.Equal(plain, s.Images[0].Value()) {
		t.Error("the image panel did not change with the window")
	}
	// Sagittal: the slider runs along X.
	fromFront(s.Plane.ID(), map[string]any{"index": 2.0})
	if s.ShownPlane() != viz.Sagittal || s.Index.Get("max") != 11 {
		t.Errorf("after choosing sagittal: plane %v, slider max %v; want Sagittal, 11", s.ShownPlane(), s.Index.Get("max"))
	}
	check("sagittal")
	if b := s.Render(); b["image/png"] == nil || b[widget.MIMEView] == nil {
		t.Errorf("bundle lacks the view or the static picture: %v", b["text/plain"])
	}
}

func TestSlicerErrors(t *testing.T) {
	install(t)
	img, truth, _ := volumes()
	small := volume.New([3]int{4, 4, 4}, 1)
	for _, tt := range []struct {
		name   string
		panels []Panel
		opt    *SlicerOptions
		want   string
	}{
		{"no panels", nil, nil, "no panels"},
		{"shapes", []Panel{{Name: "a", Image: img}, {Name: "b", Image: small}}, nil, "shape"},
		{"half dice", []Panel{{Image: img}}, &SlicerOptions{Truth: truth}, "both"},
		{"index", []Panel{{Image: img}}, &SlicerOptions{Index: 8}, "Index 8"},
		{"opacity", []Panel{{Image: img}}, &SlicerOptions{Opacity: 2}, "Opacity"},
		{"labels", []Panel{{Name: "a", Image: img, Labels: small}}, nil, "Labels shape [4 4 4], panel 0 image [12 10 8]"},
		{"truth", []Panel{{Image: img}}, &SlicerOptions{Truth: small, Pred: truth}, "Truth shape [4 4 4]"},
		{"pred", []Panel{{Image: img}}, &SlicerOptions{Truth: truth, Pred: small}, "Pred shape [4 4 4]"},
	} {
		if _, err := NewSlicer(tt.panels, tt.opt); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one naming %q", tt.name, err, tt.want)
		}
	}
}

func TestRender3D(t *testing.T) {
	f := install(t)
	img, truth, _ := volumes()
	t.Setenv("UNETLAB_NIIVUE", filepath.Join(t.TempDir(), "missing.js"))
	niivueSrc = ""
	if _, err := NewRender3D(img, truth, nil); !errors.Is(err, ErrNoNiiVue) {
		t.Errorf("without NiiVue: %v, want ErrNoNiiVue", err)
	}
	js := filepath.Join(t.TempDir(), "niivue.js")
	if err := os.WriteFile(js, []byte("export class Niivue {}"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("UNETLAB_NIIVUE", js)
	niivueSrc = ""
	r, err := NewRender3D(img, truth, nil)
	if err != nil {
		t.Fatal(err)
	}
	open := f.opens[r.ID()]
	st := open["data"].(map[string]any)["state"].(map[string]any)
	if st["_model_name"] != "AnyModel" || st["niivue"] != "export class Niivue {}" || !strings.Contains(st["_esm"].(string), "export default") {
		t.Errorf("state: model %v, niivue %v", st["_model_name"], st["niivue"])
	}
	paths := open["data"].(map[string]any)["buffer_paths"].([][]any)
	bufs := f.bufs[r.ID()]
	if len(paths) != 2 || paths[0][0] != "image" || paths[1][0] != "labels" {
		t.Fatalf("buffer paths %v, want image and labels", paths)
	}
	back, err := volume.ReadFrom(bytes.NewReader(bufs[0]), "image.nii")
	if err != nil || back.Shape != img.Shape || back.At(0, 5, 4, 3) != img.At(0, 5, 4, 3) {
		t.Errorf("image buffer read back: %v, %v", back, err)
	}
	lab, err := volume.ReadFrom(bytes.NewReader(bufs[1]), "labels.nii")
	if err != nil || lab.At(0, 4, 3, 3) != 1 {
		t.Errorf("labels buffer read back: %v", err)
	}
	c := viz.LabelColour(1)
	want := []any{1, int(c.R), int(c.G), int(c.B)}
	if got := st["label_colours"].([]any); len(got) != 1 || !equalAny(got[0].([]any), want) {
		t.Errorf("label colours %v, want [%v]", got, want)
	}
	if err := r.SetOpacity(2); err == nil {
		t.Error("opacity 2 accepted")
	}
}

func equalAny(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestTrainStopAndResume stops a run with the Stop button's click (the
// front end's custom message) and resumes it to the end.
func TestTrainStopAndResume(t *testing.T) {
	install(t)
	root := t.TempDir()
	ctx := context.Background()
	ds, _, err := phantom.Ensure(ctx, root, "Heart", &phantom.Options{Shape: [3]int{16, 16, 16}, Training: 4})
	if err != nil {
		t.Fatal(err)
	}
	cfg := models.Small(models.UNet)
	cfg.Channels = []int{2, 4}
	cfg.InputSize = [3]int{16, 16, 16}
	epochs := make(chan int, 100)
	opt := &train.Options{Model: cfg, Data: ds.Prepare(&decathlon.PrepareOptions{Shape: [3]int{16, 16, 16}}),
		Epochs: 50, LR: 1e-3, Dir: filepath.Join(root, "run"), Workers: 1,
		OnEpoch: func(e train.Epoch) { epochs <- e.Epoch }}
	tr, err := Train(opt)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-epochs:
	case <-time.After(2 * time.Minute):
		t.Fatal("no epoch in 2 minutes")
	}
	comm.Deliver("comm_msg", map[string]any{"comm_id": tr.Stop.ID(), "data": map[string]any{
		"method": "custom", "content": map[string]any{"event": "click"}}})
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	run, err := tr.Wait(wctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("after Stop: %v, want context.Canceled", err)
	}
	if !strings.Contains(tr.Status.Value(), "stopped") || tr.Bar.Get("bar_style") != "warning" {
		t.Errorf("status %q, bar %v", tr.Status.Value(), tr.Bar.Get("bar_style"))
	}
	if run == nil || len(run.Epochs) >= 50 {
		t.Fatalf("stopped run %v", run)
	}
	if opt.Progress != "" || opt.OnEpoch == nil {
		t.Error("Train changed the caller's options")
	}
	ropt := *opt
	ropt.Epochs = len(run.Epochs) + 1
	rr, err := Resume(&ropt)
	if err != nil {
		t.Fatal(err)
	}
	done, err := rr.Wait(wctx)
	if err != nil || done.Status != "completed" || len(done.Epochs) != ropt.Epochs {
		t.Fatalf("resumed: %v, %v", done, err)
	}
	if !strings.Contains(rr.Status.Value(), "done: completed") {
		t.Errorf("status %q", rr.Status.Value())
	}
	// A Stop after the end changes nothing.
	rr.StopRun()
	if !strings.Contains(rr.Status.Value(), "done: completed") {
		t.Errorf("status after a late Stop %q", rr.Status.Value())
	}
	// Resume without Epochs takes the run's total, and its bar starts at
	// the epochs done.
	zopt := *opt
	zopt.Epochs = 0
	zr, err := Resume(&zopt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zr.Wait(wctx); err != nil {
		t.Fatal(err)
	}
	if mx, v := zr.Bar.Get("max"), zr.Bar.Get("value"); mx != float64(ropt.Epochs) || v != float64(ropt.Epochs) {
		t.Errorf("resumed bar at %v of %v, want %d of %d", v, mx, ropt.Epochs, ropt.Epochs)
	}
	if _, err := Resume(&train.Options{Data: opt.Data, Dir: filepath.Join(root, "none")}); err == nil {
		t.Error("Resume of a directory without a run accepted")
	}
}
