package diag

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// resetRetries is how many times the reset check repeats a cut attempt
// to tell a consistent cut from an intermittent one; a timeout, which
// costs a whole timeout each time, is repeated once.
const resetRetries = 2

// altSNI is the server name the reset check compares with: a name no
// filter lists (RFC 6761 §6.4 reserves .invalid).
const altSNI = "doctor.strata.invalid"

// Verdicts of the comparisons, in Cut.Verdict.
const (
	verdictName    = "name-filtered"    // another SNI or Host gets through
	verdictKeyword = "keyword-filtered" // GET / gets through, the URL does not
	verdictConnect = "on-connect"       // cut even when nothing is sent
	verdictNotName = "not-name"         // every variant is cut the same way
)

// errCaptureOff: the user turned capture off.
var errCaptureOff = errors.New("packet capture turned off (--no-capture)")

// node is what the reset check learnt about one address.
type node struct {
	addr     string
	first    outcome
	tries    []outcome // first included
	attempts int
	failures int
	pattern  string
	compared []Comparison
	verdict  string
	ttl      ttlEvidence
	captured bool  // a capture ran during a repeated attempt
	capErr   error // why it could not, when it could not
}

// checkReset connects to every address of the target the way a client
// does and, where the connection is cut at the network level (C23; C15
// for the TLS handshake), says in which phase and how, repeats it, and
// compares with another name, no name, the bare path and the other port
// to tell a filter on the name from a fault of the node. As root on Linux
// it captures the repeated attempts' control segments to compare the
// TTL of the reset with the SYN-ACK's; elsewhere it says what to capture.
func checkReset(ctx context.Context, p *prober) []Finding {
	addrs, err := p.addrs(ctx)
	if err != nil {
		return []Finding{probeFailed("reset", "C23", err)}
	}
	if len(addrs) > maxNodes {
		addrs = addrs[:maxNodes]
	}
	var (
		out    []Finding
		okEv   []string
		toCap  []string
		capWhy error
	)
	for _, a := range addrs {
		if ctx.Err() != nil {
			break
		}
		n := p.diagnoseNode(ctx, a)
		if n.failures == 0 {
			okEv = append(okEv, a+": "+describe(n.first))
			continue
		}
		out = append(out, n.finding(p))
		if f, ok := n.ttlFinding(); ok {
			out = append(out, f)
		} else if !n.captured {
			toCap, capWhy = append(toCap, a), n.capErr
		}
	}
	if len(toCap) > 0 {
		out = append(out, captureAdvice(toCap, capWhy))
	}
	if len(okEv) > 0 {
		out = append(out, Finding{ID: "reset.ok", Case: "C23", Level: OK,
			Summary:  fmt.Sprintf("%d of %d addresses answer without a cut connection", len(okEv), len(addrs)),
			Evidence: okEv})
	}
	return out
}

// primary is the attempt a client makes: the URL's name in SNI and Host.
func (p *prober) primary(addr string) attempt {
	return attempt{addr: addr, tls: p.tls, sni: p.host, host: p.u.Host, path: p.u.RequestURI()}
}

// quiet is how long a silent connection waits for the peer to cut it.
func (p *prober) quiet() time.Duration { return min(p.timeout/4, 3*time.Second) }

// diagnoseNode makes the client's attempt to addr and, if it is cut,
// repeats it and compares.
func (p *prober) diagnoseNode(ctx context.Context, addr string) node {
	a := p.primary(addr)
	n := node{addr: addr, first: p.try(ctx, a)}
	n.tries = []outcome{n.first}
	if !isCut(n.first.kind) {
		n.attempts = 1
		return n
	}
	retries := resetRetries
	if n.first.kind == kindTimeout {
		retries = 1
	}
	for range retries {
		if ctx.Err() != nil {
			break
		}
		o, ev, err := p.tryCaptured(ctx, a)
		n.tries = append(n.tries, o)
		if err != nil {
			n.capErr = err
		} else {
			n.captured = true
			if n.ttl.cut == nil {
				n.ttl = ev
			}
		}
	}
	early := false
	for _, o := range n.tries {
		n.attempts++
		if isCut(o.kind) {
			n.failures++
		}
		// Established, then cut before the client could send a byte.
		early = early || o.phase == phaseConnect && (o.kind == kindReset || o.kind == kindClosed)
	}
	n.pattern = "consistent"
	switch {
	case n.failures < n.attempts:
		n.pattern = "intermittent"
	case early:
		n.verdict = verdictConnect
	default:
		p.compare(ctx, &n)
	}
	return n
}

