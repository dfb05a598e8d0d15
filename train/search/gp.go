package search

import (
	"math"

	"github.com/unetlab/unetlab/rng"
)

// The GP's hyperparameter grid, in units of the scaled input ([0, 1] over
// the log range) and of the standardised values.
var (
	gpLengths = []float64{0.02, 0.04, 0.07, 0.1, 0.15, 0.2, 0.3, 0.45, 0.7, 1, 1.5}
	gpSignals = []float64{0.3, 1, 3}
	gpNoises  = []float64{1e-6, 1e-4, 1e-3, 1e-2, 0.1}
)

// gpCells is the number of cells of the jittered grid on which the expected
// improvement is maximised.
const gpCells = 256

// gpModel is a zero-mean Gaussian process fitted to standardised values.
type gpModel struct {
	kernel            Kernel
	length, s2, noise float64
	x                 []float64 // inputs in [0, 1]
	chol              []float64 // lower Cholesky factor of K + noise I, n x n row-major
	alpha             []float64 // (K + noise I)^-1 y
	mean, scale       float64   // y = mean + scale * standardised
	best              float64   // best standardised value observed
	logML             float64   // log marginal likelihood of the chosen hyperparameters
}

// cov returns the kernel at distance r.
func (g *gpModel) cov(r float64) float64 {
	r = math.Abs(r) / g.length
	if g.kernel == RBF {
		return g.s2 * math.Exp(-0.5*r*r)
	}
	s := math.Sqrt(5) * r
	return g.s2 * (1 + s + s*s/3) * math.Exp(-s)
}

// fitGP fits a GP to values y at inputs x in [0, 1], choosing the
// hyperparameters on the grid by marginal likelihood. ok is false when no
// grid point gives a positive definite covariance (never for distinct
// inputs and positive noise, kept as a guard).
func fitGP(x, y []float64, kernel Kernel) (g *gpModel, ok bool) {
	n := len(x)
	mean, scale := 0.0, 0.0
	for _, v := range y {
		mean += v
	}
	mean /= float64(n)
	for _, v := range y {
		scale += (v - mean) * (v - mean)
	}
	scale = math.Sqrt(scale / float64(n))
	if !(scale > 1e-12) {
		scale = 1
	}
	ys := make([]float64, n)
	best := math.Inf(-1)
	for i, v := range y {
		ys[i] = (v - mean) / scale
		best = math.Max(best, ys[i])
	}
	for _, l := range gpLengths {
		for _, s2 := range gpSignals {
			for _, noise := range gpNoises {
				c := &gpModel{kernel: kernel, length: l, s2: s2, noise: noise, x: x, mean: mean, scale: scale, best: best}
				if !c.factor(ys) {
					continue
				}
				if g == nil || c.logML > g.logML {
					g = c
				}
			}
		}
	}
	return g, g != nil
}

// factor computes the Cholesky factor, alpha and the log marginal
// likelihood for standardised values ys; false when not positive definite.
func (g *gpModel) factor(ys []float64) bool {
	n := len(g.x)
	a := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			a[i*n+j] = g.cov(g.x[i] - g.x[j])
		}
		a[i*n+i] += g.noise
	}
	// In-place Cholesky, lower triangle.
	for j := 0; j < n; j++ {
		d := a[j*n+j]
		for k := 0; k < j; k++ {
			d -= a[j*n+k] * a[j*n+k]
		}
		if !(d > 0) {
			return false
		}
		d = math.Sqrt(d)
		a[j*n+j] = d
		for i := j + 1; i < n; i++ {
			s := a[i*n+j]
			for k := 0; k < j; k++ {
				s -= a[i*n+k] * a[j*n+k]
			}
			a[i*n+j] = s / d
		}
	}
	g.chol = a
	z := g.solveLower(ys)
	g.alpha = g.solveUpper(z)
	lml := -0.5 * float64(n) * math.Log(2*math.Pi)
	for i := 0; i < n; i++ {
		lml -= 0.5*z[i]*z[i] + math.Log(a[i*n+i])
	}
	g.logML = lml
	return true
}

