package paper_test

import (
	"fmt"

	"github.com/unetlab/unetlab/paper"
)

// The paper's average ranks come back from its Table 2: ranks within each
// of the 17 label rows, averaged over the rows.
func ExampleTable2() {
	t := paper.Table2()
	avg, err := t.AverageRanks()
	if err != nil {
		panic(err)
	}
	for m, name := range t.Models {
		fmt.Printf("%-10s rank sum %2.0f, average %.3f (printed %.3f)\n", name, avg[m]*float64(len(t.Rows)), avg[m], paper.Table2AverageRanks[m])
	}
	// Output:
	// U-net      rank sum 28, average 1.647 (printed 1.647)
	// Swin-UNETR rank sum 47, average 2.765 (printed 2.765)
	// Conv-Skip  rank sum 27, average 1.588 (printed 1.588)
}