// tryCaptured makes an attempt while capturing what the address sends,
// when it can.
func (p *prober) tryCaptured(ctx context.Context, a attempt) (outcome, ttlEvidence, error) {
	if p.opts.NoCapture {
		return p.try(ctx, a), ttlEvidence{}, errCaptureOff
	}
	remote, err := netip.ParseAddrPort(a.addr)
	if err != nil {
		return p.try(ctx, a), ttlEvidence{}, fmt.Errorf("diag: capture %s: %w", a.addr, err)
	}
	remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	c, err := openCapture(remote)
	if err != nil {
		return p.try(ctx, a), ttlEvidence{}, err
	}
	defer c.close()
	o := p.try(ctx, a)
	local, _ := netip.ParseAddrPort(o.local)
	local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	return o, connPackets(c.read(), remote, local), nil
}

// compare repeats the cut attempt with one thing changed at a time: the
// name (SNI for a handshake, Host for a request), the path, the other of
// ports 80 and 443; and, when every variant is cut, a connection that
// sends nothing.
func (p *prober) compare(ctx context.Context, n *node) {
	base := p.primary(n.addr)
	ip := hostOf(n.addr)
	named := net.ParseIP(p.host) == nil
	type variant struct {
		label string
		a     attempt
		tells string // the verdict when it gets through
	}
	var vs []variant
	switch n.first.phase {
	case phaseTLS:
		if named {
			alt, none := base, base
			alt.sni, alt.host = altSNI, ""
			none.sni, none.host = "", ""
			vs = append(vs, variant{"with SNI " + altSNI, alt, verdictName}, variant{"without SNI", none, verdictName})
		}
		if p.port == "443" {
			vs = append(vs, variant{"plain HTTP to port 80", attempt{addr: net.JoinHostPort(ip, "80"),
				host: p.host, path: base.path}, ""})
		}
	case phaseRequest:
		neutral := base
		neutral.host = ip
		if p.u.Port() != "" {
			neutral.host = net.JoinHostPort(ip, p.port)
		}
		vs = append(vs, variant{"with Host: " + neutral.host, neutral, verdictName})
		if base.path != "/" {
			root := base
			root.path = "/"
			vs = append(vs, variant{"GET / (instead of " + base.path + ")", root, verdictKeyword})
		}
		if !p.tls && p.port == "80" {
			vs = append(vs, variant{"TLS handshake to port 443 with SNI " + p.host,
				attempt{addr: net.JoinHostPort(ip, "443"), tls: true, sni: p.host}, ""})
		}
	default:
		return
	}
	for _, v := range vs {
		if ctx.Err() != nil {
			return
		}
		o := p.try(ctx, v.a)
		n.compared = append(n.compared, Comparison{Probe: v.label, Result: describe(o), Answered: o.answered()})
		// A name gets through: that settles it over a path check.
		if o.answered() && v.tells != "" && (n.verdict == "" || v.tells == verdictName) {
			n.verdict = v.tells
		}
	}
	if n.verdict != "" || ctx.Err() != nil {
		return
	}
	o := p.try(ctx, attempt{addr: n.addr, silent: true, quiet: p.quiet()})
	label := fmt.Sprintf("connect and send nothing for %.1fs", p.quiet().Seconds())
	n.compared = append(n.compared, Comparison{Probe: label, Result: describe(o), Answered: o.answered()})
	if o.kind == kindReset || o.kind == kindClosed {
		n.verdict = verdictConnect
	} else {
		n.verdict = verdictNotName
	}
}

// describe says in a few words how an attempt ended.
func describe(o outcome) string {
	switch {
	case o.kind == kindOK && o.status != 0:
		return fmt.Sprintf("answered %d (connect %.3fs, %d body bytes)", o.status, o.connectTook.Seconds(), o.bodyRead)
	case o.kind == kindOK && o.phase == phaseDone:
		return "the handshake completes"
	case o.kind == kindOK:
		return "the connection stays open"
	case o.kind == kindOther:
		return "answered with an error: " + o.err.Error()
	}
	if o.phase == phaseConnect && o.local == "" {
		return cutWords(o) + fmt.Sprintf(" (after %.3fs of connecting)", o.connectTook.Seconds())
	}
	return cutWords(o) + fmt.Sprintf(" (%.3fs after connect)", o.sinceConnect.Seconds())
}

