"""The one table of key bindings.

Each row has an id (stable, used by the user keymap), the keys, the app
action it runs, a short footer label and a one-line description. The same
table feeds the footer, the command palette and the F1 help.

Global actions use F-keys and ctrl-keys (marked priority), which a focused
text input never swallows. Single letters are extra aliases that work when
no input has focus (the lab screen has none; inputs live in modal forms).

Users remap keys with a JSON file mapping binding ids to keys, e.g.
``{"step": "f5,j", "push": "f2"}``, read from ``$ESMLAB_KEYMAP`` or else
``~/.config/esmlab/keymap.json``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from textual.binding import Binding


@dataclass(frozen=True)
class Key:
    id: str
    keys: str
    action: str
    label: str
    description: str
    show: bool = True
    priority: bool = False
    group: str = "lab"


TABLE: tuple[Key, ...] = (
    Key("help", "f1", "help", "Help", "Show every key and what it does", priority=True),
    Key("push", "f2,p", "push", "Push", "Push records to a stream or messages to a queue",
        priority=True),
    Key("step", "f5,n", "step", "Step", "Run the next instant on the agenda (next event)",
        priority=True),
    Key("advance", "f6,a", "advance", "Advance", "Advance the virtual clock by an amount",
        priority=True),
    Key("autoplay", "f7,r", "autoplay", "Run/Pause", "Start or pause autoplay",
        priority=True),
    Key("speed", "f8,s", "speed", "Speed", "Cycle the autoplay speed (virtual s per real s)",
        priority=True),
    Key("idle", "f9,i", "run_until_idle", "Until idle",
        "Run until nothing is pending (in the background)", priority=True),
    Key("scenario", "f4", "play_scenario", "Scenario",
        "Open a scenario file: play it to the end, or step through it with narration",
        priority=True),
    Key("scenario_next", "f3,g", "scenario_next", "Next step",
        "Scenario: play its next step and show the narration (step-by-step mode)",
        priority=True),
    Key("new", "f10,c", "new_resource", "New…",
        "Create a queue (with a DLQ), a Kinesis stream, a function or an event source "
        "mapping in a form", priority=True),
    Key("edit", "f11,e", "edit_resource", "Edit…",
        "Edit the selected mapping (UpdateEventSourceMapping), function (Timeout, reserved "
        "concurrency, duration), queue (attributes, DLQ) or stream (retention)", priority=True),
    Key("delete", "delete,x", "delete_resource", "Delete",
        "Delete the selected mapping (DeleteEventSourceMapping), queue (DeleteQueue), "
        "stream (DeleteStream) or function (DeleteFunction), after a confirmation",
        priority=True, show=False),
    Key("save", "ctrl+s", "save_snapshot", "Save", "Save a snapshot", priority=True),
    Key("open", "ctrl+o", "open_snapshot", "Open", "Open (restore) a snapshot", priority=True),
    Key("rewind", "ctrl+r", "rewind", "Rewind", "Rewind the lab to an earlier virtual time",
        priority=True, show=False),
    Key("export", "ctrl+e", "export_event", "Export",
        "Export an invocation's event as a JSON file", priority=True, show=False),
    Key("fail", "1", "behaviour('fail')", "Fail", "Function: fail every invocation",
        show=False, group="function"),
    Key("poison", "2", "behaviour('poison')", "Poison",
        "Function: fail batches holding a poison record (text 'poison')", show=False,
        group="function"),
    Key("flaky", "3", "behaviour('flaky')", "Flaky", "Function: fail half the invocations",
        show=False, group="function"),
    Key("timeout", "4", "behaviour('timeout')", "Timeout",
        "Function: run past the timeout", show=False, group="function"),
    Key("partial", "5", "behaviour('partial')", "Partial",
        "Function: report records with 'bad' in batchItemFailures", show=False,
        group="function"),
    Key("throttle", "6", "throttle", "Throttle",
        "Function: toggle ReservedConcurrentExecutions=0 (every invoke throttled)",
        show=False, group="function"),
    Key("succeed", "0", "behaviour('succeed')", "Heal", "Function: succeed again",
        show=False, group="function"),
    Key("behaviour_form", "7,b", "behaviour_form", "Behaviour…",
        "Function: set any behaviour with its options (mode, match, probability, count)",
        show=False, group="function"),
    Key("prev_tab", "left_square_bracket", "tab(-1)", "Prev tab", "Previous tab", show=False,
        group="view"),
    Key("next_tab", "right_square_bracket", "tab(1)", "Next tab", "Next tab", show=False,
        group="view"),
    Key("prev_page", "comma", "page(-1)", "Prev page", "Previous page of messages", show=False,
        group="view"),
    Key("next_page", "full_stop", "page(1)", "Next page", "Next page of messages", show=False,
        group="view"),
    Key("log_filter", "l", "toggle_log_filter", "Log filter",
        "Why-log: all resources / only the selected one", show=False, group="view"),
    Key("why_full", "f", "toggle_why_full", "Full text",
        "Why-log: whole sentences and whole sequence numbers / one short line each",
        show=False, group="view"),
    Key("why", "w", "xray", "X-ray",
        "X-ray the record, message or invocation under the cursor (Ordering, Reprocessing, "
        "DLQ, Why-log; ↑ ↓ ← → move it once the panel has focus): its whole life, each "
        "invocation and decision, the handler's log lines. In the X-ray, w or Enter jumps to "
        "the invocation or record a line names", group="view"),
    Key("why_id", "W", "xray_ask", "X-ray id…",
        "X-ray by id: a message id, a sequence number (or its tail …0001) or an invocation "
        "number", show=False, group="view"),
    Key("xray_back", "backspace", "xray_back", "Back",
        "X-ray: back to the story shown before the last jump", show=False, group="view"),
    Key("challenge", "ctrl+g", "challenge_check", "Check",
        "Challenge: the goal and the hints unlocked; with settings changed here, play the "
        "challenge with them and say whether the goal holds (shown only on a challenge's lab)",
        priority=True),
    Key("hint", "h", "challenge_hint", "Hint",
        "Challenge: unlock the next hint (the challenge panel shows it; shown only on a "
        "challenge's lab)"),
    Key("challenge_panel", "ctrl+t", "challenge_panel", "Goal",
        "Challenge: fold the goal panel to one line, or unfold it (shown only on a "
        "challenge's lab)", priority=True, show=False),
    Key("check_xray", "v", "check_xray", "X-ray check",
        "X-ray the first record a failed check names: a challenge's goal check (in the lab "
        "the check played; ctrl+b comes back) or the latest failed expect of a lesson; a "
        "click on a failed check's ▸ x-ray link does the same", show=False, group="view"),
    Key("home_lab", "ctrl+b", "home_lab", "Back to lab",
        "Leave the lesson's lab and go back to the lab esmlab was started on (lab.db)",
        priority=True),
    Key("quit", "ctrl+q", "quit", "Quit", "Quit esmlab (the lab is saved as you go)",
        priority=True),
)

BY_ID = {k.id: k for k in TABLE}


def keymap_path() -> Path:
    env = os.environ.get("ESMLAB_KEYMAP")
    if env:
        return Path(env)
    return Path.home() / ".config" / "esmlab" / "keymap.json"


def load_keymap(path: Path | None = None) -> dict[str, str]:
    """The user's remapping {binding id: keys}; unknown ids are ignored,
    an unreadable file gives an empty map (the app says so)."""
    path = path or keymap_path()
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object of binding id -> keys")
    return {str(k): str(v) for k, v in data.items() if k in BY_ID}


def textual_bindings() -> list[Binding]:
    return [Binding(k.keys, k.action, k.label, show=k.show, priority=k.priority,
                    tooltip=k.description, id=k.id) for k in TABLE]


def palette_title(k: Key) -> str:
    """What the command palette lists and searches: the label and what the
    command does, so `snap` finds the snapshots and `dlq` the create form."""
    return f"{k.label}: {k.description} ({display_keys(k.keys)})"


def display_keys(keys: str) -> str:
    names = {"left_square_bracket": "[", "right_square_bracket": "]", "comma": ",",
             "full_stop": ".", "delete": "Del"}
    def one(k: str) -> str:
        if k in names:
            return names[k]
        return k.upper() if k[:1] == "f" and k[1:].isdigit() else k
    return " / ".join(one(k) for k in keys.split(","))


def key_for(id: str, keymap: dict[str, str] | None = None) -> str:
    """The first key bound to a binding id, as the user would type it."""
    keys = (keymap or {}).get(id, BY_ID[id].keys)
    return display_keys(keys.split(",")[0])


def first_steps(keymap: dict[str, str] | None = None) -> list[str]:
    """The F1 help's walk-through: break the handler, block a shard, fill a DLQ."""
    def k(id):
        return f"`{key_for(id, keymap)}`"
    return [
        "## First steps", "",
        "1. The tree on the left is the lab. Move with ↑ ↓: the tabs and the function card "
        "follow the highlighted resource. At start the `clicks` mapping (a Kinesis stream "
        "with two shards) is highlighted, and a little traffic is already waiting.",
        f"2. Press {k('fail')}: the selected mapping's function now fails every invocation "
        f"(the card says so; {k('succeed')} heals it).",
        f"3. Press {k('step')} about a dozen times (each press runs the next event) or "
        f"{k('autoplay')} "
        "to let the clock run: the shards show `⛔BLOCKED` in the tree and the Ordering tab "
        "shows `BLOCKED attempt N, retry in …`: a stream mapping retries the failed batch and "
        "that shard does not move on.",
        f"4. Move down to the `orders` mapping (a queue with a DLQ) and press {k('fail')} to "
        f"break `orders-handler`. Press {k('push')} (the form starts on the `orders` queue), "
        f"`Tab` and `Enter` to push one message, then {k('advance')}, type `120` and `Enter` "
        "to advance 120 s. The "
        "message comes back after each 30 s visibility timeout with a higher receive count, "
        "and on the fourth receive SQS moves it to `orders-dlq` (maxReceiveCount 3, so after "
        "3 receives): the tree shows `☠1` on `orders` and the *DLQ & destinations* tab "
        f"({k('next_tab')} changes tab) says why.",
        "5. The *Why-log* tab explains every decision in plain words; the line above the "
        "footer shows the latest one.", "",
        "Badges: `≡` waiting (backlog), `▶` in flight, `⏲` delayed, `☠` in the DLQ, "
        "`⛔` blocked shard, `[fail]` a broken function, `[throttled]` reserved concurrency 0.",
        "",
    ]


def help_markdown(keymap: dict[str, str] | None = None) -> str:
    keymap = keymap or {}
    lines = ["# esmlab", ""] + first_steps(keymap) + [
        "## Keys", "",
        "Global keys (F-keys, ctrl) work even while a text field has focus; in a form, "
        "Tab moves between fields, Enter confirms, Esc cancels.", ""]
    for group, title in (("lab", "Lab"), ("function", "Function card (selected function)"),
                         ("view", "View")):
        lines += [f"### {title}", "", "| key | action |", "| --- | --- |"]
        for k in TABLE:
            if k.group == group:
                lines.append(f"| `{display_keys(keymap.get(k.id, k.keys))}` | {k.description} |")
        lines.append("")
    lines += ["ctrl+p opens the command palette (every action above, and themes).", "",
              f"Remap keys in `{keymap_path()}` (or `$ESMLAB_KEYMAP`): a JSON object of "
              "binding id -> keys, e.g. `{\"step\": \"f5,j\"}`.", "",
              "Ids: " + ", ".join(f"`{k.id}`" for k in TABLE)]
    return "\n".join(lines)


def load_keymap_safe() -> dict[str, str]:
    try:
        return load_keymap()
    except (ValueError, OSError):
        return {}
