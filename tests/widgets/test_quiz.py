"""Quiz: choosing, checking, feedback, score; Question validation."""

import pytest

from cnncourse.widgets import Question, Quiz

QUESTIONS = [
    Question("Max-pool [[1, 3], [2, 4]]?", ("1", "2.5", "4"), 2, "The largest value wins."),
    ("Which is non-linear?", ("identity", "ReLU"), 1, "max(0, x) bends at 0."),
]


def test_check_right_wrong_and_nothing_chosen():
    quiz = Quiz(QUESTIONS)
    assert quiz.check(0) is None and "Pick an option" in quiz.feedback[0].value
    quiz.choices[0].value = "2.5"
    assert quiz.check(0) is False and "Not quite" in quiz.feedback[0].value
    assert quiz.score == 0
    quiz.choices[0].value = "4"
    quiz.buttons[0].click()
    assert quiz.results[0] is True and "Correct" in quiz.feedback[0].value
    assert "largest value wins" in quiz.feedback[0].value
    quiz.choices[1].value = "ReLU"
    assert quiz.check(1) is True and quiz.score == 2


def test_answers_fold_and_fallback():
    quiz = Quiz(QUESTIONS, title="Pooling")
    assert quiz.answers.selected_index is None  # folded
    assert "<b>4</b>" in quiz.answers.children[0].value
    html = quiz._repr_mimebundle_()["text/html"]
    assert "Max-pool" in html and "ReLU" in html and "largest" not in html


def test_bad_questions():
    with pytest.raises(ValueError, match="at least 2 options"):
        Question("?", ("only",), 0)
    with pytest.raises(ValueError, match="answer must index"):
        Question("?", ("a", "b"), 2)
    with pytest.raises(ValueError, match="at least one question"):
        Quiz([])
