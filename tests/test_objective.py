"""Loss terms as parts: options checked by name and type, each term equal to its
function, the objective building only what its active terms need."""

import pytest
import torch

from stylereel.errors import StylereelError
from stylereel.losses.objective import Objective
from stylereel.losses.perceptual import content_loss, gram_matrix, luminance_correlation, pixel_l1_loss, structure_loss, style_loss, tv_loss
from stylereel.losses.terms import TERMS, Step, Term, build_terms, resolve_terms


def test_resolve_fills_defaults_and_names_mistakes():
    full = resolve_terms({"content": {"weight": 2}})
    # layers: null is the run trunk's own content layer, written out so the run's config names it
    assert full == {"trunk": "vgg19", "content": {"weight": 2.0, "layers": ["relu4_1"], "of": "plate", "trunk": "vgg19"}}
    full = resolve_terms({"trunk": "hed_vgg16", "content": {}, "style": {"trunk": "vgg19"}})
    assert full["content"]["layers"] == ["relu3_3"] and full["content"]["trunk"] == "hed_vgg16"
    assert full["style"]["trunk"] == "vgg19" and list(full["style"]["layers"]) == ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
    with pytest.raises(StylereelError, match=r"unknown loss trunk 'vgg91' \(did you mean 'vgg19'\?\)"):
        resolve_terms({"trunk": "vgg91", "content": {}})
    with pytest.raises(StylereelError, match=r"loss.style.layers: trunk hed_vgg16 has no layer 'relu5_1'"):
        resolve_terms({"trunk": "hed_vgg16", "style": {"layers": {"relu5_1": 1.0}}})
    with pytest.raises(StylereelError, match=r"loss.content.wieght'.*did you mean 'weight'"):
        resolve_terms({"content": {"wieght": 1}})
    with pytest.raises(StylereelError, match=r"loss.content.weight: expected float, got 'heavy'"):
        resolve_terms({"content": {"weight": "heavy"}})
    with pytest.raises(StylereelError, match=r"unknown loss term 'stlye' \(did you mean 'style'\?\)"):
        resolve_terms({"stlye": {"weight": 1}})
    with pytest.raises(StylereelError, match=r"unknown generator adversarial loss 'nonsatt'"):
        resolve_terms({"adversarial": {"g_loss": "nonsatt"}})
    assert set(build_terms({"tv": {"weight": 0.0}, "l1": {"weight": 1.0}})) == {"l1"}  # weight 0 is off


def _step(batch, features=None, generate=lambda x: x * 0.5):
    return Step(batch, generate=generate, features=features)


def test_each_term_is_its_function():
    torch.manual_seed(0)
    plate, target = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    feats = lambda img, trunk="vgg19", key="fake": {"relu1_2": img * 2, "relu2_2": img.mean(1, keepdim=True)}  # noqa: E731
    s = _step({"plate": plate, "target": target}, feats)
    fake = plate * 0.5
    content = TERMS.get("content")(layers=["relu1_2", "relu2_2"], of="target")
    assert torch.equal(content(s), content_loss(feats(fake), feats(target), ["relu1_2", "relu2_2"]))
    style = TERMS.get("style")(layers={"relu1_2": 1.0}, margin=0)
    style.set_look([feats(target[:1])])
    assert torch.allclose(style.targets["relu1_2"], gram_matrix(feats(target[:1])["relu1_2"])[0])
    assert torch.equal(style(s), style_loss(feats(fake), style.targets, {"relu1_2": 1.0}))
    edged = TERMS.get("style")(layers={"relu1_2": 1.0}, margin=2)
    edged.targets = style.targets
    assert torch.equal(edged(s), style_loss({"relu1_2": feats(fake)["relu1_2"][..., 2:6, 2:6]}, style.targets, {"relu1_2": 1.0}))
    assert torch.equal(TERMS.get("l1")()(s), pixel_l1_loss(fake, target))
    assert torch.equal(TERMS.get("tv")()(s), tv_loss(fake))
    assert torch.equal(TERMS.get("ssim")(window=3)(s), structure_loss(fake, target, 3))
    assert torch.allclose(TERMS.get("light")(scale=2)(s), 1 - luminance_correlation(fake, plate, 2).mean())


def test_light_term_forbids_inverting_the_plate():
    plate = torch.rand(1, 3, 16, 16)
    light = TERMS.get("light")(scale=4)
    toned = light(_step({"plate": plate}, None, generate=lambda x: 0.3 * x + 0.2))  # a darker tone curve: free
    inverted = light(_step({"plate": plate}, None, generate=lambda x: 1 - x))
    assert float(toned) < 1e-5 and float(inverted) > 1.99


