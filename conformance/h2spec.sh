#!/usr/bin/env bash
# HTTP/2 conformance: runs h2spec (github.com/summerwind/h2spec, the RFC
# 7540/7541 conformance tester) against the edge's HTTPS listener.
#
#   bash conformance/h2spec.sh                  # every test, about 30 s
#   bash conformance/h2spec.sh http2/6.9.1      # some sections or test IDs
#
# What it does, by itself and only on 127.0.0.1:
# - installs h2spec, pinned below, with `go install` into a cache directory
#   (H2SPEC_CACHE, default ~/.cache/strata/h2spec) when it is not there;
# - builds Strata from this tree (or takes STRATA_BIN);
# - makes a test root CA and a server certificate for 127.0.0.1 with
#   openssl, and starts Strata with edge.tls_listen on a free loopback
#   port, trusting that root through edge.tls_roots; the one domain ("*")
#   fronts the node's own S3 listener;
# - runs `h2spec -t -k -h 127.0.0.1 -p PORT` (TLS, certificate not
#   verified: h2spec has no option for a private root), writes its JUnit
#   report to conformance/results/h2spec.xml and its output to
#   conformance/results/h2spec.txt, and prints the summary and the failures;
# - stops Strata on exit, error or Ctrl-C.
#
# Environment: H2SPEC_CACHE (where h2spec is installed), H2SPEC_TIMEOUT
# (seconds h2spec waits for one answer, default 2), STRATA_BIN (a strata
# binary to test instead of building this tree), KEEP_TMP=1 (keep the temp
# dir with Strata's log). Exit status: h2spec's (1 when a test failed).
# Not part of `make test`; internal/e2e/h2spec_test.go runs the same
# against the real binary and knows which failures are expected.
set -euo pipefail

# Tagged versions of h2spec are not served by the module proxy; this
# pseudo-version is the v2.6.0 source.
H2SPEC_MODULE=github.com/summerwind/h2spec/cmd/h2spec
H2SPEC_VERSION=v0.0.0-20200804131034-70ac22940108
H2SPEC_TIMEOUT=${H2SPEC_TIMEOUT:-2}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

log() { printf '== %s\n' "$*" >&2; }
die() {
	printf 'h2spec.sh: %s\n' "$*" >&2
	exit 1
}

case "${1:-}" in
-h | --help) sed -n "2,/^set -euo/p" "$0" | sed "$ d"; exit 0 ;;
esac

command -v go >/dev/null || die "go is missing (h2spec and Strata are built with it)"
command -v openssl >/dev/null || die "openssl is missing (apt-get install -y openssl)"
command -v curl >/dev/null || die "curl is missing (apt-get install -y curl)"

# ---- h2spec -----------------------------------------------------------------

cache=${H2SPEC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/strata/h2spec}/$H2SPEC_VERSION
h2spec="$cache/h2spec"
if [ ! -x "$h2spec" ]; then
	log "go install $H2SPEC_MODULE@$H2SPEC_VERSION (into $cache)"
	mkdir -p "$cache"
	# Outside this module, so its go.mod plays no part.
	(cd / && GOBIN="$cache" GOFLAGS=-mod=mod go install "$H2SPEC_MODULE@$H2SPEC_VERSION") ||
		die "cannot install h2spec (no module proxy?)"
fi

# ---- processes --------------------------------------------------------------

tmp=$(mktemp -d "${TMPDIR:-/tmp}/strata-h2spec.XXXXXX")
strata_pid=""
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$strata_pid" ]; then
		kill "$strata_pid" 2>/dev/null || true
		wait "$strata_pid" 2>/dev/null || true
	fi
	if [ -n "${KEEP_TMP:-}" ]; then
		log "logs kept in $tmp"
	else
		rm -rf "$tmp"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

strata_bin=${STRATA_BIN:-}
if [ -z "$strata_bin" ]; then
	log "building Strata"
	(cd "$root" && go build -o "$tmp/strata" ./cmd/strata) || die "cannot build Strata from this tree"
	strata_bin="$tmp/strata"
fi

# free_port: a loopback port nothing listens on (bash's /dev/tcp connect
# fails). Strata binds it a moment later; a clash shows as a failed start.
free_port() {
	local p i
	for i in $(seq 1 100); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	die "no free loopback port found"
}

