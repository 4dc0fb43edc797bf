"""The live explorers in the built book, used as a reader uses them: no kernel, headless
Chromium, every request outside localhost blocked. Each control is changed in turn; the
figure must change and show the numbers ``cnncourse.nn`` computes for the same values."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest

from cnncourse.nn import functional as F
from cnncourse.widgets.activations import activation_and_derivative
from cnncourse.widgets.convolution import EDGE_MATRIX, KERNELS, fit_kernel
from cnncourse.widgets.feature_maps import dequantise_maps
from cnncourse.widgets.inputs import InputPicker, parse_matrix
from cnncourse.widgets.pooling import POOL_MATRIX

pytestmark = pytest.mark.slow

SHOTS = Path(os.environ.get("CNNCOURSE_SHOTS", "/tmp/cnncourse-live-shots"))
TOLERANCE = 1e-9  # the browser computes in float64 too; sums may differ in the last bits


class Page:
    """A chapter open in Chromium; ``problems`` collects console errors and requests
    that try to leave localhost."""

    def __init__(self, browser, url: str):
        self.problems: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.tab = self.context.new_page()
        self.tab.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.tab.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.tab.route("**/*", self._route)
        self.tab.goto(url, wait_until="load")
        self.tab.wait_for_selector(".cnn-live .cnn-panel", timeout=20_000)

    def _route(self, route):
        if urlsplit(route.request.url).hostname in ("127.0.0.1", None):
            route.continue_()
        else:
            self.problems.append(f"request left localhost: {route.request.url}")
            route.abort()

    def explorer(self, index: int = 0):
        """The widget box of the page's ``index``-th live explorer (controls and figure)."""
        box = self.tab.locator(".widget-vbox:has(> .widget-subarea .cnn-live), .widget-vbox:has(.cnn-live)")
        return Explorer(self, box.filter(has=self.tab.locator(".cnn-live")).nth(index))

    def close(self) -> None:
        self.context.close()


class Explorer:
    """Drives one explorer's controls the way a reader does, and reads its figure."""

    def __init__(self, page: Page, box):
        self.page, self.box = page, box
        self.box.scroll_into_view_if_needed()
        self.root = box.locator(".cnn-live").first

    def screenshot(self, name: str) -> None:
        """Save the explorer as it looks now to ``$CNNCOURSE_SHOTS/<name>.png``."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.box.screenshot(path=str(SHOTS / f"{name}.png"))

    def figure(self) -> dict:
        """What the browser computed and shows: ``result`` (arrays as lists), the
        numbers in the cells of the last panel, the caption's text and any error."""
        return self.root.evaluate(
            """root => ({
                result: root.cnnResult && Object.fromEntries(Object.entries(root.cnnResult).map(
                    ([k, v]) => [k, v && v.data ? {rows: v.rows, cols: v.cols, data: Array.from(v.data)}
                                              : (ArrayBuffer.isView(v) ? Array.from(v) : v)]))
                ,
                cells: Array.from(root.querySelectorAll('.cnn-panel:last-child .cnn-cell'),
                                  c => Number(c.dataset.value)),
                caption: root.querySelector('.cnn-caption').innerText,
                error: root.dataset.error,
                pixels: Array.from(root.querySelectorAll('canvas'), c => c.toDataURL()).join(),
            })"""
        )

    def changed(self, action, timeout: float = 5.0) -> dict:
        """Run ``action`` and return the figure once it differs from before."""
        before = self.figure()
        action()
        deadline = time.monotonic() + timeout
        while (after := self.figure()) == before:
            assert time.monotonic() < deadline, "the figure did not change"
            time.sleep(0.05)
        return after

    def select(self, description: str, label: str) -> None:
        self._control(".widget-dropdown", description).locator("select").select_option(label=label)

    def toggle(self, label: str) -> None:
        self.box.locator(".widget-toggle-button", has_text=label).first.click()

    def slide(self, description: str, value) -> None:
        readout = self._control(".widget-slider", description).locator(".widget-readout")
        readout.click()
        self.page.tab.keyboard.press("Control+A")
        self.page.tab.keyboard.type(str(value))
        self.page.tab.keyboard.press("Enter")

    def tick(self, description: str) -> None:
        self.box.locator(".widget-checkbox", has_text=description).locator("input").click()

    def type_weight(self, index: int, value: float) -> None:
        box = self.box.locator(".cnn-kernel-editor input").nth(index)
        box.fill(str(value))
        box.press("Tab")  # a number box reports its value when it loses focus

    def type_matrix(self, text: str) -> None:
        self.box.locator("textarea").first.fill(text)

    def _control(self, kind: str, description: str):
        return (
            self.box.locator(kind)
            .filter(has=self.page.tab.locator(".widget-label", has_text=description))
            .first
        )


