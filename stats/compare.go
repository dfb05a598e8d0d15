package stats

import (
	"fmt"
	"math"
	"sort"

	"github.com/unetlab/unetlab/internal/samplestat"
	"github.com/unetlab/unetlab/rng"
)

// Summary is the mean and sample standard deviation (n-1 in the
// denominator) of the non-NaN values of a sample, and how many there were.
type Summary struct {
	Mean, SD float64
	N        int
}

// String formats the summary as "mean ± sd" with three decimals.
func (s Summary) String() string { return fmt.Sprintf("%.3f ± %.3f", s.Mean, s.SD) }

// Summarize returns the mean and sample standard deviation of x, ignoring
// NaN values. SD is NaN when fewer than two values remain.
func Summarize(x []float64) Summary {
	var s Summary
	for _, v := range x {
		if !math.IsNaN(v) {
			s.Mean += v
			s.N++
		}
	}
	if s.N == 0 {
		return Summary{Mean: math.NaN(), SD: math.NaN()}
	}
	s.Mean /= float64(s.N)
	if s.N < 2 {
		s.SD = math.NaN()
		return s
	}
	var ss float64
	for _, v := range x {
		if !math.IsNaN(v) {
			ss += (v - s.Mean) * (v - s.Mean)
		}
	}
	s.SD = math.Sqrt(ss / float64(s.N-1))
	return s
}

// FoldDifferences returns model[i] - baseline[i] for every fold i: the
// fold-wise differences (FWD) of the paper's Table 1. Both slices hold one
// score per fold, the folds in the same order.
func FoldDifferences(model, baseline []float64) ([]float64, error) {
	if len(model) != len(baseline) {
		return nil, fmt.Errorf("%w: FoldDifferences: model has %d folds, baseline %d", ErrShape, len(model), len(baseline))
	}
	d := make([]float64, len(model))
	for i := range model {
		d[i] = model[i] - baseline[i]
	}
	return d, nil
}

// BootstrapOptions sets the bootstrap test; nil or the zero value means
// 10000 resamples and seed 1.
type BootstrapOptions struct {
	Resamples int    // number of bootstrap resamples B, >= 0; 0 means 10000
	Seed      uint64 // seed of the resampling generator; 0 means 1
}

// resolve returns the number of resamples and the seed o asks for.
func (o *BootstrapOptions) resolve() (b int, seed uint64, err error) {
	var v BootstrapOptions
	if o != nil {
		v = *o
	}
	if v.Resamples < 0 {
		return 0, 0, fmt.Errorf("%w: BootstrapOptions.Resamples %d, want >= 0 (0 means 10000)", ErrOptions, v.Resamples)
	}
	b, seed = v.Resamples, v.Seed
	if b == 0 {
		b = 10000
	}
	if seed == 0 {
		seed = 1
	}
	return b, seed, nil
}

// MinBootstrapPairs is the fewest usable paired differences whose
// bootstrap p-value [Bootstrap] and [BootstrapTest] report as it is; with
// fewer they floor it (see [BootstrapResult]).
const MinBootstrapPairs = 5

// BootstrapResult is the outcome of a paired bootstrap test ([Bootstrap]).
type BootstrapResult struct {
	// P is the two-tailed p-value, in (0, 1]: BootstrapP, raised to MinP
	// when N < MinBootstrapPairs.
	P float64
	// BootstrapP is the bootstrap's own p-value, (1 + #extreme) / (B + 1).
	BootstrapP float64
	// N is the number of usable (non-NaN) differences.
	N int
	// MinP is 2/2^N, the smallest two-tailed p-value an exact sign-flip
	// (paired permutation) test of N differences can give: of its 2^N
	// equally likely sign patterns, the observed one and its mirror image
	// are always as extreme as the data. With 3 folds it is 0.25, with 5
	// 0.0625: below it, a p-value says more than N pairs can show without
	// assuming the differences' distribution.
	MinP float64
	// Warning is "" when N >= MinBootstrapPairs; otherwise it says that P
	// was floored at MinP and why, in a sentence to print beside it.
	Warning string
}

