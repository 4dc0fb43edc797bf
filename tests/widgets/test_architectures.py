"""ArchitectureExplorer: metrics, selection, views and bad tables, on a hand-made table
(no Keras needed)."""

import pytest

from cnncourse.widgets.architectures import ArchitectureExplorer, format_count

TABLE = [
    {"name": "tiny", "params": 1_000, "macs": 50_000, "depth": 3},  # no top1: not ImageNet
    {"name": "big", "params": 100_000_000, "macs": 10_000_000_000, "depth": 16, "top1": 70.0},
    {"name": "lean", "params": 4_000_000, "macs": 400_000_000, "depth": 50, "top1": 75.0},
]


def test_default_shows_parameters_of_all():
    ex = ArchitectureExplorer(TABLE)
    assert ex.labels == ["tiny", "big", "lean"]
    assert ex.values == [1_000, 100_000_000, 4_000_000]
    assert ex.figure.value[:4] == b"\x89PNG"
    assert (
        "Most: <b>big</b> (100.0M); least: <b>tiny</b> (1.0k), a factor of 100,000 apart" in ex.caption.value
    )
    # the figure's alternative text: the chart in words, redrawn with it
    assert ex.figure.alt == (
        "Bar chart of parameters, log scale, for 3 architectures. Most: big (100.0M); least: tiny (1.0k), "
        "a factor of 100,000 apart."
    )
    ex.view.value = "accuracy"
    assert ex.figure.alt.startswith("Scatter plot of ImageNet top-1 accuracy against parameters")


def test_flops_are_twice_the_macs_and_selection_filters():
    ex = ArchitectureExplorer(TABLE, metric="flops", names=["big", "lean"])
    assert ex.values == [20_000_000_000, 800_000_000]
    ex.metric.value = "depth"
    assert ex.values == [16, 50]
    ex.names.value = ("lean",)
    assert ex.labels == ["lean"] and ex.values == [50]


def test_top1_skips_rows_without_accuracy():
    ex = ArchitectureExplorer(TABLE, metric="top1", log_scale=False)
    assert ex.labels == ["big", "lean"] and ex.values == [70.0, 75.0]
    assert "Not shown (no published ImageNet accuracy): tiny" in ex.caption.value


def test_against_accuracy_view():
    ex = ArchitectureExplorer(TABLE, metric="macs", view="accuracy")
    assert ex.labels == ["big", "lean"]
    assert ex.values == [10_000_000_000, 400_000_000] and ex.top1 == [70.0, 75.0]
    before = ex.figure.value
    ex.metric.value = "top1"  # top-1 against itself makes no chart: reported, not raised
    assert "pick a cost metric" in ex.error and ex.figure.value == before
    ex.metric.value = "params"
    assert ex.error == "" and ex.values == [100_000_000, 4_000_000]


def test_nothing_chosen_is_reported():
    ex = ArchitectureExplorer(TABLE)
    ex.names.value = ()
    assert "pick at least one network" in ex.error


def test_accepts_objects_with_attributes():
    class Row:
        def __init__(self, name, params):
            self.name, self.params, self.macs, self.depth, self.top1 = name, params, 2, 1, None

    ex = ArchitectureExplorer([Row("a", 10), Row("b", 30)])
    assert ex.values == [10, 30]


@pytest.mark.parametrize(
    "n, text", [(950, "950"), (61_706, "61.7k"), (62_378_344, "62.4M"), (15_470_264_320, "15.5G")]
)
def test_format_count(n, text):
    assert format_count(n) == text


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"table": []}, TypeError, "non-empty list of rows"),
        ({"table": {"name": "a"}}, TypeError, "non-empty list of rows"),
        ({"table": [{"name": "a", "params": 1}]}, ValueError, r"lacks \['macs', 'depth'\]"),
        (
            {"table": [{"name": "a", "params": -1, "macs": 1, "depth": 1}]},
            ValueError,
            r"\['params'\] must be non-negative numbers",
        ),
        ({"table": TABLE * 2}, ValueError, "names must be unique"),
        ({"table": TABLE, "names": ["huge"]}, ValueError, r"names \['huge'\] are not in the table"),
        ({"table": TABLE, "metric": "speed"}, ValueError, "metric must be one of"),
        ({"table": TABLE, "view": "pie"}, ValueError, "view must be 'bars' or 'accuracy'; got 'pie'"),
    ],
)
def test_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        ArchitectureExplorer(**kwargs)
