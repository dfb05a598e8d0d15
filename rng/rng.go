// Package rng is the module's one source of randomness: a small seeded
// pseudo-random generator whose streams are fixed by this package's code,
// not by math/rand's: the same seed gives the same initial weights, folds,
// shuffles, phantoms, augmentations and searches in every Go version and on
// every machine (integer draws bit for bit; floating-point
// draws up to the platform's math library, identical on amd64 and arm64
// for the functions used here).
//
// The generator is xoshiro256** (Blackman and Vigna, 2018) seeded through
// SplitMix64.
//
// Every seed of the module is a uint64 (train.Options.Seed,
// models.Options.Seed, batch.Options.Seed, search.Options.Seed, ...) and every
// random draw of the library comes from a Rand of this package; no library
// package uses math/rand. The package sits at the module's root, not under
// volume/ or internal/, because models/nn, volume and train all draw from it
// and nn.LayerOptions exposes a *Rand.
package rng

import "math"

// Rand is a xoshiro256** generator. The zero value is not usable: call New.
// A Rand is not safe for concurrent use; give each goroutine its own
// (see Derive).
type Rand struct {
	s [4]uint64
}

// SplitMix64 advances *state and returns the next SplitMix64 output (used
// to seed xoshiro and to hash seeds).
func SplitMix64(state *uint64) uint64 {
	*state += 0x9e3779b97f4a7c15
	z := *state
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// New returns a generator seeded by seed.
func New(seed uint64) *Rand {
	r := &Rand{}
	st := seed
	for i := range r.s {
		r.s[i] = SplitMix64(&st)
	}
	return r
}

// Derive returns a generator for the sub-stream key of seed: New applied to
// a hash of (seed, keys...). Use it to give each case, fold or worker its
// own stream that does not depend on how many draws others made.
func Derive(seed uint64, keys ...uint64) *Rand {
	st := seed
	h := SplitMix64(&st)
	for _, k := range keys {
		st = h ^ (k * 0x9e3779b97f4a7c15)
		h = SplitMix64(&st)
	}
	return New(h)
}

func rotl(x uint64, k uint) uint64 { return x<<k | x>>(64-k) }

// Uint64 returns the next 64 random bits.
func (r *Rand) Uint64() uint64 {
	s := &r.s
	out := rotl(s[1]*5, 7) * 9
	t := s[1] << 17
	s[2] ^= s[0]
	s[3] ^= s[1]
	s[1] ^= s[2]
	s[0] ^= s[3]
	s[2] ^= t
	s[3] = rotl(s[3], 45)
	return out
}

// Intn returns a uniform integer in [0, n) without modulo bias (Lemire's
// multiply-and-reject). It returns 0 for n <= 0.
func (r *Rand) Intn(n int) int {
	if n <= 1 {
		return 0
	}
	bound := uint64(n)
	for {
		hi, lo := mul64(r.Uint64(), bound)
		if lo >= bound || lo >= (-bound)%bound {
			return int(hi)
		}
	}
}

// mul64 returns the 128-bit product of a and b as (hi, lo).
func mul64(a, b uint64) (hi, lo uint64) {
	const mask32 = 1<<32 - 1
	a0, a1 := a&mask32, a>>32
	b0, b1 := b&mask32, b>>32
	w0 := a0 * b0
	t := a1*b0 + w0>>32
	w1 := t&mask32 + a0*b1
	hi = a1*b1 + t>>32 + w1>>32
	lo = a * b
	return
}

// Float64 returns a uniform float64 in [0, 1) with 53 random bits.
func (r *Rand) Float64() float64 {
	return float64(r.Uint64()>>11) * 0x1p-53
}

// Uniform returns a uniform float64 in [lo, hi).
func (r *Rand) Uniform(lo, hi float64) float64 {
	return lo + (hi-lo)*r.Float64()
}

// Bool returns true with probability p.
func (r *Rand) Bool(p float64) bool { return r.Float64() < p }

// Norm returns a standard normal deviate (Box-Muller; one value per call).
func (r *Rand) Norm() float64 {
	u := 1 - r.Float64() // (0, 1]
	v := r.Float64()
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*v)
}

// Shuffle permutes n elements by Fisher-Yates, calling swap(i, j).
func (r *Rand) Shuffle(n int, swap func(i, j int)) {
	for i := n - 1; i > 0; i-- {
		swap(i, r.Intn(i+1))
	}
}

// Perm returns a random permutation of 0..n-1.
func (r *Rand) Perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	r.Shuffle(n, func(i, j int) { p[i], p[j] = p[j], p[i] })
	return p
}
