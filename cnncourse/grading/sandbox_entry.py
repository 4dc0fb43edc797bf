"""First process inside the grading sandbox; starts the kernel. Standard library only.

    python -I -S sandbox_entry.py SOURCE WORKDIR UID -- KERNEL_ARGV...

Drops to ``UID`` (when given as a number and running as root: the grader's sandbox as
root keeps ``CAP_SETUID``/``CAP_SETGID`` for this step only), copies the submission's
folder from ``SOURCE`` (read-only) to ``WORKDIR`` in the sandbox's own tmpfs, and replaces
itself with the kernel, which so starts with no capabilities and ``WORKDIR`` as its
working directory.
"""

import os
import shutil
import sys


def main(argv: list[str]) -> None:
    source, workdir, uid = argv[1:4]
    if argv[4] != "--" or len(argv) < 6:
        raise SystemExit("usage: sandbox_entry.py SOURCE WORKDIR UID -- KERNEL_ARGV...")
    if uid != "-" and os.getuid() == 0:
        os.setgroups([])
        os.setgid(int(uid))
        os.setuid(int(uid))
    home = os.environ.get("HOME")
    if home:
        os.makedirs(home, exist_ok=True)
    shutil.copytree(source, workdir, symlinks=True, dirs_exist_ok=True)
    os.chdir(workdir)
    # ipykernel would watch its parent, which in here is the namespace's init (pid 1), and
    # take that for an orphaned kernel; bubblewrap's --die-with-parent does that job.
    os.environ.pop("JPY_PARENT_PID", None)
    kernel = argv[5:]
    os.execv(kernel[0], kernel)


if __name__ == "__main__":
    main(sys.argv)
