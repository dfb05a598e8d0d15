// Command unetlab is the unetlab Jupyter kernel for Go and its tools.
//
// Usage:
//
//	unetlab kernel CONNECTION_FILE   run the kernel (Jupyter starts it so)
//	unetlab install [--user | --sys-prefix | --prefix DIR] [--name NAME] [--display-name TEXT]
//	unetlab uninstall [--user | --sys-prefix | --prefix DIR] [--name NAME]
//	unetlab grid plan|run|status|collect|cancel [options]
//	unetlab version
//	unetlab help
//
// `unetlab worker` is internal: the kernel runs it as the child process that
// hosts the Go interpreter.
//
// Environment: UNETLAB_DEBUG=1 logs every message to stderr;
// UNETLAB_HISTORY=FILE keeps the kernel's input history in FILE instead of
// the Jupyter data directory ("-" keeps it in memory only).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/unetlab/unetlab/install"
	"github.com/unetlab/unetlab/kernel"
	"github.com/unetlab/unetlab/kernel/wire"
	"github.com/unetlab/unetlab/models/nn"
)

const usage = `unetlab: a Jupyter kernel for Go with a 3D medical segmentation library built in.

Usage:
  unetlab kernel CONNECTION_FILE
        run the kernel on the sockets of a Jupyter connection file
  unetlab install [--user | --sys-prefix | --prefix DIR] [--name NAME] [--display-name TEXT]
        install the kernelspec so that Jupyter lists the kernel (default --user)
  unetlab uninstall [--user | --sys-prefix | --prefix DIR] [--name NAME]
        remove the kernelspec
  unetlab grid plan|run|status|collect|cancel [options]
        the paper's protocol as a grid of keyed jobs, local or on Slurm (unetlab grid help)
  unetlab version
        print the version and what the engine runs on (BLAS, convolution kernels, cores)
  unetlab help
        print this help

Environment:
  UNETLAB_DEBUG=1        log every Jupyter message to stderr
  UNETLAB_HISTORY=FILE   where the kernel keeps input history ("-": memory only)
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the subcommand in args and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "kernel":
		return runKernel(rest, stderr)
	case "worker":
		return runWorker(rest)
	case "grid":
		return runGrid(rest, stdout, stderr)
	case "install":
		return report(stderr, "install", install.Install(rest, stdout, stderr))
	case "uninstall":
		return report(stderr, "uninstall", install.Uninstall(rest, stdout, stderr))
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "unetlab %s (%s %s/%s%s)\n", kernel.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH, revision())
		fmt.Fprintf(stdout, "engine: matrix products %s, convolutions %s, %d cores\n", nn.BLASBackend(), nn.ConvBackend(), runtime.GOMAXPROCS(0))
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "unetlab: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}

// report prints err for subcommand cmd and returns the exit status: 0 for
// nil and for -h, 2 for usage errors, 1 otherwise.
func report(stderr io.Writer, cmd string, err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, install.ErrUsage):
		fmt.Fprintf(stderr, "unetlab %s: %s\nRun `unetlab help` for usage.\n", cmd, message(err))
		return 2
	default:
		fmt.Fprintf(stderr, "unetlab %s: %s\n", cmd, message(err))
		return 1
	}
}

// message is err's text without the install package's prefixes
// ("install: usage: ", "install: "): the "unetlab install: " printed
// before it already names the command.
func message(err error) string {
	s := err.Error()
	for _, p := range []string{install.ErrUsage.Error() + ": ", "install: "} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			return rest
		}
	}
	return s
}

func runKernel(args []string, stderr io.Writer) int {
	if len(args) != 1 || args[0] == "" || args[0][0] == '-' {
		fmt.Fprintf(stderr, "unetlab kernel: want exactly one argument, the connection file Jupyter wrote "+
			"(got %d arguments)\nUsage: unetlab kernel CONNECTION_FILE\n"+
			"Jupyter runs this command itself once the kernelspec is installed (`unetlab install`).\n", len(args))
		return 2
	}
	conn, err := wire.ReadConnectionFile(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "unetlab kernel: %v\n", err)
		return 1
	}
	routerProcs()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	hist := os.Getenv("UNETLAB_HISTORY")
	k, err := kernel.New(ctx, kernel.Config{Conn: conn, HistoryFile: hist, Log: kernel.NewLogger(stderr)})
	if err != nil {
		fmt.Fprintf(stderr, "unetlab kernel: %v\n", err)
		return 1
	}
	// SIGINT (a Ctrl-C in the terminal that started Jupyter, or a front end
	// that ignores interrupt_mode) interrupts the cell instead of killing
	// the kernel.
	sigint := make(chan os.Signal, 1)
	signal.Notify(sigint, os.Interrupt)
	go func() {
		for range sigint {
			k.Interrupt()
		}
	}()
	go watchParent(k)
	err = k.Serve()
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "unetlab kernel: %v\n", err)
		return 1
	}
	return 0
}

// routerProcs runs the kernel process on one processor (GOMAXPROCS 1)
// unless the GOMAXPROCS environment variable says otherwise. The kernel
// process only routes messages between the front end and the worker, which
// runs the cells on every core (the setting is the process's own: the
// worker does not inherit it). With several processors the Go scheduler
// wakes and spins idle threads at each hand-over between goroutines; on
// one it switches goroutines on the same thread. Measured from /proc over
// 2000 `1+1` on a 2-core machine: the kernel process's CPU per request
// 0.67 -> 0.47 ms, its threads' context switches 14.4 -> 7.1 (`make
// bench-kernel` reports both for kernel and worker together): CPU left to
// the front end, which decodes the replies meanwhile.
func routerProcs() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}

// watchParent shuts the kernel down when the process that launched it goes
// away, as ipykernel does: jupyter_client sets JPY_PARENT_PID for kernels
// it owns, and a kernel whose parent changed was orphaned by a killed
// server.
func watchParent(k *kernel.Kernel) {
	want, err := strconv.Atoi(os.Getenv("JPY_PARENT_PID"))
	if err != nil || want <= 1 || os.Getppid() != want {
		return
	}
	for range time.Tick(time.Second) {
		if os.Getppid() != want {
			k.Shutdown()
			return
		}
	}
}

// revision is ", revision REV" (plus ", modified" for a dirty tree) when
// the binary was built from a version-controlled checkout, else "".
func revision() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, mod string
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.modified":
			if kv.Value == "true" {
				mod = ", modified"
			}
		}
	}
	if rev == "" {
		return ""
	}
	return ", revision " + rev[:min(12, len(rev))] + mod
}
