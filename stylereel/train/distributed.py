"""Training in several processes: `stylereel train --nproc N`, or `torchrun -m stylereel.cli train`.

Data parallel, as DistributedDataParallel does it: every process holds the same networks
(rank 0's weights broadcast at the start), each step every process draws the same global batch
from the same seeded generator and keeps its own slice of it, and after each backward pass the
gradients are averaged over the processes (one all-reduce of a flat buffer per network), so
every process takes the same optimiser step and the weights stay identical; one process on
the same global batch takes the same steps, to float rounding. The averaging is explicit rather
than DDP's wrapper: a step may run the generator or the critic more than once before its
backward pass (the critic judges real and fake, temporal terms render twice), which DDP's
gradient hooks refuse. gloo on CPU, nccl on CUDA (one GPU per process, `LOCAL_RANK`). Rank 0
alone logs, writes checkpoints and the model; the processes agree every step on whether to
stop (time budget, Ctrl-C, a cancel), so none waits on the others forever.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable

import torch


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def join(device: torch.device) -> tuple[World, torch.device]:
    """This process's place among those torchrun started (WORLD_SIZE, RANK, LOCAL_RANK), and its device;
    a process started alone is a world of one."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World(), device
    import torch.distributed as dist

    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return World(dist.get_rank(), dist.get_world_size()), device


def leave() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def broadcast_state(modules: Iterable[torch.nn.Module], world: World) -> None:
    """Every process takes rank 0's weights and buffers."""
    if world.size == 1:
        return
    import torch.distributed as dist

    for m in modules:
        for t in m.state_dict().values():
            dist.broadcast(t, 0)


def average_gradients(params: Iterable[torch.nn.Parameter], world: World) -> None:
    """Each gradient becomes its mean over the processes (one all-reduce of one flat buffer)."""
    if world.size == 1:
        return
    import torch.distributed as dist
    from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = _flatten_dense_tensors(grads)
    dist.all_reduce(flat)
    flat /= world.size
    for g, avg in zip(grads, _unflatten_dense_tensors(flat, grads)):
        g.copy_(avg)


def any_of(flag: bool, world: World, device: torch.device) -> bool:
    """True on every process when it is true on any (a stop one of them was asked for)."""
    if world.size == 1:
        return flag
    import torch.distributed as dist

    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def checksums(modules: Iterable[torch.nn.Module], world: World, device: torch.device) -> list[float]:
    """Each process's sum of its weights (float64), gathered: equal entries, identical networks."""
    total = sum(float(p.detach().double().sum()) for m in modules for p in m.parameters())
    if world.size == 1:
        return [total]
    import torch.distributed as dist

    out = [torch.zeros(1, dtype=torch.float64, device=device) for _ in range(world.size)]
    dist.all_gather(out, torch.tensor([total], dtype=torch.float64, device=device))
    return [float(t.item()) for t in out]
