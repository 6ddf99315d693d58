/**
 * Real Linux guests under QEMU for tests: {@link dev.braid.testkit.guest.GuestRun} builds an
 * initramfs (static busybox, the virtio modules, the test's script), boots Debian's kernel with
 * shared memfd memory and parses the guest's {@code BRAID-RESULT key=value} / {@code BRAID-DONE rc=N}
 * console lines into a {@link dev.braid.testkit.guest.GuestResult}.
 * <pre>
 *   GuestResult r = GuestRun.builder()
 *       .name("braid-blk-2q")                      // console: target/guest-logs/braid-blk-2q.log
 *       .vhostUserBlk(socket, 2).cpus(2)           // the backend listens on socket
 *       .script("braid_wait /dev/vda || exit 1\n" +
 *               "braid_result md5 $(dd if=/dev/vda bs=1M count=4 iflag=direct | md5sum | cut -d' ' -f1)")
 *       .run().assertSucceeded();
 *   r.result("md5");
 * </pre>
 * Peers come from {@code .ci/peers/20-qemu-guest.sh}; without them a test skips loudly (fails under
 * CI=true).
 */
package dev.braid.testkit.guest;