// solveLower solves L z = b.
func (g *gpModel) solveLower(b []float64) []float64 {
	n := len(g.x)
	z := make([]float64, n)
	for i := 0; i < n; i++ {
		s := b[i]
		for k := 0; k < i; k++ {
			s -= g.chol[i*n+k] * z[k]
		}
		z[i] = s / g.chol[i*n+i]
	}
	return z
}

// solveUpper solves Lᵀ x = z.
func (g *gpModel) solveUpper(z []float64) []float64 {
	n := len(g.x)
	x := make([]float64, n)
	for i := n - 1; i >= 0; i-- {
		s := z[i]
		for k := i + 1; k < n; k++ {
			s -= g.chol[k*n+i] * x[k]
		}
		x[i] = s / g.chol[i*n+i]
	}
	return x
}

// predictStd returns the posterior mean and standard deviation of the
// latent function at t in [0, 1], in standardised units.
func (g *gpModel) predictStd(t float64) (mu, sd float64) {
	n := len(g.x)
	k := make([]float64, n)
	for i := range k {
		k[i] = g.cov(t - g.x[i])
		mu += k[i] * g.alpha[i]
	}
	v := g.solveLower(k)
	variance := g.s2
	for _, vi := range v {
		variance -= vi * vi
	}
	return mu, math.Sqrt(math.Max(variance, 0))
}

// predict returns the posterior mean and standard deviation at t in the
// objective's units.
func (g *gpModel) predict(t float64) (mu, sd float64) {
	m, s := g.predictStd(t)
	return g.mean + g.scale*m, g.scale * s
}

// expectedImprovement returns E[max(f(t) - best - xi, 0)] under the
// posterior, in standardised units.
func (g *gpModel) expectedImprovement(t, xi float64) float64 {
	mu, sd := g.predictStd(t)
	imp := mu - g.best - xi
	if sd < 1e-12 {
		return math.Max(imp, 0)
	}
	z := imp / sd
	return imp*normCDF(z) + sd*normPDF(z)
}

// scaled maps log10(lr) to [0, 1] over the search range.
func (s *Searcher) scaled(logLR float64) float64 { return (logLR - s.lo) / (s.hi - s.lo) }

// fitTrials fits a GP to the successful trials ok.
func (s *Searcher) fitTrials(ok []Trial) (*gpModel, bool) {
	x := make([]float64, len(ok))
	y := make([]float64, len(ok))
	for i, t := range ok {
		x[i] = s.scaled(math.Log10(t.LR))
		y[i] = t.Value
	}
	return fitGP(x, y, s.opt.Kernel)
}

// gp returns the next point in log10 units: the maximiser of the expected
// improvement over a grid of gpCells cells, one point drawn uniformly in
// each. Where the improvement vanishes everywhere it takes the point of
// largest posterior spread. fitted is false when the GP could not be
// fitted and the point is a uniform draw.
func (s *Searcher) gp(ok []Trial, r *rng.Rand) (x float64, fitted bool) {
	g, fitted := s.fitTrials(ok)
	if !fitted {
		return r.Uniform(s.lo, s.hi), false
	}
	bestT, bestEI := 0.0, -1.0
	spreadT, spread := 0.0, -1.0
	for i := 0; i < gpCells; i++ {
		t := (float64(i) + r.Float64()) / gpCells
		if ei := g.expectedImprovement(t, s.opt.Xi); ei > bestEI {
			bestT, bestEI = t, ei
		}
		if _, sd := g.predictStd(t); sd > spread {
			spreadT, spread = t, sd
		}
	}
	if bestEI < 1e-12 {
		bestT = spreadT
	}
	return s.lo + bestT*(s.hi-s.lo), true
}
