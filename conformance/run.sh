#!/usr/bin/env bash
# HTTP caching conformance: runs the cache-tests suite of the http-tests
# project (npm package http-cache-tests, https://cache-tests.fyi) against
# Strata's edge and, the same way on this machine, against nginx
# (proxy_cache), Varnish and Apache Traffic Server from Debian's packages.
#
#   bash conformance/run.sh                     # every target, about a minute
#   bash conformance/run.sh strata nginx        # some of them
#   bash conformance/run.sh --id freshness-none strata
#                                               # one test, with the requests
#                                               # and responses it saw
#
# What it does, by itself and only on 127.0.0.1:
# - installs what is missing: the suite (npm ci into conformance/node_modules,
#   pinned by conformance/package-lock.json) and, when a peer's binary is
#   absent and it runs as root, its Debian package; it then stops and
#   disables the service the package may have started, since each cache is
#   run here in the foreground with the config in conformance/peers/;
# - builds Strata from this tree (or takes STRATA_BIN);
# - starts the suite's origin server (conformance/origin.mjs), then each
#   cache in turn in front of it, each on a free port with its data in a
#   temp dir, runs the suite's CLI against it, stops it;
# - writes conformance/results/<target>.json (the CLI's output, as the
#   suite's own results/ files), results/summary.md (the tables of
#   docs/conformance.md) and results/failures.md (every test that did not
#   pass, with the suite's message), and prints the summary
#   (conformance/summarise.mjs);
# - stops every process it started, also on error or Ctrl-C.
#
# Environment: TEST_TIMEOUT (seconds one target's run may take, default
# 300), STRATA_BIN (a strata binary to test instead of building this tree),
# KEEP_TMP=1 (keep the temp dir with every log for a look after).
# Not part of `make test`: it needs the peers, and takes a minute or more.
set -euo pipefail

TEST_TIMEOUT=${TEST_TIMEOUT:-300}
ALL_TARGETS=(strata nginx varnish trafficserver)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
suite="$here/node_modules/http-cache-tests"

log() { printf '== %s\n' "$*" >&2; }
die() {
	printf 'run.sh: %s\n' "$*" >&2
	exit 1
}

test_id=""
targets=()
while [ $# -gt 0 ]; do
	case "$1" in
	--id) test_id=${2:?--id needs a test id}; shift 2 ;;
	--id=*) test_id=${1#--id=}; shift ;;
	-h | --help) sed -n "2,/^set -euo/p" "$0" | sed "$ d"; exit 0 ;;
	strata | nginx | varnish | trafficserver) targets+=("$1"); shift ;;
	*) die "unknown argument $1 (targets: ${ALL_TARGETS[*]})" ;;
	esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")

# ---- installation ---------------------------------------------------------

apt_updated=""
apt_install() {
	[ "$(id -u)" -eq 0 ] || die "$* missing and not root: apt-get install -y $*"
	if [ -z "$apt_updated" ]; then
		log "apt-get update"
		apt-get update -qq
		apt_updated=1
	fi
	log "apt-get install $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# A package's service must not keep running: this script runs its own
# instance, on its own port, with its own config.
quiet_service() {
	local svc=$1
	if command -v systemctl >/dev/null; then
		systemctl disable --now "$svc" >/dev/null 2>&1 || true
	fi
	if command -v service >/dev/null; then
		service "$svc" stop >/dev/null 2>&1 || true
	fi
	if command -v update-rc.d >/dev/null; then
		update-rc.d "$svc" disable >/dev/null 2>&1 || true
	fi
}

for tool in node:nodejs npm:npm curl:curl; do
	command -v "${tool%%:*}" >/dev/null || apt_install "${tool#*:}"
done
for t in "${targets[@]}"; do
	case $t in
	nginx) bin=nginx pkg=nginx ;;
	varnish) bin=varnishd pkg=varnish ;;
	trafficserver) bin=traffic_server pkg=trafficserver ;;
	*) continue ;;
	esac
	if ! command -v "$bin" >/dev/null; then
		apt_install "$pkg"
		quiet_service "$pkg"
	fi
done
command -v go >/dev/null || die "go is missing (Strata is built from this tree)"

# npm writes node_modules/.package-lock.json on every install: older than the
# lock file means the lock changed since.
if [ ! -f "$suite/package.json" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
	log "npm ci (the suite, into conformance/node_modules)"
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
suite_version=$(node -p "require('$suite/package.json').version")

# ---- processes --------------------------------------------------------------

tmp=$(mktemp -d "${TMPDIR:-/tmp}/strata-conformance.XXXXXX")
chmod 755 "$tmp"
pids=()
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ -n "${KEEP_TMP:-}" ]; then
		log "logs kept in $tmp"
	else
		rm -rf "$tmp"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# stop PID: end one process this script started and wait for it.