// cutWords says how a connection was cut, as a predicate.
func cutWords(o outcome) string {
	switch o.phase + "/" + o.kind {
	case phaseConnect + "/" + kindRefused:
		return "refused: an RST answered the SYN"
	case phaseConnect + "/" + kindTimeout:
		return "the SYN gets no answer"
	case phaseConnect + "/" + kindReset:
		return "reset with nothing sent"
	case phaseConnect + "/" + kindClosed:
		return "closed with nothing sent"
	case phaseTLS + "/" + kindReset:
		return "reset after the ClientHello"
	case phaseTLS + "/" + kindClosed:
		return "closed after the ClientHello"
	case phaseTLS + "/" + kindTimeout:
		return "no answer to the ClientHello"
	case phaseRequest + "/" + kindReset:
		return "reset after the request was sent"
	case phaseRequest + "/" + kindClosed:
		return "closed after the request, before any response"
	case phaseRequest + "/" + kindTimeout:
		return "no response to the request"
	case phaseBody + "/" + kindReset:
		return "reset mid-body after " + bodyCount(o)
	case phaseBody + "/" + kindClosed:
		return "closed mid-body after " + bodyCount(o)
	case phaseBody + "/" + kindTimeout:
		return "stalled mid-body after " + bodyCount(o)
	}
	return o.kind + " in the " + o.phase + " phase"
}

func bodyCount(o outcome) string {
	s := strconv.FormatInt(o.bodyRead, 10)
	if o.bodyWant >= 0 {
		s += " of " + strconv.FormatInt(o.bodyWant, 10)
	}
	return s + " body bytes"
}

// finding reports a node whose connection is cut.
func (n node) finding(p *prober) Finding {
	o := n.first
	port := p.port
	f := Finding{Case: "C23", Level: Bad}
	if n.pattern == "intermittent" {
		f.Level = Warn
	}
	var what, fix string
	switch {
	case n.verdict == verdictConnect || o.phase == phaseConnect && (o.kind == kindReset || o.kind == kindClosed):
		f.ID = "reset.on-connect"
		what = "connections to " + n.addr + " are cut as soon as they are established, whatever the client sends"
		fix = "a filter on the address or port, or the server itself (a full accept queue, a host firewall), cuts the connection: check the server's listen backlog and firewall, and compare from another network"
	case o.phase == phaseConnect && o.kind == kindRefused:
		f.ID = "reset.refused"
		what = "connections to " + n.addr + " are refused: an RST answered the SYN"
		fix = "check that the server listens on port " + port + " at " + hostOf(n.addr) + " and that no firewall rejects it; if the port answers from another network, a filter on this one rejects it"
	case o.phase == phaseConnect && o.kind == kindTimeout:
		f.ID = "reset.connect-timeout"
		what = "connections to " + n.addr + " time out: the SYN gets no answer"
		fix = "check that the node is up and that its firewall or security group allows port " + port + "; if it answers from another network, something on this path drops it"
	case o.phase == phaseConnect:
		f.ID = "reset.connect-failed"
		what = "connections to " + n.addr + " fail: " + o.err.Error()
		fix = "check the route to " + hostOf(n.addr) + " from this network (traceroute, mtr)"
	case o.phase == phaseTLS:
		f.ID, f.Case = "reset.tls-handshake", "C15"
		what = "the TLS handshake with " + n.addr + " (SNI " + p.host + ") is " + cutWords(o)
		if o.kind == kindTimeout {
			what = "the TLS handshake with " + n.addr + " (SNI " + p.host + ") gets no answer to the ClientHello"
		}
		fix = "check that the node serves TLS on port " + port + " for this name; if it does and answers from another network, capture the handshake from the affected one (reset.capture) and send it with the time and the client's address to that network's operator"
	case o.phase == phaseRequest:
		f.ID = "reset.request"
		what = "the connection to " + n.addr + " is " + cutWords(o)
		if o.kind == kindTimeout {
			what = "the request to " + n.addr + " gets no response"
		}
		fix = "look for the request in the server's (or its load balancer's) logs; if it never arrived and the URL answers from another network, capture from the affected one (reset.capture)"
	default:
		f.ID = "reset.body"
		what = "the response from " + n.addr + " is " + cutWords(o)
		fix = "a mid-body cut comes from the server or a proxy timing out, or from a filter on the content: check the server's logs and timeouts, repeat from another network, and capture from the affected one"
	}
	what += fmt.Sprintf(", in %d of %d attempts", n.failures, n.attempts)
	if n.pattern == "intermittent" {
		what += " (intermittent)"
		fix += "; intermittent cuts point to an overloaded node or a lossy or filtered path: repeat, and capture while it happens"
	}
	what += n.verdictWords(p)
	if injected, known := n.ttl.injected(); known && !injected {
		fix = "the cut carries the server's TTL: look at the server (its logs, WAF or SNI rules, listen backlog, a host firewall) before the network; a capture on the server settles it"
	} else if v := n.verdict; v == verdictName || v == verdictKeyword {
		fix = "not a fault of the server: compare from another network, capture the exchange from the affected one and send it, with the time and the client's address, to that network's operator"
		if !p.tls {
			fix += "; HTTPS hides the Host and the path from such filters (not the SNI)"
		}
		if p.tls && o.phase == phaseRequest {
			fix = "the server, or a proxy that terminates TLS in front of it, refuses this request: look in its logs and rules (WAF) for the name or path"
		}
	}
	f.Summary = what
	f.Fix = fix
	f.Evidence = n.evidence(p)
	f.Cut = n.cut()
	return f
}

