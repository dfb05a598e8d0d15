// Package cleaner is a test fixture that yaegi v0.16.1 cannot run: it uses
// the builtin clear (Go 1.21), which fetched code is not lowered for.
package cleaner

// Reset empties m.
func Reset(m map[string]int) { clear(m) }
