// The activation explorer (cnncourse.widgets.ActivationExplorer): an activation, its
// derivative, and the best case for a gradient that passes through many such layers.

/** [f(x), f'(x)] of one activation, as the forward and backward functions of
 * cnncourse.nn.functional compute them (the derivative at 0 of ReLU is 0, as there). */
function activation(name, x, alpha) {
  switch (name) {
    case "relu":
      return [Math.max(0, x), x > 0 ? 1 : 0];
    case "leaky_relu":
      return [x > 0 ? x : alpha * x, x > 0 ? 1 : alpha];
    case "sigmoid": {
      const e = Math.exp(-Math.abs(x)); // never overflows, like sigmoid_forward
      const s = x >= 0 ? 1 / (1 + e) : e / (1 + e);
      return [s, s * (1 - s)];
    }
    case "tanh": {
      const t = Math.tanh(x);
      return [t, 1 - t * t];
    }
    default:
      throw new Error(`unknown activation ${name}`);
  }
}

/** n points from start to stop, as numpy.linspace places them. */
function linspace(start, stop, n) {
  const step = (stop - start) / (n - 1);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? stop : start + i * step));
}

/** A curve in words: its range of x and of y, and its values at the ends and at 0. */
function describeCurve(label, x, y) {
  const last = x.length - 1;
  const atZero = y[Math.round(last / 2)]; // x is symmetric around 0
  const [lo, hi] = [Math.min(...y), Math.max(...y)];
  return (
    `${label} for x from ${formatG3(x[0])} to ${formatG3(x[last])}: ${formatG3(y[0])} at the left end, ` +
    `${formatG3(atZero)} at 0, ${formatG3(y[last])} at the right end; values from ${formatG3(lo)} to ${formatG3(hi)}`
  );
}

function render({ model, el }) {
  const area = liveArea(el);
  return watch(model, ["function", "alpha", "x_range", "depth"], () => {
    try {
      const index = model.get("function");
      const name = model.get("functions")[index];
      const [alpha, range, depth] = [model.get("alpha"), model.get("x_range"), model.get("depth")];
      const x = linspace(-range, range, 401);
      const pairs = x.map((v) => activation(name, v, alpha));
      const [y, dy] = [pairs.map((p) => p[0]), pairs.map((p) => p[1])];
      const maxSlope = Math.max(...dy);
      const signal = maxSlope ** depth;
      const layers = Array.from({ length: depth }, (_, i) => i + 1);
      const best = layers.map((n) => Math.max(maxSlope ** n, 1e-30));
      area.show(
        { x, y, dy, maxSlope, signal },
        [
          panel(`${name}(x)`, linePlot(x, y, { colour: "#1f77b4" }), describeCurve(`${name}(x)`, x, y)),
          panel(`derivative ${name}'(x)`, linePlot(x, dy, { colour: "#d62728" }), describeCurve(`derivative ${name}'(x)`, x, dy)),
          panel(
            "best-case gradient after n layers (log scale)",
            linePlot(layers, best, { colour: "#2ca02c", logY: true, markers: true }),
            `best-case gradient after 1 to ${depth} layers, log scale: from ${formatG3(best[0])} to ${formatG3(best[depth - 1])}`,
          ),
        ],
        `f(x) = ${model.get("formulas")[index]}. Largest slope: <b>${formatG3(maxSlope)}</b>; through ` +
          `${depth} such layers a gradient is multiplied by at most ` +
          `${formatG3(maxSlope)}<sup>${depth}</sup> = <b>${formatG3(signal)}</b>`,
      );
    } catch (error) {
      area.fail(error);
    }
  });
}

export default { render };
