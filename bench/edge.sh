#!/usr/bin/env bash
# The edge (CDN) benchmark: Strata's edge against nginx proxy_cache and
# Varnish, on this machine, in one run, with one load tool (wrk) and one
# origin (bench/edgeorigin).
#
# Run from anywhere inside the repository:
#
#   bash bench/edge.sh                     # the standard table, 5-8 minutes
#   DURATION=3 RUNS=1 bash bench/edge.sh   # quick look
#
# Environment: DURATION (seconds per wrk run, default 6), RUNS (runs per
# row and server, default 3; the table shows the median), CONNS (wrk
# connections for the small objects, default 50), RANGE_CONNS (for the
# range row, default 8), DOWNLOADS (sequential 100 MiB downloads per run,
# default 8), STORM (clients of the cold range storm, default 50), ROWS
# (which rows to measure, default "small medium big ranges storm"),
# NICE (a niceness for every process of the benchmark, e.g. -10 as root
# on a machine other work shares), QUIET and BUDGET (see below),
# STRATA_PROFILE_DIR (when set, a CPU
# profile of Strata's first run of each wrk row is saved there, from its
# admin /debug/pprof/profile), STRATA_ACCESS_LOG (on: Strata writes its
# access log, on by default in a real deployment, to a file in the temp
# dir; default off, like nginx's and Varnish's in this benchmark).
#
# Needs nginx, varnish, wrk and curl (Debian: apt-get install -y nginx
# varnish wrk curl; stop the system services the packages may start). It
# builds Strata and bench/edgeorigin from this tree, starts the origin,
# Strata, nginx (one worker, slice module) and Varnish (one thread pool,
# malloc storage) on 127.0.0.1 with the configs in bench/edge/ and their
# data in a temp dir, pins the caches to CPU 0 and wrk, curl and the
# origin to CPU 1 (taskset, when there are 2+ CPUs), warms and checks
# every cache (bytes equal to the origin's, X-Cache: HIT), measures each
# row RUNS times interleaving the servers, prints the table, then stops
# every process it started and removes the temp dir, also on error or
# Ctrl-C.
#
# The machine may be shared: before each measurement the script waits (up
# to 5 s) for other processes to use less than QUIET CPUs (default 0.25),
# reads from /proc how much CPU they used during it, and measures again
# (twice at most) when they used QUIET or more, until BUDGET seconds
# (default 180) of measuring have passed. A second table divides the work
# by the cache's own CPU time, which other load moves much less.
set -euo pipefail

DURATION=${DURATION:-6}
RUNS=${RUNS:-3}
CONNS=${CONNS:-50}
RANGE_CONNS=${RANGE_CONNS:-8}
DOWNLOADS=${DOWNLOADS:-8}
STORM=${STORM:-50}
ROWS=${ROWS:-small medium big ranges storm}
SERVERS=(strata nginx varnish)
BIG=$((100 << 20))
MIB=$((1 << 20))

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

log() { printf '== %s\n' "$*" >&2; }
die() {
	printf 'edge.sh: %s\n' "$*" >&2
	exit 1
}

for tool in nginx varnishd wrk curl sha256sum; do
	command -v "$tool" >/dev/null ||
		die "$tool is missing; on Debian: apt-get install -y nginx varnish wrk curl"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/strata-edgebench.XXXXXX")
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

# CPU pinning: the caches on CPU 0; wrk, curl and the origin on CPU 1.
server_cpu=()
load_cpu=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	server_cpu=(taskset -c 0)
	load_cpu=(taskset -c 1)
else
	log "taskset missing or fewer than 2 CPUs: running unpinned"
fi
# NICE=-10 (as root) gives every process of the benchmark a larger share of
# the CPUs than other work on the machine, which otherwise decides the
# figures more than the servers do.
if [ -n "${NICE:-}" ]; then
	server_cpu=(nice -n "$NICE" "${server_cpu[@]}")
	load_cpu=(nice -n "$NICE" "${load_cpu[@]}")
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
	die "no free port found"
}

