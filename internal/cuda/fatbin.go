package cuda

import _ "embed"

//go:generate ./generate.sh

//go:embed kernels.fatbin
var fatbin []byte

// Fatbin returns the embedded kernel image: SASS for sm_80 and sm_90 and
// PTX for compute_90, built by nvcc 11.8 from kernels.cu (generate.sh).
func Fatbin() []byte { return fatbin }
