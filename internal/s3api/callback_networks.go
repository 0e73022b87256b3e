package s3api

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// DefaultCallbackDeny are the networks upload callbacks may not reach
// unless CallbackOptions.Allow lists them: this machine (loopback, the
// unspecified address), link-local addresses, where clouds serve instance
// metadata and credentials (169.254.169.254, fd00:ec2::254), and
// Alibaba Cloud's metadata address. An uploader chooses the callback URL,
// so without this any client allowed to upload could make the store POST
// to the node's own admin listener or read cloud credentials (SSRF).
// Private networks (10/8, 192.168/16, ...) are allowed: callback servers
// of a self-hosted store usually live there.
var DefaultCallbackDeny = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("::/128"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("fd00:ec2::254/128"),
	netip.MustParsePrefix("100.100.100.200/32"),
}

// deniedAddrError refuses a callback connection to an address in a
// denied network.
type deniedAddrError struct {
	addr   string
	prefix netip.Prefix
}

func (e *deniedAddrError) Error() string {
	return fmt.Sprintf("callback address %s is in %s, which s3.callback.deny_networks denies "+
		"(an uploader must not make this node reach its own or the cloud's private services); "+
		"list the network in s3.callback.allow_networks to allow it", e.addr, e.prefix)
}

// callbackControl checks, as each connection is made, the address it
// goes to: after DNS resolution, so a name that resolves to a denied
// address (DNS rebinding) is refused too.
func (o *CallbackOptions) callbackControl(network, address string, _ syscall.RawConn) error {
	if len(o.Deny) == 0 {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	ip = ip.Unmap()
	for _, p := range o.Allow {
		if p.Contains(ip) {
			return nil
		}
	}
	for _, p := range o.Deny {
		if p.Contains(ip) {
			return &deniedAddrError{addr: address, prefix: p}
		}
	}
	return nil
}
