"""`stylereel export MODEL --format torchscript`: a TorchScript file for Nuke's Inference node
(made with CatFileCreator; docs/nuke.md).

What Nuke asks of it: one input `[1, C, H, W]` (RGB, or RGBA whose alpha comes back untouched),
any height and width (a frame smaller than the network's margin is padded inside and cropped
back), the output on the input's device and in its dtype, and the knobs as attributes of the
module: `strength` (0 the plate .. 1 the full look). A multi-look model's mix is chosen at export
and baked in. Nuke 14 and 15 embed torch 1.12: the file uses only what that version's loader
reads (the network traced, the wrapper scripted; tests/test_export.py loads and runs it under
torch 1.12.1 where a Python 3.10 with it is at hand)."""



from pathlib import Path

import torch
from torch import nn

from stylereel.errors import StylereelError
from stylereel.export import write_export


def _fit(rgb: torch.Tensor, side: int) -> torch.Tensor:
    """The frame replicated out to `side` pixels where it is smaller (the traced network mirrors a margin)."""
    grow_h, grow_w = max(0, side - rgb.shape[2]), max(0, side - rgb.shape[3])
    if grow_h > 0 or grow_w > 0:
        return torch._C._nn.replication_pad2d(rgb, [0, grow_w, 0, grow_h])
    return rgb


def _back(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """The look's RGB with the input's alpha (and any further channel) untouched, in the input's dtype."""
    if x.shape[1] > 3:
        out = torch.cat([out, x[:, 3:].float()], 1)
    return out.to(x.dtype)


class NukeLook(nn.Module):
    """A single look: `strength` mixes it with the plate, as a render does."""

    strength: float

    def __init__(self, net: torch.jit.ScriptModule, min_side: int, strength: float = 1.0):
        super().__init__()
        self.net, self.min_side, self.strength = net, min_side, strength

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rgb = x[:, :3].float()
        out = self.net(_fit(rgb, self.min_side))[:, :, : rgb.shape[2], : rgb.shape[3]]
        s = min(max(self.strength, 0.0), 1.0)
        return _back(x, rgb + s * (out - rgb))


class NukeLooks(nn.Module):
    """A multi-look model with its mix baked in (`mix`); `strength` moves weight to "none" inside the network."""

    strength: float

    def __init__(self, net: torch.jit.ScriptModule, mix: torch.Tensor, min_side: int, strength: float = 1.0):
        super().__init__()
        self.net, self.min_side, self.strength = net, min_side, strength
        self.register_buffer("mix", mix)  # [1, looks], "none" excluded, summing to 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rgb = x[:, :3].float()
        seen = _fit(rgb, self.min_side)
        s = min(max(self.strength, 0.0), 1.0)
        mix = self.mix.to(rgb.device)
        weights = torch.cat([torch.full_like(mix[:, :1], 1.0 - s), mix * s], 1)
        weights = weights[:, :, None, None].expand(seen.shape[0], weights.shape[1], seen.shape[2], seen.shape[3])
        out = self.net(seen, weights)[:, :, : rgb.shape[2], : rgb.shape[3]]
        if s <= 0.001:  # all of it on "none": the plate exactly, as a render writes it
            out = rgb
        return _back(x, out)


def export_torchscript(net: nn.Module, out: str | Path, source: str, mix: dict[str, float] | None = None,
                       strength: float = 1.0) -> Path:
    """`net` as a NukeLook TorchScript file at `out` (.pt)."""
    net = net.float().eval().requires_grad_(False)
    if any(i.name == "guide" for i in getattr(net, "inputs", ())[1:]):
        raise StylereelError(f"{source}: a guided look takes painted keyframes beside each frame; Nuke's Inference node "
                             "gives it one image (export --format onnx and feed the guide yourself)")
    looks = [n for n in getattr(net, "looks", []) if n != "none"]
    weights = [float((mix or {looks[0]: 1.0}).get(n, 0.0)) for n in looks] if looks else []
    side = max(getattr(net, "min_side", 1), 64)
    example = (torch.rand(1, 3, 96, 128),) + ((torch.rand(1, len(looks) + 1, 96, 128),) if looks else ())

    def write(tmp: Path) -> None:
        with torch.no_grad():
            traced = torch.jit.trace(net, example, check_trace=False)
            wrapper = (NukeLooks(traced, torch.tensor([weights], dtype=torch.float32), side, strength) if looks
                       else NukeLook(traced, side, strength))
            torch.jit.script(wrapper).save(str(tmp))

    return write_export(Path(out), "TorchScript", write)
