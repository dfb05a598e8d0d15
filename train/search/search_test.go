package search

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"math"
	"strings"
	"testing"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/rng"
	"github.com/unetlab/unetlab/viz"
)

// bump is a smooth objective with its maximum 1 at log10(lr) = centre, of
// width w decades, plus Gaussian noise of standard deviation sd drawn from r.
func bump(centre, w, sd float64, r *rng.Rand) Objective {
	return func(ctx context.Context, lr float64) (float64, error) {
		d := (math.Log10(lr) - centre) / w
		v := math.Exp(-0.5 * d * d)
		if sd > 0 {
			v += sd * r.Norm()
		}
		return v, nil
	}
}

// TestBeatsRandom: on bumps of random centre in log-lr, TPE and GP end
// closer to the optimum than random search, on average over seeds, and
// find its region more often.
func TestBeatsRandom(t *testing.T) {
	const seeds = 30
	for _, w := range []float64{0.15, 0.3} {
		regret := map[Method]float64{}
		hits := map[Method]int{}
		for _, m := range []Method{Random, TPE, GP} {
			for seed := uint64(0); seed < seeds; seed++ {
				centre := rng.Derive(1234, seed).Uniform(-5, -2)
				res, err := Run(context.Background(), bump(centre, w, 0.02, rng.Derive(777, seed)), &Options{Method: m, Seed: seed})
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Trials) != DefaultTrials {
					t.Fatalf("%s: %d trials, want %d", m, len(res.Trials), DefaultTrials)
				}
				d := (math.Log10(res.BestLR()) - centre) / w
				regret[m] += (1 - math.Exp(-0.5*d*d)) / seeds
				if math.Abs(math.Log10(res.BestLR())-centre) < 0.25 {
					hits[m]++
				}
			}
		}
		t.Logf("width %.2f decades: mean regret random %.4f, TPE %.4f, GP %.4f; optimum region found %d, %d, %d of %d",
			w, regret[Random], regret[TPE], regret[GP], hits[Random], hits[TPE], hits[GP], seeds)
		for _, m := range []Method{TPE, GP} {
			if !(regret[m] < 0.6*regret[Random]) {
				t.Errorf("width %.2f: %s mean regret %.4f, want < 0.6 x random's %.4f", w, m, regret[m], regret[Random])
			}
			if hits[m] < hits[Random] {
				t.Errorf("width %.2f: %s found the optimum region %d times, random %d", w, m, hits[m], hits[Random])
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	for _, m := range []Method{Random, TPE, GP} {
		t.Run(string(m), func(t *testing.T) {
			run := func(seed uint64) []Trial {
				res, err := Run(context.Background(), bump(-3, 0.4, 0, nil), &Options{Method: m, Seed: seed, Trials: 12})
				if err != nil {
					t.Fatal(err)
				}
				return res.Trials
			}
			a, b, c := run(7), run(7), run(8)
			for i := range a {
				if a[i].LR != b[i].LR || a[i].Value != b[i].Value || a[i].Source != b[i].Source {
					t.Fatalf("seed 7 twice: trial %d differs: %+v vs %+v", i+1, a[i], b[i])
				}
			}
			same := 0
			for i := range a {
				if a[i].LR == c[i].LR {
					same++
				}
			}
			if same == len(a) {
				t.Errorf("seeds 7 and 8 gave the same trials")
			}
			if m != Random && a[len(a)-1].Source != string(m) {
				t.Errorf("last trial chosen by %q, want %q", a[len(a)-1].Source, m)
			}
		})
	}
}

// TestResume: a search resumed from the first trials of an interrupted one
// (Options.History) runs the same trials as the uninterrupted search.
func TestResume(t *testing.T) {
	for _, m := range []Method{TPE, GP} {
		full, err := Run(context.Background(), bump(-2.5, 0.3, 0, nil), &Options{Method: m, Seed: 3, Trials: 10})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		obj := func(c context.Context, lr float64) (float64, error) {
			calls++
			if calls == 7 {
				cancel()
				return 0, c.Err()
			}
			return bump(-2.5, 0.3, 0, nil)(c, lr)
		}
		part, err := Run(ctx, obj, &Options{Method: m, Seed: 3, Trials: 10})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: interrupted search: err %v, want context.Canceled", m, err)
		}
		if len(part.Trials) != 6 {
			t.Fatalf("%s: interrupted search kept %d trials, want 6", m, len(part.Trials))
		}
		rest, err := Run(context.Background(), bump(-2.5, 0.3, 0, nil), &Options{Method: m, Seed: 3, Trials: 10, History: part.Trials})
		if err != nil {
			t.Fatal(err)
		}
		for i := range full.Trials {
			if full.Trials[i].LR != rest.Trials[i].LR || full.Trials[i].Index != rest.Trials[i].Index {
				t.Fatalf("%s: trial %d: resumed lr %g, uninterrupted %g", m, i+1, rest.Trials[i].LR, full.Trials[i].LR)
			}
		}
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	res, err := Run(ctx, func(context.Context, float64) (float64, error) { called = true; return 1, nil }, &Options{})
	if !errors.Is(err, context.Canceled) || called || res == nil || len(res.Trials) != 0 {
		t.Fatalf("cancelled before start: err %v, called %v, result %+v", err, called, res)
	}
	// Cancelled while a trial runs: the objective returns early with some
	// value; that trial is dropped.
	ctx, cancel = context.WithCancel(context.Background())
	n := 0
	res, err = Run(ctx, func(c context.Context, lr float64) (float64, error) {
		n++
		if n == 3 {
			cancel()
			return 0.5, nil // an objective that ignores ctx still stops the search
		}
		return 0.1, nil
	}, &Options{Method: GP})
	if !errors.Is(err, context.Canceled) || len(res.Trials) != 2 || n != 3 {
		t.Fatalf("cancelled in trial 3: err %v, %d trials kept, %d calls", err, len(res.Trials), n)
	}
	if !strings.Contains(err.Error(), "trial 3") {
		t.Errorf("error %q does not name trial 3", err)
	}
}

func TestObjectiveErrors(t *testing.T) {
	boom := errors.New("out of memory")
	obj := func(_ context.Context, lr float64) (float64, error) {
		if lr > 1e-3 {
			return 0, boom
		}
		return math.Log10(lr) + 7, nil
	}
	res, err := Run(context.Background(), obj, &Options{Seed: 1})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "trial ") {
		t.Fatalf("err %v, want the objective's error naming the trial", err)
	}
	for _, tr := range res.Trials {
		if tr.LR > 1e-3 || tr.Failed() {
			t.Errorf("trial %+v kept after the failure", tr)
		}
	}
	res, err = Run(context.Background(), obj, &Options{Seed: 1, KeepGoing: true, Method: GP})
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, tr := range res.Trials {
		if tr.Failed() {
			failed++
			if tr.Err != boom.Error() || tr.LR <= 1e-3 || tr.Value != 0 {
				t.Errorf("failed trial %+v", tr)
			}
		}
	}
	if failed == 0 || len(res.Trials) != DefaultTrials {
		t.Errorf("KeepGoing: %d trials, %d failed", len(res.Trials), failed)
	}
	if b, _ := res.Best(); b.Failed() || b.LR > 1e-3 {
		t.Errorf("best %+v", b)
	}
	// NaN is not a score.
	_, err = Run(context.Background(), func(context.Context, float64) (float64, error) { return math.NaN(), nil }, &Options{})
	if !errors.Is(err, ErrTrial) {
		t.Errorf("NaN value: err %v, want ErrTrial", err)
	}
	if _, err := Run(context.Background(), nil, &Options{}); !errors.Is(err, ErrOptions) {
		t.Errorf("nil objective: err %v", err)
	}
}

func TestBadOptions(t *testing.T) {
	cases := []struct {
		name string
		opt  Options
		want string
	}{
		{"method", Options{Method: "grid"}, `search: invalid options: Method "grid": must be "" (TPE), "tpe", "gp" or "random"`},
		{"kernel", Options{Kernel: "linear"}, `search: invalid options: Kernel "linear": must be "" (Matern52), "matern52" or "rbf"`},
		{"trials", Options{Trials: -1}, "search: invalid options: Trials -1: must be >= 0 (0: 20)"},
		{"negative low", Options{Low: -1e-3}, "search: invalid options: Low -0.001: must be finite and > 0 (0: 1e-6)"},
		{"empty range", Options{Low: 1e-2, High: 1e-3}, "search: invalid options: High 0.001: must be > Low 0.01"},
		{"NaN high", Options{High: math.NaN()}, "search: invalid options: High NaN: must be finite and > 0 (0: 1e-1)"},
		{"Inf high", Options{High: math.Inf(1)}, "search: invalid options: High +Inf: must be finite and > 0 (0: 1e-1)"},
		{"startup", Options{Startup: -2}, "search: invalid options: Startup -2: must be >= 0 (0: 5)"},
		{"gamma", Options{Gamma: 1.5}, "search: invalid options: Gamma 1.5: must be in (0, 1) (0: 0.25)"},
		{"candidates", Options{Candidates: -1}, "search: invalid options: Candidates -1: must be >= 0 (0: 24)"},
		{"prior", Options{PriorWeight: -1}, "search: invalid options: PriorWeight -1: must be finite and > 0 (0: 1)"},
		{"xi", Options{Xi: math.NaN()}, "search: invalid options: Xi NaN: must be finite"},
		{"history too long", Options{Trials: 1, History: []Trial{{LR: 1e-3}, {LR: 1e-3}}}, "search: invalid options: len(History) 2: must be <= Trials 1"},
		{"history out of range", Options{History: []Trial{{LR: 1}}}, "History[0]"},
		{"history NaN", Options{History: []Trial{{LR: 1e-3, Value: math.NaN()}}}, "value NaN"},
	}
	obj := func(context.Context, float64) (float64, error) { return 0, nil }
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Run(context.Background(), obj, &c.opt)
			if !errors.Is(err, ErrOptions) || res != nil {
				t.Fatalf("err %v, result %v; want ErrOptions and nil", err, res)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
			keep := fmt.Sprintf("%+v", c.opt)
			if _, err := New(&c.opt); !errors.Is(err, ErrOptions) {
				t.Errorf("New: err %v", err)
			}
			if got := fmt.Sprintf("%+v", c.opt); got != keep {
				t.Errorf("New changed the caller's options: %s, was %s", got, keep)
			}
		})
	}
}

