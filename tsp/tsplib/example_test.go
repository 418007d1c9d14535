package tsplib_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/foreverfm/forever/tsp"
	"github.com/foreverfm/forever/tsp/tsplib"
)

func Example() {
	in, err := tsplib.Read(strings.NewReader(`NAME : square
TYPE : TSP
DIMENSION : 4
EDGE_WEIGHT_TYPE : EUC_2D
NODE_COORD_SECTION
1 0 0
2 10 10
3 10 0
4 0 10
EOF
`))
	if err != nil {
		panic(err)
	}
	res, err := tsp.Solve(context.Background(), in.Dimension, in.Distance(), tsp.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Println("length", res.Length)
	tsplib.WriteTour(os.Stdout, &tsplib.Tour{Name: "square.tour", Nodes: res.Tour})
	// Output:
	// length 40
	// NAME : square.tour
	// TYPE : TOUR
	// DIMENSION : 4
	// TOUR_SECTION
	// 1
	// 4
	// 2
	// 3
	// -1
	// EOF
}