# status URL: the status code of a plain GET, or 000.
status() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" || true; }

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

# render TEMPLATE OUT VAR=VALUE...: fills @VAR@ placeholders.
render() {
	local in=$1 out=$2 kv args=()
	shift 2
	for kv in "$@"; do
		args+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
	done
	sed "${args[@]}" "$in" >"$out"
}

log "building strata and edgeorigin"
go build -o "$tmp/bin/strata" ./cmd/strata
go build -o "$tmp/bin/edgeorigin" ./bench/edgeorigin

origin_port=$(free_port)
declare -A port
for s in "${SERVERS[@]}"; do port[$s]=$(free_port); done
admin_port=$(free_port)
origin="http://127.0.0.1:$origin_port"

log "starting the origin on 127.0.0.1:$origin_port"
"${load_cpu[@]}" "$tmp/bin/edgeorigin" -listen "127.0.0.1:$origin_port" -max 100MiB \
	>"$tmp/origin.log" 2>&1 &
pids+=($!)
declare -A spid
spid[origin]=$!
origin_ready() { [ "$(status "$origin/__stats")" = 200 ]; }
wait_for origin "$!" origin_ready

log "starting strata on 127.0.0.1:${port[strata]} (admin $admin_port)"
mkdir -p "$tmp/strata"
access_log=off
case "${STRATA_ACCESS_LOG:-off}" in
on) access_log="$tmp/strata/access.log" ;;
off) ;;
*) die "STRATA_ACCESS_LOG is on or off, not ${STRATA_ACCESS_LOG}" ;;
esac
render bench/edge/strata.yaml.in "$tmp/strata/strata.yaml" DIR="$tmp/strata" \
	PORT="${port[strata]}" ADMIN_PORT="$admin_port" ORIGIN_PORT="$origin_port" \
	ACCESS_LOG="$access_log"
GOMAXPROCS=1 "${server_cpu[@]}" "$tmp/bin/strata" serve --config "$tmp/strata/strata.yaml" \
	>"$tmp/strata.log" 2>&1 &
