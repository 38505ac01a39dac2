"""The behaviour form (7 / b): every behaviour key has a field, respond's
fixed JSON response and the receive_count / attempt bounds included, and a
value the engine would refuse keeps the form open with the engine's words."""

from __future__ import annotations

import os

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

import pytest  # noqa: E402

pytest.importorskip("textual")

from esmlab import readmodels as rm  # noqa: E402
from esmlab.tui.app import EsmlabApp  # noqa: E402
from esmlab.tui.screens import behaviour as form  # noqa: E402
from esmlab.tui.screens.forms import AskScreen  # noqa: E402

FN = "clicks-handler"


async def _fill(pilot, app, **values):
    await pilot.press("7")
    await pilot.pause()
    dialog = app.screen
    assert isinstance(dialog, AskScreen)
    for name, value in values.items():
        dialog.query_one(f"#f-{name}").value = value
    await pilot.click("#ok")
    await pilot.pause()
    return dialog


async def test_the_form_sets_respond_with_its_fixed_json_response(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await _fill(pilot, app, mode="respond",
                    response='{"BatchItemFailures": [{"itemIdentifier": "x"}]}')
        assert not isinstance(app.screen, AskScreen)
        assert rm.function_card(app.lab, FN)["behaviour"] == {
            "mode": "respond", "response": {"BatchItemFailures": [{"itemIdentifier": "x"}]}}


async def test_a_response_that_is_not_json_keeps_the_form_open_with_the_reason(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        dialog = await _fill(pilot, app, mode="respond", response="{batchItemFailures: []}")
        assert app.screen is dialog
        error = str(dialog.query_one("#form-error").render())
        assert "response: not JSON" in error
        assert dialog.query_one("#f-response").value == "{batchItemFailures: []}"
        assert rm.function_card(app.lab, FN)["behaviour"]["mode"] == "succeed"


async def test_respond_without_a_response_is_refused_in_the_engines_words(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        dialog = await _fill(pilot, app, mode="respond")
        assert app.screen is dialog
        assert "InvalidParameterValueException: respond needs a response" in \
            str(dialog.query_one("#form-error").render())


async def test_the_form_sets_a_match_bound_on_receive_count_and_attempt(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await _fill(pilot, app, mode="poison", receive_count="<=2")
        assert rm.function_card(app.lab, FN)["behaviour"] == {
            "mode": "poison", "match": {"receive_count": {"at_most": 2}}}
        assert "receive count at most 2" in rm.function_card(app.lab, FN)["describe"]
        await _fill(pilot, app, mode="timeout", receive_count="", attempt="1")
        assert rm.function_card(app.lab, FN)["behaviour"] == {
            "mode": "timeout", "match": {"attempt": {"at_least": 1, "at_most": 1}}}
        # the form opens again on what is set, written the short way
        await pilot.press("7")
        await pilot.pause()
        assert app.screen.query_one("#f-attempt").value == "1"


async def test_a_bound_below_one_is_refused_with_the_engines_message(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        dialog = await _fill(pilot, app, mode="poison", receive_count="0-2")
        assert app.screen is dialog
        assert "match receive_count must be {at_least: N, at_most: N}" in \
            str(dialog.query_one("#form-error").render())


async def test_options_the_mode_does_not_take_are_not_sent(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.lab.set_behaviour(FN, mode="poison", match={"text": "poison"}, error="boom")
        await _fill(pilot, app, mode="fail")          # the text field still says poison
        assert rm.function_card(app.lab, FN)["behaviour"] == {"mode": "fail", "error": "boom"}


def test_bounds_are_written_and_read_the_short_way():
    for bound, text in (({"at_least": 2, "at_most": 2}, "2"), ({"at_least": 1, "at_most": 3},
                                                                "1-3"),
                        ({"at_least": 2}, ">=2"), ({"at_most": 2}, "<=2")):
        assert form.bound_text(bound) == text
        assert form.parse_bound("attempt", text) == bound
    assert form.parse_bound("attempt", " ") is None
    with pytest.raises(ValueError, match="match attempt must be"):
        form.parse_bound("attempt", "two")
