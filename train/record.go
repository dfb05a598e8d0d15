package train

import (
	"encoding/json"
	"fmt"
	"github.com/google/uuid"
	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/volume"
	"html"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/unetlab/unetlab/models"
)

// Settings are the resolved settings of a run (every default filled in), as
// the run record stores them.
type Settings struct {
	Model        models.Config
	Epochs       int
	BatchSize    int
	LR           float64
	Adam         AdamOptions
	PlateauOff   bool
	Plateau      Plateau // factor, patience, threshold (initial state)
	Patience     int     // early stopping on validation Dice; 0 off
	Loss         LossOptions
	Seed         uint64
	Float64      bool
	DropLast     bool
	Train, Val   []int // case indices of the source
	Classes      int
	SourceLen    int
	GOMAXPROCS   int
	BLAS         string
	Augmentation bool        // an augment.Pipeline was given
	Axes         volume.Axes // X, Y, Z onto D, H, W
	// Device is where the run last computed (Fit, or its latest Resume):
	// "cpu", "cpu (no GPU: ...)", "cuda: <GPU name, sm, memory, driver>" or
	// "emulated: ...".
	Device string `json:",omitempty"`
}

// Epoch is one epoch of a run record. Losses are means over the epoch's
// batches (training) or cases (validation); Dice scores are foreground Dice
// (the mean over labels 1..C-1 present in truth or prediction) averaged over
// the cases, NaN when undefined (null in JSON).
type Epoch struct {
	Epoch              int // 1-based
	TrainLoss, ValLoss float64
	TrainDice, ValDice float64
	// ValDiceLabels is the validation Dice of each foreground label
	// (index 0 is label 1), averaged over the cases where it is defined.
	ValDiceLabels []float64
	LR            float64 // learning rate used during the epoch
	Steps         int     // optimiser steps in the epoch
	TrainSeconds  float64 // wall time of the training pass
	ValSeconds    float64 // wall time of the validation pass
	End           time.Time
}

type epochJSON struct {
	Epoch              int
	TrainLoss, ValLoss *float64
	TrainDice, ValDice *float64
	ValDiceLabels      []*float64
	LR                 float64
	Steps              int
	TrainSeconds       float64
	ValSeconds         float64
	End                time.Time
}

func ptr(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

func val(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// MarshalJSON writes NaN scores as null.
func (e Epoch) MarshalJSON() ([]byte, error) {
	j := epochJSON{Epoch: e.Epoch, TrainLoss: ptr(e.TrainLoss), ValLoss: ptr(e.ValLoss), TrainDice: ptr(e.TrainDice),
		ValDice: ptr(e.ValDice), LR: e.LR, Steps: e.Steps, TrainSeconds: e.TrainSeconds, ValSeconds: e.ValSeconds, End: e.End}
	for _, d := range e.ValDiceLabels {
		j.ValDiceLabels = append(j.ValDiceLabels, ptr(d))
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads null scores as NaN.
func (e *Epoch) UnmarshalJSON(b []byte) error {
	var j epochJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = Epoch{Epoch: j.Epoch, TrainLoss: val(j.TrainLoss), ValLoss: val(j.ValLoss), TrainDice: val(j.TrainDice),
		ValDice: val(j.ValDice), LR: j.LR, Steps: j.Steps, TrainSeconds: j.TrainSeconds, ValSeconds: j.ValSeconds, End: j.End}
	for _, d := range j.ValDiceLabels {
		e.ValDiceLabels = append(e.ValDiceLabels, val(d))
	}
	return nil
}

// Run is a run record: what Fit writes to record.json in the run directory
// after every epoch, and returns.
type Run struct {
	ID       string
	Name     string
	Dir      string `json:"-"`
	Settings Settings
	Epochs   []Epoch
	// BestEpoch is the epoch of the highest validation Dice (0 before the
	// first), BestValDice that Dice (NaN before).
	BestEpoch   int
	BestValDice float64
	// Status is "running", "completed", "early stopping" or "cancelled".
	Status  string
	Started time.Time
	Updated time.Time
	// Resumes counts the times the run was resumed.
	Resumes int
}

type runJSON Run

// MarshalJSON writes a NaN BestValDice as null.
func (r *Run) MarshalJSON() ([]byte, error) {
	type alias struct {
		*runJSON
		BestValDice *float64
	}
	return json.Marshal(alias{runJSON: (*runJSON)(r), BestValDice: ptr(r.BestValDice)})
}

// UnmarshalJSON reads a null BestValDice as NaN.
func (r *Run) UnmarshalJSON(b []byte) error {
	type alias struct {
		*runJSON
		BestValDice *float64
	}
	a := alias{runJSON: (*runJSON)(r)}
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	r.BestValDice = val(a.BestValDice)
	return nil
}

// Best returns the epoch of the highest validation Dice; ok is false when
// no epoch has one.
func (r *Run) Best() (e Epoch, ok bool) {
	for _, x := range r.Epochs {
		if x.Epoch == r.BestEpoch {
			return x, true
		}
	}
	return Epoch{}, false
}

// ReadRun reads the record.json of a run directory.
func ReadRun(dir string) (*Run, error) {
	b, err := os.ReadFile(filepath.Join(dir, RecordFile))
	if err != nil {
		return nil, fmt.Errorf("train: run record: %w", err)
	}
	r := new(Run)
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("train: run record %s: %w", filepath.Join(dir, RecordFile), err)
	}
	r.Dir = dir
	return r, nil
}

// newID returns a fresh run id (a random UUID).
func newID() string { return uuid.NewString() }

// Render shows the run as a table of its epochs (HTML and plain text), so
// that a Run is displayed richly as a cell's last expression.
func (r *Run) Render() display.Bundle {
	var h, t strings.Builder
	fmt.Fprintf(&h, "<p><b>%s</b> (%s): %d/%d epochs, %s", html.EscapeString(r.Name), html.EscapeString(r.ID), len(r.Epochs), r.Settings.Epochs, html.EscapeString(r.Status))
	fmt.Fprintf(&t, "%s (%s): %d/%d epochs, %s", r.Name, r.ID, len(r.Epochs), r.Settings.Epochs, r.Status)
	if r.BestEpoch > 0 {
		fmt.Fprintf(&h, "; best validation Dice %.4f at epoch %d", r.BestValDice, r.BestEpoch)
		fmt.Fprintf(&t, "; best validation Dice %.4f at epoch %d", r.BestValDice, r.BestEpoch)
	}
	h.WriteString("</p>\n<table>\n<tr><th>epoch</th><th>train loss</th><th>train Dice</th><th>val loss</th><th>val Dice</th><th>lr</th><th>s</th></tr>\n")
	t.WriteString("\nepoch  train loss  train Dice  val loss  val Dice  lr  s\n")
	for _, e := range r.Epochs {
		cells := []string{fmt.Sprint(e.Epoch), fmt.Sprintf("%.4f", e.TrainLoss), fmt.Sprintf("%.4f", e.TrainDice),
			fmt.Sprintf("%.4f", e.ValLoss), fmt.Sprintf("%.4f", e.ValDice), fmt.Sprintf("%.3g", e.LR), fmt.Sprintf("%.1f", e.TrainSeconds+e.ValSeconds)}
		h.WriteString("<tr><td>" + strings.Join(cells, "</td><td>") + "</td></tr>\n")
		t.WriteString(strings.Join(cells, "  ") + "\n")
	}
	h.WriteString("</table>")
	return display.Bundle{display.MIMEHTML: h.String(), display.MIMEText: t.String()}
}
