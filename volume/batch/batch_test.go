package batch

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/unetlab/unetlab/volume"
	"github.com/unetlab/unetlab/volume/augment"
)

// fake gives sample i as an image of value i (2 channels, 3x4x5) and a
// label map of value i%3.
type fake struct {
	n       int
	mu      sync.Mutex
	asked   map[int]int
	fail    int // index that fails, -1 none
	noLabel bool
}

func newFake(n int) *fake { return &fake{n: n, asked: map[int]int{}, fail: -1} }

func (f *fake) Len() int { return f.n }

func (f *fake) Sample(ctx context.Context, i int) (*volume.Volume, *volume.Volume, error) {
	f.mu.Lock()
	f.asked[i]++
	f.mu.Unlock()
	if i == f.fail {
		return nil, nil, fmt.Errorf("sample %d is broken", i)
	}
	img := volume.New([3]int{3, 4, 5}, 2)
	for k := range img.Data {
		img.Data[k] = float32(i)
	}
	img.Set(1, 2, 0, 0, float32(100+i)) // channel 1, x=2, y=0, z=0
	if f.noLabel {
		return img, nil, nil
	}
	lab := img.Like(1)
	for k := range lab.Data {
		lab.Data[k] = float32(i % 3)
	}
	return img, lab, nil
}

func (f *fake) count(i int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.asked[i]
}

func collect(t *testing.T, l *Loader, epoch int) []*Batch {
	t.Helper()
	it := l.Epoch(context.Background(), epoch)
	defer it.Close()
	var out []*Batch
	for it.Next() {
		out = append(out, it.Batch())
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBatches(t *testing.T) {
	for _, axes := range []volume.Axes{volume.AxesZYX, volume.AxesZXY} {
		for _, prefetch := range []int{-1, 0, 3} {
			src := newFake(7)
			l, err := New(src, nil, &Options{BatchSize: 3, Prefetch: prefetch, Axes: axes})
			if err != nil {
				t.Fatal(err)
			}
			bs := collect(t, l, 0)
			if len(bs) != 3 || l.Len() != 3 {
				t.Fatalf("%d batches, Len %d", len(bs), l.Len())
			}
			want := [5]int{3, 2, 5, 4, 3}
			if axes == volume.AxesZXY {
				want = [5]int{3, 2, 5, 3, 4}
			}
			if bs[0].Shape != want || bs[2].Shape[0] != 1 {
				t.Fatalf("shapes %v %v, want %v", bs[0].Shape, bs[2].Shape, want)
			}
			b := bs[1] // samples 3, 4, 5
			per := 2 * 60
			for j, i := range b.Indices {
				if b.Images[j*per] != float32(i) || b.Labels[j*60] != float32(i%3) {
					t.Errorf("sample %d: image %g label %g", i, b.Images[j*per], b.Labels[j*60])
				}
				// voxel (c=1, x=2, y=0, z=0) in (C, D, H, W)
				var at int
				if axes == volume.AxesZYX {
					at = j*per + 60 + 2
				} else {
					at = j*per + 60 + 2*4
				}
				if b.Images[at] != float32(100+i) {
					t.Errorf("%v: marked voxel of sample %d is %g", axes, i, b.Images[at])
				}
			}
			oh, err := b.OneHot(3)
			if err != nil {
				t.Fatal(err)
			}
			if oh[(0*3+0)*60] != 1 || oh[(1*3+1)*60] != 1 || oh[(2*3+2)*60] != 1 || oh[(0*3+1)*60] != 0 {
				t.Error("one-hot planes wrong")
			}
		}
	}
}

func TestShuffle(t *testing.T) {
	src := newFake(10)
	l, _ := New(src, []int{9, 8, 7, 6, 5, 4, 3, 2}, &Options{BatchSize: 4, Shuffle: true, Seed: 1, DropLast: true})
	seen := func(bs []*Batch) []int {
		var all []int
		for _, b := range bs {
			all = append(all, b.Indices...)
		}
		return all
	}
	e0, e0b, e1 := seen(collect(t, l, 0)), seen(collect(t, l, 0)), seen(collect(t, l, 1))
	if fmt.Sprint(e0) != fmt.Sprint(e0b) {
		t.Error("same epoch, different order")
	}
	if fmt.Sprint(e0) == fmt.Sprint(e1) {
		t.Error("epochs 0 and 1 in the same order")
	}
	sorted := append([]int(nil), e1...)
	sort.Ints(sorted)
	if fmt.Sprint(sorted) != "[2 3 4 5 6 7 8 9]" {
		t.Errorf("epoch covers %v", sorted)
	}
}

// TestPrefetch checks that the next batch is prepared while the consumer
// holds the current one.
func TestPrefetch(t *testing.T) {
	src := newFake(4)
	l, _ := New(src, nil, &Options{BatchSize: 1, Prefetch: 1})
	it := l.Epoch(context.Background(), 0)
	defer it.Close()
	if !it.Next() {
		t.Fatal(it.Err())
	}
	// Without calling Next again, samples 1 (queued) and 2 (being made)
	// must get loaded in the background.
	deadline := time.Now().Add(5 * time.Second)
	for src.count(2) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the loader did not prefetch in the background")
		}
		time.Sleep(time.Millisecond)
	}
	if src.count(3) != 0 {
		t.Error("prefetched more than asked")
	}
}

