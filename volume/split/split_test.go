package split

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func TestKFoldPartition(t *testing.T) {
	for _, c := range []struct{ n, k int }{{20, 5}, {21, 5}, {7, 7}, {10, 3}, {2, 2}} {
		folds, err := KFold(c.n, c.k, 1)
		if err != nil {
			t.Fatal(err)
		}
		seen := make([]int, c.n)
		for i, f := range folds {
			if len(f.Val)+len(f.Train) != c.n {
				t.Errorf("n=%d k=%d fold %d: %d+%d cases", c.n, c.k, i, len(f.Val), len(f.Train))
			}
			want := c.n / c.k
			if i < c.n%c.k {
				want++
			}
			if len(f.Val) != want {
				t.Errorf("fold %d has %d validation cases, want %d", i, len(f.Val), want)
			}
			in := map[int]bool{}
			for _, v := range f.Val {
				seen[v]++
				in[v] = true
			}
			for _, v := range f.Train {
				if in[v] {
					t.Errorf("case %d in both train and val of fold %d", v, i)
				}
			}
		}
		for v, s := range seen {
			if s != 1 {
				t.Errorf("case %d validated %d times", v, s)
			}
		}
	}
}

// TestKFoldStable pins the folds for one seed: they must never change
// across runs, machines or Go versions.
func TestKFoldStable(t *testing.T) {
	folds, err := KFold(10, 5, 2023)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range folds {
		got = append(got, fmt.Sprint(f.Val))
	}
	want := []string{"[0 6]", "[1 7]", "[2 8]", "[3 4]", "[5 9]"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("KFold(10, 5, 2023) validation folds %v, want %v", got, want)
	}
	again, _ := KFold(10, 5, 2023)
	if !reflect.DeepEqual(folds, again) {
		t.Error("same seed, different folds")
	}
	other, _ := KFold(10, 5, 2024)
	if reflect.DeepEqual(folds, other) {
		t.Error("different seeds, same folds")
	}
}

func TestTrainVal(t *testing.T) {
	train, val, err := TrainVal(20, 0.2, 9)
	if err != nil {
		t.Fatal(err)
	}
	if len(val) != 4 || len(train) != 16 {
		t.Errorf("%d train, %d val", len(train), len(val))
	}
	for _, c := range []struct {
		n int
		f float64
	}{{1, 0.5}, {10, 0}, {10, 1}, {10, -0.1}} {
		if _, _, err := TrainVal(c.n, c.f, 1); !errors.Is(err, ErrSplit) {
			t.Errorf("TrainVal(%d, %g): %v", c.n, c.f, err)
		}
	}
	if _, err := KFold(3, 4, 1); !errors.Is(err, ErrSplit) {
		t.Errorf("KFold(3, 4): %v", err)
	}
}

func ExampleKFold() {
	folds, err := KFold(10, 5, 2023)
	if err != nil {
		panic(err)
	}
	for _, f := range folds {
		fmt.Println(f.Index, "val", f.Val, "train", len(f.Train))
	}
	// Output:
	// 0 val [0 6] train 8
	// 1 val [1 7] train 8
	// 2 val [2 8] train 8
	// 3 val [3 4] train 8
	// 4 val [5 9] train 8
}
