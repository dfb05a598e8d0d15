//go:build cgo

package cuda

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeLibcuda is a libcuda.so.1 with every entry point OpenDriver resolves;
// cuInit and cuDriverGetVersion answer as FAKE_INIT and FAKE_VERSION say,
// cuDeviceGetCount reports no device.
const fakeLibcuda = `
#include <stddef.h>
int cuInit(unsigned f) { return FAKE_INIT; }
int cuDriverGetVersion(int *v) { *v = FAKE_VERSION; return 0; }
int cuDeviceGetCount(int *n) { *n = 0; return 0; }
int cuGetErrorString(int r, const char **s) { *s = r == 100 ? "no CUDA-capable device is detected" : "fake error"; return 0; }
#define STUB(name) int name(void) { return 999; }
STUB(cuDeviceGet) STUB(cuDeviceGetName) STUB(cuDeviceTotalMem_v2) STUB(cuDeviceGetAttribute)
STUB(cuDevicePrimaryCtxRetain) STUB(cuDevicePrimaryCtxRelease_v2) STUB(cuCtxSetCurrent) STUB(cuCtxSynchronize)
STUB(cuMemAlloc_v2) STUB(cuMemFree_v2) STUB(cuMemcpyHtoD_v2) STUB(cuMemcpyDtoH_v2) STUB(cuMemcpyDtoD_v2)
STUB(cuMemsetD32_v2) STUB(cuModuleLoadData) STUB(cuModuleUnload) STUB(cuModuleGetFunction) STUB(cuLaunchKernel)
`

// TestOpenDriverErrors runs OpenDriver in a child process against fake
// drivers (LD_LIBRARY_PATH is read at process start) and checks the error
// each gives: no device, a driver too old, no device count.
func TestOpenDriverErrors(t *testing.T) {
	if os.Getenv("UNETLAB_FAKE_CUDA_CHILD") == "1" {
		_, err := OpenDriver()
		switch {
		case errors.Is(err, ErrNoDevice):
			os.Stdout.WriteString("ErrNoDevice: " + err.Error() + "\n")
		case errors.Is(err, ErrDriverTooOld):
			os.Stdout.WriteString("ErrDriverTooOld: " + err.Error() + "\n")
		case errors.Is(err, ErrNoDriver):
			os.Stdout.WriteString("ErrNoDriver: " + err.Error() + "\n")
		default:
			os.Stdout.WriteString("other: " + strings.ReplaceAll(err.Error(), "\n", " ") + "\n")
		}
		return
	}
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("skipped: no C compiler to build the fake drivers")
	}
	cases := []struct {
		name, init, version, want string
	}{
		{"no device", "100", "12040", "ErrNoDevice: cuda: no CUDA device: cuda: cuInit: no CUDA-capable device is detected (CUresult 100)"},
		{"old driver", "0", "11040", "ErrDriverTooOld: cuda: driver too old: it supports CUDA 11.4, the kernels need 11.8 (driver 520 or newer)"},
		{"no devices counted", "0", "12020", "ErrNoDevice: cuda: no CUDA device: the driver reports none"},
		{"no driver", "", "", "ErrNoDriver: cuda: no CUDA driver: libcuda.so.1: cannot open shared object file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.init == "" {
				if d, err := OpenDriver(); !errors.Is(err, ErrNoDriver) {
					if d != nil {
						d.Close()
					}
					t.Skip("skipped: this machine has a CUDA driver")
				}
			}
			if c.init != "" {
				src := filepath.Join(dir, "fake.c")
				if err := os.WriteFile(src, []byte(fakeLibcuda), 0o644); err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command(cc, "-shared", "-fPIC", "-DFAKE_INIT="+c.init, "-DFAKE_VERSION="+c.version,
					"-o", filepath.Join(dir, "libcuda.so.1"), src).CombinedOutput()
				if err != nil {
					t.Fatalf("cc: %v\n%s", err, out)
				}
			}
			cmd := exec.Command(os.Args[0], "-test.run", "^TestOpenDriverErrors$")
			cmd.Env = append(os.Environ(), "UNETLAB_FAKE_CUDA_CHILD=1", "LD_LIBRARY_PATH="+dir)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), c.want) {
				t.Errorf("got\n%s\nwant a line starting %q", out, c.want)
			}
		})
	}
}
