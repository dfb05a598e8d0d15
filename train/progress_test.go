package train

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/unetlab/unetlab/display"
)

// recorder is a display.Publisher that keeps what it receives.
type recorder struct {
	mu       sync.Mutex
	displays []display.Bundle
	ids      []string
	updates  []display.Bundle
}

func (r *recorder) Display(b display.Bundle, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.displays = append(r.displays, b)
	r.ids = append(r.ids, id)
	return nil
}

func (r *recorder) Update(b display.Bundle, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updates = append(r.updates, b)
	return nil
}

func (r *recorder) Clear(bool) error { return nil }

func TestProgress(t *testing.T) {
	if display.Interactive() {
		t.Fatal("the default publisher counts as a front end")
	}
	for _, c := range []struct {
		mode     Progress
		displays int
		html     bool
	}{
		{"auto", 1, true}, // a front end's publisher: the live bar
		{ProgressHTML, 1, true},
		{ProgressText, 3, false}, // a line per epoch
		{ProgressNone, 0, false},
	} {
		t.Run(string(c.mode), func(t *testing.T) {
			rec := &recorder{}
			old := display.SetPublisher(rec)
			defer display.SetPublisher(old)
			opt := tinyOptions(t, t.TempDir()+"/run", 3)
			opt.Progress = c.mode
			if c.mode == "auto" {
				opt.Progress = ProgressAuto
			}
			if _, err := Fit(context.Background(), &opt); err != nil {
				t.Fatal(err)
			}
			if len(rec.displays) != c.displays {
				t.Fatalf("%d outputs shown, want %d", len(rec.displays), c.displays)
			}
			if !c.html {
				if len(rec.updates) != 0 {
					t.Fatalf("%d updates without a live bar", len(rec.updates))
				}
				for _, b := range rec.displays {
					if !strings.Contains(b.Text(), "val loss") {
						t.Fatalf("epoch line %q", b.Text())
					}
				}
				return
			}
			if rec.ids[0] == "" {
				t.Fatal("the bar has no display id")
			}
			// Updates: at most one per 200 ms plus one per epoch and the last.
			if len(rec.updates) < 4 || len(rec.updates) > 3+1+15 {
				t.Fatalf("%d updates", len(rec.updates))
			}
			last := rec.updates[len(rec.updates)-1]
			h, _ := last[display.MIMEHTML].(string)
			if !strings.Contains(h, "<progress") || !strings.Contains(h, `value="1.0000"`) || !strings.Contains(last.Text(), "completed") {
				t.Fatalf("last update %q", h)
			}
			// The finished bar shows the last epoch complete, not the
			// next one at step 0.
			if txt := last.Text(); !strings.Contains(txt, "epoch 3/3 step") || strings.Contains(txt, " step 0/") {
				t.Fatalf("finished bar %q, want epoch 3/3 with every step done", txt)
			}
		})
	}
}