stop() {
	local pid=$1 p
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	local keep=()
	for p in "${pids[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
	pids=("${keep[@]+"${keep[@]}"}")
}

free_port() {
	node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })'
}

# wait_http URL PID NAME: until URL answers (any status), or PID dies, or 30 s.
wait_http() {
	local url=$1 pid=$2 name=$3 i
	for i in $(seq 1 300); do
		curl -s -o /dev/null --max-time 1 "$url" && return 0
		kill -0 "$pid" 2>/dev/null || die "$name exited at start; its log: $(ls "$tmp"/"$name"* 2>/dev/null | tr '\n' ' ')"
		sleep 0.1
	done
	die "$name did not answer $url within 30 s"
}

strata_bin=${STRATA_BIN:-}
case " ${targets[*]} " in
*" strata "*)
	if [ -z "$strata_bin" ]; then
		log "building Strata"
		(cd "$root" && go build -o "$tmp/strata" ./cmd/strata) || die "cannot build Strata from this tree"
		strata_bin="$tmp/strata"
	fi
	;;
esac

# ---- the origin -----------------------------------------------------------

origin_port=$(free_port)
ORIGIN_PORT=$origin_port node "$here/origin.mjs" >"$tmp/origin.log" 2>&1 &
origin_pid=$!
pids+=("$origin_pid")
wait_http "http://127.0.0.1:$origin_port/" "$origin_pid" origin
log "origin (cache-tests $suite_version server) on 127.0.0.1:$origin_port"

# ---- the targets ----------------------------------------------------------

# start_TARGET PORT: starts the cache in front of the origin on 127.0.0.1:PORT,
# sets target_pid, returns once it serves.

start_strata() {
	local port=$1 admin
	admin=$(free_port)
	mkdir -p "$tmp/strata-data"
	cat >"$tmp/strata.yaml" <<-EOF
		# The edge with its defaults, a memory tier only, fronting the origin.
		node_id: conformance
		data_dir: $tmp/strata-data
		log: {level: warn}
		s3: {listen: "127.0.0.1:0"}
		admin: {listen: "127.0.0.1:$admin"}
		edge: {listen: "127.0.0.1:$port", cache: {memory: 64MiB, disk: 0}}
		# Live streaming is on by default, on fixed ports; not needed here.
		live: {enabled: false}
		domains:
		  - {host: "*", origin: "http://127.0.0.1:$origin_port"}
	EOF
	"$strata_bin" serve --config "$tmp/strata.yaml" >"$tmp/strata.log" 2>&1 &
	target_pid=$!
	pids+=("$target_pid")
	local i
	for i in $(seq 1 300); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$admin/healthz")" = 200 ] && return 0
		kill -0 "$target_pid" 2>/dev/null || die "strata exited at start: $(tail -5 "$tmp/strata.log")"
		sleep 0.1
	done
	die "strata was not healthy within 30 s"
}

start_nginx() {
	local port=$1 run="$tmp/nginx"
	mkdir -p "$run"
	sed -e "s#@RUN@#$run#g; s#@PORT@#$port#g; s#@ORIGIN@#127.0.0.1:$origin_port#g" \
		"$here/peers/nginx.conf" >"$run/nginx.conf"
	nginx -p "$run" -c "$run/nginx.conf" -e "$run/error.log" >"$run/stdout.log" 2>&1 &
	target_pid=$!
	pids+=("$target_pid")
	wait_http "http://127.0.0.1:$port/" "$target_pid" nginx
}

start_varnish() {
	local port=$1 run="$tmp/varnish"
	mkdir -p "$run"
	sed -e "s#@ORIGIN_HOST@#127.0.0.1#g; s#@ORIGIN_PORT@#$origin_port#g" \
		"$here/peers/varnish.vcl" >"$run/default.vcl"
	varnishd -F -n "$run/work" -a "127.0.0.1:$port" -f "$run/default.vcl" \
		-s malloc,64M -T none \
		-p default_ttl=0 -p default_grace=0 -p default_keep=3600 \
		>"$run/varnishd.log" 2>&1 &
	target_pid=$!
	pids+=("$target_pid")
	wait_http "http://127.0.0.1:$port/" "$target_pid" varnish
}

