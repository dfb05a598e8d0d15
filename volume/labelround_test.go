package volume

import (
	"context"
	"math/rand"
	"testing"
)

// TestLabelRound checks LabelRound against the authors' channels
// (ResizeOneHot): a voxel is the class whose rounded channel is 1, and
// background where none is; and that it differs from LabelLinear exactly
// there.
func TestLabelRound(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewSource(3))
	junction := New([3]int{2, 2, 1}, 1) // three classes meet: the centre has weights 1/4, 1/4, 1/2 or below 1/2 each
	copy(junction.Data, []float32{1, 2, 3, 0})
	random := New([3]int{7, 6, 5}, 1)
	for i := range random.Data {
		random.Data[i] = float32(r.Intn(4))
	}
	cases := []struct {
		name    string
		lab     *Volume
		shape   [3]int
		classes int
		differ  bool // LabelRound must differ from LabelLinear somewhere
	}{
		{"junction", junction, [3]int{3, 3, 1}, 4, true},
		{"random down", random, [3]int{4, 3, 3}, 4, true},
		{"random up", random, [3]int{11, 9, 8}, 4, true},
		{"identity", random, [3]int{7, 6, 5}, 4, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ResizeLabels(ctx, c.lab, c.shape, c.classes, LabelRound)
			if err != nil {
				t.Fatal(err)
			}
			oh, err := ResizeOneHot(ctx, c.lab, c.shape, c.classes)
			if err != nil {
				t.Fatal(err)
			}
			lin, err := ResizeLabels(ctx, c.lab, c.shape, c.classes, LabelLinear)
			if err != nil {
				t.Fatal(err)
			}
			n, none, differ := got.Len(), 0, 0
			for i := 0; i < n; i++ {
				want, ones := float32(0), 0
				for k := 0; k < c.classes; k++ {
					if oh.Data[k*n+i] == 1 {
						want = float32(k)
						ones++
					}
				}
				if ones > 1 {
					t.Fatalf("voxel %d: %d channels round to 1", i, ones)
				}
				if ones == 0 {
					none++
				}
				if got.Data[i] != want {
					t.Errorf("voxel %d: LabelRound %g, rounded channels say %g", i, got.Data[i], want)
				}
				if got.Data[i] != lin.Data[i] {
					differ++
					if ones != 0 {
						t.Errorf("voxel %d: LabelRound %g and LabelLinear %g differ where a channel rounds to 1", i, got.Data[i], lin.Data[i])
					}
				}
			}
			if (differ > 0) != c.differ {
				t.Errorf("%d voxels differ from LabelLinear (%d with no class); want differences: %v", differ, none, c.differ)
			}
			if LabelRound.String() != "round" {
				t.Errorf("String %q", LabelRound.String())
			}
		})
	}
}
