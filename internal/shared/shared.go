// Package shared finds the project's shared test material: ../shared beside
// the module root, with conformance streams, annotated vectors, TSPLIB
// instances and CC BY music. Developers and CI have it; people who go get
// the module do not, so tests that need it skip cleanly without it.
package shared

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the shared directory, or "" when there is none.
func Dir() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
	d := filepath.Join(filepath.Dir(dir), "shared")
	if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
		return ""
	}
	return d
}

// Path returns the named path inside the shared directory, skipping t when
// the directory, or that path in it, is absent.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	d := Dir()
	if d == "" {
		t.Skip("../shared is absent")
	}
	p := filepath.Join(append([]string{d}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s is absent", filepath.Join(append([]string{"../shared"}, elem...)...))
	}
	return p
}
