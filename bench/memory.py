"""A benchmark process's own memory, from /proc/self/status: not ``ru_maxrss``, which Linux
carries over exec from the process that started this one (a child reported its parent's
peak when that was larger)."""
from __future__ import annotations


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        line = next(row for row in status if row.startswith(f"{field}:"))
    return int(line.split()[1]) / 1024


def peak_mb() -> float:
    """VmHWM: the most resident memory this process held."""
    return _status_mb("VmHWM")


def peak_address_space_mb() -> float:
    """VmPeak: the most address space this process held (what RLIMIT_AS caps)."""
    return _status_mb("VmPeak")
