package daemon

import (
	"log/slog"
	"net"
	"testing"
)

// Accepted client connections carry the unsent-data low-water mark, so send
// timeouts measure a slow reader's progress, not the kernel's wakeups (C22).
func TestClientListenerSetsNotSentLowat_C22(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := clientListener{Listener: ln, log: slog.New(slog.DiscardHandler)}
	defer cl.Close()
	dialed := make(chan net.Conn, 1)
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Error(err)
		}
		dialed <- c
	}()
	c, err := cl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if d := <-dialed; d != nil {
		defer d.Close()
	}
	got, err := notSentLowat(c)
	if err != nil {
		t.Fatal(err)
	}
	if got != sendLowat {
		t.Errorf("TCP_NOTSENT_LOWAT = %d, want %d", got, sendLowat)
	}
}
