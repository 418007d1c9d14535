// Package tsplib reads TSPLIB problem files and reads and writes TSPLIB
// TOUR files, following "TSPLIB 95" (G. Reinelt, 1995): symmetric problems
// with EUC_2D, CEIL_2D, ATT, GEO, MAN_2D, MAX_2D and EXPLICIT edge weights,
// with the exact rounding rules of the format, so that tour lengths agree
// with published optima.
package tsplib

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/foreverfm/forever/tsp"
)

// MaxDimension bounds DIMENSION, so that a corrupt header cannot ask for
// unbounded memory.
const MaxDimension = 1 << 24

// ErrFormat is wrapped by every error about malformed input.
var ErrFormat = errors.New("tsplib: bad format")

// Instance is a TSPLIB problem.
type Instance struct {
	Name             string
	Type             string // TSP (or TOUR, ATSP... which Read rejects)
	Comment          string
	Dimension        int
	EdgeWeightType   string // EUC_2D, CEIL_2D, ATT, GEO, MAN_2D, MAX_2D, EXPLICIT
	EdgeWeightFormat string // for EXPLICIT: FULL_MATRIX, UPPER_ROW, ...

	// Coords holds the node coordinates (node i+1 at index i) when the
	// file has a NODE_COORD_SECTION.
	Coords []tsp.Point

	weights *tsp.Matrix // EXPLICIT only
}

// ReadFile reads the TSPLIB problem in the named file.
func ReadFile(path string) (*Instance, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	in, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return in, nil
}

// lineReader yields trimmed, non-empty lines with their numbers.
type lineReader struct {
	sc     *bufio.Scanner
	lineno int
	peeked bool
	line   string
}

func newLineReader(r io.Reader) *lineReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	return &lineReader{sc: sc}
}

func (l *lineReader) next() (string, bool) {
	if l.peeked {
		l.peeked = false
		return l.line, true
	}
	for l.sc.Scan() {
		l.lineno++
		if s := strings.TrimSpace(l.sc.Text()); s != "" {
			l.line = s
			return s, true
		}
	}
	return "", false
}

func (l *lineReader) unread() { l.peeked = true }

func (l *lineReader) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: line %d: %s", ErrFormat, l.lineno, fmt.Sprintf(format, args...))
}

// keyword splits "KEY : value", "KEY: value" and "KEY" lines.
func keyword(line string) (key, value string) {
	if i := strings.IndexByte(line, ':'); i >= 0 {
		return strings.ToUpper(strings.TrimSpace(line[:i])), strings.TrimSpace(line[i+1:])
	}
	f := strings.Fields(line)
	key = strings.ToUpper(f[0])
	return key, strings.TrimSpace(line[len(f[0]):])
}

// isData reports whether a line starts with a number rather than a keyword.
func isData(line string) bool {
	c := line[0]
	return c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9')
}

// Read reads a TSPLIB problem.
func Read(r io.Reader) (*Instance, error) {
	in := &Instance{}
	lr := newLineReader(r)
	var coords map[int]tsp.Point
	var weights []float64
	seenWeights := false
	for {
		line, ok := lr.next()
		if !ok {
			break
		}
		key, value := keyword(line)
		switch key {
		case "EOF":
			goto done
		case "NAME":
			in.Name = value
		case "TYPE":
			in.Type = strings.ToUpper(value)
		case "COMMENT":
			if in.Comment != "" {
				in.Comment += "\n"
			}
			in.Comment += value
		case "DIMENSION":
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 || n > MaxDimension {
				return nil, lr.errorf("bad DIMENSION %q", value)
			}
			in.Dimension = n
		case "CAPACITY":
		case "EDGE_WEIGHT_TYPE":
			in.EdgeWeightType = strings.ToUpper(value)
		case "EDGE_WEIGHT_FORMAT":
			in.EdgeWeightFormat = strings.ToUpper(value)
		case "EDGE_DATA_FORMAT", "NODE_COORD_TYPE", "DISPLAY_DATA_TYPE":
		case "NODE_COORD_SECTION":
			if coords != nil {
				return nil, lr.errorf("second NODE_COORD_SECTION")
			}
			coords = map[int]tsp.Point{}
			if err := readCoords(lr, in.Dimension, coords); err != nil {
				return nil, err
			}
		case "DISPLAY_DATA_SECTION":
			// Only for drawing; skip it.
			if err := skipData(lr); err != nil {
				return nil, err
			}
		case "FIXED_EDGES_SECTION":
			if err := skipData(lr); err != nil {
				return nil, err
			}
		case "EDGE_WEIGHT_SECTION":
			if seenWeights {
				return nil, lr.errorf("second EDGE_WEIGHT_SECTION")
			}
			seenWeights = true
			var err error
			if weights, err = readNumbers(lr, value); err != nil {
				return nil, err
			}
		default:
			return nil, lr.errorf("unsupported keyword or section %q", key)
		}
	}
done:
	if err := lr.sc.Err(); err != nil {
		return nil, fmt.Errorf("tsplib: %w", err)
	}
	if in.Type != "" && in.Type != "TSP" {
		return nil, fmt.Errorf("%w: TYPE %q is not supported (only TSP)", ErrFormat, in.Type)
	}
	n := in.Dimension
	if n == 0 {
		return nil, fmt.Errorf("%w: no DIMENSION", ErrFormat)
	}
	switch in.EdgeWeightType {
	case "EUC_2D", "CEIL_2D", "ATT", "GEO", "MAN_2D", "MAX_2D":
		if coords == nil {
			return nil, fmt.Errorf("%w: EDGE_WEIGHT_TYPE %s needs a NODE_COORD_SECTION", ErrFormat, in.EdgeWeightType)
		}
	case "EXPLICIT":
		if !seenWeights {
			return nil, fmt.Errorf("%w: EDGE_WEIGHT_TYPE EXPLICIT needs an EDGE_WEIGHT_SECTION", ErrFormat)
		}
		m, err := explicitMatrix(n, in.EdgeWeightFormat, weights)
		if err != nil {
			return nil, err
		}
		in.weights = m
	case "":
		return nil, fmt.Errorf("%w: no EDGE_WEIGHT_TYPE", ErrFormat)
	default:
		return nil, fmt.Errorf("%w: EDGE_WEIGHT_TYPE %q is not supported", ErrFormat, in.EdgeWeightType)
	}
	if coords != nil {
		if len(coords) != n {
			return nil, fmt.Errorf("%w: DIMENSION is %d but NODE_COORD_SECTION has %d nodes", ErrFormat, n, len(coords))
		}
		in.Coords = make([]tsp.Point, n)
		for id, p := range coords {
			in.Coords[id-1] = p
		}
	}
	return in, nil
}