pids+=($!)
strata_pid=$!
spid[strata]=$!
strata_ready() { [ "$(status "http://127.0.0.1:$admin_port/healthz")" = 200 ]; }
wait_for strata "$strata_pid" strata_ready

log "starting nginx on 127.0.0.1:${port[nginx]}"
mkdir -p "$tmp/nginx/cache"
nginx_user=""
[ "$(id -u)" = 0 ] && nginx_user="user root;"
render bench/edge/nginx.conf.in "$tmp/nginx/nginx.conf" DIR="$tmp/nginx" \
	PORT="${port[nginx]}" ORIGIN_PORT="$origin_port" USER="$nginx_user"
"${server_cpu[@]}" nginx -p "$tmp/nginx" -e "$tmp/nginx/error.log" \
	-c "$tmp/nginx/nginx.conf" -g 'daemon off; master_process on;' \
	>"$tmp/nginx.log" 2>&1 &
pids+=($!)
spid[nginx]=$!
nginx_ready() { listening 127.0.0.1 "${port[nginx]}"; }
wait_for nginx "$!" nginx_ready

log "starting varnish on 127.0.0.1:${port[varnish]}"
mkdir -p "$tmp/varnish"
render bench/edge/varnish.vcl.in "$tmp/varnish/edge.vcl" ORIGIN_PORT="$origin_port"
"${server_cpu[@]}" varnishd -F -j none -n "$tmp/varnish/work" \
	-a "127.0.0.1:${port[varnish]}" -f "$tmp/varnish/edge.vcl" \
	-s malloc,512m -p thread_pools=1 >"$tmp/varnish.log" 2>&1 &
pids+=($!)
spid[varnish]=$!
varnish_ready() { listening 127.0.0.1 "${port[varnish]}"; }
wait_for varnish "$!" varnish_ready

# url SERVER PATH
url() { echo "http://127.0.0.1:${port[$1]}$2"; }

# origin_stat PREFIX FIELD: a counter of bench/edgeorigin over paths
# starting with PREFIX (requests, range_requests or bytes).
origin_stat() {
	curl -s -m 5 "$origin/__stats?prefix=$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# fetch_check URL [RANGE]: the status, the SHA-256 of the body and X-Cache.
fetch_check() {
	local u=$1 r=${2:-} hdr="$tmp/hdr" out sum code xc
	local args=(-s -m 60 -D "$hdr" -o "$tmp/body")
	[ -n "$r" ] && args+=(-r "$r")
	code=$(curl "${args[@]}" -w '%{http_code}' "$u") || code=000
	sum=$(sha256sum <"$tmp/body" | cut -d' ' -f1)
	xc=$(tr -d '\r' <"$hdr" | sed -n 's/^[Xx]-[Cc]ache: *//p' | head -n1)
	rm -f "$tmp/body" "$hdr"
	echo "$code $sum ${xc:-none}"
}

# Warm every cache with the three hot objects, then check that each
# answers a hit with the origin's bytes, for whole objects and a range.
objects=(1KiB 100KiB 100MiB)
declare -A want
for o in "${objects[@]}"; do
	want[$o]=$(fetch_check "$origin/verify/$o" | cut -d' ' -f2)
done
want_range=$(fetch_check "$origin/verify/100MiB" "12345-1060920" | cut -d' ' -f2)

log "warming and checking the caches"
for s in "${SERVERS[@]}"; do
	for o in "${objects[@]}"; do
		read -r code sum xc <<<"$(fetch_check "$(url "$s" "/hot/$s/$o")")"
		[ "$code" = 200 ] && [ "$sum" = "${want[$o]}" ] ||
			die "$s: first GET /hot/$s/$o: status $code, X-Cache $xc, body $([ "$sum" = "${want[$o]}" ] && echo equal || echo DIFFERENT) to the origin's"
	done
	for o in "${objects[@]}"; do
		read -r code sum xc <<<"$(fetch_check "$(url "$s" "/hot/$s/$o")")"
		[ "$code" = 200 ] && [ "$sum" = "${want[$o]}" ] && [ "${xc%% *}" = HIT ] ||
			die "$s: second GET /hot/$s/$o: status $code, X-Cache $xc (want HIT), body $([ "$sum" = "${want[$o]}" ] && echo equal || echo DIFFERENT) to the origin's"
	done
	read -r code sum xc <<<"$(fetch_check "$(url "$s" "/hot/$s/100MiB")" "12345-1060920")"
	[ "$code" = 206 ] && [ "$sum" = "$want_range" ] && [ "${xc%% *}" = HIT ] ||
		die "$s: range GET of the cached /hot/$s/100MiB: status $code, X-Cache $xc (want 206 and HIT), body $([ "$sum" = "$want_range" ] && echo equal || echo DIFFERENT) to the origin's"
	log "$s: hits with the origin's bytes ($(origin_stat "/hot/$s/" requests) origin requests, $(($(origin_stat "/hot/$s/" bytes) / MIB)) MiB)"
done

# ---- measurements; results go to $tmp/res/ROW.SERVER, one value a line.
started=$(date +%s)
mkdir -p "$tmp/res"
# A measurement records into $tmp/stage; measured() keeps it (appends it
# to $tmp/res and $tmp/notes) or, if other processes disturbed it, throws
# it away and measures again.
note() { echo "$*" >>"$tmp/stage/notes"; }
record() { echo "$3" >>"$tmp/stage/$1.$2"; }

# to_ms VALUE: wrk's latency (850.00us, 1.23ms, 1.02s, 2.00m) in ms.
to_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
		printf "%.2f", n }'
}

# cpu_ticks SERVER: user + system CPU clock ticks of the server's process
# and its descendants (nginx's worker, Varnish's child), all threads.
clk_tck=$(getconf CLK_TCK)
tree() {
	local c
	echo "$1"
	for c in $(pgrep -P "$1" || true); do tree "$c"; done
}
cpu_ticks() {
	local p st t=0
	for p in $(tree "${spid[$1]}"); do
		st=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		st=${st##*) }
		# utime and stime: fields 14 and 15 of proc(5), 12 and 13 after comm.
		t=$((t + $(awk '{ print $12 + $13 }' <<<"$st")))
	done
	echo "$t"
}
# per_cpu AMOUNT TICKS: AMOUNT per CPU-second.
per_cpu() { awk -v a="$1" -v t="$2" -v hz="$clk_tck" 'BEGIN { if (t <= 0) print 0; else printf "%.0f", a / (t / hz) }'; }

# profile_start ROW RUN: a CPU profile of Strata over this wrk run.
prof_pid=""
profile_start() {
	prof_pid=""
	[ -n "${STRATA_PROFILE_DIR:-}" ] && [ "$2" = 1 ] || return 0
	mkdir -p "$STRATA_PROFILE_DIR"
	curl -s -m $((DURATION + 30)) -o "$STRATA_PROFILE_DIR/$1.pprof" \
		"http://127.0.0.1:$admin_port/debug/pprof/profile?seconds=$((DURATION > 3 ? DURATION - 2 : 1))" &
	prof_pid=$!
}
profile_wait() { [ -z "$prof_pid" ] || wait "$prof_pid" || true; }

# wrk_row ROW SERVER RUN CONNS PATH [wrk options] [-- script args]: one
# wrk run; records requests/s and p99 (ms), and notes errors and origin
# traffic.
wrk_row() {
	local row=$1 s=$2 run=$3 c=$4 path=$5 out before after rps p99 bad t0 t1 n
	local opts=() post=()
	shift 5
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	post=("$@")
	before=$(origin_stat "/hot/$s/" requests)
	[ "$s" = strata ] && profile_start "$row" "$run"
	t0=$(cpu_ticks "$s")
	out=$("${load_cpu[@]}" wrk -t1 -c"$c" -d"${DURATION}s" --latency --timeout 10s \
		"${opts[@]}" "$(url "$s" "$path")" "${post[@]}" 2>&1) || die "wrk against $s failed: $out"
	t1=$(cpu_ticks "$s")
	[ "$s" = strata ] && profile_wait
	after=$(origin_stat "/hot/$s/" requests)
	rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
	p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
	[ -n "$rps" ] && [ -n "$p99" ] || die "wrk against $s: no result in: $out"
	record "$row.rps" "$s" "$rps"
	record "$row.p99" "$s" "$(to_ms "$p99")"
	n=$(awk '/requests in/ { print $1 }' <<<"$out")
	record "$row.cpu" "$s" "$(per_cpu "$n" $((t1 - t0)))"
	bad=$(awk '/Non-2xx or 3xx responses:/ { print $NF } /Socket errors:/ { print }' <<<"$out")
	[ -z "$bad" ] || note "$row, $s, run $run: $bad"
	[ "$before" = "$after" ] ||
		note "$row, $s, run $run: the origin was asked $((after - before)) times during the run (not all hits)"
	log "$row $s run $run: $rps req/s, p99 $p99"
}

# download_row SERVER RUN: DOWNLOADS sequential GETs of the cached
# 100 MiB object; records MiB/s over all of them.
download_row() {
	local s=$1 run=$2 out t0 t1
	t0=$(cpu_ticks "$s")
	out=$("${load_cpu[@]}" bash -c '
		for _ in $(seq 1 "$1"); do
			curl -s -m 120 -o /dev/null -w "%{http_code} %{size_download} %{time_total}\n" "$2"
		done' _ "$DOWNLOADS" "$(url "$s" "/hot/$s/100MiB")")
	awk -v big="$BIG" '$1 != 200 || $2 != big { bad++ } { b += $2; t += $3 }
		END { if (bad) exit 1; printf "%.0f\n", b / t / 1048576 }' <<<"$out" >"$tmp/mibs" ||
		die "$s: a 100 MiB download was short or failed: $out"
	t1=$(cpu_ticks "$s")
	record big.cpu "$s" "$(per_cpu $((DOWNLOADS * 100)) $((t1 - t0)))"
	record big.mibs "$s" "$(cat "$tmp/mibs")"
	log "big $s run $run: $(cat "$tmp/mibs") MiB/s"
}

# Expected bytes of every storm range, from the origin (its own prefix).
storm_range() { echo "$(($1 * 2 * MIB))-$(($1 * 2 * MIB + MIB - 1))"; }
for i in $(seq 0 $((STORM - 1))); do
	fetch_check "$origin/verify/100MiB" "$(storm_range "$i")" | cut -d' ' -f2 >>"$tmp/storm.want"
done

storms=0
# storm_row SERVER RUN: STORM clients at once, client i asking the 1 MiB
# at offset 2i MiB of a cold 100 MiB object; records the seconds until
# the last client is done and the origin MiB fetched (counted once the
# origin traffic for that object has stopped, so a cache that goes on
# fetching after the clients are served pays for it).
storm_row() {
	local s=$1 run=$2 prefix start end i prev cur n=0
	# Every storm, a measurement again too, gets an object of its own.
	storms=$((storms + 1))
	prefix="/storm/$s-$storms/"
	mkdir -p "$tmp/storm"
	start=$(date +%s%N)
	for i in $(seq 0 $((STORM - 1))); do
		"${load_cpu[@]}" curl -s -m 120 -r "$(storm_range "$i")" -o "$tmp/storm/$i" \
			-w '%{http_code}\n' "$(url "$s" "${prefix}100MiB")" >"$tmp/storm/$i.code" &
	done
	wait_clients
	end=$(date +%s%N)
	for i in $(seq 0 $((STORM - 1))); do
		if [ "$(cat "$tmp/storm/$i.code")" != 206 ] ||
			[ "$(sha256sum <"$tmp/storm/$i" | cut -d' ' -f1)" != "$(sed -n "$((i + 1))p" "$tmp/storm.want")" ]; then
			note "storm, $s, run $run: client $i got status $(cat "$tmp/storm/$i.code") and bytes other than the origin's"
		fi
	done
	rm -rf "$tmp/storm"
	prev=-1
	cur=$(origin_stat "$prefix" bytes)
	while [ "$cur" != "$prev" ] && [ "$n" -lt 60 ]; do
		sleep 0.5
		prev=$cur
		cur=$(origin_stat "$prefix" bytes)
		n=$((n + 1))
	done
	record storm.secs "$s" "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')"
	record storm.mib "$s" "$(awk -v b="$cur" 'BEGIN { printf "%.1f", b / 1048576 }')"
	log "storm $s run $run: $(cat "$tmp/stage/storm.secs.$s") s, origin $(cat "$tmp/stage/storm.mib.$s") MiB in $(origin_stat "$prefix" requests) requests"
}
# wait_clients: waits for the storm's curls (and nothing else we started).
wait_clients() {
	local j
	for j in $(jobs -p); do
		case " ${pids[*]} " in *" $j "*) continue ;; esac
		wait "$j" || true
	done
}

warn_busy() {
	local l
	l=$(cut -d' ' -f1 /proc/loadavg)
	if awk -v l="$l" 'BEGIN { exit !(l > 1.0) }'; then
		echo "WARNING: load average $l $1: other processes share the CPUs"
	fi
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# busy_ticks: CPU clock ticks the whole machine has spent busy.
busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
# ours_ticks: ticks of the servers, the origin, and this script's children
# (wrk, curl), into $ours.
ours_ticks() {
	local s
	ours=0
	for s in "${!spid[@]}"; do ours=$((ours + $(cpu_ticks "$s"))); done
	times >"$tmp/times" # a builtin: in a $(subshell) it would not see our children
	ours=$((ours + $(awk -v hz="$clk_tck" 'NR == 2 { gsub(/[ms]/, " "); printf "%.0f", ($1 * 60 + $2 + $3 * 60 + $4) * hz }' "$tmp/times")))
}
# others_cpus BUSY0 OURS0 NS0: sets $oc to the CPUs other processes used
# since then. (Not for a $(subshell): `times` there sees no children.)
others_cpus() {
	local b1 ns1
	b1=$(busy_ticks)
	ours_ticks
	ns1=$(date +%s%N)
	oc=$(awk -v b="$((b1 - $1))" -v o="$((ours - $2))" -v ns="$((ns1 - $3))" -v hz="$clk_tck" \
		'BEGIN { x = (b - o) / hz / (ns / 1e9); if (x < 0) x = 0; printf "%.2f", x }')
}
# wait_quiet: waits (up to 5 s, and not once BUDGET seconds of measuring
# have passed) until other processes use less than QUIET CPUs over half a
# second.
QUIET=${QUIET:-0.25}
wait_quiet() {
	local b0 ns0
	[ $(($(date +%s) - started)) -lt "$BUDGET" ] || return 0
	for _ in $(seq 1 10); do
		b0=$(busy_ticks)
		ours_ticks
		ns0=$(date +%s%N)
		sleep 0.5
		others_cpus "$b0" "$ours" "$ns0"
		awk -v x="$oc" -v q="$QUIET" 'BEGIN { exit !(x < q) }' && return 0
	done
	return 0
}
# measured ROW CMD...: runs one measurement (CMD records into $tmp/stage)
# after waiting for a quiet machine; if other processes used QUIET CPUs or
# more meanwhile, measures again (twice at most, and not once BUDGET
# seconds of measuring have passed), then keeps the last one.
BUDGET=${BUDGET:-180}
measured() {
	local row=$1 attempt=0 b0 o0 ns0
	shift
	while :; do
		wait_quiet
		rm -rf "$tmp/stage"
		mkdir -p "$tmp/stage"
		b0=$(busy_ticks)
		ours_ticks
		o0=$ours
		ns0=$(date +%s%N)
		"$@"
		others_cpus "$b0" "$o0" "$ns0"
		if awk -v x="$oc" -v q="$QUIET" 'BEGIN { exit !(x < q) }' ||
			[ "$attempt" -ge 2 ] || [ $(($(date +%s) - started)) -ge "$BUDGET" ]; then
			break
		fi
		attempt=$((attempt + 1))
		log "other processes used $oc CPUs meanwhile: measuring again"
	done
	echo "$oc" >>"$tmp/res/others.$row"
	local f
	for f in "$tmp/stage"/*; do
		[ -e "$f" ] || continue
		if [ "${f##*/}" = notes ]; then
			cat "$f" >>"$tmp/notes"
		else
			cat "$f" >>"$tmp/res/${f##*/}"
		fi
	done
}

want_row() { case " $ROWS " in *" $1 "*) return 0 ;; esac; return 1; }
for run in $(seq 1 "$RUNS"); do
	want_row small || break
	for s in "${SERVERS[@]}"; do measured small wrk_row small "$s" "$run" "$CONNS" "/hot/$s/1KiB"; done
done
for run in $(seq 1 "$RUNS"); do
	want_row medium || break
	for s in "${SERVERS[@]}"; do measured medium wrk_row medium "$s" "$run" "$CONNS" "/hot/$s/100KiB"; done
done
for run in $(seq 1 "$RUNS"); do
	want_row big || break
	for s in "${SERVERS[@]}"; do measured big download_row "$s" "$run"; done
done
for run in $(seq 1 "$RUNS"); do
	want_row ranges || break
	for s in "${SERVERS[@]}"; do
		measured ranges wrk_row ranges "$s" "$run" "$RANGE_CONNS" "/hot/$s/100MiB" \
			-s bench/edge/ranges.lua -- "$BIG" "$MIB"
	done
done
for run in $(seq 1 "$RUNS"); do
	want_row storm || break
	for s in "${SERVERS[@]}"; do measured storm storm_row "$s" "$run"; done
done

# A server that died during the run makes the table meaningless.
for pid in "${pids[@]}"; do
	kill -0 "$pid" 2>/dev/null || die "a server (pid $pid) exited during the run; logs: $(tail -n 20 "$tmp"/*.log)"
done

# median FILE: the median of the values in FILE, one a line.
median() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }

