#!/usr/bin/env bash
# The live streaming benchmark: Strata's HTTP-FLV and HLS output against
# nginx with the RTMP module (Debian libnginx-mod-rtmp), on this machine, in
# one run, both fed the same 2 Mbit/s stream by ffmpeg in real time.
#
# Run from anywhere inside the repository:
#
#   bash bench/live.sh                       # the standard table, ~4 minutes
#   RUNS=1 DURATION=4 bash bench/live.sh     # quick look
#
# Rows:
# - HTTP-FLV viewers: concurrent viewers of the one stream (bench/live, a Go
#   client) in steps (FLV_STEPS); a step passes when no viewer ever trails
#   the live edge by more than TOLERANCE seconds over the measuring window
#   (the edge is taken from a reference viewer playing alone first, against
#   the publisher's real-time pace) and no connection ends. The row shows
#   the largest passing step. nginx-rtmp has no HTTP-FLV output (that is the separate
#   nginx-http-flv module), so that cell is n/a.
# - HLS segment and HLS playlist: requests/s with wrk (one thread, CONNS
#   connections, DURATION seconds) for the newest segment, and for the
#   playlist, of each server; the median of RUNS runs, servers interleaved.
#
# Environment: DURATION (seconds per wrk run, default 6), RUNS (default 3),
# CONNS (default 50), FLV_STEPS (default "50 100 200 400 800 1600 2400
# 3200 4800"),
# FLV_MEASURE (seconds of each viewer step's window, default 8), TOLERANCE
# (seconds, default 1), NICE (a niceness for every process of the
# benchmark, e.g. -10 as root on a machine other work shares; the
# publishers then run at NICE-5).
#
# Needs nginx, libnginx-mod-rtmp, ffmpeg (with ffprobe), wrk and curl
# (Debian: apt-get install -y nginx libnginx-mod-rtmp ffmpeg wrk curl). It
# builds Strata and bench/live from this tree, encodes a 20 s 2 Mbit/s
# source (720p30 H.264 Main with noise, so the encoder spends its bitrate;
# AAC 128k) into a temp dir, starts Strata and nginx (one worker) on
# 127.0.0.1 with the configs in bench/live/, publishes the source to each
# with its own `ffmpeg -re -stream_loop -1 -c copy` (as root, at a niceness
# 5 below the load's), pins the servers to CPU 0 and the load (ffmpeg, wrk,
# curl, the viewers client) to CPU 1 (taskset, with 2+ CPUs), prints the
# table, then stops every process it started and removes the temp dir,
# also on error or Ctrl-C. Loopback only.
set -euo pipefail

DURATION=${DURATION:-6}
RUNS=${RUNS:-3}
CONNS=${CONNS:-50}
FLV_STEPS=${FLV_STEPS:-50 100 200 400 800 1600 2400 3200 4800}
FLV_MEASURE=${FLV_MEASURE:-8}
TOLERANCE=${TOLERANCE:-1}
RTMP_MODULE=/usr/lib/nginx/modules/ngx_rtmp_module.so
SERVERS=(strata nginx)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

log() { printf '== %s\n' "$*" >&2; }
die() {
	printf 'live.sh: %s\n' "$*" >&2
	exit 1
}

for tool in nginx ffmpeg ffprobe wrk curl; do
	command -v "$tool" >/dev/null ||
		die "$tool is missing; on Debian: apt-get install -y nginx libnginx-mod-rtmp ffmpeg wrk curl"
done
[ -f "$RTMP_MODULE" ] || die "$RTMP_MODULE is missing; on Debian: apt-get install -y libnginx-mod-rtmp"

start_time=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/strata-livebench.XXXXXX")
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

# CPU pinning: the servers on CPU 0; ffmpeg, wrk, curl and viewers on CPU 1.
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
			log "$what exited; its log:"
			cat "$tmp/$what.log" >&2 || true
			return 1
		fi
		sleep 0.1
	done
	log "$what was not ready in 60 s; its log:"
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

log "building strata and bench/live"
go build -o "$tmp/bin/strata" ./cmd/strata
go build -o "$tmp/bin/viewers" ./bench/live

log "encoding the 20 s 2 Mbit/s source"
"${load_cpu[@]}" ffmpeg -hide_banner -loglevel error -nostdin -y \
	-f lavfi -i "testsrc2=size=1280x720:rate=30,noise=alls=20:allf=t" \
	-f lavfi -i "sine=frequency=440:sample_rate=48000" -t 20 \
	-c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p \
	-g 60 -keyint_min 60 -sc_threshold 0 \
	-b:v 1870k -minrate 1870k -maxrate 1870k -bufsize 1870k \
	-c:a aac -b:a 128k -f flv "$tmp/source.flv"
src_kbps=$(ffprobe -v error -show_entries format=bit_rate -of default=nw=1:nk=1 "$tmp/source.flv" |
	awk '{ printf "%.0f", $1 / 1000 }')
