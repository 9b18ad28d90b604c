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
sleep 1
echo t > /proc/sysrq-trigger
sleep 1
case "@SCENARIO@" in
  sysrq) echo c > /proc/sysrq-trigger ;;
esac
sleep 3600
