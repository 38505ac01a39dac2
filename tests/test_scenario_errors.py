"""Mistakes a teacher makes in a scenario file are caught before anything runs."""

import textwrap

import pytest

from esmlab.cli import main
from esmlab.scenario.loader import ScenarioError, load_scenario_text

HEAD = textwrap.dedent("""
    name: t
    title: t
    see: s
    resources:
      functions: [{FunctionName: f}]
      streams: [{StreamName: s}]
""")


def test_a_misindented_line_is_named_with_a_plain_words_hint():
    text = HEAD + textwrap.dedent("""
        steps:
          - say: hi
            - advance: 1s
    """)
    with pytest.raises(ScenarioError) as err:
        load_scenario_text(text, "lesson.yaml")
    assert err.value.line == 11  # the misindented "- advance" line
    assert "indentation" in err.value.message


def test_an_unknown_starting_position_makes_the_file_invalid(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(HEAD + textwrap.dedent("""
          mappings:
            - FunctionName: f
              EventSourceArn: arn:aws:kinesis:us-east-1:123456789012:stream/s
              StartingPosition: OLDEST
        steps:
          - advance: 1s
    """))
    assert main(["play", str(path)]) == 2
    err = capsys.readouterr().err
    assert "OLDEST" in err and "TRIM_HORIZON" in err and f"{path}:" in err