func TestAskTell(t *testing.T) {
	s, err := New(&Options{Low: 1e-5, High: 1e-2, Startup: 2})
	if err != nil {
		t.Fatal(err)
	}
	a, b := s.Ask(), s.Ask()
	if a != b || a.Index != 1 || a.Source != "random" {
		t.Fatalf("Ask twice: %+v, %+v", a, b)
	}
	if err := s.Tell(Trial{LR: 1e-1, Value: 1}); !errors.Is(err, ErrTrial) {
		t.Errorf("Tell outside the range: %v", err)
	}
	if err := s.Tell(Trial{LR: 1e-3, Value: math.Inf(1)}); !errors.Is(err, ErrTrial) {
		t.Errorf("Tell Inf: %v", err)
	}
	for i := 0; i < 6; i++ {
		tr := s.Ask()
		if tr.LR < 1e-5 || tr.LR > 1e-2 || tr.Index != i+1 {
			t.Fatalf("Ask %d: %+v", i, tr)
		}
		if want := map[bool]string{true: "random", false: "tpe"}[i < 2]; tr.Source != want {
			t.Errorf("trial %d chosen by %q, want %q", i+1, tr.Source, want)
		}
		tr.Value = -math.Abs(math.Log10(tr.LR) + 3)
		if err := s.Tell(tr); err != nil {
			t.Fatal(err)
		}
	}
	if s.Len() != 6 || len(s.Result().Trials) != 6 {
		t.Errorf("Len %d", s.Len())
	}
	if _, ok := (&Result{}).Best(); ok {
		t.Error("Best of no trials is ok")
	}
	if !math.IsNaN((&Result{}).BestLR()) {
		t.Error("BestLR of no trials is not NaN")
	}
}