echo
echo "date:     $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine:  $(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n1)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "strata:   $("$tmp/bin/strata" version 2>/dev/null | head -n1 || echo unknown), $(go version | cut -d' ' -f3), GOMAXPROCS=1, access log ${STRATA_ACCESS_LOG:-off}"
echo "nginx:    $(nginx -v 2>&1 | sed 's/^nginx version: //'), 1 worker, proxy_cache + slice 1m"
echo "varnish:  $(varnishd -V 2>&1 | head -n1 | sed 's/^varnishd (//; s/ revision.*//'), thread_pools=1, malloc 512m"
echo "wrk:      $(wrk -v 2>&1 | head -n1 | cut -d' ' -f2), 1 thread, $CONNS connections ($RANGE_CONNS for ranges), ${DURATION}s per run"
echo "pinning:  ${server_cpu[*]:-none} for the caches, ${load_cpu[*]:-none} for wrk, curl and the origin"
echo "runs:     median of $RUNS, servers interleaved; $(($(date +%s) - started)) s of measuring"
echo "load:     $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after"
warn_busy "after the run"
echo "others:   $(cat "$tmp"/res/others.* | sort -g | awk '{ v[NR] = $1 } END { printf "other processes used %s CPUs during the median measurement, %s at most", v[int((NR + 1) / 2)], v[NR] }')"
echo
rows=(
	"small.rps|1 KiB cached, req/s (higher is better)"
	"small.p99|1 KiB cached, p99 ms (lower is better)"
	"medium.rps|100 KiB cached, req/s (higher is better)"
	"medium.p99|100 KiB cached, p99 ms (lower is better)"
	"big.mibs|100 MiB cached, MiB/s (higher is better)"
	"ranges.rps|random 1 MiB ranges of cached 100 MiB, req/s (higher is better)"
	"ranges.p99|random 1 MiB ranges of cached 100 MiB, p99 ms (lower is better)"
	"storm.mib|cold range storm ($STORM x 1 MiB), origin MiB (lower is better)"
	"storm.secs|cold range storm ($STORM x 1 MiB), seconds (lower is better)"
)
printf '| %s | %s | %s | %s | %s | %s |\n' row strata nginx varnish strata/nginx strata/varnish
printf '|---|---:|---:|---:|---:|---:|\n'
for r in "${rows[@]}"; do
	key=${r%%|*}
	[ -s "$tmp/res/$key.strata" ] || continue
	a=$(median "$tmp/res/$key.strata")
	b=$(median "$tmp/res/$key.nginx")
	c=$(median "$tmp/res/$key.varnish")
	printf '| %s | %s | %s | %s | %s | %s |\n' "${r#*|}" "$a" "$b" "$c" "$(ratio "$a" "$b")" "$(ratio "$a" "$c")"
