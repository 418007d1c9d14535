//go:build !linux

package stream

import "net"

// writers is empty here: each listener has a goroutine of its own.
type writers struct{}

func (s *Station) handOff(l *listener, conn net.Conn, pos int64, off int, end func(reason string)) bool {
	return false
}