// verdictWords is the clause of the summary that the comparisons support,
// weighed with the captured TTLs when there are some.
func (n node) verdictWords(p *prober) string {
	injected, known := n.ttl.injected()
	who, sep := "a middlebox filtering on the name likely", ": "
	switch {
	case known && injected:
		who = "a middlebox filtering on the name (its TTL is not the server's) likely"
	case known:
		who, sep = "but the "+n.ttl.cutName()+" carries the server's TTL: the server, or a device as far away, filtering on the name likely", ", "
	}
	cut := "cut the connection"
	if n.first.kind == kindReset {
		cut = "injected the reset"
		if known && !injected {
			cut = "sent the reset"
		}
	}
	tlsReq := p.tls && n.first.phase == phaseRequest
	switch n.verdict {
	case verdictName:
		if n.first.phase == phaseTLS {
			return "; with another name or none in SNI the handshake gets through" + sep + who + " " + cut + " (C15, C23)"
		}
		if tlsReq {
			return "; with another Host it is answered: the server or a proxy that terminates TLS refuses this name (no middlebox can read a request inside TLS)"
		}
		return "; with another Host it is answered" + sep + who + " " + cut + " (C23)"
	case verdictKeyword:
		if tlsReq {
			return "; GET / is answered: the server or a proxy that terminates TLS refuses this path"
		}
		return "; GET / is answered" + sep + strings.Replace(who, "on the name", "on the URL (a keyword in it)", 1) + " " + cut + " (C23)"
	case verdictNotName:
		if n.first.phase == phaseTLS {
			return "; another name and no SNI are cut too: not a filter on the name"
		}
		return "; another Host and the bare path are cut too: not a filter on the name"
	}
	return ""
}

// evidence lists what was seen at the node, one item a line.
func (n node) evidence(p *prober) []string {
	o := n.first
	ev := []string{"address: " + n.addr, "phase: " + o.phase + ", " + o.kind}
	if p.tls && (o.phase == phaseTLS || o.phase == phaseRequest) {
		ev = append(ev, "SNI: "+sniWords(p))
	}
	if o.phase == phaseRequest {
		ev = append(ev, "Host: "+p.u.Host)
	}
	if o.err != nil {
		ev = append(ev, "error: "+o.err.Error())
	}
	if o.phase == phaseConnect {
		ev = append(ev, fmt.Sprintf("after %.3fs of connecting", o.connectTook.Seconds()))
	} else {
		ev = append(ev, fmt.Sprintf("%.3fs after connect (connect took %.3fs); sent %d bytes, received %d bytes",
			o.sinceConnect.Seconds(), o.connectTook.Seconds(), o.sent, o.recv))
	}
	if o.writeFailed {
		ev = append(ev, "the cut came before the data left: the write failed")
	}
	ev = append(ev, fmt.Sprintf("attempts: %d, cut: %d (%s)", n.attempts, n.failures, n.pattern))
	for i, t := range n.tries {
		ev = append(ev, fmt.Sprintf("attempt %d: %s", i+1, describe(t)))
	}
	for _, c := range n.compared {
		ev = append(ev, c.Probe+": "+c.Result)
	}
	switch {
	case n.ttl.synAck != nil || n.ttl.cut != nil:
		if n.ttl.synAck != nil {
			ev = append(ev, "captured SYN-ACK: "+n.ttl.synAck.String())
		}
		if n.ttl.cut != nil {
			ev = append(ev, "captured "+n.ttl.cutName()+": "+n.ttl.cut.String())
		}
	case n.captured:
		ev = append(ev, "captured: no RST or FIN from "+n.addr)
	}
	return ev
}

