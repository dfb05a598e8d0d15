package nn_test

import (
	"fmt"

	"github.com/unetlab/unetlab/models/nn"
)

// SetDevice picks where the engine computes; "cpu" always works, "cuda"
// is an error without a GPU and "auto" falls back to the CPU saying why.
func ExampleSetDevice() {
	d, err := nn.SetDevice("cpu")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Kind(), "|", d)
	// Output: cpu | device: cpu
}

// The emulated device runs the project's CUDA kernels on the CPU: a test
// device for checking GPU code on a machine without a GPU.
func ExampleSetDevice_emulated() {
	d, err := nn.SetDevice("emulated")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nn.SetDevice("cpu")
	fmt.Println(d)
	// Output: device: emulated: emulated CUDA device (CPU)
}
