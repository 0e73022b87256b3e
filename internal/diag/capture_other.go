//go:build !linux

package diag

import "net/netip"

// rawCapture is unavailable off Linux: the doctor says what to capture
// instead.
type rawCapture struct{}

// openCapture always fails off Linux.
func openCapture(netip.AddrPort) (*rawCapture, error) { return nil, errNoCapture }

func (*rawCapture) read() []packet { return nil }

func (*rawCapture) close() {}
