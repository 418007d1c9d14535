//go:build unix

package source

import (
	"os"
	"syscall"
)

// openRegular opens path for reading without blocking: a file that became
// a named pipe after it was stat'ed would otherwise block open until a
// writer comes. The caller checks that what it opened is a regular file.
func openRegular(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
