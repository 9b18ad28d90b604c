#!/bin/busybox sh
# /init of the test guest: load what the dump needs, record every task's stack in the log, crash.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
# qemu_fw_cfg hands the address of VMCOREINFO to QEMU's vmcoreinfo device.
insmod /modules/qemu_fw_cfg.ko
echo 1 > /proc/sys/kernel/sysrq
echo "coroner-guest: scenario @SCENARIO@" > /dev/kmsg
# Two readers blocked on one FIFO: each has a wait-queue entry on its stack linked into the same
# pipe_inode_info, the known address `whatthread` must find on both stacks.
mkfifo /fifo
cat /fifo &
cat /fifo &
sleep 3600 > /fifo &
sleep 1
# The kernel's own backtraces, the oracle for `bt`: every task (t) and every CPU (l), just before
# the crash so that sleeping tasks have not moved.
echo t > /proc/sysrq-trigger
echo l > /proc/sysrq-trigger
case "@SCENARIO@" in
  sysrq) echo c > /proc/sysrq-trigger ;;
esac
sleep 3600
