package train

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"

	"github.com/unetlab/unetlab/display"
)

// minUpdate is the least time between two updates of the live bar.
const minUpdate = 200 * time.Millisecond

// progress reports a run's progress: a live bar (HTML) or a line per epoch.
type progress struct {
	mode        Progress
	run         *Run
	steps, vals int // training steps and validation cases per epoch
	handle      *display.Handle
	start       time.Time
	startWork   float64 // steps done before this session, in step units
	lastUpdate  time.Time
	epoch, cur  int
	loss, dice  float64
	stepsDone   int // steps run in this session
	last        *Epoch
}

func newProgress(mode Progress, run *Run, steps, vals int) *progress {
	if mode == ProgressAuto {
		if display.Interactive() {
			mode = ProgressHTML
		} else {
			mode = ProgressText
		}
	}
	p := &progress{mode: mode, run: run, steps: steps, vals: vals, start: time.Now(), epoch: len(run.Epochs) + 1,
		loss: math.NaN(), dice: math.NaN()}
	if mode == ProgressHTML {
		p.handle = display.ShowLive(p)
	}
	return p
}

func (p *progress) step(epoch, step int, loss, dice float64) {
	p.epoch, p.cur, p.loss, p.dice = epoch, step, loss, dice
	p.stepsDone++
	if p.handle != nil && time.Since(p.lastUpdate) >= minUpdate {
		p.lastUpdate = time.Now()
		p.handle.Update(p)
	}
}

func (p *progress) epochDone(e Epoch) {
	p.last = &e
	p.cur = 0
	p.epoch = e.Epoch + 1
	switch p.mode {
	case ProgressHTML:
		p.lastUpdate = time.Now()
		p.handle.Update(p)
	case ProgressText:
		display.Show(display.Text(p.line(e)))
	}
}

func (p *progress) finish() {
	if p.handle != nil {
		p.handle.Update(p)
	}
}

// line is the plain report of one epoch.
func (p *progress) line(e Epoch) string {
	return fmt.Sprintf("%s epoch %d/%d: train loss %.4f Dice %.4f | val loss %.4f Dice %.4f | lr %.3g | %.1fs",
		p.run.Name, e.Epoch, p.run.Settings.Epochs, e.TrainLoss, e.TrainDice, e.ValLoss, e.ValDice, e.LR, e.TrainSeconds+e.ValSeconds)
}

// left estimates the time left from the pace of this session's steps.
func (p *progress) left() time.Duration {
	if p.stepsDone == 0 {
		return -1
	}
	per := time.Since(p.start).Seconds() / float64(p.stepsDone)
	// A validation case costs about a third of a training step per volume.
	perEpoch := float64(p.steps) + float64(p.vals)/3
	remaining := float64(p.run.Settings.Epochs-p.epoch)*perEpoch + float64(p.steps-p.cur) + float64(p.vals)/3
	if p.epoch > p.run.Settings.Epochs {
		remaining = 0
	}
	return time.Duration(remaining * per * float64(time.Second))
}

func fmtDuration(d time.Duration) string {
	if d < 0 {
		return "?"
	}
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%02d:%02d", m, s)
}

func (p *progress) text() string {
	s := p.run.Settings
	ep, cur := min(p.epoch, s.Epochs), p.cur
	if p.run.Status != "running" && p.cur == 0 && len(p.run.Epochs) > 0 {
		// Finished (or stopped early) at an epoch's end: show that epoch
		// complete, not the next one at step 0.
		ep, cur = p.run.Epochs[len(p.run.Epochs)-1].Epoch, p.steps
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s epoch %d/%d step %d/%d loss %.4f Dice %.4f", p.run.Name, ep, s.Epochs, cur, p.steps, p.loss, p.dice)
	if p.last != nil {
		fmt.Fprintf(&b, " | last val loss %.4f Dice %.4f", p.last.ValLoss, p.last.ValDice)
	}
	if p.run.Status != "running" {
		fmt.Fprintf(&b, " | %s", p.run.Status)
	} else {
		fmt.Fprintf(&b, " | %s left", fmtDuration(p.left()))
	}
	return b.String()
}

// Render draws the bar: epochs done plus the fraction of the current one.
func (p *progress) Render() display.Bundle {
	s := p.run.Settings
	done := float64(len(p.run.Epochs))
	if p.steps > 0 && p.epoch <= s.Epochs {
		done += float64(p.cur) / float64(p.steps)
	}
	frac := math.Min(1, done/float64(max(s.Epochs, 1)))
	t := p.text()
	h := fmt.Sprintf(`<div style="font-family:monospace;font-size:90%%"><progress value="%.4f" max="1" style="width:30em;vertical-align:middle"></progress> %.0f%%<br>%s</div>`,
		frac, 100*frac, html.EscapeString(t))
	return display.Bundle{display.MIMEHTML: h, display.MIMEText: t}
}
