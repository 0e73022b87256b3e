package resolve

import (
	"bufio"
	"bytes"
	"net/netip"
	"slices"
	"strings"
)

// ParseHosts reads a hosts file (hosts(5)): each line an IP address and
// its names, '#' starting a comment. It returns the addresses of each name,
// lower case without a trailing dot, in the order of the file; lines whose
// address does not parse are ignored, as the C library does.
func ParseHosts(b []byte) map[string][]netip.Addr {
	out := map[string][]netip.Addr{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil {
			continue
		}
		a = a.Unmap()
		for _, n := range f[1:] {
			n = strings.ToLower(strings.TrimSuffix(n, "."))
			if n == "" || slices.Contains(out[n], a) {
				continue
			}
			out[n] = append(out[n], a)
		}
	}
	return out
}
