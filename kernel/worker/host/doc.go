// Package host is the parent's end of the interpreter worker: [Start]
// runs `unetlab worker` (package kernel/worker) as a child process and
// returns the [Process] the kernel drives; requests, replies and events
// are those of package kernel/worker/proto. A panic or crash in the child
// ends only the child: the running request gets an error wrapping
// [proto.ErrCrashed] and the kernel starts a fresh worker.
//
// Every wait is on an event, never a fixed time: a reply, the child's exit
// (Done), the end of its output pipes, or the caller's context.
//
// # Output, input, interrupts
//
// The child's fd 1 and 2 are pipes to the parent, so interpreted and
// compiled code (and the Go runtime's panic report) write to the same
// streams; text is delivered at most 50 ms after it is written, in order
// with display, comm and input events (the child writes a sync marker on
// both pipes before each event). fmt.Scan, Scanln and Scanf read the
// front end through [proto.InputEvent] when the request allows stdin, and fail
// with [github.com/unetlab/unetlab/kernel/cell.ErrStdinNotAllowed]
// otherwise (errors.Is finds it in the cell, whichever process refused).
// On Linux, reads of os.Stdin itself (bufio.NewReader(os.Stdin), fd 0) reach the front end too: fd 0 is a
// blocking pipe and a watcher answers a thread blocked reading it; without
// allow_stdin such a read sees end of file and a note on stderr.
//
// Output belongs to the request the child serves when it is written, from
// whichever goroutine: the running cell ([Process.Execute]), else the
// front-end comm message whose handler runs ([Process.Comm] waits for the
// handler, as Execute waits for the cell), else nobody. What nobody waits
// for, such as what a goroutine prints, shows or sends on a comm after
// its cell ended, goes to the function set with [Process.OnIdle] as soon
// as it is read, with the same order guarantees, and ahead of the next
// request's events; without one it waits for the next Execute. Output is
// told apart by time, not by goroutine: a goroutine of an earlier cell
// that prints while a later cell runs shows in the later cell. A panic
// in a comm handler is written to stderr, as the handler's output, and
// the worker goes on.
//
// Each cell runs with a context that [Process.Interrupt] cancels; cells and
// the library reach it with kernel/cell's cell.Context(). Interpreted code
// (even `for {}`) stops at its next step, time.Sleep at once, other
// compiled calls when they check the context. A cell in a compiled call
// that ignores the context is not reported finished while the call runs
// (the next cell would run beside it): its answer waits for the call to
// return, and the kernel restarts the worker on a second interrupt (see
// wait.go). A panic in the cell is the cell's error; a panic in a
// goroutine the cell started ends the child: Execute returns an error
// wrapping [proto.ErrCrashed] with the panic text.
package host
