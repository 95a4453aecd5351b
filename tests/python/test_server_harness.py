# SPDX-License-Identifier: MPL-2.0
"""The real-server suites' step runner (tests/servers/harness.py): step selection with `--steps`,
steps skipped when a step they need did not pass, a failed gate ending the suite."""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "servers"))

from harness import StepFailed, Step, Suite, parse_steps, select  # noqa: E402


def passes(world, state):
    return None


def fails(world, state):
    raise StepFailed("no")


def steps(first=passes, one=passes):
    return [
        Step("0. binaries", first, gate=True),
        Step("1. lifecycle", one),
        Step("2a. cross", passes),
        Step("2b. cross back", passes),
        Step("5. rotation", passes, needs="1."),
        Step("6. rotation again", passes, needs="5."),
        Step("3. migration", passes),
    ]


def ids(chosen):
    return [step.id for step in chosen]


def run(chosen_steps, groups=None):
    suite = Suite("t")
    status = suite.run(chosen_steps, lambda cleanup: object(), groups)
    return suite, status


def test_group_is_the_id_without_its_letter():
    assert [s.group for s in steps()] == ["0", "1", "2", "2", "5", "6", "3"]
    assert Step("a. lifecycle", passes).group == "a"


def test_select_keeps_gates_and_what_the_chosen_steps_need():
    assert ids(select(steps(), None)) == ["0.", "1.", "2a.", "2b.", "5.", "6.", "3."]
    assert ids(select(steps(), {"1", "2"})) == ["0.", "1.", "2a.", "2b."]
    assert ids(select(steps(), {"6"})) == ["0.", "1.", "5.", "6."]


def test_parse_steps():
    assert parse_steps(steps(), []) is None
    assert parse_steps(steps(), ["--steps", "1, 2"]) == {"1", "2"}
    for bad in ("9", "2a", ","):
        with pytest.raises(SystemExit):
            parse_steps(steps(), ["--steps", bad])


def test_a_step_whose_need_did_not_pass_is_skipped(capsys):
    suite, status = run(steps(one=fails))
    out = capsys.readouterr().out
    assert status == 1
    assert (suite.passed, suite.failed, suite.skipped) == (4, 1, 2)
    assert "- 5. rotation: skipped (1. did not pass)" in out
    assert "- 6. rotation again: skipped (5. did not pass)" in out
    assert out.rstrip().endswith("t: 4 passed, 1 failed, 2 skipped")


def test_a_failed_gate_ends_the_suite(capsys):
    suite, status = run(steps(first=fails))
    assert status == 1
    assert (suite.passed, suite.failed) == (0, 1)
    assert "1. lifecycle" not in capsys.readouterr().out


def test_only_the_selected_steps_run(capsys):
    suite, status = run(steps(), {"2"})
    out = capsys.readouterr().out
    assert status == 0
    assert suite.passed == 3
    assert "t: steps 0., 2a., 2b. (--steps 2)" in out
    assert "1. lifecycle" not in out