done
echo
echo "The same runs per CPU-second of the cache's own processes (user + system"
echo "time, medians): less disturbed than the figures above when other"
echo "processes share the CPUs."
echo
cpurows=(
	"small.cpu|1 KiB cached, requests per CPU-second"
	"medium.cpu|100 KiB cached, requests per CPU-second"
	"big.cpu|100 MiB cached, MiB per CPU-second"
	"ranges.cpu|random 1 MiB ranges, requests per CPU-second"
)
printf '| %s | %s | %s | %s | %s | %s |\n' row strata nginx varnish strata/nginx strata/varnish
printf '|---|---:|---:|---:|---:|---:|\n'
for r in "${cpurows[@]}"; do
	key=${r%%|*}
	[ -s "$tmp/res/$key.strata" ] || continue
	a=$(median "$tmp/res/$key.strata")
	b=$(median "$tmp/res/$key.nginx")
	c=$(median "$tmp/res/$key.varnish")
	printf '| %s | %s | %s | %s | %s | %s |\n' "${r#*|}" "$a" "$b" "$c" "$(ratio "$a" "$b")" "$(ratio "$a" "$c")"
done
if [ -s "$tmp/notes" ]; then
	echo
	echo "notes:"
	sed 's/^/  /' "$tmp/notes"
fi
