//go:build linux && (amd64 || arm64)

package worker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/unetlab/unetlab/kernel/cell"
)

// readSyscall is the number of read(2), as /proc/PID/task/TID/syscall
// shows it.
var readSyscall = map[string]string{"amd64": "0", "arm64": "63"}[runtime.GOARCH]

// fdStdin serves reads of the child's file descriptor 0 (os.Stdin, and
// anything reading fd 0 directly) from the front end. fd 0 is a blocking
// pipe, so a reader waits inside read(2) on a thread, where
// /proc/self/task/*/syscall shows it; while a cell runs, a watcher looks
// for such a thread every 30 ms (no event tells of a read(2) that
// blocks) and answers it with a line from an input request (or with end of
// file when the front end does not allow input). Between cells the
// watcher sleeps until the next one starts.
type fdStdin struct {
	c  *child
	mu sync.Mutex
	w  *os.File // write end of the pipe on fd 0
}

// startFDStdin installs the pipe on fd 0 and starts the watcher.
func startFDStdin(c *child) error {
	s := &fdStdin{c: c}
	if err := s.newPipe(); err != nil {
		return err
	}
	go s.watch()
	return nil
}

// newPipe puts a fresh blocking pipe on fd 0.
func (s *fdStdin) newPipe() error {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return fmt.Errorf("worker: stdin pipe: %w", err)
	}
	if err := syscall.Dup3(p[0], 0, 0); err != nil {
		syscall.Close(p[0])
		syscall.Close(p[1])
		return fmt.Errorf("worker: stdin pipe on fd 0: %w", err)
	}
	syscall.Close(p[0])
	s.mu.Lock()
	old := s.w
	s.w = os.NewFile(uintptr(p[1]), "stdin-writer")
	s.mu.Unlock()
	if old != nil {
		old.Close() // a reader of the old pipe sees end of file
	}
	return nil
}

func (s *fdStdin) watch() {
	for {
		time.Sleep(30 * time.Millisecond)
		s.c.mu.Lock()
		running := s.c.cur != 0
		s.c.mu.Unlock()
		if !running {
			<-s.c.began // until a cell starts
			continue
		}
		if unread() > 0 || !readingFD0() {
			continue // a line given earlier is not taken yet
		}
		line, err := s.c.requestInput("", false)
		if err != nil {
			if errors.Is(err, cell.ErrStdinNotAllowed) {
				fmt.Fprintln(s.c.stderr, "unetlab: standard input is at end of file: the front end does not accept input requests (allow_stdin is false)")
			}
			_ = s.newPipe() // end of file for this reader
			continue
		}
		s.mu.Lock()
		_, _ = s.w.WriteString(line + "\n")
		s.mu.Unlock()
	}
}

// unread returns the bytes waiting in the pipe on fd 0.
func unread() int {
	const fionread = 0x541B // FIONREAD on linux/amd64 and linux/arm64
	var n int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, 0, fionread, uintptr(unsafe.Pointer(&n))); errno != 0 {
		return 0
	}
	return int(n)
}

// readingFD0 reports whether a thread of this process is blocked in
// read(0, ...).
func readingFD0() bool {
	tasks, _ := filepath.Glob("/proc/self/task/*/syscall")
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) >= 2 && f[0] == readSyscall && f[1] == "0x0" {
			return true
		}
	}
	return false
}
