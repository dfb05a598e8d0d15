// Package split makes k-fold cross-validation and train/validation splits
// of case indices: shuffled by a seed with package rng, so that the same
// seed gives the same folds on every machine and Go version.
package split

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/unetlab/unetlab/rng"
)

// ErrSplit reports impossible split parameters.
var ErrSplit = errors.New("split: invalid split")

// Fold is one fold of a k-fold split: indices into the case list, each
// sorted ascending.
type Fold struct {
	Index int   // 0..k-1
	Train []int // the cases of the other k-1 folds
	Val   []int // this fold's cases
}

// KFold shuffles the case indices 0..n-1 with seed and cuts them into k
// folds as scikit-learn's KFold(shuffle=True) does: the first n%k folds
// hold n/k+1 cases, the others n/k. Each case is in exactly one Val. It
// needs 2 <= k <= n.
func KFold(n, k int, seed uint64) ([]Fold, error) {
	if k < 2 || k > n {
		return nil, fmt.Errorf("%w: %d folds of %d cases, want 2 <= k <= n", ErrSplit, k, n)
	}
	perm := rng.New(seed).Perm(n)
	folds := make([]Fold, k)
	start := 0
	for i := range folds {
		size := n / k
		if i < n%k {
			size++
		}
		val := append([]int(nil), perm[start:start+size]...)
		train := append(append([]int(nil), perm[:start]...), perm[start+size:]...)
		sort.Ints(val)
		sort.Ints(train)
		folds[i] = Fold{Index: i, Train: train, Val: val}
		start += size
	}
	return folds, nil
}

// TrainVal shuffles 0..n-1 with seed and keeps round(n*valFraction) cases
// (at least 1, at most n-1) for validation; both lists sorted ascending.
// valFraction must be in (0, 1).
func TrainVal(n int, valFraction float64, seed uint64) (train, val []int, err error) {
	if n < 2 || !(valFraction > 0 && valFraction < 1) {
		return nil, nil, fmt.Errorf("%w: %d cases with validation fraction %g, want n >= 2 and 0 < fraction < 1", ErrSplit, n, valFraction)
	}
	nv := int(math.Round(float64(n) * valFraction))
	nv = min(max(nv, 1), n-1)
	perm := rng.New(seed).Perm(n)
	val = append([]int(nil), perm[:nv]...)
	train = append([]int(nil), perm[nv:]...)
	sort.Ints(val)
	sort.Ints(train)
	return train, val, nil
}
