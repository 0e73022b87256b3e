package daemon

import (
	"log/slog"
	"net"
)

// sendLowat is the unsent-data low-water mark of client connections: small
// enough that a write blocked on a slow reader wakes after a few seconds of
// reading at audio bitrates, large enough to keep fast clients' pipes full.
const sendLowat = 128 << 10

// clientListener tunes every accepted client connection.
type clientListener struct {
	net.Listener
	log *slog.Logger
}

// Accept accepts a connection and sets its low-water mark.
func (l clientListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if err := setNotSentLowat(c, sendLowat); err != nil {
		l.log.Debug("TCP_NOTSENT_LOWAT not set", "remote", c.RemoteAddr().String(), "err", err)
	}
	return c, nil
}
