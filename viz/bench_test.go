package viz_test

import (
	"fmt"
	"testing"

	"github.com/unetlab/unetlab/viz"
	"github.com/unetlab/unetlab/volume"
)

func benchVolume(n int) *volume.Volume {
	v := vol(make([]float32, n*n*n), [3]int{n, n, n}, [3]float64{1, 1, 1}, "")
	for i := range v.Data {
		v.Data[i] = float32(i % 977)
	}
	return v
}

func BenchmarkSlice(b *testing.B) {
	for _, n := range []int{32, 64, 128} {
		v := benchVolume(n)
		b.Run(fmt.Sprintf("%d", n), func(b *testing.B) {
			b.SetBytes(int64(4 * n * n))
			b.ReportAllocs()
			for b.Loop() {
				s, err := viz.Slice(v, viz.Axial, n/2, &viz.ViewOptions{Labels: v})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.PNG(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkScroller128(b *testing.B) {
	v := benchVolume(128)
	b.SetBytes(int64(4 * len(v.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := viz.NewScroller(v, viz.Axial, nil); err != nil {
			b.Fatal(err)
		}
	}
}
