package align_test

import (
	"fmt"

	"github.com/foreverfm/forever/align"
	"gonum.org/v1/gonum/mat"
)

// The tail of one track is slid along the start of the next; rows 2..4 of
// the incoming matrix match it.
func ExampleAlign() {
	out := mat.NewDense(3, 2, []float64{
		5, 1,
		9, 0,
		5, 1,
	})
	in := mat.NewDense(6, 2, []float64{
		0, 0,
		1, 3,
		5, 1,
		9, 0,
		5, 1,
		0, 2,
	})
	al, err := align.Align(align.Side{M: out}, align.Side{M: in}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("entry %d of %d candidates, distance %.2f\n", al.Entry, al.Candidates, al.Distance)
	// Output: entry 2 of 4 candidates, distance 0.00
}
