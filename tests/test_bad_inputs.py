"""Every case of the bad-input corpus (tests/bad_inputs.py) through the real CLI: a clean
one-line error naming the file and the problem with its documented exit code, or a correct
render of an odd but valid input; never a traceback, a changed input or a torn output."""

import pytest

from bad_inputs import corpus, run_case

CASES = {c.name: c for c in corpus()}


@pytest.mark.parametrize("name", CASES)
def test_bad_input_is_handled(name, tmp_path):
    outcome = run_case(CASES[name], tmp_path / "case")
    assert not outcome.problems, f"{name}: {outcome.problems}\n{outcome.stderr}"
