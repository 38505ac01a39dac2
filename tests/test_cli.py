"""The command line: any argument list gets a sentence and a non-zero exit,
never a traceback; --lab works before or after every subcommand; snapshots
are not overwritten or dropped without a word."""

import subprocess
import sys

import pytest

from esmlab.cli import main
from esmlab.lab import Lab


def run(argv, capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:   # argparse's own errors exit
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A folder with a lab ./lab.db (one invocation) and other files."""
    monkeypatch.chdir(tmp_path)
    lab = Lab.create(tmp_path / "lab.db")
    lab.create_function("f")
    lab.create_queue("q")
    lab.do("create_mapping", params={"FunctionName": "f",
                                     "EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:q"},
           label="m")
    lab.send_message("q", "hello")
    lab.run_until_idle()
    lab.close()
    (tmp_path / "empty.db").touch()
    (tmp_path / "noise.db").write_bytes(b"\x00\x01not sqlite" * 100)
    (tmp_path / "adir").mkdir()
    (tmp_path / "bad.yaml").write_text("name: [unclosed\n")
    return tmp_path


BAD_ARGUMENTS = [
    ["export", "event"], ["export", "event", "abc"], ["export", "event", "-1"],
    ["export", "event", "1.5"], ["export", "event", "99999"], ["export"], ["export", "everything"],
    ["export", "scenario", "7"], ["frobnicate"], ["--frobnicate"], ["snapshot"],
    ["snapshot", "save"], ["snapshot", "restore", "nope"], ["snapshot", "delete", "nope"],
    ["snapshot", "rename", "a"], ["snapshot", "save", "a", "b"], ["info", "missing.db"],
    ["--lab", "missing.db", "info"], ["info", "--lab", "a.db", "b.db"], ["info", "noise.db"],
    ["info", "adir"], ["info", "nowhere/lab.db"], ["--lab", "empty.db", "export", "scenario"],
    ["--lab", "noise.db"], ["--lab", "adir"], ["--lab", "nowhere/lab.db"], ["--lab"],
    ["info", "--lab"], ["play"], ["play", "missing.yaml"], ["play", "bad.yaml"],
    ["play", "--report", "xml", "bad.yaml"], ["play", "no-such-lesson"],
    ["--lab", "lab.db", "play", "sqs-batch-size"], ["copy"], ["copy", "lab.db"],
    ["copy", "nowhere/copy.db"], ["--lab", "noise.db", "copy", "x.db"], ["lessons", "extra"],
    ["--lab", "missing.db", "snapshot", "list"], ["--lab", "adir", "export", "event", "1"],
]


@pytest.mark.parametrize("argv", BAD_ARGUMENTS, ids=" ".join)
def test_bad_arguments_get_a_sentence_and_a_nonzero_exit_never_a_traceback(folder, capsys, argv):
    code, out, err = run(argv, capsys)
    assert code not in (0, None)
    assert "Traceback" not in out + err
    message = err.strip().splitlines()[-1]
    assert message.startswith(("esmlab", "error")) or "line" in message
    assert len(message.split()) >= 4            # a sentence, not a bare exception name


def test_export_event_without_an_id_says_how_to_give_one(folder, capsys):
    assert run(["export", "event"], capsys)[2].strip() == (
        "esmlab: export event needs an invocation id, e.g. esmlab export event 17 "
        "(the screen shows the ids)")


def test_export_event_with_a_word_says_it_is_not_an_id(folder, capsys):
    assert run(["export", "event", "abc"], capsys)[2].strip() == (
        "esmlab export: argument invocation: 'abc' is not an invocation id: give a whole "
        "number, e.g. 17 (see esmlab export --help)")


def test_export_event_of_a_missing_invocation_names_it(folder, capsys):
    assert run(["export", "event", "99999"], capsys)[2].strip() == (
        "esmlab: no invocation 99999 in this lab")


def test_an_unknown_subcommand_lists_the_known_ones(folder, capsys):
    err = run(["frobnicate"], capsys)[2].strip()
    assert err.startswith("esmlab: argument COMMAND: invalid choice: 'frobnicate' (choose from ")
    assert "'snapshot'" in err and err.endswith("(see esmlab --help)")


def test_the_real_command_prints_no_traceback_for_a_bad_id(folder):
    done = subprocess.run([sys.executable, "-m", "esmlab", "export", "event", "abc"],
                          capture_output=True, text=True, cwd=folder)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "'abc' is not an invocation id" in done.stderr


@pytest.mark.parametrize("before", [True, False], ids=["--lab first", "--lab after"])
@pytest.mark.parametrize("command", [["info"], ["snapshot", "list"], ["export", "scenario"],
                                     ["export", "event", "1"]], ids=" ".join)
def test_lab_option_works_before_or_after_every_subcommand(folder, capsys, before, command):
    other = folder / "other.db"
    lab = Lab.create(other, name="the other lab")
    lab.create_function("g")
    lab.create_queue("q2")
    lab.do("create_mapping", params={"FunctionName": "g",
                                     "EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:q2"})
    lab.send_message("q2", "from the other lab")
    lab.run_until_idle()
    lab.save_snapshot("only-in-other")
    lab.close()
    argv = ["--lab", str(other), *command] if before else [*command, "--lab", str(other)]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert ("the other lab" in out or "only-in-other" in out or "from the other lab" in out
            or "q2" in out)


@pytest.mark.parametrize("before", [True, False], ids=["--lab first", "--lab after"])
def test_lab_option_works_before_or_after_snapshot_save_and_copy(folder, capsys, before):
    other = folder / "other.db"
    Lab.create(other).close()
    for command in (["snapshot", "save", "s1"], ["copy", str(folder / f"copy{before}.db")]):
        argv = ["--lab", str(other), *command] if before else [*command, "--lab", str(other)]
        assert run(argv, capsys)[0] == 0
    assert [s["name"] for s in Lab.open(other, readonly=True).snapshots()] == ["s1"]
    assert [s["name"] for s in Lab.open(folder / "lab.db", readonly=True).snapshots()] == []


def test_snapshot_save_over_an_existing_name_refuses_without_force(folder, capsys):
    assert run(["snapshot", "save", "before"], capsys)[0] == 0
    lab = Lab.open("lab.db")
    lab.send_message("q", "more")
    lab.close()
    code, _, err = run(["snapshot", "save", "before"], capsys)
    assert code == 2
    assert err.strip().startswith("esmlab: a snapshot named before already exists (saved at T+")
    assert err.strip().endswith("commands); nothing was saved. `esmlab snapshot save before "
                                "--force` replaces it")
    saved = Lab.open("lab.db", readonly=True).snapshots()
    assert saved[0]["commands"] == 5
    code, out, _ = run(["snapshot", "save", "before", "--force"], capsys)
    assert code == 0 and out.startswith("saved snapshot before (replaced the one saved at T+")
    assert Lab.open("lab.db", readonly=True).snapshots()[0]["commands"] == 6


def test_snapshot_restore_over_unsaved_work_says_what_it_dropped(folder, capsys):
    assert run(["snapshot", "save", "start"], capsys)[0] == 0
    lab = Lab.open("lab.db")
    lab.send_message("q", "unsaved 1")
    lab.advance(5)
    lab.close()
    code, out, err = run(["snapshot", "restore", "start"], capsys)
    assert code == 0 and out.strip() == "restored snapshot start"
    assert err.strip() == ("dropped 2 command(s) at T+30 s (advance_to, send_message): no "
                           "snapshot held them (save one before restoring to keep such work)")
    code, out, err = run(["snapshot", "restore", "start"], capsys)   # nothing more to drop
    assert code == 0 and err == ""


def test_snapshot_restore_of_a_missing_name_lists_the_saved_ones(folder, capsys):
    run(["snapshot", "save", "a"], capsys)
    assert run(["snapshot", "restore", "b"], capsys)[2].strip() == (
        "esmlab: no snapshot named 'b'; the lab has: a")


def test_an_unforeseen_error_is_a_sentence_unless_debugging(folder, capsys, monkeypatch):
    import esmlab.cli as cli

    def broken(args):
        raise KeyError("surprise")

    monkeypatch.setitem(cli.HANDLERS, "info", broken)
    assert run(["info"], capsys)[2].strip() == (
        "esmlab: internal error (KeyError: 'surprise'); this is a bug in esmlab. "
        "Run again with ESMLAB_DEBUG=1 to see where.")
    monkeypatch.setenv("ESMLAB_DEBUG", "1")
    with pytest.raises(KeyError):
        main(["info"])


def test_the_screen_opens_a_read_only_lab_read_only_instead_of_exiting(folder, capsys,
                                                                      monkeypatch):
    import esmlab.store as store_mod
    import esmlab.tui.app as app_mod
    shown = []

    class Screen:
        def __init__(self, path, lab=None, **kw):
            shown.append((path, lab))

        def run(self):
            with pytest.raises(Exception) as err:   # every change gets a sentence
                shown[0][1].send_message("q", "x")
            shown.append(str(err.value))

    monkeypatch.setattr(store_mod, "_writable", lambda path: False)
    monkeypatch.setattr(app_mod, "EsmlabApp", Screen)
    code, _, err = run(["--lab", "lab.db"], capsys)
    assert code == 0 and shown[0][1].store.readonly
    assert err.strip() == ("esmlab: lab.db is read-only: esmlab can show it (esmlab info, esmlab "
                           "export) but not change it; make the file and its folder writable, or "
                           "copy it (esmlab copy); showing it read-only")
    assert shown[1] == "lab.db is open read-only here, so nothing was changed"