def test_stability_term_tells_a_moving_look_from_one_pinned_to_the_frame():
    torch.manual_seed(0)
    yy, xx = torch.meshgrid(torch.linspace(0, 6, 48), torch.linspace(0, 6, 48), indexing="ij")
    plate = (0.5 + 0.4 * torch.sin(xx + yy)).expand(2, 3, 48, 48).contiguous()  # smooth, so moves resample cleanly
    term = TERMS.get("stability")(shift=3.0, rotate=1.0, zoom=0.03, noise=0.0, margin=8)
    pointwise = term(_step({"plate": plate}, None, generate=lambda x: 0.3 * x + 0.2))  # follows the picture
    stripes = (torch.arange(48) % 4 < 2).float().view(1, 1, 1, 48) * 0.3
    pinned = term(_step({"plate": plate}, None, generate=lambda x: 0.3 * x + stripes))  # texture fixed to the frame
    assert float(pointwise) < 0.01 and float(pinned) > 5 * float(pointwise) + 0.02


def test_swd_measures_the_distribution_not_the_average():
    """Two looks with the same mean colour, one flat and one half yellow, half blue: a
    flat output is as close as can be to the first and far from the second."""
    torch.manual_seed(0)
    ident = lambda img, trunk="vgg19", key="fake": {"rgb": img}  # noqa: E731
    flat = torch.full((1, 3, 16, 16), 0.5)
    split = torch.cat([torch.tensor([0.9, 0.8, 0.2]).view(1, 3, 1, 1).expand(1, 3, 16, 8),
                       torch.tensor([0.1, 0.2, 0.8]).view(1, 3, 1, 1).expand(1, 3, 16, 8)], -1)
    assert torch.allclose(flat.mean((2, 3)), split.mean((2, 3)))
    scores = {}
    for name, look in (("flat", flat), ("split", split)):
        swd = TERMS.get("swd")(layers={"rgb": 1.0}, samples=64, directions=3)
        swd.set_look([ident(look)])
        scores[name] = float(swd(_step({"plate": flat}, ident, generate=lambda x: x)))
        scores[name + " to itself"] = float(swd(_step({"plate": look}, ident, generate=lambda x: x)))
    assert scores["flat"] < 1e-10 and scores["split to itself"] < 1e-10
    assert scores["split"] > 0.1


def test_step_computes_each_quantity_once():
    calls = {"g": 0, "f": 0}

    def generate(x):
        calls["g"] += 1
        return x

    def features(x, trunk, key):
        calls["f"] += 1
        return {"a": x}

    s = Step({"plate": torch.rand(1, 3, 4, 4)}, generate, features)
    for _ in range(3):
        s.fake, s.features("fake", "vgg19"), s.features("plate", "vgg19"), s.features("plate", "hed_vgg16")
    assert calls == {"g": 1, "f": 3}


def test_objective_builds_only_what_its_terms_need():
    paired = {"content": {"layers": ["relu2_2", "relu3_3"], "of": "target"}, "l1": {}}
    obj = Objective(paired, provides=("plate", "target"), look="target", condition="plate")
    assert obj.layers == {"vgg19": ("relu2_2", "relu3_3")}  # no deeper layer: no term reads it
    assert not obj.uses_critic
    # a term may name its own trunk: each trunk is built once, as deep as its own terms read
    obj = Objective({"trunk": "hed_vgg16", "content": {"layers": ["relu2_2"]}, "style": {"trunk": "vgg19", "layers": {"relu1_1": 1.0}}},
                    provides=("plate", "style"), look="style", condition=None)
    assert obj.layers == {"hed_vgg16": ("relu2_2",), "vgg19": ("relu1_1",)}
    obj = Objective({"l1": {}}, provides=("plate", "target"), look="target", condition="plate")
    assert obj.trunks == {}  # no perceptual term, no VGG at all
    obj = Objective({"adversarial": {}}, provides=("plate", "style"), look="style", condition=None)
    assert obj.uses_critic and obj.critic_channels == 3
    with pytest.raises(StylereelError, match="'l1' needs 'target'.*gives plate, style"):
        Objective({"l1": {}}, provides=("plate", "style"), look="style", condition=None)
    with pytest.raises(StylereelError, match="no term has a non-zero weight"):
        Objective({"l1": {"weight": 0}}, provides=("plate", "target"), look="target", condition="plate")



