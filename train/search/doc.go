// Package search tunes a learning rate by Bayesian optimisation, as the paper
// did for every model: the learning rate is searched over a log-uniform range
// (default [1e-6, 1e-1]), each trial trains a network at one rate and reports
// an objective to maximise (the best validation foreground Dice), and the next
// rate is chosen from the trials so far.
//
// Three strategies are offered (Options.Method):
//
//   - TPE, the default and the authors' choice: the Tree-structured Parzen
//     Estimator of Bergstra et al. (NeurIPS 2011) as hyperopt implements it
//     for one log-uniform parameter. The trials are split into a good group
//     (the best ceil(Gamma*sqrt(n)) values) and a bad group; each group gets a
//     Parzen estimator in log space (a truncated Gaussian mixture with one
//     component per trial, widths from neighbour distances, plus a broad prior
//     component); Candidates rates are drawn from the good density and the one
//     with the largest ratio good/bad, which orders candidates as the expected
//     improvement does, is tried next.
//   - GP: a Gaussian process on log10(lr) scaled to [0, 1], Matérn 5/2 (the
//     default) or squared-exponential kernel, its length scale, signal
//     variance and noise variance chosen by maximising the marginal
//     likelihood over a small grid; the next rate maximises the expected
//     improvement over a jittered grid of the range.
//   - Random: log-uniform draws, the baseline the other two must beat.
//
// The first Startup trials of TPE and GP are log-uniform draws too.
//
// A search is deterministic: trial i draws from its own stream
// rng.Derive(Seed, i) of package rng, so the same seed and the same
// objective values give the same rates on every machine, and a search resumed
// from its earlier trials (Options.History) continues exactly as the
// uninterrupted one would have.
//
// Run drives a whole search; Searcher exposes the same steps one at a time
// (Ask for a rate, Tell its value) for callers that run trials themselves. A
// Result shows itself as a trials table (text/html and text/plain) and draws
// the objective against the rate on a log axis (Plot).
package search
