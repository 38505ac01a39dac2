"""The TUI's user journeys, driven with Pilot on a starter lab.

Each test asserts on the lab's state (through the Lab and the read models)
and on what the widgets show.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

import pytest  # noqa: E402

pytest.importorskip("textual")

from esmlab import readmodels as rm  # noqa: E402
from esmlab.tui import bindings  # noqa: E402
from esmlab.tui.app import EsmlabApp  # noqa: E402
from esmlab.tui.screens.forms import AskScreen, HelpScreen  # noqa: E402
from textual.widgets import Label  # noqa: E402

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("ESMLAB_UPDATE_SNAPSHOTS") == "1"


def text_of(app, selector: str) -> str:
    """The plain text a Static shows (its renderable printed without colour)."""
    from rich.console import Console
    content = app.query_one(selector).content
    if isinstance(content, str):
        return content
    console = Console(width=200, record=True, file=open(os.devnull, "w"))
    console.print(content)
    return console.export_text()


def tree_text(app) -> str:
    from esmlab.tui.widgets.tree import ResourceTree
    tree = app.query_one(ResourceTree)
    out = []

    def walk(node):
        out.append(str(node.label))
        for c in node.children:
            walk(c)
    walk(tree.root)
    return "\n".join(out)


async def push(pilot, app, target: str, key: str, body: str, count: int):
    await pilot.press("f2")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, AskScreen)
    screen.query_one("#f-target").value = target
    screen.query_one("#f-key").value = key
    screen.query_one("#f-body").value = body
    screen.query_one("#f-count").value = str(count)
    await pilot.click("#ok")
    await pilot.pause()


async def test_push_step_autoplay_and_why_log(lab_path):
    """Push records (form), typing in the form is text not lab keys, step,
    the Why-log explains, autoplay runs and pauses, export an event."""
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert "T+" in text_of(app, "#clock")
        # global lab keys are off while a form is open
        before = app.lab.now_ms
        await pilot.press("f2")
        await pilot.pause()
        assert app.screen.focused.id == "f-target", "the push form starts on its target"
        await pilot.press("tab", "n", "1")
        assert app.screen.query_one("#f-key").value.endswith("n1")
        assert app.lab.now_ms == before
        assert rm.function_card(app.lab, "clicks-handler")["mode"] == "succeed"
        await pilot.press("escape")
        await pilot.pause()
        # push: records land in the shards and the tree shows the backlog
        waiting = sum(s["backlog"] for s in rm.resources(app.lab)["streams"][0]["shards"])
        await push(pilot, app, "stream:clicks", "user-7", "click {i}", 5)
        shards = rm.resources(app.lab)["streams"][0]["shards"]
        assert sum(s["backlog"] for s in shards) == waiting + 5
        assert "≡" in tree_text(app)
        assert "user-7" in text_of(app, "#ordering-view")
        # step: the clock moves and the Why-log says why
        import json

        def ours():
            """Invocations of clicks-handler whose event carries the pushed records."""
            return [i["id"] for i in app.lab.invocations(function="clicks-handler")
                    if "user-7" in json.dumps(rm.invocation_event(app.lab, i["id"]))]
        t0 = app.lab.now_ms
        for _ in range(30):          # each press runs one agenda instant
            await pilot.press("f5")
            if ours():
                break
        assert app.lab.now_ms > t0
        app.query_one("#tabs").active = "why"
        await pilot.pause()
        assert "invoke.started" in log_text(app)
        # export the event of the invocation that carried the pushed records
        # (for sam local invoke -e); the starter's waiting clicks (alice,
        # bob) are invoked too, on their own shards or ahead of ours
        assert ours(), "stepping delivered the pushed records"
        path = app.export_event(ours()[0])
        event = json.loads(Path(path).read_text())
        keys = [r["kinesis"]["partitionKey"] for r in event["Records"]]
        assert keys.count("user-7") == 5
        import base64
        bodies = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]
                  if r["kinesis"]["partitionKey"] == "user-7"]
        assert bodies == [f"click {i}" for i in range(1, 6)], "one key's records in order"
        # autoplay runs the clock until paused
        t1 = app.lab.now_ms
        await pilot.press("f7")
        assert app.autoplay
        await pilot.pause(0.5)
        await pilot.press("f7")
        assert not app.autoplay
        assert app.lab.now_ms > t1
        assert "paused" in text_of(app, "#clock")


async def test_failing_handler_blocks_the_shard_and_the_tree_shows_it(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("1")          # the selected mapping's function fails every call
        assert rm.function_card(app.lab, "clicks-handler")["mode"] == "fail"
        assert "[fail]" in tree_text(app)
        await push(pilot, app, "stream:clicks", "user-1", "hello {i}", 3)
        for _ in range(10):
            await pilot.press("f5")
        await pilot.pause()
        assert rm.resources(app.lab)["mappings"][0]["blocked"]
        assert "BLOCKED" in tree_text(app)
        assert any("blocked" in n.message for n in app._notifications), "the moment is announced"
        assert "BLOCKED attempt" in text_of(app, "#ordering-view")
        # the Reprocessing tab lists the retried batch with its reasons
        await pilot.press("right_square_bracket")
        await pilot.pause()
        from textual.widgets import Tree
        rt = app.query_one("#reprocessing-tree", Tree)
        labels = [str(n.label) for n in rt.root.children]
        assert labels and "record(s)" in labels[0]
        reasons = [str(c.label) for c in rt.root.children[0].children]
        assert any("batch.failed" in r for r in reasons)
        # healing, then throttling through reserved concurrency 0
        await pilot.press("1")
        assert rm.function_card(app.lab, "clicks-handler")["mode"] == "succeed"
        await pilot.press("6")
        assert rm.function_card(app.lab, "clicks-handler")["reserved"] == 0
        assert "THROTTLED" in text_of(app, "#card")
        await pilot.press("6")
        assert rm.function_card(app.lab, "clicks-handler")["reserved"] is None


async def test_a_new_user_finds_the_way_with_arrows_tab_and_help(lab_path):
    """The tree has focus with the cursor on the selected mapping; arrows
    select (the card follows); Tab moves between a form's fields; F1 starts
    with first steps."""
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        tree = app.query_one("#tree")
        assert app.focused is tree
        assert tree.cursor_node.data == ("mapping", "clicks")
        await pilot.press("down")
        await pilot.pause()
        assert app.selected == ("mapping", "orders")
        assert "orders-handler" in text_of(app, "#card")
        assert "Queue orders" in text_of(app, "#ordering-view")
        assert "shard 0" in tree_text(app)           # not shardId-000000000000
        await pilot.press("f2")
        await pilot.pause()
        assert app.screen.focused.id == "f-target"
        assert app.screen.query_one("#f-target").value == "queue:orders"
        assert app.screen.query_one("#f-key").value == "", "no partition key for a queue"
        await pilot.press("tab", "tab", "tab")
        assert app.screen.focused.id == "f-count"
        await pilot.press("ctrl+u", "3", "enter")
        await pilot.pause()
        assert app.lab.engine.queues.counts("orders")["total"] == 3 + 3
        await pilot.press("f2")                      # the form remembers the last values
        await pilot.pause()
        assert app.screen.query_one("#f-count").value == "3"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        assert "First steps" in app.screen.text and "`F5`" in app.screen.text


async def test_dlq_fills_then_snapshot_save_and_open(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        node = app.query_one("#tree").node_for(("mapping", "orders"))
        app.query_one("#tree").select_node(node)
        await pilot.pause()
        assert app.selected == ("mapping", "orders")
        await pilot.press("1")
        assert rm.function_card(app.lab, "orders-handler")["mode"] == "fail"
        waiting = app.lab.engine.queues.counts("orders")["total"]   # the starter's orders
        await push(pilot, app, "queue:orders", "g", "order {i}", 4)
        assert app.lab.engine.queues.counts("orders")["total"] == waiting + 4
        # save a snapshot before the messages are received
        saved_at = app.lab.now_ms
        await pilot.press("ctrl+s")
        await pilot.pause()
        app.screen.query_one("#f-name").value = "before"
        await pilot.click("#ok")
        await pilot.pause()
        assert [s["name"] for s in app.lab.snapshots()] == ["before"]
        # the DLQ fills after maxReceiveCount receives, and the DLQ tab says why
        app.lab.advance(200)
        app.refresh_view()
        await pilot.pause()
        moved = waiting + 4
        assert app.lab.engine.queues.counts("orders-dlq")["total"] == moved
        assert app.lab.engine.queues.counts("orders")["total"] == 0
        assert f"☠{moved}" in tree_text(app)
        app.query_one("#tabs").active = "dlq"
        await pilot.pause()
        dlq = text_of(app, "#dlq-view")
        assert "orders-dlq" in dlq and "maxReceiveCount" in dlq
        # open the snapshot: the lab is back before the moves (the advance is
        # in no snapshot: the screen asks before dropping it)
        await pilot.press("ctrl+o")
        await pilot.pause()
        await pilot.press("enter")       # the first (only) snapshot
        await pilot.pause()
        await pilot.press("y")           # drop the unsaved advance
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not app.busy
        assert app.lab.now_ms == saved_at
        assert app.lab.engine.queues.counts("orders-dlq")["total"] == 0
        assert "☠" not in tree_text(app)
        # every view is read afresh: the Why-log shows the restored timeline only
        app.query_one("#tabs").active = "why"
        await pilot.pause()
        assert "moved_to_dlq" not in log_text(app)
        app.lab.advance(200)
        app.refresh_view()
        await pilot.pause()
        assert "moved_to_dlq" in log_text(app)
        # rewind takes durations; a bad one keeps the dialog open with the message
        await pilot.press("ctrl+r")
        await pilot.pause()
        form = app.screen
        assert "now T+" in str(form.query(Label).nodes[1].content)
        form.query_one("#f-at").value = "5 parsecs"
        await pilot.click("#ok")
        await pilot.pause()
        assert app.screen is form and form.query_one("#form-error").display
        assert form.query_one("#f-at").value == "5 parsecs"
        form.query_one("#f-at").value = "1m"
        form.query_one("#f-at").focus()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.lab.now_ms == rm.header(app.lab)["start_ms"] + 60_000
        assert "moved_to_dlq" not in log_text(app)
        # partial on a mapping without ReportBatchItemFailures says why it does nothing
        await pilot.press("5")
        await pilot.pause()
        said = " ".join(n.message for n in app._notifications)
        assert "orders ignores batchItemFailures" in said and "ReportBatchItemFailures" in said


def log_text(app) -> str:
    from esmlab.tui.widgets.whylog import WhyLog
    return "\n".join(app.query_one(WhyLog).lines())


async def test_fifo_push_deduplicates_only_as_aws_does(lab_path):
    """Two pushes at the same virtual time are two sets of messages unless the
    queue has ContentBasedDeduplication and the bodies are the same."""
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.lab.create_queue("plain.fifo", {"FifoQueue": "true"})
        app.refresh_view()
        for _ in range(2):
            app.push_values({"target": "queue:plain.fifo", "key": "g", "body": "same",
                             "count": "2"})
        assert app.lab.engine.queues.counts("plain.fifo")["total"] == 4
        before = app.lab.engine.queues.counts("payments.fifo")["total"]
        await pilot.press("f2")
        await pilot.pause()
        assert "ContentBasedDeduplication" in str(app.screen.query_one("#ask-note").content)
        await pilot.press("escape")
        for _ in range(2):
            app.push_values({"target": "queue:payments.fifo", "key": "g", "body": "pay {i}",
                             "count": "2"})
        await pilot.pause()
        assert app.lab.engine.queues.counts("payments.fifo")["total"] == before + 2
        said = [n.message for n in app._notifications]
        assert any("0 enqueued, 2 deduplicated" in m for m in said)


async def test_help_palette_and_user_keymap(lab_path, tmp_path, monkeypatch):
    keymap = tmp_path / "keymap.json"
    keymap.write_text('{"step": "j"}')
    monkeypatch.setenv("ESMLAB_KEYMAP", str(keymap))
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        for k in bindings.TABLE:
            assert k.description in app.screen.text
        assert "`j`" in app.screen.text          # the help shows the remapped key
        await pilot.press("escape")
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert any(t.startswith("Step") for t in titles)
        assert any("theme" in t.lower() for t in titles)
        # the starter's traffic is waiting, so a step always runs something:
        # the journal grows by the step's events
        def last_event_id():
            return app.lab.journal(newest_first=True, limit=1)[0]["id"]
        before = last_event_id()
        await pilot.press("j")
        await pilot.pause()
        assert last_event_id() > before, "the remapped key stepped the clock"
        before = last_event_id()
        await pilot.press("f5")       # the default key was replaced, not added to
        await pilot.pause()
        assert last_event_id() == before


async def test_play_a_scenario_switches_to_its_lab_and_shows_narration(lab_path, tmp_path):
    pytest.importorskip("esmlab.scenario.player")
    fixture = Path(__file__).parent.parent / "scenarios" / "basics-poll-and-invoke.yaml"
    if not fixture.exists():
        pytest.skip("no lesson scenario")
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.play_scenario(str(fixture))
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not app.busy
        assert app.lab_path != str(lab_path)
        assert app.narration, "each played step is narrated"
        # played to the end: a results view lists every expect with ✓/✗ and its message
        from esmlab.tui.screens.forms import TextScreen
        assert isinstance(app.screen, TextScreen)
        body = str(app.screen.query_one("#results-body").content)
        checks = [c for r in app.scenario_results for c in r.checks]
        assert checks and all(c.message in body for c in checks), (app.narration, body)
        assert "✓" in body or "✗" in body


async def test_step_through_a_scenario_with_narration(lab_path):
    pytest.importorskip("esmlab.scenario.player")
    fixture = Path(__file__).parent.parent / "scenarios" / "basics-poll-and-invoke.yaml"
    if not fixture.exists():
        pytest.skip("no lesson scenario")
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f3")                  # nothing open yet: refused, lab unchanged
        await pilot.pause()
        assert app.lab_path == str(lab_path)
        # F4 lists the lesson library; a bad name keeps the dialog open with its text
        from esmlab.tui.screens.forms import ScenarioScreen
        await pilot.press("f4")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ScenarioScreen)
        assert dialog.query_one("#lessons").option_count >= 1
        typed = dialog.query_one("#f-path")
        typed.value = "no-such-lesson"
        typed.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog and typed.value == "no-such-lesson"
        assert dialog.query_one("#form-error").display
        typed.value = "basics-poll-and-invoke"          # a bare lesson name
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.player is not None and app.player.lab is app.lab
        assert app.player.results == [] and "setup" in app.narration[0]
        assert "scenario step 0/" in text_of(app, "#clock")
        for n in (1, 2):
            await pilot.press("f3")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert len(app.player.results) == n
            assert app.narration[-1].startswith(f"[{n}/")
        assert "scenario step 2/" in text_of(app, "#clock")
        said = [r.narration for r in app.player.results if r.narration]
        if said:                                      # each say is shown in full
            assert said[-1] in " ".join(text_of(app, "#narration").split()) or \
                " ".join(said[-1].split()) in " ".join(text_of(app, "#narration").split())
        assert app.narration[-1][:40] in text_of(app, "#ticker")
        assert not app.player.stopped


async def test_behaviour_form_sets_a_mode_with_its_options(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("7")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, AskScreen)
        form.query_one("#f-mode").value = "poison"
        form.query_one("#f-partition_key").value = "bob"
        await pilot.click("#ok")
        await pilot.pause()
        card = rm.function_card(app.lab, "clicks-handler")
        assert card["behaviour"] == {"mode": "poison", "match": {"partition_key": "bob"}}
        assert "partition key 'bob'" in text_of(app, "#card")
        # an invalid combination is refused with the engine's words; nothing changes
        await pilot.press("7")
        await pilot.pause()
        app.screen.query_one("#f-mode").value = "flaky"
        app.screen.query_one("#f-probability").value = "2"
        await pilot.click("#ok")
        await pilot.pause()
        assert rm.function_card(app.lab, "clicks-handler")["mode"] == "poison"
        # the form stays open with the reason
        assert "probability" in str(app.screen.query_one("#form-error").render())


async def open_new_form(pilot, app, kind: str):
    from esmlab.tui.screens.resources import ResourceForm
    await pilot.press("f10")
    await pilot.pause()
    app.screen.dismiss(kind)          # the PickScreen's choice
    await pilot.pause()
    assert isinstance(app.screen, ResourceForm)
    return app.screen


async def ok(pilot, app):
    """Click the form's OK (a button ignores clicks for 0.2 s after a press)."""
    button = app.screen.query_one("#ok")
    while button.has_class("-active"):
        await pilot.pause(0.05)
    await pilot.click("#ok")
    await pilot.pause()