start_trafficserver() {
	local port=$1 run="$tmp/trafficserver" user="#-1" f
	mkdir -p "$run/etc" "$run/run" "$run/log" "$run/cache"
	# The package's config files, then ours over them.
	cp -r /etc/trafficserver/. "$run/etc/"
	rm -f "$run/etc/records.yaml"
	# Traffic Server refuses to serve as root: as root, run it as the
	# package's user.
	if [ "$(id -u)" -eq 0 ]; then user=trafficserver; fi
	for f in "$here"/peers/trafficserver/*; do
		sed -e "s|@RUN@|$run|g; s|@PORT@|$port|g; s|@ORIGIN@|127.0.0.1:$origin_port|g; s|@USER@|$user|g" \
			"$f" >"$run/etc/$(basename "$f")"
	done
	if [ "$user" = trafficserver ]; then chown -R trafficserver: "$run"; fi
	PROXY_CONFIG_CONFIG_DIR="$run/etc" traffic_server >"$run/stdout.log" 2>&1 &
	target_pid=$!
	pids+=("$target_pid")
	wait_http "http://127.0.0.1:$port/" "$target_pid" trafficserver
}

deb_version() {
	dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo "not from a Debian package"
}

version_of() {
	case $1 in
	strata)
		if [ -n "${STRATA_BIN:-}" ]; then
			printf '%s (%s)' "$("$strata_bin" version 2>/dev/null | head -1)" "$strata_bin"
		else
			printf 'this tree at %s' "$(cd "$root" && git describe --always --dirty 2>/dev/null || echo unknown)"
		fi
		;;
	nginx) printf '%s (Debian %s)' "$(nginx -v 2>&1 | sed 's/^nginx version: //')" "$(deb_version nginx)" ;;
	varnish) printf '%s (Debian %s)' "$(varnishd -V 2>&1 | head -1 | sed 's/.*(\(varnish-[^ ]*\).*/\1/')" "$(deb_version varnish)" ;;
	trafficserver) printf '%s (Debian %s)' "$(traffic_server -V 2>&1 | grep -m1 'Traffic Server' | awk '{print "Traffic Server " $3}')" "$(deb_version trafficserver)" ;;
	esac
}

# Many tests wait a few seconds for a response to become stale (max-age=2)
# and then expect the next one within the second after: on a busy machine
# those show as "setup failed" rather than as a result.
load_start=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo unknown)
if awk -v l="$load_start" -v n="$(nproc)" 'BEGIN { exit !(l + 0 > n + 0) }'; then
	log "warning: load average $load_start on $(nproc) CPUs; timing-dependent tests may fail setup"
fi

mkdir -p "$here/results"
summary_args=()
for t in "${targets[@]}"; do
	port=$(free_port)
	log "$t on 127.0.0.1:$port"
	"start_$t" "$port"
	out="$tmp/$t.json"
	# The CLI reads its settings as `npm run cli --base=... --id=...` passes
	# them. It runs in the background so that a signal to this script is
	# handled at once (bash runs traps only between commands, or in wait).
	(cd "$suite" && npm_config_base="http://127.0.0.1:$port" npm_package_config_id="$test_id" \
		exec timeout "$TEST_TIMEOUT" node --no-warnings cli.mjs) >"$out" 2>"$tmp/$t-cli.log" &
	cli_pid=$!
	pids+=("$cli_pid")
	cli_rc=0
	wait "$cli_pid" || cli_rc=$?
	stop "$cli_pid"
	if [ "$cli_rc" -ne 0 ]; then
		cat "$tmp/$t-cli.log" >&2
		die "the suite's CLI failed against $t (exit status $cli_rc)"
	fi
	stop "$target_pid"
	if [ -n "$test_id" ]; then
		cat "$out"
		continue
	fi
	node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$out" ||
		die "$t: the CLI's output is not JSON: $(head -c 300 "$out")"
	cp "$out" "$here/results/$t.json"
	printf '%s\t%s\n' "$t" "$(version_of "$t")" >>"$tmp/versions.tsv"
	summary_args+=("$t=results/$t.json")
done
[ -z "$test_id" ] || exit 0

{
	printf 'Run %s on %s (%s, %s CPUs%s, load average %s at the start), cache-tests %s, node %s.\n\n' \
		"$(date -u +%Y-%m-%dT%H:%MZ)" "$(uname -sr)" "$(. /etc/os-release && echo "$PRETTY_NAME")" \
		"$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: */, /')" \
		"$load_start" "$suite_version" "$(node --version)"
	while IFS=$'\t' read -r t v; do printf -- '- %s: %s\n' "$t" "$v"; done <"$tmp/versions.tsv"
	printf '\nCells: pass/fail/opt-fail = passed / required test failed / optimal test failed.\n\n'
	(cd "$here" && node summarise.mjs "${summary_args[@]}")
} >"$here/results/summary.md"
(cd "$here" && node summarise.mjs "${summary_args[@]}" --failures) >"$here/results/failures.md"
cat "$here/results/summary.md"
