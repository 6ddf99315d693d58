#!/bin/sh
# CPU ns per chain for every device-side configuration, one JVM each (see VirtqueueDeviceCpuCost).
# Usage: perf/cpu-cost.sh [benchmarks.jar] [rounds]
JAR=${1:-perf/target/benchmarks.jar}
ROUNDS=${2:-15}
for ring in split packed; do
  for d in 1 4; do
    for ind in false true; do
      java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp "$JAR" \
        dev.braid.perf.virtio.VirtqueueDeviceCpuCost "$ring" "$d" "$ind" "$ROUNDS"
    done
  done
done
