"""Which device trains, and how many CPU threads this process may really use."""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path

from savi_tui.core.errors import ConfigError


@functools.cache
def cpu_info(field: str) -> str:
    """The first value of ``field`` in /proc/cpuinfo ("flags", "vendor_id"), or "" where there is none."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == field:
            return value.strip()
    return ""


def available_cpus() -> int:
    """CPUs this process may run on: affinity mask, capped by a cgroup v2/v1 quota."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        count = os.cpu_count() or 1
    quota = _cgroup_quota()
    return max(1, min(count, math.ceil(quota))) if quota else max(1, count)


def _cgroup_quota() -> float | None:
    try:
        fields = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if fields and fields[0] != "max":
            return int(fields[0]) / int(fields[1])
    except (OSError, ValueError, IndexError):
        pass
    try:
        quota = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
        if quota > 0 and period > 0:
            return quota / period
    except (OSError, ValueError):
        pass
    return None


def check_device(name: str) -> str:
    """The device ``name`` means on this machine (``auto`` → CUDA when there is one, else CPU);
    ``ConfigError`` for ``cuda`` without one. Runs check it before they write anything."""
    import torch

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA device is available here; use --device cpu or auto")
    if name not in ("cpu", "cuda"):
        raise ConfigError(f"unknown device {name!r}; choose auto, cpu or cuda")
    return name


def resolve_device(name: str):
    """The ``torch.device`` to train on (see ``check_device``); on the CPU, threads and allocator set."""
    import torch

    name = check_device(name)
    if name == "cpu":
        torch.set_num_threads(available_cpus())
        keep_freed_memory()
    return torch.device(name)


def keep_freed_memory() -> None:
    """Let glibc keep freed memory for the next batch, and let every thread allocate from the main heap.

    The arena setting holds only for threads that have not allocated yet: call it before starting any.
    A no-op where there is no glibc.
    """
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        # M_MMAP_THRESHOLD: a training batch's activations (under 64 MiB for ModelConvNet at batch 512, unlike
        # evaluation's batches of 1,024) reuse the heap instead of fresh pages that the kernel zeroes every batch
        libc.mallopt(-3, 64 << 20)
        libc.mallopt(-1, 128 << 20)  # M_TRIM_THRESHOLD: give back the heap top only past 128 MiB free
        # M_ARENA_MAX: a thread's own arena unmaps its heaps each time they empty (the app trains in a thread)
        libc.mallopt(-8, 1)
    except (OSError, AttributeError):  # musl, or no libc.so.6
        pass
