package batch

import (
	"errors"
	"testing"

	"github.com/unetlab/unetlab/volume"
)

// TestOptionsInvalid: each ill option is refused with ErrOptions and a
// message naming that one field, its value and the rule; the caller's
// struct is not changed.
func TestOptionsInvalid(t *testing.T) {
	cases := []struct {
		name string
		opt  Options
		msg  string
	}{
		{"batch size", Options{BatchSize: -1}, "batch: invalid options: BatchSize -1: must be >= 0 (0: 2)"},
		{"workers", Options{Workers: -2}, "batch: invalid options: Workers -2: must be >= 0 (0: GOMAXPROCS)"},
		{"axes", Options{Axes: volume.Axes(5)}, `batch: invalid options: Axes "Axes(5)": must be ZYX or ZXY`},
	}
	src := newFake(4)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			keep := c.opt
			_, err := New(src, nil, &c.opt)
			if !errors.Is(err, ErrOptions) || err.Error() != c.msg {
				t.Fatalf("err %v\nwant %s", err, c.msg)
			}
			if c.opt != keep {
				t.Fatal("New changed the caller's options")
			}
		})
	}
	o := Options{}
	if _, err := New(src, nil, &o); err != nil || o != (Options{}) {
		t.Fatalf("zero options: %v; options became %+v", err, o)
	}
}
