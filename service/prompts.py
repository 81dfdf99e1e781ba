"""Prompt files from prompts/, loaded once and checked: a missing file or variable fails at start-up."""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parents[1] / "prompts"

# file name -> the variables it must use, no more, no less
EXPECTED = {
    "system.txt": set(),
    "answer_with_sources.txt": {"follow_up", "sources", "question"},
    "digest_with_sources.txt": {"follow_up", "sources", "question"},
    "condense_follow_up.txt": {"previous_question"},
}


class PromptError(Exception):
    pass


@dataclass(frozen=True)
class Prompts:
    system: str
    answer_with_sources: str
    digest_with_sources: str
    condense_follow_up: str

    def user_message(self, question: str, sources: list[str], previous_question: str | None = None,
                     broad: bool = False) -> str:
        """The user message; broad: a short paragraph over the sources is asked for instead of one sentence."""
        follow_up = self.condense_follow_up.format(previous_question=previous_question) if previous_question else ""
        numbered = "\n".join(f"[{n}] {text}" for n, text in enumerate(sources, start=1))
        template = self.digest_with_sources if broad else self.answer_with_sources
        return template.format(follow_up=follow_up, sources=numbered, question=question)


def _variables(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def load_prompts(folder: Path = PROMPTS_DIR) -> Prompts:
    texts = {}
    for name, expected in EXPECTED.items():
        path = folder / name
        try:
            text = path.read_text(encoding="utf-8").strip("\n")
        except OSError as exc:
            raise PromptError(f"prompt file {path} cannot be read: {exc.strerror or exc}") from exc
        try:
            found = _variables(text)
        except ValueError as exc:
            raise PromptError(f"prompt file {path} is not a valid template: {exc}") from exc
        if found != expected:
            raise PromptError(
                f"prompt file {path} uses variables {sorted(found)}; expected {sorted(expected)}"
            )
        texts[name.removesuffix(".txt")] = text
    # The follow-up line joins the user message as a paragraph of its own.
    texts["condense_follow_up"] += "\n"
    return Prompts(**texts)
