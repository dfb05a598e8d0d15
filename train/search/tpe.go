package search

import (
	"math"
	"sort"

	"github.com/unetlab/unetlab/rng"
)

// linearForgetting is hyperopt's LF: beyond this many trials, older trials
// weigh less in a Parzen estimator (their weights ramp up from 1/n).
const linearForgetting = 25

// parzen is a Gaussian mixture in log10(lr) truncated to [lo, hi].
type parzen struct {
	mu, sigma, w []float64 // w sums to 1
	lo, hi       float64
	logMass      float64 // log of the mixture's mass inside [lo, hi]
}

// tpe returns the next point in log10 units from the successful trials ok
// (at least one), drawing candidates from r.
func (s *Searcher) tpe(ok []Trial, r *rng.Rand) float64 {
	good, bad := splitTrials(ok, s.opt.Gamma)
	l := newParzen(logLRs(good), s.lo, s.hi, s.opt.PriorWeight)
	g := newParzen(logLRs(bad), s.lo, s.hi, s.opt.PriorWeight)
	best, bestScore := 0.0, math.Inf(-1)
	for i := 0; i < s.opt.Candidates; i++ {
		x := l.sample(r)
		if score := l.logPDF(x) - g.logPDF(x); score > bestScore || i == 0 {
			best, bestScore = x, score
		}
	}
	return best
}

// splitTrials splits trials (in their order) into the best
// ceil(gamma*sqrt(n)) values, hyperopt's split, and the rest; both keep the
// trials' order. Equal values rank by trial order.
func splitTrials(trials []Trial, gamma float64) (good, bad []Trial) {
	n := len(trials)
	nGood := int(math.Ceil(gamma * math.Sqrt(float64(n))))
	if nGood > linearForgetting {
		nGood = linearForgetting
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return trials[order[a]].Value > trials[order[b]].Value })
	isGood := make([]bool, n)
	for _, i := range order[:nGood] {
		isGood[i] = true
	}
	for i, t := range trials {
		if isGood[i] {
			good = append(good, t)
		} else {
			bad = append(bad, t)
		}
	}
	return good, bad
}

func logLRs(ts []Trial) []float64 {
	xs := make([]float64, len(ts))
	for i, t := range ts {
		xs[i] = math.Log10(t.LR)
	}
	return xs
}

// newParzen builds hyperopt's adaptive Parzen estimator of the points xs
// (in arrival order) on [lo, hi]: a prior component N((lo+hi)/2, hi-lo) of
// weight priorWeight, and one component per point centred on it, whose
// width is the larger distance to its two neighbours in sorted order (the
// prior's centre counting as a neighbour), clipped to
// [(hi-lo)/min(100, m+1), hi-lo] for m components. A lone point gets half
// the prior's width. Points weigh 1, except that beyond 25 points the
// oldest ones ramp linearly from 1/n.
func newParzen(xs []float64, lo, hi, priorWeight float64) *parzen {
	priorMu, priorSigma := (lo+hi)/2, hi-lo
	n := len(xs)
	weights := make([]float64, n)
	for i := range weights {
		weights[i] = 1
	}
	if n > linearForgetting {
		ramp := n - linearForgetting
		for i := 0; i < ramp; i++ {
			// linspace(1/n, 1, ramp)
			if ramp == 1 {
				weights[i] = 1 / float64(n)
			} else {
				weights[i] = 1/float64(n) + (1-1/float64(n))*float64(i)/float64(ramp-1)
			}
		}
	}
	type comp struct {
		mu, w float64
		prior bool
	}
	comps := make([]comp, 0, n+1)
	for i, x := range xs {
		comps = append(comps, comp{mu: x, w: weights[i]})
	}
	// The prior goes before the first point not below its centre, as
	// a sorted insertion does.
	sort.SliceStable(comps, func(a, b int) bool { return comps[a].mu < comps[b].mu })
	pos := sort.Search(len(comps), func(i int) bool { return comps[i].mu >= priorMu })
	comps = append(comps, comp{})
	copy(comps[pos+1:], comps[pos:])
	comps[pos] = comp{mu: priorMu, w: priorWeight, prior: true}

	m := len(comps)
	p := &parzen{lo: lo, hi: hi, mu: make([]float64, m), sigma: make([]float64, m), w: make([]float64, m)}
	for i, c := range comps {
		p.mu[i], p.w[i] = c.mu, c.w
	}
	switch {
	case m == 1:
		p.sigma[0] = priorSigma
	case m == 2:
		for i, c := range comps {
			if c.prior {
				p.sigma[i] = priorSigma
			} else {
				p.sigma[i] = priorSigma / 2
			}
		}
	default:
		for i := range comps {
			switch i {
			case 0:
				p.sigma[i] = p.mu[1] - p.mu[0]
			case m - 1:
				p.sigma[i] = p.mu[m-1] - p.mu[m-2]
			default:
				p.sigma[i] = math.Max(p.mu[i]-p.mu[i-1], p.mu[i+1]-p.mu[i])
			}
		}
		minSigma := priorSigma / math.Min(100, float64(1+m))
		for i, c := range comps {
			p.sigma[i] = math.Min(math.Max(p.sigma[i], minSigma), priorSigma)
			if c.prior {
				p.sigma[i] = priorSigma
			}
		}
	}
	var total float64
	for _, w := range p.w {
		total += w
	}
	mass := 0.0
	for i := range p.w {
		p.w[i] /= total
		mass += p.w[i] * (normCDF((hi-p.mu[i])/p.sigma[i]) - normCDF((lo-p.mu[i])/p.sigma[i]))
	}
	p.logMass = math.Log(mass)
	return p
}

// sample draws a point of the truncated mixture: a component by weight,
// then a normal draw from it, redrawn while outside [lo, hi].
func (p *parzen) sample(r *rng.Rand) float64 {
	for tries := 0; tries < 1000; tries++ {
		u := r.Float64()
		k := len(p.w) - 1
		for i, w := range p.w {
			if u < w {
				k = i
				break
			}
			u -= w
		}
		x := p.mu[k] + p.sigma[k]*r.Norm()
		if x >= p.lo && x <= p.hi {
			return x
		}
	}
	// Unreachable in practice: every component has at least 1/4 of its
	// mass inside the range.
	return r.Uniform(p.lo, p.hi)
}

// logPDF returns the log density of the truncated mixture at x (inside
// [lo, hi]), in log10(lr) units.
func (p *parzen) logPDF(x float64) float64 {
	terms := make([]float64, len(p.w))
	for i := range p.w {
		z := (x - p.mu[i]) / p.sigma[i]
		terms[i] = math.Log(p.w[i]) - 0.5*z*z - math.Log(p.sigma[i]*math.Sqrt(2*math.Pi))
	}
	return logSumExp(terms) - p.logMass
}

func logSumExp(xs []float64) float64 {
	m := math.Inf(-1)
	for _, x := range xs {
		m = math.Max(m, x)
	}
	if math.IsInf(m, -1) {
		return m
	}
	var s float64
	for _, x := range xs {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}

// normCDF is the standard normal distribution function.
func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// normPDF is the standard normal density.
func normPDF(z float64) float64 { return math.Exp(-0.5*z*z) / math.Sqrt(2*math.Pi) }