def assert_matrix(shown: dict, expected: np.ndarray, what: str) -> float:
    """The browser's ``{rows, cols, data}`` equals ``expected (H, W)``; returns the largest difference."""
    assert (shown["rows"], shown["cols"]) == expected.shape, f"{what}: shape"
    diff = float(np.max(np.abs(np.array(shown["data"]).reshape(expected.shape) - expected), initial=0.0))
    assert diff <= TOLERANCE * max(1.0, float(np.abs(expected).max())), f"{what}: differs by {diff}"
    return diff


def open_chapter(browser, server, chapter: str) -> Page:
    return Page(browser, f"{server}chapters/{chapter}.html")


# ---------------------------------------------------------------------------------- pooling


def expected_pool(x, mode, k, s):
    return F.pool_forward(x[None, :, :, None], k, s, mode)[0][0, :, :, 0]


def test_pooling_explorer(browser, server):
    page = open_chapter(browser, server, "04_pooling")
    ex = page.explorer()
    now = {"x": POOL_MATRIX, "mode": "max", "k": 2, "s": 2}  # as the chapter opens it
    worst = 0.0

    def check(fig, **changes):
        nonlocal worst
        now.update(changes)
        x = now["x"]
        expected = expected_pool(x, now["mode"], now["k"], now["s"])
        assert not fig["error"], fig["error"]
        worst = max(worst, assert_matrix(fig["result"]["output"], expected, str(now)))
        if max(expected.shape) <= 12:
            np.testing.assert_allclose(fig["cells"], expected.ravel(), atol=TOLERANCE)
        assert f"{x.size} values in, {expected.size} out" in fig["caption"]
        assert f"/ {now['s']}⌋ + 1 = {expected.shape[0]}" in fig["caption"]

    check(ex.figure())
    assert ex.figure()["cells"][0] == 4  # the book's example: [[1, 3], [2, 4]] max-pools to 4
    for label, mode in (("average", "avg"), ("sum", "sum"), ("max", "max")):
        check(ex.changed(lambda label=label: ex.toggle(label)), mode=mode)
    check(ex.changed(lambda: ex.slide("window", 3)), k=3)
    check(ex.changed(lambda: ex.slide("stride", 1)), s=1)
    text = "1 2 3 4 5\n6 7 8 9 10\n-1 -2 -3 -4 -5\n0 0 1 0 0\n2, 4, 6, 8, 10"
    check(ex.changed(lambda: ex.type_matrix(text)), x=parse_matrix(text))
    check(ex.changed(lambda: ex.select("input", "photo: coins")), x=InputPicker("coins", POOL_MATRIX).value())
    check(ex.changed(lambda: ex.toggle("average")), mode="avg")
    ex.screenshot("pooling-coins-average")
    # a window larger than a typed 2x2 matrix: the error is shown under the faded figure
    ex.select("input", "typed matrix")
    bad = ex.changed(lambda: ex.type_matrix("1 2\n3 4"))
    assert "larger than the padded input" in bad["error"]
    ex.screenshot("pooling-error")
    page.close()
    assert not page.problems, page.problems
    print(f"pooling: largest browser-vs-Python difference {worst:.3g}")


# ------------------------------------------------------------------------------ activations


def test_activation_explorer(browser, server):
    page = open_chapter(browser, server, "03_activations")
    ex = page.explorer()
    name, alpha, x_range, depth = "sigmoid", 0.1, 5.0, 10  # as the chapter opens it
    worst = 0.0

    def check(fig):
        nonlocal worst
        x = np.linspace(-x_range, x_range, 401)
        y, dy = activation_and_derivative(name, x, alpha)
        result = fig["result"]
        for key, expected in (("x", x), ("y", y), ("dy", dy)):
            diff = float(np.max(np.abs(np.array(result[key]) - expected)))
            assert diff <= TOLERANCE, f"{name}: {key} differs by {diff}"
            worst = max(worst, diff)
        max_slope = float(dy.max())
        assert result["maxSlope"] == pytest.approx(max_slope, rel=1e-12)
        assert result["signal"] == pytest.approx(max_slope**depth, rel=1e-12)
        assert f"Largest slope: {max_slope:.3g}" in fig["caption"]
        assert f"= {max_slope**depth:.3g}" in fig["caption"]

    check(ex.figure())
    for name in ("relu", "tanh", "leaky_relu"):
        check(ex.changed(lambda name=name: ex.select("function", name)))
    alpha = 0.25
    check(ex.changed(lambda: ex.slide("α", "0.25")))
    x_range = 2.5
    check(ex.changed(lambda: ex.slide("x range", "2.5")))
    name = "sigmoid"
    check(ex.changed(lambda: ex.select("function", name)))
    depth = 25
    check(ex.changed(lambda: ex.slide("layers", 25)))  # 0.25 ** 25: a vanished gradient
    ex.screenshot("activations-sigmoid-25-layers")
    page.close()
    assert not page.problems, page.problems
    print(f"activations: largest browser-vs-Python difference {worst:.3g}")


