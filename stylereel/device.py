"""Which device and precision to run on, and how much memory is left. torch is imported
only where a device is picked: the frame I/O that checks memory loads no torch."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def pick_device(name: str = "auto") -> torch.device:
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def bf16_supported(device: torch.device) -> bool:
    """True where bf16 runs natively: CUDA with bf16, or a CPU oneDNN can use bf16 on."""
    import torch

    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8
KEEP_BYTES = 1 << 30


def keep_freed_memory() -> bool:
    """Keep the memory of freed frame-sized arrays in this process for the next frame (glibc only;
    True where it took). By default glibc maps an array above its mmap threshold (128 KB, rising
    with use to at most 32 MB) on its own and hands it back to the kernel when it is freed: a 4K
    float frame (100 MB) every time, a 1080p one (25 MB) whenever sizes vary or another thread
    allocates, and the next frame's array is page-faulted in again (~26 ms per 25 MB on the
    benchmarks' 2-core VMs), a cost paid beside the network. Allocations up
    to `KEEP_BYTES` now come from one heap that is not trimmed: a render's resident memory stays
    at its peak instead of rising and falling every frame. For processes stylereel owns (the
    CLI), never on import: a host application keeps its own allocator settings."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others: no glibc tunables
        return False
    return all(mallopt(p, v) == 1 for p, v in ((_M_MMAP_THRESHOLD, KEEP_BYTES), (_M_TRIM_THRESHOLD, KEEP_BYTES), (_M_ARENA_MAX, 1)))


# CPU flags (Linux /proc/cpuinfo names) -> the vector units a benchmark names, widest last
ISA_FLAGS = (("avx2", "AVX2"), ("avx512f", "AVX-512"), ("avx_vnni", "AVX-VNNI"), ("avx512_vnni", "AVX-512 VNNI"),
             ("avx512_bf16", "AVX-512 BF16"), ("amx_bf16", "AMX-BF16"), ("amx_int8", "AMX-INT8"))


def cpu_description() -> dict:
    """{"model": the CPU's name, "isa": its vector units (AVX2 ... AMX), "cores": logical CPUs this
    process may use}: what every benchmark records beside its numbers."""
    import os
    import platform

    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in open("/proc/cpuinfo"):
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"model": model, "isa": [name for flag, name in ISA_FLAGS if flag in flags], "cores": cores}


def available_memory() -> int:
    """Bytes this process can still allocate: the kernel's MemAvailable, or less where a
    cgroup (a container's or a farm job's memory limit) leaves less."""
    avail = None
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemAvailable:"):
                avail = int(line.split()[1]) * 1024
    except OSError:
        pass
    if avail is None:
        import os

        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return 1 << 62  # unknown: nothing is refused
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            limit, usage = open(limit_file).read().strip(), open(usage_file).read().strip()
        except OSError:
            continue
        if limit.isdigit() and int(limit) < 1 << 60:
            avail = min(avail, max(0, int(limit) - int(usage)))
        break
    return avail


def format_bytes(n: float) -> str:
    """>>> format_bytes(3 * 2**30)
    '3.0 GiB'"""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"


def check_memory(what: str, need: int, doing: str) -> None:
    """Refuse up front (a StylereelError naming `what`) when `need` bytes exceed what is available."""
    from stylereel.errors import StylereelError

    avail = available_memory()
    if need > avail:
        raise StylereelError(f"{what}: {doing} would need {format_bytes(need)} of memory; {format_bytes(avail)} is available")
