#!/usr/bin/env bash
# One front end (dev.braid.perf.vhostuser.BlkLoadGenerator), two vhost-user-blk back ends on the
# same image file: `braid serve --card file:IMG` and qemu-storage-daemon (file driver, O_DIRECT,
# io_uring: what Braid's file card does). Alternates the two, REPS times, and prints each run and
# the medians. A third back end, qemu-storage-daemon's null-co driver (no I/O at all), gives the
# generator's own ceiling on this machine (NULL_ROW=0 leaves it out). Settings through the environment:
#   REPS=3 SECONDS_=5 WARMUP=2 QUEUES=2 DEPTH=32 BS=4096 WRITE=0 SIZE_MB=256 NULL_ROW=1 SKIP_BUILD=
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPS=${REPS:-3}; SECS=${SECONDS_:-5}; WARMUP=${WARMUP:-2}; QUEUES=${QUEUES:-2}; DEPTH=${DEPTH:-32}
BS=${BS:-4096}; WRITE=${WRITE:-0}; SIZE_MB=${SIZE_MB:-256}; NULL_ROW=${NULL_ROW:-1}
WORK="$ROOT/perf/target/vhost-blk-compare"   # on the real file system: /tmp may be tmpfs (no O_DIRECT)
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

command -v qemu-storage-daemon >/dev/null || { echo "vhost-blk-compare: qemu-storage-daemon not on PATH (Debian: qemu-system-common)" >&2; exit 2; }
if [ -z "${SKIP_BUILD:-}" ]; then
  (cd "$ROOT" && ./mvnw -B -ntp -q install -DskipTests -pl perf,examples -am) >&2
fi
mkdir -p "$WORK"
(cd "$ROOT" && ./mvnw -B -ntp -q -o -pl perf dependency:build-classpath -Dmdep.outputFile="$WORK/classpath.txt") >&2
CP="$ROOT/perf/target/classes:$(cat "$WORK/classpath.txt")"
IMG="$WORK/disk.img"
if [ ! -f "$IMG" ] || [ "$(stat -c %s "$IMG")" -ne $((SIZE_MB << 20)) ]; then
  head -c $((SIZE_MB << 20)) /dev/urandom > "$IMG.new" && mv "$IMG.new" "$IMG"   # no holes
fi
SOCK="$WORK/blk.sock"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -f "$SOCK"; }
trap cleanup EXIT

start_backend() {   # $1 = braid | qsd | null
  rm -f "$SOCK"
  if [ "$1" = null ]; then
    qemu-storage-daemon --blockdev "driver=null-co,node-name=disk,size=$((SIZE_MB << 20))" \
      --export "type=vhost-user-blk,id=e,node-name=disk,addr.type=unix,addr.path=$SOCK,writable=on,num-queues=$QUEUES" \
      >"$WORK/$1.log" 2>&1 &
  elif [ "$1" = braid ]; then
    "$ROOT/braid" serve --device blk --socket "$SOCK" --card "file:$IMG" --queues "$QUEUES" >"$WORK/$1.log" 2>&1 &
  else
    qemu-storage-daemon --blockdev "driver=file,node-name=disk,filename=$IMG,cache.direct=on,aio=io_uring" \
      --export "type=vhost-user-blk,id=e,node-name=disk,addr.type=unix,addr.path=$SOCK,writable=on,num-queues=$QUEUES" \
      >"$WORK/$1.log" 2>&1 &
  fi
  pid=$!
  for _ in $(seq 300); do [ -S "$SOCK" ] && return 0; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  echo "vhost-blk-compare: $1 did not listen on $SOCK:" >&2; cat "$WORK/$1.log" >&2; exit 1
}

stop_backend() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; }

echo "machine: nproc=$(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $("$JAVA" -version 2>&1 | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "workload: queues=$QUEUES depth=$DEPTH bs=$BS write=$WRITE% size=${SIZE_MB}MiB warmup=${WARMUP}s seconds=$SECS reps=$REPS"
RESULTS="$WORK/results.txt"; : > "$RESULTS"
for rep in $(seq "$REPS"); do
  if [ $((rep % 2)) -eq 1 ]; then order="braid qsd"; else order="qsd braid"; fi
  [ "$NULL_ROW" = 1 ] && order="$order null"
  for target in $order; do
    start_backend "$target"
    line=$("$JAVA" --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp "$CP" dev.braid.perf.vhostuser.BlkLoadGenerator \
      socket="$SOCK" queues="$QUEUES" depth="$DEPTH" bs="$BS" write="$WRITE" seconds="$SECS" warmup="$WARMUP" \
      size=$((SIZE_MB << 20)) | grep '^RESULT') || { echo "vhost-blk-compare: generator failed against $target" >&2; cat "$WORK/$target.log" >&2; exit 1; }
    stop_backend
    echo "$target rep=$rep ${line#RESULT } load=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$RESULTS"
  done
done

median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
field() { grep "^$1 " "$RESULTS" | tr ' ' '\n' | grep "^$2=" | cut -d= -f2 | median; }
echo
echo "| back end | IOPS (median) | MB/s | p50 µs | p99 µs | errors (all runs) |"
echo "|---|---|---|---|---|---|"
targets="braid qsd"; [ "$NULL_ROW" = 1 ] && targets="$targets null"
for t in $targets; do
  errs=$(grep "^$t " "$RESULTS" | tr ' ' '\n' | grep '^errors=' | cut -d= -f2 | awk '{s+=$1} END {print s}')
  echo "| $t | $(field $t iops) | $(field $t mbps) | $(field $t p50us) | $(field $t p99us) | $errs |"
done
echo
echo "braid / qsd IOPS (medians): $(awk -v a="$(field braid iops)" -v b="$(field qsd iops)" 'BEGIN {printf "%.2f", a / b}')"
