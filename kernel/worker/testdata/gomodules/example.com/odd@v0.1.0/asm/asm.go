// Package asm is a test fixture with an assembly function and no pure-Go
// build.
package asm

// Sum adds xs.
func Sum(xs []float64) float64