log "source: ${src_kbps} kbit/s"

declare -A rtmp_port http_port
for s in "${SERVERS[@]}"; do
	rtmp_port[$s]=$(free_port)
	http_port[$s]=$(free_port)
done
admin_port=$(free_port)

log "starting strata (rtmp ${rtmp_port[strata]}, http ${http_port[strata]})"
mkdir -p "$tmp/strata"
render bench/live/strata.yaml.in "$tmp/strata/strata.yaml" DIR="$tmp/strata" \
	ADMIN_PORT="$admin_port" RTMP_PORT="${rtmp_port[strata]}" HTTP_PORT="${http_port[strata]}"
GOMAXPROCS=1 "${server_cpu[@]}" "$tmp/bin/strata" serve --config "$tmp/strata/strata.yaml" \
	>"$tmp/strata.log" 2>&1 &
pids+=($!)
strata_ready() { [ "$(status "http://127.0.0.1:$admin_port/healthz")" = 200 ]; }
wait_for strata "$!" strata_ready

log "starting nginx-rtmp (rtmp ${rtmp_port[nginx]}, http ${http_port[nginx]})"
mkdir -p "$tmp/nginx/hls"
nginx_user=""
[ "$(id -u)" = 0 ] && nginx_user="user root;"
render bench/live/nginx.conf.in "$tmp/nginx/nginx.conf" DIR="$tmp/nginx" USER="$nginx_user" \
	RTMP_PORT="${rtmp_port[nginx]}" HTTP_PORT="${http_port[nginx]}"
"${server_cpu[@]}" nginx -p "$tmp/nginx" -e "$tmp/nginx/error.log" \
	-c "$tmp/nginx/nginx.conf" -g 'daemon off; master_process on;' \
	>"$tmp/nginx.log" 2>&1 &
pids+=($!)
nginx_ready() { listening 127.0.0.1 "${rtmp_port[nginx]}" && listening 127.0.0.1 "${http_port[nginx]}"; }
wait_for nginx "$!" nginx_ready

# Each server gets the source from its own real-time publisher. The
# publishers share CPU 1 with the viewers client; as root they run at
# a niceness 5 below the client's, so that it cannot delay them: a late
# publisher would make every viewer look late.
pub_cpu=("${load_cpu[@]}")
[ "$(id -u)" = 0 ] && pub_cpu=(nice -n -5 "${load_cpu[@]}")
for s in "${SERVERS[@]}"; do
	log "publishing to $s"
	"${pub_cpu[@]}" ffmpeg -hide_banner -loglevel error -nostdin -re -stream_loop -1 \
		-i "$tmp/source.flv" -c copy -f flv "rtmp://127.0.0.1:${rtmp_port[$s]}/live/s" \
		>"$tmp/publish-$s.log" 2>&1 &
	pids+=($!)
	eval "pub_$s=$!"
done

declare -A playlist
playlist[strata]="http://127.0.0.1:${http_port[strata]}/live/live/s.m3u8"
playlist[nginx]="http://127.0.0.1:${http_port[nginx]}/hls/s.m3u8"
flv_url="http://127.0.0.1:${http_port[strata]}/live/live/s.flv"

# segments SERVER: the playlist's segment URIs, oldest first.
segments() { curl -s -m 5 "${playlist[$1]}" | grep -v '^#' | grep -v '^$' || true; }
# newest_segment SERVER: the URL of the playlist's newest segment.
newest_segment() {
	local seg
	seg=$(segments "$1" | tail -n1)
	[ -n "$seg" ] || die "$1 lists no HLS segment"
	echo "${playlist[$1]%/*}/$seg"
}
hls_ready() { [ "$(segments "$1" | wc -l)" -ge 3 ]; }
for s in "${SERVERS[@]}"; do
	log "waiting for $s to list 3 HLS segments"
	pid_var="pub_$s"
	hls_ready_s() { hls_ready "$s"; }
	wait_for "publish-$s" "${!pid_var}" hls_ready_s
done

declare -A result
record() { result["$1|$2"]=$3; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# HTTP-FLV viewers at real-time delivery (Strata only).
flv_pass=0
flv_fail=""
for n in $FLV_STEPS; do
	if [ $(($(date +%s) - start_time)) -gt 230 ]; then
		log "time budget reached; stopping the viewer steps"
		break
	fi
	out=$("${load_cpu[@]}" "$tmp/bin/viewers" -url "$flv_url" -viewers "$n" -warmup 3s \
		-measure "${FLV_MEASURE}s" -tolerance "${TOLERANCE}s" 2>&1) || out="{\"error\": \"$(tr -d '"\n' <<<"$out")\"}"
	log "flv $n viewers: $out"
	ok=$(sed -n 's/.*"ok":\([0-9]*\).*/\1/p' <<<"$out")
	mbit=$(sed -n 's/.*"mbit_s":\([0-9.]*\).*/\1/p' <<<"$out")
	behind=$(sed -n 's/.*"lag_max_s":\([-0-9.]*\).*/\1/p' <<<"$out")
	cpu=$(sed -n 's/.*"client_cpu_pct":\([0-9.]*\).*/\1/p' <<<"$out")
	if [ "${ok:-0}" = "$n" ]; then
		flv_pass=$n
		flv_mbit=$mbit
		flv_behind=$behind
		flv_cpu=$cpu
	else
		flv_fail="$n viewers: ${ok:-0} kept pace, worst lag ${behind:-?} s, load client at ${cpu:-?}% of its CPU"
		break
	fi
done

# wrk_row ROW SERVER URL: one wrk run; records requests/s and MB/s.
wrk_row() {
	local row=$1 s=$2 u=$3 out rps tput
	out=$("${load_cpu[@]}" wrk -t1 -c"$CONNS" -d"${DURATION}s" --timeout 10s "$u" 2>&1) ||
		die "wrk against $s failed: $out"
	if grep -q 'Non-2xx' <<<"$out"; then die "wrk against $s ($u): non-2xx answers: $out"; fi
	rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
	tput=$(awk '/^Transfer\/sec:/ { v = $2; u = substr(v, length(v) - 1); n = v + 0;
		if (u == "GB") n *= 1024; else if (u == "KB") n /= 1024; else if (u !~ /MB/) n /= 1048576;
		printf "%.0f", n }' <<<"$out")
	[ -n "$rps" ] || die "wrk against $s: no result in: $out"
	result["$row.rps|$s"]+=" $rps"
	result["$row.mibs|$s"]+=" $tput"
}

declare -A seg_bytes
for run in $(seq 1 "$RUNS"); do
	for s in "${SERVERS[@]}"; do
		u=$(newest_segment "$s")
		seg_bytes[$s]=$(curl -s -m 5 "$u" | wc -c)
		log "run $run: $s segment $u (${seg_bytes[$s]} bytes)"
		wrk_row segment "$s" "$u"
		wrk_row playlist "$s" "${playlist[$s]}"
	done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
printf '\n'
printf 'Live: Strata vs nginx-rtmp (%s), source %s kbit/s, %d CPUs, servers on CPU 0, load on CPU 1\n' \
	"$(nginx -v 2>&1 | sed 's/.*: //'), libnginx-mod-rtmp $(dpkg-query -W -f '${Version}' libnginx-mod-rtmp 2>/dev/null || echo '?')" \
	"$src_kbps" "$(nproc)"
printf '%-34s %16s %16s %8s\n' "row" "strata" "nginx-rtmp" "ratio"
flv_cell="$flv_pass"
[ -n "$flv_fail" ] || flv_cell="${flv_pass}+"
printf '%-34s %16s %16s %8s\n' "HTTP-FLV viewers kept real-time" "$flv_cell" "n/a" "-"
for row in segment playlist; do
	a=$(median <<<"${result["$row.rps|strata"]}")
	b=$(median <<<"${result["$row.rps|nginx"]}")
	printf '%-34s %16s %16s %8s\n' "HLS $row req/s (c=$CONNS)" "$a" "$b" "$(ratio "$a" "$b")"
	if [ "$row" = segment ]; then
		a=$(median <<<"${result["$row.mibs|strata"]}")
		b=$(median <<<"${result["$row.mibs|nginx"]}")
		printf '%-34s %16s %16s %8s\n' "HLS segment MiB/s" "$a" "$b" "$(ratio "$a" "$b")"
	fi
done
printf '\n'
printf 'HTTP-FLV: largest step of (%s) where no viewer trailed the live edge by over %s s in %s s: %s' \
	"$FLV_STEPS" "$TOLERANCE" "$FLV_MEASURE" "$flv_pass"
[ -n "${flv_mbit:-}" ] && printf ' (%s Mbit/s delivered, worst lag %s s, load client at %s%% of its CPU)' "$flv_mbit" "$flv_behind" "$flv_cpu"
printf '\n'
[ -n "$flv_fail" ] && printf 'first failing step: %s\n' "$flv_fail"
[ -z "$flv_fail" ] && printf 'no step failed; raise FLV_STEPS to find the limit\n'
printf 'HLS segment sizes: strata %s bytes, nginx %s bytes; wrk -t1 -c%s -d%ss, median of %s runs\n' \
	"${seg_bytes[strata]}" "${seg_bytes[nginx]}" "$CONNS" "$DURATION" "$RUNS"
printf 'nginx-rtmp serves no HTTP-FLV (that is the separate nginx-http-flv module), so only HLS is compared\n'
printf 'total %s s; load average at the end: %s\n' "$(($(date +%s) - start_time))" "$(cut -d' ' -f1-3 /proc/loadavg)"