def fill(form, **values):
    for name, value in values.items():
        w = form.query_one(f"#f-{name}")
        if hasattr(w, "text") and not hasattr(w, "value"):
            w.text = value
        else:
            w.value = value


async def test_create_a_queue_with_a_dlq_in_the_form(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        form = await open_new_form(pilot, app, "queue")
        fill(form, QueueName="jobs", VisibilityTimeout="45", dlq="jobs-dlq",
             maxReceiveCount="2")
        await ok(pilot, app)
        assert not isinstance(app.screen, type(form))
        info = app.lab.engine.queues.info("jobs")
        assert (info.dlq_name, info.max_receive_count, info.visibility_timeout) == \
            ("jobs-dlq", 2, 45)
        assert info.attributes["DelaySeconds"] == "0"          # empty: AWS's default
        assert "jobs" in tree_text(app) and "jobs-dlq" in tree_text(app)
        assert app.selected == ("queue", "jobs")
        # edit the queue: one attribute changes, the DLQ stays
        await pilot.press("f11")
        await pilot.pause()
        fill(app.screen, DelaySeconds="5")
        await ok(pilot, app)
        info = app.lab.engine.queues.info("jobs")
        assert (info.delay_seconds, info.dlq_name) == (5, "jobs-dlq")


async def test_mapping_form_shows_aws_refusal_then_creates_and_edits(lab_path):
    """An invalid value: AWS's message in the form, nothing created; fixed:
    the mapping appears; then BatchSize edited through UpdateEventSourceMapping."""
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.lab.create_stream("views", ShardCount=1)
        app.refresh_view()
        form = await open_new_form(pilot, app, "mapping")
        before = [m["label"] for m in rm.resources(app.lab)["mappings"]]
        fill(form, label="views-map", FunctionName="clicks-handler",
             EventSourceArn="arn:aws:kinesis:us-east-1:123456789012:stream/views",
             StartingPosition="TRIM_HORIZON", BatchSize="25", MaximumRecordAgeInSeconds="30")
        await ok(pilot, app)
        assert app.screen is form                         # still open, nothing lost
        assert "InvalidParameterValueException" in form.error
        assert "MaximumRecordAgeInSeconds" in form.error
        assert "InvalidParameterValueException" in str(form.query_one("#form-error").content)
        assert [m["label"] for m in rm.resources(app.lab)["mappings"]] == before
        assert form.query_one("#f-BatchSize").value == "25"
        fill(form, MaximumRecordAgeInSeconds="60")
        await ok(pilot, app)
        assert app.screen is not form, form.error
        config = app.lab.mapping("views-map")["config"]
        assert (config["BatchSize"], config["MaximumRecordAgeInSeconds"],
                config["MaximumRetryAttempts"]) == (25, 60, -1)      # -1: AWS's default
        assert "views-map" in tree_text(app)
        assert app.selected == ("mapping", "views-map")
        # edit the starter's clicks mapping: only BatchSize is sent (first let
        # the tree's cursor settle on the new mapping, then move it)
        await pilot.pause()
        await pilot.pause()
        node = app.query_one("#tree").node_for(("mapping", "clicks"))
        for _ in range(20):
            app.query_one("#tree").select_node(node)
            await pilot.pause()
            if app.selected == ("mapping", "clicks"):
                break
        assert app.selected == ("mapping", "clicks")
        await pilot.press("f11")
        await pilot.pause()
        edit = app.screen
        from textual.widgets import Input, Label
        assert not isinstance(edit.query_one("#f-EventSourceArn"), Input)     # read-only
        assert not isinstance(edit.query_one("#f-StartingPosition"), Input)
        assert "StartingPosition (create only)" in [str(w.content) for w in edit.query(Label)]
        assert edit.query_one("#f-BatchSize").value == "10"                   # prefilled
        fill(edit, BatchSize="7")
        await ok(pilot, app)
        assert app.lab.mapping("clicks")["config"]["BatchSize"] == 7
        updated = [e for e in app.lab.journal(resource="clicks") if e["kind"] == "mapping.updated"]
        assert "BatchSize 10 -> 7" in updated[-1]["reason"]
        assert "MaximumRetryAttempts" not in updated[-1]["reason"]


async def test_paste_mapping_json_and_delete_with_confirm(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.lab.step()                 # the starter's mappings are Enabled
        import json
        pasted = {"UUID": "1111", "BatchSize": 3, "MaximumBatchingWindowInSeconds": 0,
                  "EventSourceArn": "arn:aws:sqs:eu-west-1:999999999999:orders",
                  "FunctionArn": "arn:aws:lambda:eu-west-1:999999999999:function:orders-handler",
                  "State": "Enabled", "FunctionResponseTypes": ["ReportBatchItemFailures"]}
        # orders already has orders-handler: AWS refuses a duplicate
        form = await open_new_form(pilot, app, "mapping")
        fill(form, json=json.dumps(pasted))
        await ok(pilot, app)
        assert app.screen is form and "ResourceConflictException" in form.error
        await pilot.press("escape")
        await pilot.pause()
        app.lab.create_function("other")
        form = await open_new_form(pilot, app, "mapping")
        pasted["FunctionArn"] = pasted["FunctionArn"].replace("orders-handler", "other")
        fill(form, label="pasted", json=json.dumps(pasted))
        await ok(pilot, app)
        config = app.lab.mapping("pasted")["config"]
        assert config["FunctionName"] == "other" and config["BatchSize"] == 3
        assert config["EventSourceArn"].endswith(":orders")
        # delete it after a confirmation
        app.lab.step()
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app.lab.mapping("pasted")["state"] == "Deleting"


async def test_edit_a_function_timeout_and_create_one(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        node = app.query_one("#tree").node_for(("function", "orders-handler"))
        app.query_one("#tree").select_node(node)
        await pilot.pause()
        await pilot.press("f11")
        await pilot.pause()
        fill(app.screen, Timeout="901")
        await ok(pilot, app)
        assert "900" in app.screen.error                 # AWS's range message, form open
        fill(app.screen, Timeout="20", per_record_ms="50")
        await ok(pilot, app)
        c = app.lab.engine.functions.config("orders-handler")
        assert (c["Timeout"], c["duration"]["per_record_ms"]) == (20, 50), getattr(app.screen, "error", None)
        assert c["ReservedConcurrentExecutions"] is None          # unchanged: not sent
        form = await open_new_form(pilot, app, "function")
        fill(form, FunctionName="slow", Timeout="10", fixed_ms="5000")
        await ok(pilot, app)
        c = app.lab.engine.functions.config("slow")
        assert (c["Timeout"], c["duration"]["fixed_ms"]) == (10, 5000)
        assert "slow" in tree_text(app)


def test_the_engine_does_not_import_textual():
    code = "import sys, esmlab.lab, esmlab.readmodels; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def _normalise(svg: str) -> str:
    """The layout, not the words: Textual's per-terminal class hash, the text
    of each run and its length are dropped, so a changed journal sentence or
    timer count in the engine does not fail the layout check (the test
    asserts the key words separately)."""
    svg = re.sub(r"terminal-\d+", "terminal", svg)
    svg = re.sub(r'textLength="[^"]*"', "", svg)
    svg = re.sub(r'<text ([^>]*)>[^<]*</text>', r"<text \1></text>", svg)
    svg = re.sub(r'x="[^"]*" y="([^"]*)" *clip-path', r'y="\1" clip-path', svg)
    return re.sub(r'(<rect fill="[^"]*") x="[^"]*" (y="[^"]*") width="[^"]*"', r"\1 \2", svg)


PANEL_WORDS = {"ordering": "checkpoint", "reprocessing": "batches and attempts",
               "scaling": "scaling profile", "metrics": "EventCount",
               "dlq": "orders-dlq", "why": "newest first", "xray": "x-ray"}


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_every_panel_matches_its_stored_layout(lab_path, size):
    """One SVG per panel at 80x24 and 160x48, on a lab whose clicks handler
    fails (so the panels have something to show)."""
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("1")
        for _ in range(6):
            await pilot.press("f5")
        app.clear_notifications()
        for tab, words in PANEL_WORDS.items():
            app.query_one("#tabs").active = tab
            await pilot.pause()
            await pilot.pause()
            raw = app.export_screenshot(title="esmlab")
            import html
            assert words in html.unescape(raw).replace("\xa0", " "), \
                f"{tab}: {words!r} not on screen"
            svg = _normalise(raw)
            stored = SNAPSHOTS / f"{tab}_{size[0]}x{size[1]}.svg"
            if UPDATE or not stored.exists():
                SNAPSHOTS.mkdir(exist_ok=True)
                stored.write_text(svg)
            assert svg == stored.read_text(), (
                f"{tab} layout changed; look at it and regenerate with "
                f"ESMLAB_UPDATE_SNAPSHOTS=1 ({stored})")


async def test_f4_lists_lessons_in_reading_order_with_the_learners_progress(
        lab_path, tmp_path, monkeypatch):
    from esmlab import lessons, progress
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))   # this learner only
    from esmlab.tui.screens.forms import ScenarioScreen
    progress.record_play("kinesis-error-blocks-shard", True, {"asked": 2, "answered": 2,
                                                              "right": 1})
    progress.record_play("sqs-batch-size", False, {})
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f4")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ScenarioScreen)
        order = [p.stem for section, paths in lessons.learning_path() if section != "challenges"
                 for p in paths]
        assert [p.stem for p in dialog.lessons] == order
        listed = dialog.query_one("#lessons")
        prompts = {str(listed.get_option_at_index(i).prompt).split(" — ")[0]
                   for i in range(listed.option_count)}
        assert "kinesis-error-blocks-shard ✓ 1/2 predicted" in prompts
        assert "sqs-batch-size (1× played)" in prompts
        # Tab to the empty "other file" field, then Enter: the highlighted lesson plays
        dialog.query_one("#f-path").focus()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.player is not None and app.player.scenario.name == order[0]


async def test_the_behaviour_form_keeps_what_it_has_no_field_for(lab_path):
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.lab.set_behaviour("clicks-handler", mode="respond", response={"batchItemFailures": []},
                              match={"text": "a", "attempt": {"at_most": 1}})
        await pilot.press("7")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, AskScreen)
        form.query_one("#f-text").value = "b"            # change what the form shows
        await pilot.click("#ok")
        await pilot.pause()
        assert rm.function_card(app.lab, "clicks-handler")["behaviour"] == {
            "mode": "respond", "response": {"batchItemFailures": []},
            "match": {"text": "b", "attempt": {"at_most": 1}}}


