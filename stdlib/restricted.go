package stdlib

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
)

// The extractor replaces a few standard functions by local ones (named
// package+Name) so that interpreted code cannot end the worker process by
// accident: os.Exit and log.Fatal panic instead, which the kernel reports as
// the cell's error while the interpreter state survives.

// errRestricted is returned by os.FindProcess for the worker itself.
var errRestricted = errors.New("stdlib: restricted in the notebook kernel")

// osExit panics with the exit code instead of exiting the worker.
func osExit(code int) { panic(fmt.Sprintf("os.Exit(%d) called in a cell", code)) }

// osFindProcess refuses the worker's own process.
func osFindProcess(pid int) (*os.Process, error) {
	if pid == os.Getpid() {
		return nil, fmt.Errorf("os.FindProcess(%d): %w", pid, errRestricted)
	}
	return os.FindProcess(pid)
}

func logFatal(v ...any)                 { log.Panic(v...) }
func logFatalf(format string, v ...any) { log.Panicf(format, v...) }
func logFatalln(v ...any)               { log.Panicln(v...) }

// logLogger is log.Logger itself (so values pass to compiled code that wants
// a *log.Logger); its Fatal methods still exit.
type logLogger = log.Logger

func logNew(out io.Writer, prefix string, flag int) *log.Logger { return log.New(out, prefix, flag) }
