#!/usr/bin/env bash
# S3 throughput of Strata against versitygw (posix backend), on this
# machine, in one run, with one load tool (bench/s3load).
#
# Run from anywhere inside the repository:
#
#   bash bench/s3.sh                        # the standard tables, 4-5 minutes
#   bash bench/s3.sh -runs 1 -duration 2s   # quick look; flags go to s3load
#   bash bench/s3.sh -workloads put/4KiB/8,get/4KiB/8
#
# It builds Strata (or copies the binary named by $STRATA) and s3load from
# this tree, installs versitygw ($VERSITYGW_VERSION, default v1.8.0) with
# `go install` into a temp dir (or uses the binary named by $VERSITYGW),
# starts both servers on
# 127.0.0.1 with data in a temp dir, pins the servers to CPU 0 and the load
# generator to CPU 1 (taskset, when there are 2+ CPUs) at nice -10 when
# allowed, waits for a quiet machine before each phase, prints the table
# (workload | strata | versitygw | ratio; ratio > 1: Strata ahead), then
# stops both servers and removes the temp dir, also on error or Ctrl-C.
# versitygw runs with --keep-alive, its own best setting; without it every
# request would pay a new connection.
set -euo pipefail

VERSITYGW_VERSION=${VERSITYGW_VERSION:-v1.8.0}
ACCESS=benchaccess
SECRET=benchsecret-0123456789

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/strata-s3bench.XXXXXX")
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
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '== %s\n' "$*" >&2; }

# CPU pinning: servers on CPU 0, load generator on CPU 1.
server_cpu=()
load_cpu=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	server_cpu=(taskset -c 0)
	load_cpu=(taskset -c 1)
else
	log "taskset missing or fewer than 2 CPUs: running unpinned"
fi

# Priority: servers and load generator run at nice -10 when allowed (as
# root), so that a build or test elsewhere on the machine takes less from
# them; both servers get the same treatment.
if nice -n -10 true 2>/dev/null; then
	server_cpu=(nice -n -10 "${server_cpu[@]}")
	load_cpu=(nice -n -10 "${load_cpu[@]}")
fi

# listening HOST PORT: true when something accepts TCP there.
listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# free_port: a port on 127.0.0.1 that nothing listens on, below the
# ephemeral range so that tests binding :0 cannot take it meanwhile.
used_ports=" "
free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 12000))
		case "$used_ports" in *" $p "*) continue ;; esac
		if ! listening 127.0.0.1 "$p"; then
			used_ports+="$p "
			echo "$p"
			return 0
		fi
	done
	echo "no free port found" >&2
	return 1
}

