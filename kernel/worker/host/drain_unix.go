//go:build unix

package host

import (
	"os"
	"syscall"
)

// readBuffered hands what the pipe r holds now to take, in reads of up to
// len(buf) bytes, without waiting for more; it reports whether it reached
// end of file (no writer holds the pipe any more).
func readBuffered(r *os.File, buf []byte, take func([]byte)) (eof bool) {
	rc, err := r.SyscallConn()
	if err != nil {
		return false
	}
	for {
		var n int
		var rerr error
		// Returning true: one non-blocking read(2), no wait for data.
		if err := rc.Read(func(fd uintptr) bool {
			n, rerr = syscall.Read(int(fd), buf)
			return true
		}); err != nil {
			return false
		}
		switch {
		case n > 0:
			take(buf[:n])
		case rerr == nil: // read(2) returned 0: end of file
			return true
		default: // EAGAIN: empty, a writer still holds the pipe
			return false
		}
	}
}
