"""The chapters' prose quotes measured numbers only through glue (cnncourse.publish.glue).

A percentage, a timing, a speed ratio or a claim about chance level written into a
chapter's markdown is a measurement that can drift from what the code prints. Each must
be glued (``{glue:text}`name```, stored by ``glue("name", ...)`` in the same chapter) or
be listed in ``NOT_MEASURED`` with the reason it is not a measurement of this book's code:
a published result, a setting the text chooses, or arithmetic a reader can check by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from cnncourse.publish.glue import glue_names_used

CHAPTERS = Path(__file__).resolve().parents[1] / "book" / "chapters"
CHAPTER_NAMES = sorted(p.stem for p in CHAPTERS.glob("*.ipynb"))

_NUMBER = r"(?<![\w.])\d+(?:[.,]\d+)?"
MEASURED = re.compile(
    "|".join(
        [
            _NUMBER + r"\s?(?:%|\\%|per ?cent\b|percentage points?\b)",  # 96 %, 12 per cent
            _NUMBER + r"\s?(?:ms|µs|seconds?|minutes?|min|hours?)\b",  # 33 ms, 5 minutes
            r"(?<![\w.])(?:\d+\.\d+\s?|\d+\s)s\b",  # 4.2 s, 12 s (not the 1960s)
            _NUMBER + r"\s?(?:×|x|times)\s(?:faster|slower|as fast|quicker|the speed)",
            r"\b(?:a|one|a few|few|several|within|in|to) (?:seconds?|minutes?|hours?)\b",  # "takes a second"
            r"\b(?:at|near|above|below|than|from|leaves?|reach(?:es)?) chance\b|chance level",
        ]
    ),
    re.IGNORECASE,
)
_GLUE_ROLE = re.compile(r"\{glue(?::\w+)?\}`[^`]*`")
_CODE_OR_MATH = re.compile(
    r"```.*?```|~~~.*?~~~|\$\$.*?\$\$|(?<!\\)\$[^$\n]+\$|`[^`\n]*`|<!--.*?-->|\]\([^)\s]*\)",
    re.DOTALL,
)
_SENTENCE_END = re.compile(r"[.!?:;](?:\s|$)|\n\s*\n")

# chapter -> {text around the number, as it stands in the prose: why it is not measured}
NOT_MEASURED: dict[str, dict[str, str]] = {
    "03_activations": {
        "guessing at random gets 50 %": "arithmetic: a random guess between two classes",
        "guessing at random gets 10 %": "arithmetic: a random guess among ten digits",
    },
    "04_pooling": {
        "With only 6 % of the values": "arithmetic: two 2x2 poolings keep 1/16 of the values",
        "at 1.6 % just": "arithmetic: three 2x2 poolings keep 1/64 of the values",
    },
    "05_fully_connected_and_output": {
        "not 50 %": "a setting: the share of faces in the balanced split",
        "one test photo is 2 %": "arithmetic: one of 50 test photos",
    },
    "08_keras": {
        "accuracy close to 10 %": "arithmetic: chance for 10 classes, what an untrained model should show",
    },
    "09_regularisation": {
        "far below 100 %": "definition of underfitting, no measurement",
        "(nearly) 100 %": "definition of overfitting, no measurement",
        "±10 % zoom": "a setting of the augmentation",
        "70 % of a 3 and 30 % of an 8": "a worked example of a mixup blend",
        "near 100 %": "definition of overfitting in the summary, no measurement",
    },
    "10_architectures": {
        "0.95 % on MNIST": "published: LeCun et al. (1998)",
        "37.5 % and 17.0 %": "published: Krizhevsky et al. (2012)",
        "(28 % fewer)": "arithmetic on the parameter counts in the same sentence",
        "(45 % fewer)": "arithmetic on the parameter counts in the same sentence",
        "reached 71.3 % top-1": "published: Simonyan and Zisserman (2015)",
        "top-5 error of 3.57 %": "published: He et al. (2016)",
        "top-5 error of 6.67 %": "published: Szegedy et al. (2015)",
        "VGG16's 71.3 % top-1": "published: Sandler et al. (2018)",
        "77.1 % top-1": "published: Tan and Le (2019)",
    },
    "12_beyond_classification": {
        "about 33 ms": "arithmetic: one frame at 30 frames per second",
    },
}


def prose(cell_source: str) -> str:
    """A markdown cell's running text: code, maths, comments and link targets blanked."""
    return _CODE_OR_MATH.sub(lambda m: " " * len(m.group(0)), cell_source)


