#!/bin/sh
# The native-card benchmarks of perf/README.md, one after the other (root: TAPs and a bridge;
# fio, qemu-nbd and nbdkit on the PATH). Build first: ./mvnw -B -ntp -o -q install -DskipTests -pl perf -am
# perf/native-cards.sh [all|file|nbd|tap]: all (default) runs every part; file runs only FileVsFio.
set -e
PART=${1:-all}
case "$PART" in
  all|file|nbd|tap) ;;
  *) echo "usage: $0 [all|file|nbd|tap]" >&2; exit 2 ;;
esac
JAR=${JAR:-perf/target/benchmarks.jar}
J="java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp $JAR"
echo "nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo); $(java -version 2>&1 | head -2 | tail -1); $(fio --version)"
uptime
if [ "$PART" = all ] || [ "$PART" = file ]; then
  $J dev.braid.perf.nativecards.FileVsFio /var/tmp/braid-fio.img 256 4096 32 5 5 randread 1
  uptime
  $J dev.braid.perf.nativecards.FileVsFio /var/tmp/braid-fio64.img 64 4096 32 5 5 randread 0
  uptime
fi
if [ "$PART" = all ] || [ "$PART" = nbd ]; then
  $J dev.braid.perf.nativecards.NbdPaths 160 65536 32 5 5 10
  uptime
fi
if [ "$PART" = all ] || [ "$PART" = tap ]; then
  $J dev.braid.perf.nativecards.TapFrames 3 5 64
  uptime
fi