# http_status HOST PORT PATH: the status code of a plain GET, or 000.
http_status() {
	local line
	line=$( (exec 3<>"/dev/tcp/$1/$2" &&
		printf 'GET %s HTTP/1.0\r\nHost: %s:%s\r\n\r\n' "$3" "$1" "$2" >&3 &&
		head -n1 <&3) 2>/dev/null) || true
	line=${line#HTTP/* }
	echo "${line:0:3}" | grep -E '^[0-9]{3}$' || echo 000
}

# wait_for WHAT PID TEST...: polls TEST for up to 60 s while PID lives.
wait_for() {
	local what=$1 pid=$2
	shift 2
	for _ in $(seq 1 600); do
		if "$@"; then return 0; fi
		if ! kill -0 "$pid" 2>/dev/null; then
			log "$what exited during start-up; its log:"
			cat "$tmp/$what.log" >&2 || true
			return 1
		fi
		sleep 0.1
	done
	log "$what did not become ready in 60 s; its log:"
	cat "$tmp/$what.log" >&2 || true
	return 1
}

log "building s3load and strata"
go build -o "$tmp/s3load" ./bench/s3load
if [ -n "${STRATA:-}" ]; then
	cp "$STRATA" "$tmp/strata"
else
	go build -o "$tmp/strata" ./cmd/strata
fi

if [ -n "${VERSITYGW:-}" ]; then
	vgw=$VERSITYGW
else
	log "installing versitygw $VERSITYGW_VERSION"
	GOBIN="$tmp/bin" GOFLAGS= go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
	vgw="$tmp/bin/versitygw"
fi

vgw_port=$(free_port)
strata_port=$(free_port)
admin_port=$(free_port)
edge_port=$(free_port)
mkdir -p "$tmp/vgw-data" "$tmp/strata-data"

log "starting versitygw on 127.0.0.1:$vgw_port"
"${server_cpu[@]}" "$vgw" --access "$ACCESS" --secret "$SECRET" \
	--port "127.0.0.1:$vgw_port" --keep-alive --quiet \
	posix "$tmp/vgw-data" >"$tmp/versitygw.log" 2>&1 &
pids+=($!)
vgw_pid=$!
wait_for versitygw "$vgw_pid" listening 127.0.0.1 "$vgw_port"

# Every listener on loopback: the edge too, where this Strata has one.
strata_flags=(--data "$tmp/strata-data"
	--s3-addr "127.0.0.1:$strata_port" --admin-addr "127.0.0.1:$admin_port")
if "$tmp/strata" serve --help 2>&1 | grep -q -- -edge-addr; then
	strata_flags+=(--edge-addr "127.0.0.1:$edge_port")
fi
# Live streaming is not measured here: keep its listeners (:1935, :8081
# by default) closed so they cannot collide with another Strata.
if "$tmp/strata" serve --help 2>&1 | grep -q -- -rtmp-addr; then
	printf 'live: {enabled: false}\n' >"$tmp/strata.yaml"
	strata_flags+=(--config "$tmp/strata.yaml")
fi
log "starting strata on 127.0.0.1:$strata_port (admin $admin_port)"
STRATA_ACCESS_KEY=$ACCESS STRATA_SECRET_KEY=$SECRET \
	"${server_cpu[@]}" "$tmp/strata" serve "${strata_flags[@]}" \
	>"$tmp/strata.log" 2>&1 &
pids+=($!)
strata_pid=$!
strata_ready() { [ "$(http_status 127.0.0.1 "$admin_port" /healthz)" = 200 ]; }
wait_for strata "$strata_pid" strata_ready

# Other work on this machine (builds, tests) competes for the same two
# CPUs and skews throughput; s3load also measures it per phase, and the
# per-CPU-second table is little affected by it.
warn_busy() {
	local l
	l=$(cut -d' ' -f1 /proc/loadavg)
	if awk -v l="$l" 'BEGIN { exit !(l > 1.0) }'; then
		echo "WARNING: load average $l $1: other processes share the CPUs"
	fi
}

echo "date:      $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine:   $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "go:        $(go version | cut -d' ' -f3-)"
echo "strata:    $("$tmp/strata" version 2>/dev/null | head -n1 || echo unknown)"
echo "versitygw: ${VERSITYGW:+$VERSITYGW, }$VERSITYGW_VERSION (posix backend, --keep-alive)"
echo "pinning:   '${server_cpu[*]:-none}' for servers, '${load_cpu[*]:-none}' for s3load"
echo "load:      $(cut -d' ' -f1-3 /proc/loadavg) before the run"
warn_busy "before the run"

rc=0
"${load_cpu[@]}" "$tmp/s3load" \
	-target "strata=http://127.0.0.1:$strata_port" \
	-target "versitygw=http://127.0.0.1:$vgw_port" \
	-pid "strata=$strata_pid" -pid "versitygw=$vgw_pid" \
	-access "$ACCESS" -secret "$SECRET" -timeout 12m "$@" || rc=$?

# A server that died or a failed row: show what the servers said.
for what in strata versitygw; do
	pid=$strata_pid
	[ "$what" = versitygw ] && pid=$vgw_pid
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null && st=0 || st=$?
		echo "ERROR: $what (pid $pid) exited during the run with status $st"
		rc=1
	fi
	if [ "$rc" -ne 0 ]; then
		echo "--- last lines of the $what log"
		tail -n 60 "$tmp/$what.log"
	fi
done
exit "$rc"
