//go:build !(linux && (amd64 || arm64))

package worker

// startFDStdin is not available on this platform: reading os.Stdin directly
// sees the worker's own standard input; fmt.Scan and friends still reach
// the front end.
func startFDStdin(c *child) error { return nil }