// TestParzen: the truncated mixture is a density on the range (integrates
// to 1), its samples stay in the range and follow it.
func TestParzen(t *testing.T) {
	for _, xs := range [][]float64{nil, {-3}, {-5.5, -3, -2.9, -1.2}, {-1.05, -1.02, -1.01}} {
		p := newParzen(xs, -6, -1, 1)
		const n = 20000
		var integral float64
		for i := 0; i < n; i++ {
			x := -6 + 5*(float64(i)+0.5)/n
			integral += math.Exp(p.logPDF(x)) * 5 / n
		}
		if math.Abs(integral-1) > 1e-3 {
			t.Errorf("points %v: density integrates to %.5f", xs, integral)
		}
		for i, s := range p.sigma {
			if !(s > 0 && s <= 5+1e-12) {
				t.Errorf("points %v: component %d width %g", xs, i, s)
			}
		}
		r := rng.New(1)
		var mean, want float64
		for i := 0; i < n; i++ {
			x := p.sample(r)
			if x < -6 || x > -1 {
				t.Fatalf("sample %g outside the range", x)
			}
			mean += x / n
			xm := -6 + 5*(float64(i)+0.5)/n
			want += xm * math.Exp(p.logPDF(xm)) * 5 / n
		}
		if math.Abs(mean-want) > 0.05 {
			t.Errorf("points %v: sample mean %.3f, density mean %.3f", xs, mean, want)
		}
	}
}

