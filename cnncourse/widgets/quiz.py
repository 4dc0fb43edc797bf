"""Multiple-choice quiz with instant feedback, and the answers behind a fold that works
even in the static book (no kernel needed to open it)."""

from __future__ import annotations

import html
from dataclasses import dataclass

import ipywidgets as w

from .accessible import AnnouncedHTML
from .base import StaticFallback


@dataclass(frozen=True)
class Question:
    """One question: ``options`` to choose from, ``answer`` the index of the right one,
    ``explanation`` shown after checking (and in the answers fold)."""

    prompt: str
    options: tuple[str, ...]
    answer: int
    explanation: str = ""

    def __post_init__(self):
        if len(self.options) < 2:
            raise ValueError(f"a question needs at least 2 options; got {len(self.options)}")
        if not 0 <= self.answer < len(self.options):
            raise ValueError(f"answer must index options (0..{len(self.options) - 1}); got {self.answer}")


class Quiz(StaticFallback, w.VBox):
    """Questions with radio buttons and a *Check* button each.

    ``choices[i]`` (``RadioButtons``), ``buttons[i]`` and ``feedback[i]`` (``HTML``) belong
    to question ``i``; :meth:`check` does what the button does and returns whether the
    choice was right; ``score`` counts right answers among the checked questions.
    """

    def __init__(self, questions, title: str = "Quick quiz"):
        self.questions = [q if isinstance(q, Question) else Question(*q) for q in questions]
        if not self.questions:
            raise ValueError("a quiz needs at least one question")
        self.choices, self.buttons, self.feedback = [], [], []
        self.results: dict[int, bool] = {}
        cards = []
        for i, q in enumerate(self.questions):
            choice = w.RadioButtons(options=list(q.options), value=None, layout=w.Layout(width="auto"))
            button = w.Button(description="Check", button_style="primary", layout=w.Layout(width="7em"))
            feedback = AnnouncedHTML()
            button.on_click(lambda _b, i=i: self.check(i))
            self.choices.append(choice)
            self.buttons.append(button)
            self.feedback.append(feedback)
            prompt = w.HTML(f"<b>{i + 1}. {html.escape(q.prompt)}</b>")
            cards.append(
                w.VBox([prompt, choice, w.HBox([button, feedback])], layout=w.Layout(margin="0 0 12px 0"))
            )
        answers = w.HTML(
            "<ol>"
            + "".join(
                f"<li><b>{html.escape(q.options[q.answer])}</b> &mdash; {html.escape(q.explanation)}</li>"
                for q in self.questions
            )
            + "</ol>"
        )
        fold = w.Accordion(children=[answers], selected_index=None)
        fold.set_title(0, "Show the answers")
        super().__init__(
            [w.HTML(f"<h3>{html.escape(title)}</h3>"), *cards, fold],
            layout=w.Layout(border="1px solid #ccc", padding="8px 14px"),
        )
        self.answers = fold

    def check(self, i: int) -> bool | None:
        """Give feedback on question ``i``; ``None`` if nothing is chosen yet."""
        q, choice = self.questions[i], self.choices[i]
        if choice.index is None:
            self.feedback[i].value = "<i>Pick an option first.</i>"
            return None
        right = choice.index == q.answer
        self.results[i] = right
        why = f" {html.escape(q.explanation)}" if q.explanation else ""
        self.feedback[i].value = (
            f'<span style="color:#1b7f3b">&#10004; Correct.{why}</span>'
            if right
            else '<span style="color:#b00020">&#10008; Not quite &mdash; think again, or open '
            "the answers below.</span>"
        )
        return right

    def fallback(self) -> dict:
        """The questions and options as HTML (no answers), for front ends without widgets."""
        items = "".join(
            f"<li><b>{html.escape(q.prompt)}</b><ul>"
            + "".join(f"<li>{html.escape(o)}</li>" for o in q.options)
            + "</ul></li>"
            for q in self.questions
        )
        return {**super().fallback(), "text/html": f"<ol>{items}</ol>"}

    @property
    def score(self) -> int:
        return sum(self.results.values())
