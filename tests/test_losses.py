import doctest

import pytest
import torch
from torch.autograd import gradcheck

from stylereel import palette
from stylereel.losses import adversarial, perceptual, terms
from stylereel.losses.adversarial import D_LOSSES, G_LOSSES, d_loss_over_scales, feature_matching_loss, g_loss_over_scales
from stylereel.losses.perceptual import content_loss, gram_matrix, pixel_l1_loss, style_loss, tv_loss


def f64(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64).requires_grad_(True)


@pytest.mark.parametrize("module", [adversarial, perceptual, terms, palette])
def test_doctests(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("name", D_LOSSES.names())
def test_d_losses_gradcheck(name):
    fn = D_LOSSES.get(name)
    assert gradcheck(fn, (f64(2, 1, 3, 3), f64(2, 1, 3, 3, seed=1)))


@pytest.mark.parametrize("name", G_LOSSES.names())
def test_g_losses_gradcheck(name):
    assert gradcheck(G_LOSSES.get(name), (f64(2, 1, 3, 3),))


def test_adversarial_directions():
    # Each D loss prefers real logits high and fake logits low.
    hi, lo = torch.full((1, 1, 2, 2), 3.0), torch.full((1, 1, 2, 2), -3.0)
    for name in D_LOSSES.names():
        fn = D_LOSSES.get(name)
        assert fn(hi, lo) < fn(lo, hi), name
    # Each G loss prefers the fake judged real.
    for name in G_LOSSES.names():
        fn = G_LOSSES.get(name)
        assert fn(hi) < fn(lo), name
    # The min-max form saturates where D rejects the fake: its gradient vanishes there,
    # the non-saturating one's does not (Goodfellow et al. 2014 give both for this reason).
    x = torch.tensor([-8.0], requires_grad=True)
    G_LOSSES.get("minmax")(x).backward()
    g_minmax = x.grad.abs().item()
    x.grad = None
    G_LOSSES.get("nonsat")(x).backward()
    assert g_minmax < 1e-3 < x.grad.abs().item()


def test_adversarial_losses_average_scales():
    real = [(torch.ones(1, 1, 4, 4), []), (torch.zeros(1, 1, 2, 2), [])]
    fake = [(torch.zeros(1, 1, 4, 4), []), (torch.zeros(1, 1, 2, 2), [])]
    assert float(d_loss_over_scales(D_LOSSES.get("lsgan"), real, fake)) == pytest.approx(0.5)  # scale 1: 0, scale 2: 1
    assert float(g_loss_over_scales(G_LOSSES.get("lsgan"), fake)) == pytest.approx(1.0)
    with pytest.raises(KeyError, match="did you mean 'hinge'.*valid: bce, hinge, lsgan"):
        D_LOSSES.get("hinj")


def feats(seed, c=4, hw=5):
    return {"a": f64(2, c, hw, hw, seed=seed), "b": f64(2, c, hw, hw, seed=seed + 10)}


def test_content_loss_gradcheck_and_module():
    x, y = feats(0), feats(1)
    assert gradcheck(lambda a, b: content_loss({"a": a, "b": b}, y, ["a", "b"]), (x["a"], x["b"]))
    assert float(content_loss(y, y, ["a", "b"]).detach()) == 0.0


def test_gram_and_style_loss():
    f = f64(2, 3, 4, 4)
    g = gram_matrix(f)
    assert g.shape == (2, 3, 3)
    assert torch.allclose(g, g.transpose(1, 2))
    assert gradcheck(gram_matrix, (f,))
    x = feats(0)
    targets = {k: gram_matrix(v.detach())[0] for k, v in feats(3).items()}
    weights = {"a": 1.0, "b": 0.25}
    assert gradcheck(lambda a, b: style_loss({"a": a, "b": b}, targets, weights), (x["a"], x["b"]))
    # Gram statistics ignore where things are: a spatially shuffled map has the same style.
    perm = torch.randperm(25)
    shuffled = {k: v.detach().flatten(2)[..., perm].reshape(v.shape) for k, v in x.items()}
    own = {k: gram_matrix(v.detach()) for k, v in x.items()}
    assert float(style_loss(shuffled, own, weights)) < 1e-20
    # Layer weights matter.
    assert float(style_loss(x, targets, {"a": 1.0})) != float(style_loss(x, targets, {"b": 1.0}))


def test_tv_and_l1():
    x = f64(1, 3, 6, 6)
    assert gradcheck(tv_loss, (x,))
    smooth = torch.linspace(0, 1, 36, dtype=torch.float64).reshape(1, 1, 6, 6)
    assert float(tv_loss(smooth)) < float(tv_loss(torch.rand(1, 1, 6, 6, dtype=torch.float64)))
    y = f64(1, 3, 6, 6, seed=2)
    assert gradcheck(pixel_l1_loss, (x, y))


def test_feature_matching():
    real = [(None, [f64(1, 2, 3, 3, seed=i) for i in range(2)])]
    fake = [(None, [f64(1, 2, 3, 3, seed=i + 5) for i in range(2)])]
    assert gradcheck(lambda a, b: feature_matching_loss(real, [(None, [a, b])]), tuple(fake[0][1]))
    assert float(feature_matching_loss(real, real)) == 0.0


def test_gatys_with_the_swd_term_takes_the_looks_palette():
    """The ceiling benchmark's optimisation with the sliced-Wasserstein term on the pixels moves a grey
    picture's colours to the look's (half dark blue, half yellow); without it the picture stays grey."""
    from bench.gatys import gatys

    torch.manual_seed(0)
    grey = (0.5 + 0.05 * torch.randn(1, 3, 32, 32)).clamp(0, 1)
    look = torch.cat([torch.tensor([0.1, 0.15, 0.5]).view(3, 1).expand(3, 512), torch.tensor([0.9, 0.8, 0.2]).view(3, 1).expand(3, 512)], 1)
    plain = gatys(grey, {}, 1.0, 0.0, ["relu3_3"], {}, steps=40, lr=0.1)
    toward = gatys(grey, {}, 1.0, 0.0, ["relu3_3"], {}, steps=40, lr=0.1, swd_weight=20.0, swd_targets={"rgb": look})
    blue_minus_red = lambda img: float((img[:, 2] - img[:, 0]).flatten().sort(descending=True).values[:512].mean())  # noqa: E731
    assert blue_minus_red(toward) > blue_minus_red(plain) + 0.1  # the bluest half of the picture turned blue
    assert float(toward.std()) > float(plain.std()) + 0.1  # two colours far apart, not one grey
