#!/bin/busybox sh
# /init of the test guest: load what the dump needs, record every task's stack in the log, crash.
# In the kdump scenario the same /init runs again in the capture kernel and saves /proc/vmcore.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp
export LD_LIBRARY_PATH=/lib
# qemu_fw_cfg hands the address of VMCOREINFO to QEMU's vmcoreinfo device; the virtio ones give the
# capture kernel its disks.
for m in @MODULES@; do insmod /modules/$m.ko; done

save_vmcore() {
  local tries=0
  until [ -b /dev/vda ] && [ -b /dev/vdb ]; do
    sleep 1; tries=$((tries + 1))
    [ $tries -gt 30 ] && { echo "coroner-capture: no virtio disks"; poweroff -f; }
  done
  # makedumpfile's flattened format streams to a device; the host reassembles it (makedumpfile -R).
  makedumpfile -F -c -d 31 /proc/vmcore > /dev/vdb || echo "coroner-capture: makedumpfile failed"
  dd if=/proc/vmcore of=/dev/vda bs=1M 2>/dev/null || echo "coroner-capture: copying /proc/vmcore failed"
  sync
  echo "coroner-capture: saved"
  poweroff -f
}
[ -e /proc/vmcore ] && save_vmcore

echo 1 > /proc/sys/kernel/sysrq
echo "coroner-guest: scenario @SCENARIO@" > /dev/kmsg
if [ "@SCENARIO@" = kdump ]; then
  # The capture kernel's initramfs is this one without the kernel image.
  (cd / && find . -xdev ! -name vmlinuz ! -name capture.cpio | cpio -o -H newc > /capture.cpio 2>/dev/null)
  kexec -p /vmlinuz --initrd=/capture.cpio \
    --append="console=ttyS0 panic=0 irqpoll nr_cpus=1 reset_devices" || echo "coroner-guest: kexec -p failed"
fi
# Two readers blocked on one FIFO: each has a wait-queue entry on its stack linked into the same
# pipe_inode_info, the known address `whatthread` must find on both stacks.
mkfifo /fifo
cat /fifo &
reader1=$!
cat /fifo &
reader2=$!
sleep 3600 > /fifo &
writer=$!
# sysrq-t must find both readers asleep in pipe_read and the writer as `sleep` holding the FIFO,
# however slowly a loaded host runs the guest: wait until the kernel says so, not for a fixed time.
fifo_ready() {
  [ "$(cat /proc/$reader1/wchan 2>/dev/null)" = pipe_read ] &&
    [ "$(cat /proc/$reader2/wchan 2>/dev/null)" = pipe_read ] &&
    [ "$(cat /proc/$writer/comm 2>/dev/null)" = sleep ]
}
tries=0
until fifo_ready; do
  sleep 1; tries=$((tries + 1))
  [ $tries -gt 120 ] && { echo "coroner-guest: the FIFO readers did not block within 120 s" > /dev/kmsg; break; }
done
# The kernel's own list of modules, the oracle for `mod`: "name size refcount deps state address".
while read -r line; do echo "coroner-guest: /proc/modules: $line" > /dev/kmsg; done < /proc/modules
# The kernel's own backtraces, the oracle for `bt`: every task (t) and every CPU (l), just before
# the crash so that sleeping tasks have not moved.
echo t > /proc/sysrq-trigger
echo l > /proc/sysrq-trigger
if [ -f /modules/coroner_test.ko ]; then
  # The test module sets up freed objects and crashes as its arguments say (crash=none: not at all).
  insmod /modules/coroner_test.ko @TEST_MODULE_ARGS@
fi
echo c > /proc/sysrq-trigger
sleep 3600
