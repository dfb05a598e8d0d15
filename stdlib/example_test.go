package stdlib_test

import (
	"fmt"

	"github.com/unetlab/unetlab/stdlib"
)

func ExampleLookup() {
	d, ok := stdlib.Lookup("strings", "ToUpper")
	fmt.Println(ok, d.Kind)
	fmt.Println(d.Sig)
	// Output:
	// true func
	// func ToUpper(s string) string
}