# ---- certificates -------------------------------------------------------------

# A root CA and a leaf it signs directly for 127.0.0.1 (and localhost):
# the chain in the file is the leaf alone, which verifies against the root.
pki="$tmp/pki"
mkdir -p "$pki"
openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	-keyout "$pki/root.key" -out "$pki/root.pem" -days 2 -subj "/O=Strata h2spec/CN=h2spec Root CA" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null ||
	die "openssl: cannot make the test root"
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	-keyout "$pki/leaf.key" -out "$pki/leaf.csr" -subj "/CN=127.0.0.1" 2>/dev/null ||
	die "openssl: cannot make the server key"
cat >"$pki/leaf.ext" <<-EOF
	basicConstraints=critical,CA:FALSE
	keyUsage=critical,digitalSignature
	extendedKeyUsage=serverAuth
	subjectAltName=IP:127.0.0.1,DNS:localhost
EOF
openssl x509 -req -in "$pki/leaf.csr" -CA "$pki/root.pem" -CAkey "$pki/root.key" -CAcreateserial \
	-out "$pki/leaf.pem" -days 2 -extfile "$pki/leaf.ext" 2>/dev/null ||
	die "openssl: cannot sign the server certificate"

# ---- Strata -------------------------------------------------------------------

tls_port=$(free_port)
s3_port=$(free_port)
admin_port=$(free_port)
mkdir -p "$tmp/data"
cat >"$tmp/strata.yaml" <<-EOF
	# The edge's HTTPS listener with the test certificate; the one domain
	# fronts this node's S3 listener.
	node_id: h2spec
	data_dir: $tmp/data
	log: {level: warn}
	s3: {listen: "127.0.0.1:$s3_port"}
	admin: {listen: "127.0.0.1:$admin_port"}
	edge:
	  listen: "127.0.0.1:0"
	  tls_listen: "127.0.0.1:$tls_port"
	  tls_roots: $pki/root.pem
	  cache: {memory: 16MiB, disk: 0}
	live: {enabled: false}
	domains:
	  - host: "*"
	    origin: "http://127.0.0.1:$s3_port"
	    tls: {cert: $pki/leaf.pem, key: $pki/leaf.key}
EOF
STRATA_ACCESS_KEY=h2spec STRATA_SECRET_KEY=h2spec-secret-key \
	"$strata_bin" serve --config "$tmp/strata.yaml" >"$tmp/strata.log" 2>&1 &
strata_pid=$!
ready=""
for _ in $(seq 1 300); do
	if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$admin_port/healthz")" = 200 ]; then
		ready=1
		break
	fi
	kill -0 "$strata_pid" 2>/dev/null || die "strata exited at start: $(tail -5 "$tmp/strata.log")"
	sleep 0.1
done
[ -n "$ready" ] || die "strata was not healthy within 30 s"
# The listener really speaks h2 with the test root trusted.
proto=$(curl -s -o /dev/null -w '%{http_version}' --http2 --cacert "$pki/root.pem" "https://127.0.0.1:$tls_port/") ||
	die "curl over HTTPS to 127.0.0.1:$tls_port failed"
[ "$proto" = 2 ] || die "the HTTPS listener answered HTTP/$proto, not HTTP/2"
log "strata on https://127.0.0.1:$tls_port (h2), h2spec $H2SPEC_VERSION"

# ---- h2spec -------------------------------------------------------------------

mkdir -p "$here/results"
rc=0
"$h2spec" -t -k -h 127.0.0.1 -p "$tls_port" -o "$H2SPEC_TIMEOUT" -j "$here/results/h2spec.xml" "$@" \
	>"$here/results/h2spec.txt" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 1 ] || die "h2spec did not run (exit status $rc): $(tail -5 "$here/results/h2spec.txt")"
# Every failure with what h2spec expected and saw, then the summary line
# ("N tests, N passed, N skipped, N failed").
if grep -q '^Failures:' "$here/results/h2spec.txt"; then
	sed -n '/^Failures:/,$p' "$here/results/h2spec.txt"
else
	tail -1 "$here/results/h2spec.txt"
fi
exit "$rc"