func sniWords(p *prober) string {
	if net.ParseIP(p.host) != nil {
		return "none (the URL names an IP address)"
	}
	return p.host
}

// cut is the structured form of the evidence, for --json.
func (n node) cut() *Cut {
	o := n.first
	c := &Cut{Addr: n.addr, Phase: o.phase, Kind: o.kind, SinceConnect: o.sinceConnect.Seconds(),
		BytesSent: o.sent, BytesReceived: o.recv, Attempts: n.attempts, Failures: n.failures,
		Pattern: n.pattern, Verdict: n.verdict, Compared: n.compared}
	if o.err != nil {
		c.Error = o.err.Error()
	}
	if n.ttl.synAck != nil {
		c.SynAckTTL = n.ttl.synAck.ttl
	}
	if n.ttl.cut != nil {
		c.CutTTL = n.ttl.cut.ttl
	}
	c.Injected, _ = n.ttl.injected()
	return c
}

// ttlFinding judges the captured TTLs: a reset whose TTL is hops away from
// the SYN-ACK's was not sent by the server (C23).
func (n node) ttlFinding() (Finding, bool) {
	injected, ok := n.ttl.injected()
	if !ok {
		return Finding{}, false
	}
	name := n.ttl.cutName()
	nums := fmt.Sprintf("SYN-ACK TTL %d, %s TTL %d", n.ttl.synAck.ttl, name, n.ttl.cut.ttl)
	ev := []string{"address: " + n.addr, "SYN-ACK: " + n.ttl.synAck.String(), name + ": " + n.ttl.cut.String()}
	if injected {
		return Finding{ID: "reset.injected", Case: "C23", Level: Bad,
			Summary:  "the " + name + " that cut the connection to " + n.addr + " did not come from the server (" + nums + "): a middlebox injected it",
			Evidence: ev, Cut: n.cut(),
			Fix: "not a fault of the server: send the capture (tcpdump as in reset.capture), the time and the client's address to the operator of the network in between; cross-border links and ISP filters inject resets, and another name, node or route may avoid them"}, true
	}
	return Finding{ID: "reset.from-server", Case: "C23", Level: Info,
		Summary:  "the " + name + " that cut the connection to " + n.addr + " carries the server's TTL (" + nums + "): it most likely came from the server, or a device as far away",
		Evidence: ev, Cut: n.cut(),
		Fix: "look at the server side: its logs, its listen backlog and a firewall on the host; a capture on the server settles it"}, true
}

// captureAdvice says what to capture when the doctor could not.
func captureAdvice(addrs []string, why error) Finding {
	reason := errNoCapture.Error()
	if why != nil {
		reason = why.Error()
	}
	var ev []string
	for _, a := range addrs {
		ev = append(ev, tcpdumpLine(a))
	}
	ev = append(ev,
		"look at the TTL (IPv6: hop limit) and the IP ID of the RST (or FIN) against those of the SYN-ACK from the same address: a TTL more than a few hops off (SYN-ACK 52, RST 178) means a device on the path sent it, not the server; so does an IP ID out of step with the server's other packets")
	return Finding{ID: "reset.capture", Case: "C23", Level: Info,
		Summary:  "the doctor cannot see the TTL of the packets that cut the connection (" + reason + "): capture them from the affected network",
		Evidence: ev,
		Fix:      "as root on a client in the affected network, run the tcpdump above while reproducing (strata doctor URL, or curl -v URL); read it with tcpdump -nvr c23.pcap, or in Wireshark with the ip.ttl and ip.id columns"}
}
