// Package cell gives notebook code the context of the running cell.
//
// The unetlab kernel cancels that context when the user interrupts the cell
// (the stop button, or "Interrupt kernel"), so long library calls should
// receive it:
//
//	model.Train(cell.Context(), data, opts)
//
// Cells may call cell.Context() without importing the package: the kernel
// imports it on first use. Outside a kernel Context returns
// context.Background().
package cell

import (
	"context"
	"errors"
	"sync"
)

// ErrStdinNotAllowed is what a cell's read of standard input (fmt.Scan and
// friends, os.Stdin) returns, or wraps, when the front end sent the cell
// with allow_stdin=false, as nbconvert and other non-interactive clients
// do: test it with errors.Is(err, cell.ErrStdinNotAllowed).
var ErrStdinNotAllowed = errors.New("cell: reading standard input is not allowed: " +
	"the front end sent this cell with allow_stdin=false (e.g. nbconvert, or a non-interactive client)")

// ErrInputInterrupted is what a read of standard input waiting for the
// front end's answer returns, or wraps, when the cell is interrupted.
var ErrInputInterrupted = errors.New("cell: input request interrupted")

var (
	mu  sync.Mutex
	cur context.Context = context.Background()
)

// Context returns the context of the cell now running. It is cancelled when
// the cell is interrupted; after the cell ends it is cancelled too, so
// goroutines a cell started with it stop with the cell unless they make
// their own.
func Context() context.Context {
	mu.Lock()
	defer mu.Unlock()
	return cur
}

// Set installs ctx as the running cell's context; the kernel's worker calls
// it before each cell. nil means context.Background().
func Set(ctx context.Context) {
	if ctx == nil {
		ctx = context.Background()
	}
	mu.Lock()
	cur = ctx
	mu.Unlock()
}
