package worker

import "testing"

// The package's tests check the pipeline's shortcuts (verifyPipeline).
func init() { verifyPipeline = true }

// unverified turns the checks off for a benchmark, which times the
// pipeline as the worker runs it.
func unverified(b *testing.B) {
	verifyPipeline = false
	b.Cleanup(func() { verifyPipeline = true })
}
