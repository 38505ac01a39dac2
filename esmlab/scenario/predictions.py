"""Predict, then see: a lesson step may ask a question before it plays.

```yaml
- advance: 2m
  predict:
    question: How many times will the handler see record 6?
    choices: [1, 4, 5]          # optional; without it any answer is taken
    answer: 5                   # a number, a text, or a list (several answers)
    explain: A partial response that moves the checkpoint starts a fresh budget.
```

A face asks the question before the step (the screen, `esmlab play --quiz`)
or reads a learner's answers from a file (`--answers`, for a teacher's
grading); the player plays the step either way and the result says what the
right answer was, what was given and whether it matched. Answers compare
as a person would: `5` and `"5"` match, case and surrounding spaces do not
matter, and a list matches the same items in any order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Prediction:
    question: str
    answer: Any
    explain: str
    choices: list | None = None
    given: Any = None          # the learner's answer, if one was given
    right: bool | None = None  # None when no answer was given

    def to_dict(self) -> dict:
        return asdict(self)


def _norm(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        return text.casefold()


def same(given: Any, answer: Any) -> bool:
    """Whether a learner's answer matches the lesson's."""
    if isinstance(answer, list):
        items = given if isinstance(given, list) else [
            part for part in str(given).replace(";", ",").split(",") if part.strip()]
        return sorted(map(str, map(_norm, items))) == sorted(map(str, map(_norm, answer)))
    return _norm(given) == _norm(answer)


def problem(spec: dict) -> str | None:
    """What is wrong with a `predict:` block, if anything (checked when the
    file is loaded, so a lesson cannot ask a question it cannot grade)."""
    choices = spec.get("choices")
    if choices is None:
        return None
    answers = spec["answer"] if isinstance(spec["answer"], list) else [spec["answer"]]
    normalised = {str(_norm(c)) for c in choices}
    missing = [a for a in answers if str(_norm(a)) not in normalised]
    if missing:
        return (f"predict.answer {missing[0]!r} is not one of the choices "
                f"({', '.join(map(str, choices))})")
    return None


def make(spec: dict, given: Any = None) -> Prediction:
    p = Prediction(question=spec["question"], answer=spec["answer"], explain=spec["explain"],
                   choices=spec.get("choices"))
    if given is not None:
        p.given = given
        p.right = same(given, p.answer)
    return p


def score(predictions: list[Prediction]) -> dict:
    answered = [p for p in predictions if p.right is not None]
    return {"asked": len(predictions), "answered": len(answered),
            "right": sum(1 for p in answered if p.right)}


def load_answers(path: str) -> dict:
    """A learner's answers file: YAML or JSON mapping step numbers to answers,
    for one lesson or per lesson name ({lesson: {step: answer}}). Raises
    ValueError with a sentence for a file that cannot be used."""
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except OSError as error:
        raise ValueError(f"{path}: cannot read the answers ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a map of step numbers to answers")
    return data


def answers_for(data: dict, lesson: str) -> dict[int, Any]:
    """The answers of one lesson, by step number."""
    if isinstance(data.get(lesson), dict):
        data = data[lesson]
    out = {}
    for key, value in data.items():
        try:
            out[int(key)] = value
        except (TypeError, ValueError):
            continue  # another lesson's answers in a shared file
    return out
