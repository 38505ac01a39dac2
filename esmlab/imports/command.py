"""`esmlab import FILE`: build a lab from a template or module, and say in
one message what was assumed and what the lab does not model."""

from __future__ import annotations

import sys
from pathlib import Path

from esmlab.imports import KINDS, TemplateError, build_lab, read_plan


def _parameters(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise TemplateError(f"--parameter {pair!r}: expected NAME=VALUE")
        out[name] = value
    return out


def _ask(name: str) -> str | None:
    try:
        return input(f"{name} has no value in the file; value for {name} (Enter to assume one): ")
    except EOFError:
        return None


def run_import(file: str, lab: str | None, parameters: list[str], scenario_out: str | None,
               interactive: bool, open_screen: bool = False) -> int:
    path = Path(lab or "lab.db")
    try:
        if path.exists():
            raise TemplateError(f"{path} already exists; esmlab import makes a new lab "
                                "(give --lab NEW.db)")
        plan = read_plan(file, _parameters(parameters), _ask if interactive else None)
        made = build_lab(plan, str(path))
    except TemplateError as error:
        print(f"esmlab import: {error}", file=sys.stderr)
        return 2
    try:
        counts = {k: len(v) for k, v in plan.resources.items() if v}
        what = ", ".join(f"{n} {k if n != 1 else k[:-1]}" for k, n in counts.items()
                         if k in KINDS) or "nothing the lab models"
        print(f"imported {file} into {path}: {what}")
        for title, lines in (("assumed", plan.assumed), ("not modelled, left out",
                                                         plan.not_modelled),
                             ("refused or noted", plan.notes)):
            if lines:
                print(f"{title}:")
                for line in lines:
                    print(f"  - {line}")
        if scenario_out:
            from esmlab.scenario.export import export_scenario
            Path(scenario_out).write_text(export_scenario(made, name=Path(file).stem),
                                          encoding="utf-8")
            print(f"wrote the lab as a lesson file: {scenario_out}")
        if not open_screen:
            print(f"open it: esmlab --lab {path}")
    finally:
        made.close()
    if open_screen:
        from esmlab.tui.app import run_app
        return run_app(str(path), created=False)
    return 0
