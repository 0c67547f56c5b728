"""Render options: checked whole when made, plain values that go to a file and back."""

import json
from fractions import Fraction

import pytest

from stylereel.errors import StylereelError
from stylereel.render.controls import Controls
from stylereel.render.options import RenderError, RenderOptions


def test_options_go_to_plain_values_and_back():
    o = RenderOptions(overwrite=True, depth=16, fps="24000/1001", temporal=0.5, both_ways=True, look="ink=0.7,fauve=0.3",
                      strength=0.6, regions=["alpha=none"], controls=Controls(texture_scale=2.0, preserve_color="palette"))
    assert o.fps == Fraction(24000, 1001) and o.depth == "16" and o.sample == "uint16" and o.regions == ("alpha=none",)
    d = json.loads(json.dumps(o.to_dict()))
    assert d["fps"] == "24000/1001" and d["controls"]["texture_scale"] == 2.0
    assert RenderOptions.from_dict(d) == o
    assert RenderOptions(regions="alpha=none").regions == ("alpha=none",)  # one spec, not its letters


@pytest.mark.parametrize("kwargs, needle", [
    ({"fps": "0"}, "--fps"), ({"fps": "fast"}, "--fps"), ({"fps": "24/0"}, "--fps"),
    ({"depth": "24"}, "--depth"), ({"temporal": 0.99}, "--temporal-strength"),
    ({"both_ways": True}, "needs --temporal"), ({"strength": 1.5}, "--strength"),
    ({"controls": {"texture_scale": 0.0}}, "--texture-scale"), ({"controls": {"preserve_color": "hue"}}, "--preserve-color"),
])
def test_a_bad_option_is_refused_with_its_name(kwargs, needle):
    with pytest.raises(StylereelError, match=needle):
        RenderOptions(**kwargs)


def test_unknown_options_in_a_file_are_named():
    with pytest.raises(RenderError, match="'temporl'"):
        RenderOptions.from_dict({"temporl": 0.5})
