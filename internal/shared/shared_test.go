package shared

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDir(t *testing.T) {
	d := Dir()
	if d == "" {
		t.Skip("../shared is absent")
	}
	if _, err := os.Stat(filepath.Join(d, "README.md")); err != nil {
		t.Errorf("Dir() = %s, which has no README.md: %v", d, err)
	}
	if got := Path(t, "README.md"); got != filepath.Join(d, "README.md") {
		t.Errorf("Path(README.md) = %s", got)
	}
}

func TestPathSkipsWhenAbsent(t *testing.T) {
	skipped := true
	t.Run("absent", func(t *testing.T) {
		Path(t, "no-such-file-in-shared")
		skipped = false
	})
	if !skipped {
		t.Error("Path did not skip for a missing file")
	}
}
