// Command volume compares loading a 512x512x100 int16 .nii.gz (decompress
// and convert to float32) in unetlab's volume.Read against nibabel (Debian
// /usr/bin/python3, python3-nibabel) in the same run, and reports the
// ratio. The volume is a synthetic CT-like image (smooth anatomy plus
// noise, written by volume.Write at gzip level 6), so its compression ratio
// is realistic.
//
//	go run ./bench/volume [-n 5] [-python /usr/bin/python3] [-keep file]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"time"

	"github.com/unetlab/unetlab/volume"
)

// nibabelScript times one nibabel load per line read from stdin ("float32"
// or "float64": the get_fdata dtype) and prints the seconds.
const nibabelScript = `
import sys, time
import numpy as np
import nibabel as nib
path = sys.argv[1]
print("ready", flush=True)
for line in sys.stdin:
    dtype = np.dtype(line.strip())
    t0 = time.perf_counter()
    a = nib.load(path).get_fdata(dtype=dtype)
    dt = time.perf_counter() - t0
    assert a.shape == (512, 512, 100), a.shape
    print(repr(dt), flush=True)
`

func main() {
	n := flag.Int("n", 5, "repetitions (the median is reported)")
	python := flag.String("python", "/usr/bin/python3", "python with nibabel")
	keep := flag.String("keep", "", "write the test volume here and keep it")
	flag.Parse()

	path := *keep
	if path == "" {
		dir, err := os.MkdirTemp("", "unetlab-bench-volume")
		check(err)
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "ct_512x512x100_int16.nii.gz")
	}
	v := ctLike([3]int{512, 512, 100})
	check(volume.Write(path, v, &volume.WriteOptions{Datatype: volume.Int16}))
	st, err := os.Stat(path)
	check(err)
	raw := 512 * 512 * 100 * 2
	fmt.Printf("file: %s, %.1f MiB compressed, %.1f MiB raw (ratio %.2f); GOMAXPROCS %d\n",
		filepath.Base(path), float64(st.Size())/(1<<20), float64(raw)/(1<<20), float64(st.Size())/float64(raw), runtime.GOMAXPROCS(0))

	// Alternate the two readers so that both see the same machine load.
	py := exec.Command(*python, "-c", nibabelScript, path)
	stdin, err := py.StdinPipe()
	check(err)
	stdout, err := py.StdoutPipe()
	check(err)
	py.Stderr = os.Stderr
	havePy := py.Start() == nil
	lines := bufio.NewScanner(stdout)
	if havePy && (!lines.Scan() || lines.Text() != "ready") {
		havePy = false
	}
	nib := func(dtype string) float64 {
		fmt.Fprintln(stdin, dtype)
		if !lines.Scan() {
			check(fmt.Errorf("nibabel: no answer: %v", lines.Err()))
		}
		t, err := strconv.ParseFloat(lines.Text(), 64)
		check(err)
		return t
	}
	var goTimes, nib32, nib64 []float64
	for i := 0; i < *n; i++ {
		runtime.GC()
		t0 := time.Now()
		w, err := volume.Read(path)
		check(err)
		goTimes = append(goTimes, time.Since(t0).Seconds())
		if len(w.Data) != 512*512*100 {
			panic("wrong size")
		}
		w = nil
		if havePy {
			nib32 = append(nib32, nib("float32"))
			nib64 = append(nib64, nib("float64"))
		}
	}
	goMed := median(goTimes)
	fmt.Printf("unetlab volume.Read -> float32:          median %.3f s (%.0f MB/s raw)\n", goMed, float64(raw)/goMed/1e6)
	if !havePy {
		fmt.Printf("nibabel: not measured (%s with nibabel not available)\n", *python)
		return
	}
	stdin.Close()
	py.Wait()
	m32, m64 := median(nib32), median(nib64)
	fmt.Printf("nibabel load+get_fdata(dtype=float32): median %.3f s; nibabel/unetlab = %.2fx\n", m32, m32/goMed)
	fmt.Printf("nibabel load+get_fdata() (float64):    median %.3f s; nibabel/unetlab = %.2fx\n", m64, m64/goMed)
}

// ctLike returns a CT-like int16-valued volume: an elliptical body of soft
// tissue (~40 HU) with two lungs (~-850 HU), a spine (~700 HU), air
// outside (-1000 HU) and Gaussian-ish noise of ~15 HU.
func ctLike(shape [3]int) *volume.Volume {
	v := volume.New(shape, 1)
	v.Spacing = [3]float64{0.75, 0.75, 2.5}
	v.Affine = volume.Diag(v.Spacing)
	var s uint64 = 12345
	X, Y, Z := shape[0], shape[1], shape[2]
	i := 0
	for z := 0; z < Z; z++ {
		for y := 0; y < Y; y++ {
			for x := 0; x < X; x++ {
				u := (float64(x) - float64(X)/2) / (float64(X) * 0.45)
				w := (float64(y) - float64(Y)/2) / (float64(Y) * 0.35)
				hu := -1000.0
				if u*u+w*w < 1 {
					hu = 40 + 10*math.Sin(float64(z)/7)
					for _, cx := range []float64{-0.45, 0.45} {
						a, b := (u-cx)/0.3, (w+0.1)/0.55
						if a*a+b*b < 1 {
							hu = -850
						}
					}
					if a, b := u/0.08, (w-0.6)/0.12; a*a+b*b < 1 {
						hu = 700
					}
					// noise: sum of 4 uniforms
					var n float64
					for k := 0; k < 4; k++ {
						s ^= s << 13
						s ^= s >> 7
						s ^= s << 17
						n += float64(s>>11)/(1<<53) - 0.5
					}
					hu += 26 * n
				}
				v.Data[i] = float32(math.Round(hu))
				i++
			}
		}
	}
	return v
}

func median(x []float64) float64 {
	y := append([]float64(nil), x...)
	sort.Float64s(y)
	return y[len(y)/2]
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
