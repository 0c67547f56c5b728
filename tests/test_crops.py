"""Crops, rescales and flips move every member of a sample alike: images stay aligned and
flows still map one cropped frame onto the other."""

import torch
import torch.nn.functional as F

from stylereel.data.crops import CropSampler


def warp(img: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample img at x + flow (backward warp): [N, C, H, W], flow [N, 2, H, W] in pixels."""
    n, _, h, w = img.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=img.dtype), torch.arange(w, dtype=img.dtype), indexing="ij")
    gx = (xs + flow[:, 0]) / (w - 1) * 2 - 1
    gy = (ys + flow[:, 1]) / (h - 1) * 2 - 1
    return F.grid_sample(img, torch.stack([gx, gy], -1), align_corners=True, padding_mode="border")


def test_flow_survives_crop_scale_and_flip():
    torch.manual_seed(0)
    h, w = 96, 128
    # A smooth texture, and the same texture moved by a known, spatially varying flow.
    base = F.interpolate(torch.rand(1, 3, 12, 16), size=(h, w), mode="bicubic", align_corners=False)
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    flow = torch.stack([3 + 2 * torch.sin(ys / 20), -2 + xs / 64])[None]  # [1, 2, H, W]
    moved = warp(base, flow)  # frame1(p) = frame0(p + flow(p))
    sampler = CropSampler([{"frame0": base[0], "frame1": moved[0], "flow": flow[0]}], size=48,
                          scale_jitter=(0.6, 1.6), flip=True, kinds={"flow": "flow"})
    gen = torch.Generator().manual_seed(1)
    batch = sampler.sample(16, gen)
    assert set(batch) == {"frame0", "frame1", "flow"} and batch["flow"].shape == (16, 2, 48, 48)
    inner = (slice(None), slice(None), slice(8, -8), slice(8, -8))  # away from where the warp leaves the crop
    err = (warp(batch["frame0"], batch["flow"]) - batch["frame1"])[inner].abs().mean()
    # The guard: a flow cropped like an image (no vector scaling, no sign flip) does not line up.
    naive = CropSampler([{"frame0": base[0], "frame1": moved[0], "flow": flow[0]}], size=48, scale_jitter=(0.6, 1.6), flip=True)
    b2 = naive.sample(16, torch.Generator().manual_seed(1))
    naive_err = (warp(b2["frame0"], b2["flow"]) - b2["frame1"])[inner].abs().mean()
    assert err < 0.01 and naive_err > 3 * err


def test_same_seed_same_batches():
    imgs = [{"plate": torch.rand(3, 40, 50), "target": torch.rand(3, 40, 50)}]
    a = CropSampler(imgs, 16, (0.75, 1.33)).sample(4, torch.Generator().manual_seed(3))
    b = CropSampler(imgs, 16, (0.75, 1.33)).sample(4, torch.Generator().manual_seed(3))
    assert all(torch.equal(a[k], b[k]) for k in a)