# ------------------------------------------------------------------------------ convolution


def expected_conv(x, kernel, stride, padding):
    out, _ = F.conv2d_forward(x[None, :, :, None], kernel[:, :, None, None], stride=stride, padding=padding)
    return out[0, :, :, 0]


def test_convolution_explorer(browser, server):
    page = open_chapter(browser, server, "02_convolution")
    worst = 0.0

    def checker(now):
        def check(fig, **changes):
            nonlocal worst
            now.update(changes)
            kernel = now["kernel"][::-1, ::-1] if now["flip"] else now["kernel"]
            expected = expected_conv(now["x"], kernel, now["stride"], now["padding"])
            assert not fig["error"], fig["error"]
            assert_matrix(fig["result"]["kernel"], kernel, f"kernel slid, {now}")
            worst = max(worst, assert_matrix(fig["result"]["output"], expected, str(now)))
            if fig["cells"]:
                np.testing.assert_allclose(fig["cells"], expected.ravel(), atol=TOLERANCE)
            oh, ow = expected.shape
            assert f"/ {now['stride']}⌋ + 1 = {oh}; width" in fig["caption"], fig["caption"]
            assert fig["caption"].split("width:")[1].split("=")[-1].strip().startswith(str(ow))

        return check

    # The second explorer: the typed 6x6 edge matrix, small enough to show every number.
    ex = page.explorer(1)
    now = {
        "x": EDGE_MATRIX,
        "kernel": KERNELS["sobel x (vertical edges)"],
        "flip": False,
        "stride": 2,
        "padding": 1,
    }
    check = checker(now)
    check(ex.figure())
    gauss5 = KERNELS["gaussian blur 5x5"]
    check(ex.changed(lambda: ex.select("kernel", "gaussian blur 5x5")), kernel=gauss5)  # grows to 5x5
    check(ex.changed(lambda: ex.toggle("3x3")), kernel=fit_kernel(gauss5, 3))  # cropped
    check(ex.changed(lambda: ex.select("kernel", "sharpen")), kernel=KERNELS["sharpen"])
    typed = KERNELS["sharpen"].copy()
    typed[0, 1] = 3  # not symmetric any more, so flipping changes it
    check(ex.changed(lambda: ex.type_weight(1, 3)), kernel=typed)
    assert (
        ex.box.locator(".widget-dropdown select").nth(1).evaluate("s => s.selectedOptions[0].text")
        == "custom"
    )
    check(ex.changed(lambda: ex.toggle("5x5")), kernel=fit_kernel(typed, 5))  # kept, centred in zeros
    check(ex.changed(lambda: ex.tick("flip")), flip=True)
    check(ex.changed(lambda: ex.slide("stride", 1)), stride=1)
    check(ex.changed(lambda: ex.select("padding", "same")), padding="same")
    check(ex.changed(lambda: ex.select("padding", "valid (no padding)")), padding="valid")
    text = "\n".join(" ".join(str((i * j) % 5 - 2) for j in range(7)) for i in range(8))
    check(ex.changed(lambda: ex.type_matrix(text)), x=parse_matrix(text))
    ex.screenshot("convolution-custom-5x5-flipped")

    # The first explorer: photos, where the output is an image.
    ex = page.explorer(0)
    photo = {"x": InputPicker("coins", EDGE_MATRIX).value(), "kernel": KERNELS["sobel y (horizontal edges)"]}
    check = checker({**photo, "flip": False, "stride": 1, "padding": "same"})
    check(ex.figure())
    check(ex.changed(lambda: ex.select("input", "digit")), x=InputPicker("digit", EDGE_MATRIX).value())
    check(ex.changed(lambda: ex.select("input", "photo: cat")), x=InputPicker("cat", EDGE_MATRIX).value())
    check(ex.changed(lambda: ex.slide("stride", 2)), stride=2)
    check(
        ex.changed(lambda: ex.select("kernel", "outline (laplacian)")), kernel=KERNELS["outline (laplacian)"]
    )
    ex.screenshot("convolution-cat-laplacian")
    page.close()
    assert not page.problems, page.problems
    print(f"convolution: largest browser-vs-Python difference {worst:.3g}")


# ----------------------------------------------------------------------------- feature maps