func readCoords(lr *lineReader, n int, coords map[int]tsp.Point) error {
	if n == 0 {
		return lr.errorf("NODE_COORD_SECTION before DIMENSION")
	}
	for {
		line, ok := lr.next()
		if !ok {
			return nil
		}
		if !isData(line) {
			lr.unread()
			return nil
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return lr.errorf("want \"node x y\", got %q", line)
		}
		id, err := strconv.Atoi(f[0])
		if err != nil || id < 1 || id > n {
			return lr.errorf("bad node number %q (DIMENSION %d)", f[0], n)
		}
		x, err1 := strconv.ParseFloat(f[1], 64)
		y, err2 := strconv.ParseFloat(f[2], 64)
		if err1 != nil || err2 != nil || math.IsNaN(x) || math.IsNaN(y) ||
			math.Abs(x) > 1e100 || math.Abs(y) > 1e100 {
			return lr.errorf("bad coordinates %q", line)
		}
		if _, dup := coords[id]; dup {
			return lr.errorf("node %d listed twice", id)
		}
		coords[id] = tsp.Point{X: x, Y: y}
	}
}

func skipData(lr *lineReader) error {
	for {
		line, ok := lr.next()
		if !ok {
			return nil
		}
		if !isData(line) {
			lr.unread()
			return nil
		}
	}
}

// readNumbers reads whitespace-separated numbers over any number of lines,
// starting with any on the section line itself.
func readNumbers(lr *lineReader, first string) ([]float64, error) {
	var out []float64
	add := func(line string) error {
		for _, f := range strings.Fields(line) {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return lr.errorf("bad edge weight %q", f)
			}
			out = append(out, v)
		}
		return nil
	}
	if err := add(first); err != nil {
		return nil, err
	}
	for {
		line, ok := lr.next()
		if !ok {
			return out, nil
		}
		if !isData(line) {
			lr.unread()
			return out, nil
		}
		if err := add(line); err != nil {
			return nil, err
		}
	}
}

