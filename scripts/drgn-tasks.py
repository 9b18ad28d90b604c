#!/usr/bin/python3
# drgn's task list of a dump as JSON lines, {"pid", "comm", "task"} (or {"fault"} for what drgn
# cannot read): an oracle independent of coroner for what a real kdump capture holds.
#   scripts/drgn-tasks.py DUMP VMLINUX OUT     (Debian's python3-drgn; OUT is kept if newer than DUMP)
import json
import os
import sys

import drgn
from drgn.helpers.linux.pid import for_each_pid, pid_task

dump, vmlinux, out = sys.argv[1:4]
if os.path.exists(out) and os.path.getmtime(out) > max(os.path.getmtime(dump), os.path.getmtime(__file__)):
    sys.exit(0)
prog = drgn.Program()
prog.set_core_dump(dump)
prog.load_debug_info([vmlinux])
# for_each_task(), one pid at a time, so that a page the dump left out costs what it held, not the
# rest of the walk.
lines = []
pids = iter(for_each_pid(prog))
while True:
    try:
        pid = next(pids)
    except StopIteration:
        break
    except drgn.FaultError as e:
        lines.append({"fault": f"the pid table walk stopped: {e}"})
        break
    try:
        task = pid_task(pid, prog["PIDTYPE_PID"])
        if task.value_():
            lines.append({"pid": int(task.pid), "comm": task.comm.string_().decode(errors="replace"),
                          "task": hex(task.value_())})
    except drgn.FaultError as e:
        lines.append({"fault": str(e)})
with open(out + ".tmp", "w") as f:
    f.writelines(json.dumps(line) + "\n" for line in lines)
os.replace(out + ".tmp", out)
