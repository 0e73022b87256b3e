package daemon

import (
	"net"

	"golang.org/x/sys/unix"
)

// setNotSentLowat sets TCP_NOTSENT_LOWAT on c: the kernel then reports the
// socket writable as soon as little unsent data is queued, instead of only
// after a third of a send buffer of up to several MiB has drained. Without
// it a client reading steadily but slowly (an audio player reading at its
// bitrate, case C22) leaves a write blocked for minutes and the send
// timeout mistakes it for a client that stopped reading. In-flight data is
// not limited by it, so throughput to fast clients is unchanged.
func setNotSentLowat(c net.Conn, bytes int) error {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT, bytes)
	})
	if err != nil {
		return err
	}
	return serr
}

// notSentLowat reads TCP_NOTSENT_LOWAT of c, for tests.
func notSentLowat(c net.Conn) (int, error) {
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		return 0, err
	}
	var v int
	var serr error
	err = raw.Control(func(fd uintptr) {
		v, serr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT)
	})
	if err != nil {
		return 0, err
	}
	return v, serr
}