// explicitMatrix lays out the EDGE_WEIGHT_SECTION numbers by format.
func explicitMatrix(n int, format string, w []float64) (*tsp.Matrix, error) {
	n64 := int64(n)
	var want int64
	switch format {
	case "FULL_MATRIX":
		want = n64 * n64
	case "UPPER_ROW", "LOWER_ROW":
		want = n64 * (n64 - 1) / 2
	case "UPPER_DIAG_ROW", "LOWER_DIAG_ROW":
		want = n64 * (n64 + 1) / 2
	case "":
		return nil, fmt.Errorf("%w: EXPLICIT weights need an EDGE_WEIGHT_FORMAT", ErrFormat)
	default:
		return nil, fmt.Errorf("%w: EDGE_WEIGHT_FORMAT %q is not supported", ErrFormat, format)
	}
	if int64(len(w)) != want {
		return nil, fmt.Errorf("%w: %s of dimension %d needs %d weights, found %d", ErrFormat, format, n, want, len(w))
	}
	m := tsp.NewMatrix(n)
	k := 0
	switch format {
	case "FULL_MATRIX":
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				if j > i && w[i*n+j] != w[j*n+i] {
					return nil, fmt.Errorf("%w: FULL_MATRIX is not symmetric at (%d, %d)", ErrFormat, i+1, j+1)
				}
				if j >= i {
					m.Set(i, j, w[i*n+j])
				}
			}
		}
	case "UPPER_ROW":
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				m.Set(i, j, w[k])
				k++
			}
		}
	case "LOWER_ROW":
		for i := 0; i < n; i++ {
			for j := 0; j < i; j++ {
				m.Set(i, j, w[k])
				k++
			}
		}
	case "UPPER_DIAG_ROW":
		for i := 0; i < n; i++ {
			for j := i; j < n; j++ {
				m.Set(i, j, w[k])
				k++
			}
		}
	case "LOWER_DIAG_ROW":
		for i := 0; i < n; i++ {
			for j := 0; j <= i; j++ {
				m.Set(i, j, w[k])
				k++
			}
		}
	}
	return m, nil
}

// Distance returns the instance's distance, with TSPLIB's rounding. For
// EUC_2D, CEIL_2D and ATT it is a tsp.Planar, so the solver finds
// neighbours from the coordinates.
func (in *Instance) Distance() tsp.Distance {
	switch in.EdgeWeightType {
	case "EUC_2D":
		return euc2D(in.Coords)
	case "CEIL_2D":
		return ceil2D(in.Coords)
	case "ATT":
		return att(in.Coords)
	case "GEO":
		return newGeo(in.Coords)
	case "MAN_2D":
		return man2D(in.Coords)
	case "MAX_2D":
		return max2D(in.Coords)
	case "EXPLICIT":
		return in.weights
	}
	return nil
}

// nint is TSPLIB's rounding, (int)(x + 0.5), for the non-negative values
// it is applied to.
func nint(x float64) float64 { return math.Floor(x + 0.5) }

type euc2D []tsp.Point

func (p euc2D) Dist(i, j int) float64 {
	dx, dy := p[i].X-p[j].X, p[i].Y-p[j].Y
	return nint(math.Sqrt(dx*dx + dy*dy))
}
func (p euc2D) Coord(i int) (x, y float64) { return p[i].X, p[i].Y }

type ceil2D []tsp.Point

func (p ceil2D) Dist(i, j int) float64 {
	dx, dy := p[i].X-p[j].X, p[i].Y-p[j].Y
	return math.Ceil(math.Sqrt(dx*dx + dy*dy))
}
func (p ceil2D) Coord(i int) (x, y float64) { return p[i].X, p[i].Y }

// att is the pseudo-Euclidean distance of the att48 and att532 problems.
type att []tsp.Point

func (p att) Dist(i, j int) float64 {
	dx, dy := p[i].X-p[j].X, p[i].Y-p[j].Y
	r := math.Sqrt((dx*dx + dy*dy) / 10)
	t := nint(r)
	if t < r {
		return t + 1
	}
	return t
}
func (p att) Coord(i int) (x, y float64) { return p[i].X, p[i].Y }

type man2D []tsp.Point

func (p man2D) Dist(i, j int) float64 {
	return nint(math.Abs(p[i].X-p[j].X) + math.Abs(p[i].Y-p[j].Y))
}

type max2D []tsp.Point

func (p max2D) Dist(i, j int) float64 {
	return math.Max(nint(math.Abs(p[i].X-p[j].X)), nint(math.Abs(p[i].Y-p[j].Y)))
}

// geo is the distance on TSPLIB's idealised Earth. Coordinates are
// DDD.MM (degrees and minutes), latitude first.
type geo struct{ lat, lon []float64 }

func newGeo(pts []tsp.Point) geo {
	g := geo{lat: make([]float64, len(pts)), lon: make([]float64, len(pts))}
	rad := func(v float64) float64 {
		const pi = 3.141592 // TSPLIB's value, not math.Pi
		deg := math.Trunc(v)
		return pi * (deg + 5*(v-deg)/3) / 180
	}
	for i, p := range pts {
		g.lat[i], g.lon[i] = rad(p.X), rad(p.Y)
	}
	return g
}

func (g geo) Dist(i, j int) float64 {
	const rrr = 6378.388
	q1 := math.Cos(g.lon[i] - g.lon[j])
	q2 := math.Cos(g.lat[i] - g.lat[j])
	q3 := math.Cos(g.lat[i] + g.lat[j])
	c := 0.5 * ((1+q1)*q2 - (1-q1)*q3)
	c = math.Max(-1, math.Min(1, c))
	return math.Trunc(rrr*math.Acos(c) + 1)
}