def test_a_batch_entrys_trunk_pass_stops_at_the_layers_its_terms_read():
    # The unpaired default: content reads the plate at relu3_3, style reads the output down to relu4_3.
    # The plate's pass stops after conv3_3; the losses are those of the whole pass.
    torch.manual_seed(0)
    loss = {"trunk": "hed_vgg16", "content": {"of": "plate"}, "style": {"weight": 2.0}}
    obj = Objective(loss, provides=("plate", "style"), look="style", condition=None)
    assert obj.reads == {("plate", "hed_vgg16"): {"relu3_3"}}
    obj.set_look([torch.rand(3, 48, 48)])
    trunk = obj.trunks["hed_vgg16"]
    assert set(trunk.layers) == {"relu1_2", "relu2_2", "relu3_3", "relu4_3"}
    seen = []
    trunk.register_forward_hook(lambda m, args, out: seen.append(set(out)))
    batch = {"plate": torch.rand(2, 3, 32, 32), "style": torch.rand(2, 3, 32, 32)}
    gen = torch.nn.Conv2d(3, 3, 1)
    step = obj.step(batch, lambda x: torch.sigmoid(gen(x)))
    total, _ = obj.generator_loss(step)
    assert {"relu3_3"} in seen and set(trunk.layers) in seen  # the plate, then the output
    whole = lambda img, name, key="fake": {k: v.float() for k, v in trunk(img).items()}  # noqa: E731
    from stylereel.losses.terms import Step

    reference, _ = obj.generator_loss(Step(batch, lambda x: torch.sigmoid(gen(x)), whole))
    assert torch.allclose(total, reference, rtol=1e-5)
    with pytest.raises(ValueError, match="not among its layers"):
        trunk(batch["plate"], ["relu5_1"])

def test_a_new_term_is_one_registered_class():
    # The worked example of docs/architecture.md: a term registered here is usable by name from a config.
    @TERMS.register("mean_brightness_test")
    class MeanBrightness(Term):
        needs = ("plate",)

        def __init__(self, weight: float = 1.0, level: float = 0.5):
            super().__init__(weight)
            self.level = level

        def forward(self, s: Step) -> torch.Tensor:
            return (s.fake.mean() - self.level).abs()

    try:
        obj = Objective({"mean_brightness_test": {"level": 0.2}}, provides=("plate",), look="plate", condition=None)
        s = obj.step({"plate": torch.full((1, 3, 4, 4), 0.8)}, generate=lambda x: x)
        total, parts = obj.generator_loss(s)
        assert float(total) == pytest.approx(0.6) and parts["mean_brightness_test"] == pytest.approx(0.6)
    finally:
        TERMS._items.pop("mean_brightness_test")


def test_structure_term_prefers_the_target_strokes_to_their_blur():
    """Beside L1, the ssim term tells a painted target's strokes from the same picture blurred."""
    torch.manual_seed(0)
    target = torch.rand(1, 3, 32, 32)
    blurred = torch.nn.functional.avg_pool2d(target, 5, 1, 2, count_include_pad=False)
    term = TERMS.get("ssim")()
    near = term(_step({"plate": target, "target": target}, None, generate=lambda x: x))
    blur = term(_step({"plate": target, "target": target}, None, generate=lambda x: blurred))
    assert float(near) < 1e-5 < 0.5 < float(blur)
    with pytest.raises(StylereelError, match="odd number"):
        TERMS.get("ssim")(window=4)


def test_texture_term_takes_strokes_where_they_are_not_pixel_for_pixel():
    """Against a painting of grain: the same grain moved by two pixels is nearly as good as the
    painting itself, a flat picture of its mean colour is far; a pixel loss ranks them the other way."""
    torch.manual_seed(0)
    painted = (0.5 + 0.3 * torch.randn(1, 3, 32, 32)).clamp(0, 1)
    ident = lambda img, trunk="vgg19", key="fake": {"rgb": img}  # noqa: E731
    term = TERMS.get("texture")(layers={"rgb": 1.0}, cell=8)
    score = {}
    for name, out in (("same", painted), ("moved", painted.roll(2, -1)), ("flat", painted.mean((2, 3), keepdim=True).expand_as(painted))):
        s = _step({"plate": painted, "teacher": painted}, ident, generate=lambda x, out=out: out)
        score[name] = (float(term(s)), float(pixel_l1_loss(out, painted)))
    assert score["same"][0] < 1e-6
    assert score["moved"][0] < 0.2 * score["flat"][0]
    assert score["moved"][1] > score["flat"][1]  # L1 prefers the blur
    with pytest.raises(StylereelError, match="loss.texture.cell"):
        resolve_terms({"texture": {"cell": 0}})
