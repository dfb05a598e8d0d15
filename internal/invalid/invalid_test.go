package invalid_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/unetlab/unetlab/internal/invalid"
)

type mode string

type level int

func (l level) String() string { return fmt.Sprintf("level%d", int(l)) }

func TestField(t *testing.T) {
	errX := errors.New("x: invalid options")
	cases := []struct {
		value any
		want  string
	}{
		{-1, "x: invalid options: F -1: must be >= 0"},
		{0.5, "x: invalid options: F 0.5: must be >= 0"},
		{"a b", `x: invalid options: F "a b": must be >= 0`},
		{mode("fast"), `x: invalid options: F "fast": must be >= 0`},
		{level(3), `x: invalid options: F "level3": must be >= 0`},
		{nil, "x: invalid options: F <nil>: must be >= 0"},
		{[3]int{1, 2, 3}, "x: invalid options: F [1 2 3]: must be >= 0"},
	}
	for _, c := range cases {
		err := invalid.Field(errX, "F", c.value, "must be >= 0")
		if !errors.Is(err, errX) || err.Error() != c.want {
			t.Errorf("Field(%#v) = %v, want %s", c.value, err, c.want)
		}
	}
}

func ExampleField() {
	errOptions := errors.New("train: invalid options")
	fmt.Println(invalid.Field(errOptions, "Epochs", -1, "must be >= 0"))
	// Output: train: invalid options: Epochs -1: must be >= 0
}