func TestSplit(t *testing.T) {
	var trials []Trial
	for i, v := range []float64{0.3, 0.9, 0.1, 0.9, 0.5, 0.2, 0.7, 0.4, 0.6} {
		trials = append(trials, Trial{Index: i + 1, Value: v})
	}
	// n = 9, gamma 0.25: ceil(0.75) = 1 good trial, the first 0.9.
	good, bad := splitTrials(trials, 0.25)
	if len(good) != 1 || good[0].Index != 2 || len(bad) != 8 {
		t.Fatalf("good %v", good)
	}
	good, _ = splitTrials(trials, 0.9) // ceil(2.7) = 3
	if len(good) != 3 || good[0].Index != 2 || good[1].Index != 4 || good[2].Index != 7 {
		t.Fatalf("good %v", good)
	}
}

// TestGPFit: with little noise the posterior mean passes through the data
// and the spread vanishes there; a smooth function picks a long length
// scale, a wiggly one a short one; expected improvement is never negative.
func TestGPFit(t *testing.T) {
	for _, k := range []Kernel{Matern52, RBF} {
		x := []float64{0, 0.2, 0.35, 0.5, 0.8, 1}
		smooth := make([]float64, len(x))
		wiggly := make([]float64, len(x))
		for i, v := range x {
			smooth[i] = 0.5 + 0.2*v
			wiggly[i] = math.Sin(40 * v)
		}
		g, ok := fitGP(x, smooth, k)
		if !ok {
			t.Fatal("fit failed")
		}
		for i, v := range x {
			mu, sd := g.predict(v)
			if math.Abs(mu-smooth[i]) > 1e-3 || sd > 1e-2 {
				t.Errorf("%s: at %g: mean %g sd %g, want %g and ~0", k, v, mu, sd, smooth[i])
			}
			if ei := g.expectedImprovement(v+0.05, 0.01); ei < 0 {
				t.Errorf("%s: EI %g < 0", k, ei)
			}
		}
		gw, _ := fitGP(x, wiggly, k)
		if !(g.length > gw.length) {
			t.Errorf("%s: length scale smooth %g, wiggly %g", k, g.length, gw.length)
		}
		// One point, constant values: still a valid model.
		if g1, ok := fitGP([]float64{0.3}, []float64{0.7}, k); !ok {
			t.Error("one point: fit failed")
		} else if mu, _ := g1.predict(0.3); math.Abs(mu-0.7) > 1e-6 {
			t.Errorf("one point: mean %g", mu)
		}
	}
}

func TestRender(t *testing.T) {
	for _, m := range []Method{TPE, GP, Random} {
		res, err := Run(context.Background(), bump(-3, 0.5, 0, nil), &Options{Method: m, Trials: 8, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		res.Trials[3].Err, res.Trials[3].Value = "diverged", 0
		b := res.Render()
		text, _ := b[display.MIMEText].(string)
		html, _ := b[display.MIMEHTML].(string)
		best, _ := res.Best()
		bestLR := fmt.Sprintf("%.3e", best.LR)
		for _, want := range []string{"Learning-rate search", "learning rate", "best so far", "failed", "diverged", bestLR + "*"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: text lacks %q:\n%s", m, want, text)
			}
		}
		if !strings.Contains(html, "<b>"+bestLR+"</b>") || !strings.Contains(html, "<table") {
			t.Errorf("%s: HTML does not show the best rate in bold", m)
		}
		if res.String() != text {
			t.Errorf("String differs from the text bundle")
		}
		fig, err := res.Plot()
		if err != nil {
			t.Fatal(err)
		}
		data, err := fig.PNG()
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if w, h := fig.PixelSize(); img.Bounds().Dx() != w || img.Bounds().Dy() != h {
			t.Errorf("PNG %v, want %dx%d", img.Bounds(), w, h)
		}
		if _, err := fig.SVG(); err != nil {
			t.Error(err)
		}
	}
	empty := &Result{Method: TPE, Low: 1e-6, High: 1e-1, Trials: []Trial{{Index: 1, LR: 1e-3, Err: "x"}}}
	if _, err := empty.Plot(); !errors.Is(err, viz.ErrInput) {
		t.Errorf("Plot with no success: %v", err)
	}
	if !strings.Contains(empty.String(), "No successful trial") {
		t.Errorf("table of failures: %s", empty.String())
	}
}

func TestDecadeTicks(t *testing.T) {
	var labels []string
	for _, tk := range (decadeTicks{}).Ticks(1e-6, 1e-1) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, " "); got != "1e-06 1e-05 0.0001 0.001 0.01 0.1" {
		t.Errorf("labels %q", got)
	}
	if n := len((decadeTicks{}).Ticks(2e-4, 3e-3)); n != 11 { // 2..9e-4, 1..3e-3
		t.Errorf("%d ticks on [2e-4, 3e-3], want 11", n)
	}
	if (decadeTicks{}).Ticks(-1, 1) != nil {
		t.Error("ticks on a non-positive range")
	}
}