def _sentence(text: str, start: int, end: int) -> str:
    begin = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    after = _SENTENCE_END.search(text, end)
    return text[begin : after.start() if after else len(text)]


def unglued_claims(markdown: str, not_measured: dict[str, str]) -> tuple[list[str], set[str]]:
    """The measured-looking claims in ``markdown`` that are neither glued nor listed in
    ``not_measured``, and the listed texts that were used. A claim about chance level
    counts as glued when its sentence quotes a glued number."""
    text = _GLUE_ROLE.sub(lambda m: "⟨glued⟩".ljust(len(m.group(0))), markdown)
    text = prose(text)
    allowed = []
    for snippet in not_measured:
        pattern = r"\s+".join(map(re.escape, snippet.split()))  # the prose wraps lines anywhere
        allowed += [(m.start(), m.end(), snippet) for m in re.finditer(pattern, text)]
    claims, used = [], set()
    for match in MEASURED.finditer(text):
        covering = [s for a, b, s in allowed if a <= match.start() and match.end() <= b]
        if covering:
            used.update(covering)
            continue
        sentence = _sentence(text, match.start(), match.end())
        if "chance" in match.group(0).lower() and "⟨glued⟩" in sentence:
            continue
        claims.append(" ".join(sentence.split()))
    return claims, used


def _chapter(name: str) -> nbformat.NotebookNode:
    return nbformat.read(CHAPTERS / f"{name}.ipynb", as_version=4)


def _markdown(nb) -> str:
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _glued_in_code(nb) -> list[str]:
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    return re.findall(r"\bglue\(\s*[\"']([^\"']+)[\"']", code)


@pytest.mark.parametrize("name", CHAPTER_NAMES)
def test_measured_numbers_in_the_prose_are_glued(name):
    markdown = _markdown(_chapter(name))
    listed = NOT_MEASURED.get(name, {})
    claims, used = unglued_claims(markdown, listed)
    assert not claims, (
        f"{name}: glue these measured numbers (cnncourse.publish.glue) or list them in "
        "NOT_MEASURED with the reason they are not measured:\n  " + "\n  ".join(claims)
    )
    stale = set(listed) - used
    assert not stale, f"{name}: NOT_MEASURED lists text the prose no longer has: {stale}"


@pytest.mark.parametrize("name", CHAPTER_NAMES)
def test_every_glue_role_has_a_glue_call_and_every_glued_value_is_quoted(name):
    nb = _chapter(name)
    quoted = set(glue_names_used(_markdown(nb)))
    glued = _glued_in_code(nb)
    assert len(glued) == len(set(glued)), f"{name}: a name is glued twice: {sorted(glued)}"
    unknown = sorted(quoted - set(glued))
    assert not unknown, f"{name}: the prose quotes names no cell glues: {unknown}"
    assert set(glued) <= quoted, f"{name}: glued but never quoted: {sorted(set(glued) - quoted)}"
    imports_myst = [c.source for c in nb.cells if c.cell_type == "code" and "myst_nb" in c.source]
    assert not imports_myst, f"{name}: glue through cnncourse.publish.glue, which works without myst-nb"


def test_the_detector_finds_measurements_and_spares_the_rest():
    text = (
        "The network reaches 97.5 % on the test set. It stays at chance. "
        "One epoch takes 4.2 s, 3 times faster than before. Compare the 1960s. It runs within seconds. "
        "With the rate `0.1` and $p = 50\\%$ it reaches {glue:text}`acc`, far above chance. "
        "A stride of 2 keeps 25 % of the values."
    )
    claims, used = unglued_claims(text, {"keeps 25 % of": "arithmetic", "not here 3 %": "stale"})
    assert claims == [
        "The network reaches 97.5 % on the test set",
        "It stays at chance",
        "One epoch takes 4.2 s, 3 times faster than before",
        "One epoch takes 4.2 s, 3 times faster than before",
        "It runs within seconds",
    ]
    assert used == {"keeps 25 % of"}
