package tsplib

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Tour is a TSPLIB TOUR file: a permutation of the nodes of a problem.
type Tour struct {
	Name      string
	Comment   string
	Dimension int
	// Nodes lists the tour's nodes numbered from 0 (the file numbers
	// them from 1).
	Nodes []int
}

// WriteTour writes t in TSPLIB TOUR format.
func WriteTour(w io.Writer, t *Tour) error {
	bw := bufio.NewWriter(w)
	if t.Name != "" {
		fmt.Fprintf(bw, "NAME : %s\n", oneLine(t.Name))
	}
	if t.Comment != "" {
		fmt.Fprintf(bw, "COMMENT : %s\n", oneLine(t.Comment))
	}
	dim := t.Dimension
	if dim == 0 {
		dim = len(t.Nodes)
	}
	fmt.Fprintf(bw, "TYPE : TOUR\nDIMENSION : %d\nTOUR_SECTION\n", dim)
	for _, c := range t.Nodes {
		bw.WriteString(strconv.Itoa(c + 1))
		bw.WriteByte('\n')
	}
	bw.WriteString("-1\nEOF\n")
	return bw.Flush()
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// WriteTourFile writes t to the named file.
func WriteTourFile(path string, t *Tour) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteTour(f, t); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// ReadTour reads a TSPLIB TOUR file. The tour must list distinct nodes
// and, when the file gives a DIMENSION, exactly that many of them.
func ReadTour(r io.Reader) (*Tour, error) {
	t := &Tour{}
	lr := newLineReader(r)
	for {
		line, ok := lr.next()
		if !ok {
			return nil, fmt.Errorf("%w: no TOUR_SECTION", ErrFormat)
		}
		key, value := keyword(line)
		switch key {
		case "NAME":
			t.Name = value
		case "COMMENT":
			t.Comment = value
		case "TYPE":
			if v := strings.ToUpper(value); v != "TOUR" {
				return nil, lr.errorf("TYPE %q is not TOUR", value)
			}
		case "DIMENSION":
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 || n > MaxDimension {
				return nil, lr.errorf("bad DIMENSION %q", value)
			}
			t.Dimension = n
		case "TOUR_SECTION":
			if err := readTourNodes(lr, t, value); err != nil {
				return nil, err
			}
			return t, nil
		default:
			return nil, lr.errorf("unsupported keyword %q", key)
		}
	}
}

func readTourNodes(lr *lineReader, t *Tour, first string) error {
	seen := map[int]bool{}
	add := func(line string) (done bool, err error) {
		for _, f := range strings.Fields(line) {
			if f == "EOF" {
				return true, nil
			}
			v, err := strconv.Atoi(f)
			if err != nil {
				return false, lr.errorf("tour entry %q is not a node number", f)
			}
			if v == -1 {
				return true, nil
			}
			if v < 1 || (t.Dimension > 0 && v > t.Dimension) || v > MaxDimension {
				return false, lr.errorf("node %d out of range", v)
			}
			if seen[v] {
				return false, lr.errorf("node %d appears twice", v)
			}
			seen[v] = true
			t.Nodes = append(t.Nodes, v-1)
		}
		return false, nil
	}
	done, err := add(first)
	for !done && err == nil {
		line, ok := lr.next()
		if !ok {
			break
		}
		done, err = add(line)
	}
	if err != nil {
		return err
	}
	if err := lr.sc.Err(); err != nil {
		return fmt.Errorf("tsplib: %w", err)
	}
	if len(t.Nodes) == 0 {
		return fmt.Errorf("%w: empty tour", ErrFormat)
	}
	if t.Dimension > 0 && len(t.Nodes) != t.Dimension {
		return fmt.Errorf("%w: tour has %d nodes, DIMENSION is %d", ErrFormat, len(t.Nodes), t.Dimension)
	}
	if t.Dimension == 0 {
		t.Dimension = len(t.Nodes)
		for v := range seen {
			if v > t.Dimension {
				return fmt.Errorf("%w: node %d out of range for a tour of %d nodes", ErrFormat, v, t.Dimension)
			}
		}
	}
	return nil
}
