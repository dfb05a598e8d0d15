// Package samplestat holds the sample statistics that stats and viz share:
// quantiles of a sorted sample and bootstrap means. Each caller keeps its
// own random generator (stats a SplitMix64 stream, viz a PCG), so the
// resampling takes the draw as a function.
package samplestat

import "math"

// Quantile returns the p-quantile (p in [0, 1]) of the ascending sample
// sorted by linear interpolation between order statistics: with
// pos = p·(n-1), sorted[⌊pos⌋] + frac(pos)·(sorted[⌊pos⌋+1] - sorted[⌊pos⌋]),
// numpy.percentile's default ("linear", Hyndman and Fan's type 7). It is
// NaN for an empty sample; p >= 1 gives the maximum.
func Quantile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	pos := p * float64(n-1)
	lo := int(math.Floor(pos))
	if lo >= n-1 {
		return sorted[n-1]
	}
	if lo < 0 {
		return sorted[0]
	}
	return sorted[lo] + (pos-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// BootstrapMeans returns b bootstrap means of x: each is the mean of len(x)
// values drawn from x with replacement, the k-th draw of a resample being
// x[intn(len(x))], summed in draw order and divided by len(x). intn(n) must
// return an integer in [0, n). x must not be empty.
func BootstrapMeans(x []float64, b int, intn func(n int) int) []float64 {
	means := make([]float64, 0, b)
	EachBootstrapMean(x, b, intn, func(m float64) { means = append(means, m) })
	return means
}

// EachBootstrapMean is BootstrapMeans without the slice: it calls f with
// each of the b means in turn, in constant memory, for callers that only
// count or accumulate (a test with many resamples).
func EachBootstrapMean(x []float64, b int, intn func(n int) int, f func(mean float64)) {
	n := len(x)
	for range b {
		s := 0.0
		for range n {
			s += x[intn(n)]
		}
		f(s / float64(n))
	}
}