func TestCancelAndErrors(t *testing.T) {
	src := newFake(6)
	src.fail = 3
	l, _ := New(src, nil, &Options{BatchSize: 2})
	bs := 0
	it := l.Epoch(context.Background(), 0)
	for it.Next() {
		bs++
	}
	it.Close()
	if bs != 1 || it.Err() == nil {
		t.Errorf("%d batches, error %v", bs, it.Err())
	}
	ctx, cancel := context.WithCancel(context.Background())
	src.fail = -1
	it = l.Epoch(ctx, 0)
	it.Next()
	cancel()
	for it.Next() {
	}
	it.Close()
	if !errors.Is(it.Err(), context.Canceled) {
		t.Errorf("after cancel: %v", it.Err())
	}
	if _, err := New(src, []int{6}, nil); !errors.Is(err, ErrBatch) {
		t.Errorf("index out of range: %v", err)
	}
}

func TestAugmentAndNoLabels(t *testing.T) {
	src := newFake(4)
	src.noLabel = true
	l, _ := New(src, nil, &Options{Augment: augment.New(1, augment.Intensity{Prob: 1})})
	bs := collect(t, l, 0)
	if bs[0].Labels != nil {
		t.Error("labels from an unlabelled source")
	}
	if bs[1].Images[0] == 2 {
		t.Error("augmentation not applied")
	}
}

func ExampleLoader() {
	src := newFake(5) // any Source, e.g. decathlon's Dataset.Prepare
	l, err := New(src, nil, &Options{BatchSize: 2})
	if err != nil {
		panic(err)
	}
	it := l.Epoch(context.Background(), 0)
	defer it.Close()
	for it.Next() {
		b := it.Batch()
		fmt.Println(b.Indices, b.Shape, b.LabelShape())
	}
	if err := it.Err(); err != nil {
		panic(err)
	}
	// Output:
	// [0 1] [2 2 5 4 3] [2 1 5 4 3]
	// [2 3] [2 2 5 4 3] [2 1 5 4 3]
	// [4] [1 2 5 4 3] [1 1 5 4 3]
}

// badSource returns, for sample 0, what its function gives; the other
// samples are the fake's.
type badSource struct {
	*fake
	first func() (*volume.Volume, *volume.Volume)
}

func (b badSource) Sample(ctx context.Context, i int) (*volume.Volume, *volume.Volume, error) {
	if i == 0 {
		img, lab := b.first()
		return img, lab, nil
	}
	return b.fake.Sample(ctx, i)
}

// TestBadSamples: samples whose data do not match their shape, or that are
// missing, give ErrBatch or a volume.ErrShape error naming the sample, never
// a panic or a batch with one sample's voxels spilled into the next.
func TestBadSamples(t *testing.T) {
	good := func() (*volume.Volume, *volume.Volume) {
		img, lab, _ := newFake(1).Sample(context.Background(), 0)
		return img, lab
	}
	cases := map[string]func() (*volume.Volume, *volume.Volume){
		"nil image": func() (*volume.Volume, *volume.Volume) { return nil, nil },
		"long image data": func() (*volume.Volume, *volume.Volume) {
			img, lab := good()
			img.Data = append(img.Data, make([]float32, len(img.Data))...)
			return img, lab
		},
		"short label data": func() (*volume.Volume, *volume.Volume) {
			img, lab := good()
			lab.Data = lab.Data[:5]
			return img, lab
		},
	}
	for name, first := range cases {
		t.Run(name, func(t *testing.T) {
			l, err := New(badSource{newFake(4), first}, nil, &Options{BatchSize: 2, Prefetch: -1})
			if err != nil {
				t.Fatal(err)
			}
			it := l.Epoch(context.Background(), 0)
			defer it.Close()
			if it.Next() {
				t.Fatalf("first batch made from a bad sample: %v", it.Batch().Shape)
			}
			if err := it.Err(); !errors.Is(err, ErrBatch) && !errors.Is(err, volume.ErrShape) {
				t.Fatalf("err = %v, want ErrBatch or volume.ErrShape", err)
			}
		})
	}
	if _, err := New(nil, nil, nil); !errors.Is(err, ErrBatch) {
		t.Errorf("New(nil source): %v, want ErrBatch", err)
	}
}