def screen_lines(app) -> list[str]:
    """The screen as the terminal shows it, one string per row."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def test_at_80x24_the_tree_cuts_names_never_a_blocked_badge(lab_path):
    """At 80x24 the tree's column is 26 wide and the starter tree taller than
    its room: a mapping's ⛔ comes before its function's name (which the card
    shows), a shard's badges are not hidden under a scrollbar, and no
    horizontal scrollbar takes the row of the DLQ."""
    from esmlab.tui.widgets.tree import ResourceTree
    from esmlab.lab import Lab
    lab = Lab.open(lab_path)
    lab.set_behaviour("clicks-handler", mode="fail")
    for _ in range(40):
        shards = rm.resources(lab)["streams"][0]["shards"]
        if all(sh["blocked"] for sh in shards):
            break
        lab.step()
    assert all(sh["blocked"] for sh in shards)
    lab.close()
    app = EsmlabApp(str(lab_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.clear_notifications()
        await pilot.pause()
        tree = app.query_one(ResourceTree)
        left = [line[:tree.region.right] for line in screen_lines(app)]
        shown = "\n".join(left)
        assert tree.region.width <= 26
        assert "├ clicks ⛔2" in shown, shown
        assert "shard 0 ⛔BLOCKED ≡1" in shown and "shard 1 ⛔BLOCKED ≡1" in shown, shown
        assert not tree.show_horizontal_scrollbar
        assert "├ orders-dlq (DLQ)" in shown, shown
