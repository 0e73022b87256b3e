//go:build !linux

package daemon

import (
	"errors"
	"net"
)

// setNotSentLowat is a no-op where TCP_NOTSENT_LOWAT is not available.
func setNotSentLowat(c net.Conn, bytes int) error { return nil }

func notSentLowat(c net.Conn) (int, error) { return 0, errors.ErrUnsupported }
