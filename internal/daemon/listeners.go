package daemon

import (
	"log/slog"
	"net"
	"strconv"
	"strings"
)

// logListener says exactly where a listener can be reached (case C20): for a
// wildcard address it lists the machine's addresses, so an operator whose
// host does not own its public IP sees what it really listens on.
func logListener(log *slog.Logger, name string, addr net.Addr) {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		log.Info("listening", "service", name, "addr", addr.String())
		return
	}
	if !tcp.IP.IsUnspecified() {
		log.Info("listening", "service", name, "addr", tcp.String(), "reach", "http://"+tcp.String())
		return
	}
	log.Info("listening on every address", "service", name, "addr", tcp.String(),
		"reach", strings.Join(reachable(tcp.Port), " "))
}

// reachable lists http://ip:port for every address of the machine's
// interfaces that are up.
func reachable(port int) []string {
	var urls []string
	ifaces, err := net.Interfaces()
	if err != nil {
		return []string{"http://127.0.0.1:" + strconv.Itoa(port)}
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLinkLocalUnicast() {
				continue
			}
			urls = append(urls, "http://"+net.JoinHostPort(ipn.IP.String(), strconv.Itoa(port)))
		}
	}
	return urls
}