// Bootstrap runs the two-tailed bootstrap test of the hypothesis that the
// mean of the paired differences d (one per fold, model minus baseline) is
// zero, and says how far its p-value can be trusted.
//
// The procedure (Efron and Tibshirani 1993, §16.4, the one-sample test with
// the null imposed by centring): with t = mean(d), the differences are
// shifted to d_i - t so that the null holds exactly; B resamples of size n
// are drawn with replacement from the shifted values, each giving a mean
// t*_b; the bootstrap p-value is (1 + #{b : |t*_b| >= |t|}) / (B + 1), so
// it is never exactly zero. NaN differences are dropped. Identical models
// (every d_i = 0) give p = 1. The generator is SplitMix64 (rng), so
// a seed gives the same p on every machine and Go version.
//
// With few differences the bootstrap distribution is too narrow: with 3
// folds of the same sign every resampled mean has that sign too, and the
// bootstrap p comes out near 1/(B+1) however small the difference. So when
// fewer than MinBootstrapPairs differences remain, P is raised to MinP =
// 2/2^n, the floor of the exact sign-flip test of n pairs, and Warning says
// so. It is an error to pass fewer than 2 usable differences.
func Bootstrap(d []float64, opt *BootstrapOptions) (BootstrapResult, error) {
	b, seed, err := opt.resolve()
	if err != nil {
		return BootstrapResult{}, err
	}
	x := make([]float64, 0, len(d))
	for _, v := range d {
		if !math.IsNaN(v) {
			x = append(x, v)
		}
	}
	if len(x) < 2 {
		return BootstrapResult{}, fmt.Errorf("%w: Bootstrap: %d usable differences, want at least 2", ErrInput, len(x))
	}
	var t float64
	for _, v := range x {
		t += v
	}
	t /= float64(len(x))
	for i := range x {
		x[i] -= t
	}
	// Compare with a small relative tolerance so that rounding in the
	// centring cannot make identical resamples count as less extreme.
	thresh := math.Abs(t) * (1 - 1e-12)
	// SplitMix64 draws reduced modulo n: the modulo bias for fold counts is
	// below 1e-17, and the stream is fixed by rng's code.
	state := seed
	draw := func(n int) int { return int(rng.SplitMix64(&state) % uint64(n)) }
	extreme := 0
	samplestat.EachBootstrapMean(x, b, draw, func(m float64) {
		if math.Abs(m) >= thresh {
			extreme++
		}
	})
	n := len(x)
	r := BootstrapResult{BootstrapP: float64(1+extreme) / float64(b+1), N: n, MinP: math.Min(1, math.Ldexp(2, -n))}
	r.P = r.BootstrapP
	if n < MinBootstrapPairs {
		r.P = math.Max(r.P, r.MinP)
		r.Warning = fmt.Sprintf("only %d paired differences: a bootstrap needs at least %d to resolve a p-value; "+
			"an exact sign-flip test of %d pairs cannot go below p = 2/2^%d = %.4g however large the difference, "+
			"so p is reported as at least that", n, MinBootstrapPairs, n, n, r.MinP)
	}
	return r, nil
}

// BootstrapTest returns the two-tailed bootstrap p-value of the hypothesis
// that the mean of the paired differences d is zero: [Bootstrap]'s P. A
// large difference of constant sign gives p near 1/(B+1) from 5 differences
// on; with 2 to 4 differences p is at least 2/2^n (0.25 for 3 folds), and
// Bootstrap's Warning, which BootstrapTest drops, says why.
func BootstrapTest(d []float64, opt *BootstrapOptions) (float64, error) {
	r, err := Bootstrap(d, opt)
	if err != nil {
		return 0, err
	}
	return r.P, nil
}

// Ranks ranks models row by row. scores[r][m] is the score of model m on row
// r (a task's label, say), higher being better; the result holds, for each
// row, each model's rank, 1 for the best, ties sharing the mean of their
// ranks. NaN scores rank last (tied among themselves).
func Ranks(scores [][]float64) ([][]float64, error) {
	if len(scores) == 0 {
		return nil, nil
	}
	m := len(scores[0])
	out := make([][]float64, len(scores))
	idx := make([]int, m)
	for r, row := range scores {
		if len(row) != m {
			return nil, fmt.Errorf("%w: Ranks: row %d has %d models, row 0 has %d", ErrShape, r, len(row), m)
		}
		for i := range idx {
			idx[i] = i
		}
		// Higher first, NaN after everything (-Inf included).
		better := func(a, b float64) bool {
			return !math.IsNaN(a) && (math.IsNaN(b) || a > b)
		}
		same := func(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }
		sort.SliceStable(idx, func(a, b int) bool { return better(row[idx[a]], row[idx[b]]) })
		ranks := make([]float64, m)
		for i := 0; i < m; {
			j := i
			for j+1 < m && same(row[idx[j+1]], row[idx[i]]) {
				j++
			}
			mean := float64(i+j)/2 + 1
			for k := i; k <= j; k++ {
				ranks[idx[k]] = mean
			}
			i = j + 1
		}
		out[r] = ranks
	}
	return out, nil
}

// AverageRanks returns each model's rank averaged over the rows of scores
// (see [Ranks]). The paper averages over its 17 label rows, not its 10 tasks.
func AverageRanks(scores [][]float64) ([]float64, error) {
	ranks, err := Ranks(scores)
	if err != nil || len(ranks) == 0 {
		return nil, err
	}
	avg := make([]float64, len(ranks[0]))
	for _, row := range ranks {
		for m, r := range row {
			avg[m] += r
		}
	}
	for m := range avg {
		avg[m] /= float64(len(ranks))
	}
	return avg, nil
}
