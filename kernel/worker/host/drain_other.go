//go:build !unix

package host

import "os"

// readBuffered is readBuffered of drain_unix.go for systems without
// non-blocking pipe reads through SyscallConn: it reads nothing more, so a
// crash report may miss the child's last output there.
func readBuffered(r *os.File, buf []byte, take func([]byte)) (eof bool) { return false }
