package eval

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

var fieldSep = regexp.MustCompile(`\s+`)

// readRows reads the whitespace-separated rows of an annotation file as
// mir_eval's io.load_delimited does: lines starting with # are comments,
// the last of n columns takes the rest of the line (so labels may hold
// spaces). Blank lines are skipped.
func readRows(r io.Reader, n int, fn func(line int, cols []string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if strings.HasPrefix(text, "#") {
			continue
		}
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		cols := fieldSep.Split(text, n)
		if len(cols) != n {
			return fmt.Errorf("%w: line %d: %d columns, want %d", ErrInvalid, line, len(cols), n)
		}
		if err := fn(line, cols); err != nil {
			return err
		}
	}
	return sc.Err()
}

func parseTime(line int, s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: line %d: %q is not a number", ErrInvalid, line, s)
	}
	return v, nil
}

// ReadEvents reads event times (beats, onsets), one per line in the first
// column. It does not check their order; ValidateEvents does.
func ReadEvents(r io.Reader) ([]float64, error) {
	var ev []float64
	err := readRows(r, 1, func(line int, cols []string) error {
		// Extra columns (labels) are allowed after the time.
		v, err := parseTime(line, fieldSep.Split(cols[0], 2)[0])
		ev = append(ev, v)
		return err
	})
	return ev, err
}

// ReadLabeledIntervals reads "start end label" lines, as in .lab files.
func ReadLabeledIntervals(r io.Reader) ([]Interval, []string, error) {
	var iv []Interval
	var labels []string
	err := readRows(r, 3, func(line int, cols []string) error {
		s, err := parseTime(line, cols[0])
		if err != nil {
			return err
		}
		e, err := parseTime(line, cols[1])
		if err != nil {
			return err
		}
		iv = append(iv, Interval{s, e})
		labels = append(labels, cols[2])
		return nil
	})
	return iv, labels, err
}

// ReadTempo reads a tempo annotation in the MIREX format mir_eval uses: one
// line "tempo1 tempo2 weight", the weight being the salience of tempo1.
func ReadTempo(r io.Reader) (tempi [2]float64, weight float64, err error) {
	rows := 0
	err = readRows(r, 3, func(line int, cols []string) error {
		rows++
		if rows > 1 {
			return fmt.Errorf("%w: line %d: more than one tempo line", ErrInvalid, line)
		}
		var v [3]float64
		for i, c := range cols {
			if v[i], err = parseTime(line, c); err != nil {
				return err
			}
		}
		tempi, weight = [2]float64{v[0], v[1]}, v[2]
		return nil
	})
	if err == nil && rows == 0 {
		err = fmt.Errorf("%w: no tempo line", ErrInvalid)
	}
	return tempi, weight, err
}