def widget_states(page: Path) -> list[dict]:
    """The synced state of every widget saved in a built page."""
    text = page.read_text(encoding="utf-8")
    found = re.search(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', text, re.S)
    assert found, f"{page.name} has no widget state"
    return [model["state"] for model in json.loads(found.group(1))["state"].values()]


def test_feature_map_viewer(browser, server, html_dir):
    chapter = "05_fully_connected_and_output"
    # The maps Python sent with the page (tests/widgets/test_feature_maps.py checks they are
    # the model's outputs to within half of one of 255 levels of each map's range).
    sent = next(s for s in widget_states(html_dir / "chapters" / f"{chapter}.html") if "colours" in s)
    layers = sent["layers"]
    assert len(layers) >= 2 and sent["images"]["shape"][0] >= 4, "the chapter shows layers and images"
    page = open_chapter(browser, server, chapter)
    ex = page.explorer()
    worst = 0.0

    def check(fig, layer: int, image: int):
        nonlocal worst
        name, (h, w, c) = layers[layer]["name"], layers[layer]["shape"]
        expected = np.moveaxis(dequantise_maps(layers[layer]["maps"])[image], -1, 0)  # (K, H, W)
        result = fig["result"]
        assert not fig["error"], fig["error"]
        assert (result["layer"], result["image"], result["shape"]) == (name, image, [h, w, c])
        diff = float(np.max(np.abs(np.array(result["maps"]) - expected.ravel())))
        assert diff <= TOLERANCE * max(1.0, float(np.abs(expected).max())), f"{name}, image {image}: {diff}"
        worst = max(worst, diff)
        titles = ex.root.locator(".cnn-panel-title").all_inner_texts()
        assert titles[:2] == ["input", f"{name}: {c} feature maps of {h}×{w}"]
        assert titles[2:] == [str(k) for k in range(len(expected))], "one titled map per channel"
        assert f"output of {name}: shape ({h}, {w}, {c})" in fig["caption"]

    check(ex.figure(), 0, 0)  # as the chapter opens it
    last = len(layers) - 1
    check(ex.changed(lambda: ex.select("layer", layers[last]["name"])), last, 0)
    check(ex.changed(lambda: ex.slide("image", 3)), last, 3)
    check(ex.changed(lambda: ex.select("layer", layers[1]["name"])), 1, 3)
    ex.screenshot("feature-maps-layer-1-image-3")
    page.close()
    assert not page.problems, page.problems
    print(f"feature maps: largest browser-vs-Python difference {worst:.3g}")


# ---------------------------------------------------------------------------- accessibility


def test_an_explorer_by_keyboard_and_screen_reader(browser, server):
    """Every control of the photo convolution explorer (chapter 2) is found by its name, as
    a screen reader finds it, and works from the keyboard; the output image is named after
    what it shows and renamed when it changes; the caption is a live region."""
    page = open_chapter(browser, server, "02_convolution")
    ex = page.explorer(0)
    tab = page.tab

    def output_name() -> str:
        return ex.root.locator(".cnn-panel").last.locator("[role=img]").get_attribute("aria-label")

    def expected_name(x, kernel_name, stride, source) -> str:
        out = expected_conv(x, KERNELS[kernel_name], stride, "same")
        return (
            f"output {out.shape[0]}×{out.shape[1]}, values from {out.min():.3g} to {out.max():.3g}, "
            f"of the {kernel_name} kernel on the {source}"
        )

    coins = InputPicker("coins", EDGE_MATRIX).value()
    assert output_name() == expected_name(coins, "sobel y (horizontal edges)", 1, "photo: coins")
    caption = ex.root.locator(".cnn-caption")
    assert (caption.get_attribute("role"), caption.get_attribute("aria-live")) == ("status", "polite")

    stride = ex.box.get_by_role("slider", name="stride")
    stride.focus()
    fig = ex.changed(lambda: tab.keyboard.press("ArrowRight"))
    assert stride.get_attribute("aria-valuetext") == "2"
    assert_matrix(
        fig["result"]["output"], expected_conv(coins, KERNELS["sobel y (horizontal edges)"], 2, "same"), ""
    )
    assert output_name() == expected_name(coins, "sobel y (horizontal edges)", 2, "photo: coins")
    assert "/ 2⌋ + 1" in caption.inner_text()

    source = ex.box.get_by_role("combobox", name="input")
    source.focus()
    ex.changed(lambda: tab.keyboard.press("ArrowDown"))  # the next photo in the menu
    label = source.evaluate("s => s.selectedOptions[0].text").replace("\xa0", " ")  # ipywidgets' spaces
    picked = InputPicker(label.removeprefix("photo: "), EDGE_MATRIX).value()
    assert output_name() == expected_name(picked, "sobel y (horizontal edges)", 2, label)

    flip = ex.box.get_by_role("checkbox", name="flip")
    flip.focus()
    ex.changed(lambda: tab.keyboard.press("Space"))
    assert flip.is_checked()
    page.close()
    assert not page.problems, page.problems
