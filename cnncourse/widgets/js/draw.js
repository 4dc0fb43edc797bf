// Drawing for the explorers' modules (see arrays.js for how the files are put together).
// The look follows cnncourse.viz: small arrays as numbered cells, large ones as images.

const ORANGE = "#f28e2b"; // viz.draw_matrix's window outline

/** A number as viz._number writes it in a cell: integers plain, else 2 decimals (1 from 10). */
function formatNumber(v) {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) < 10 ? v.toFixed(2).replace(/0+$/, "").replace(/\.$/, "") : v.toFixed(1);
}

/** A number with 3 significant digits, like Python's format(v, ".3g"). */
function formatG3(v) {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  const exponent = Math.floor(Math.log10(Math.abs(Number(v.toPrecision(3)))));
  if (exponent < -4 || exponent >= 3) {
    const [mantissa, power] = v.toExponential(2).split("e");
    const sign = power[0] === "-" ? "-" : "+";
    return `${trimZeros(mantissa)}e${sign}${power.replace(/^[+-]/, "").padStart(2, "0")}`;
  }
  return trimZeros(v.toPrecision(3));
}

function trimZeros(text) {
  return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

/** Colour of value v for a map over [-lim, lim] (signed: blue, white, red) or [0, lim]
 * (white to blue), the colour maps viz.draw_matrix uses. */
function cellColour(v, lim, signed) {
  const s = Math.max(-1, Math.min(1, v / lim));
  const mix = (from, to, f) => from.map((c, i) => Math.round(c + (to[i] - c) * f));
  const white = [247, 247, 247];
  const rgb = !signed
    ? mix(white, [8, 81, 156], s)
    : s < 0
      ? mix(white, [33, 102, 172], -s)
      : mix(white, [178, 24, 43], s);
  return `rgb(${rgb.join(",")})`;
}

/** Black or white, whichever contrasts more with `rgb(r,g,b)`: at least 4.58:1 on any
 * background, above the 4.5:1 that WCAG 2.1 AA asks of text. */
function readableOn(background) {
  const luminance = relativeLuminance(background.slice(4, -1).split(",").map(Number));
  return (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) ? "black" : "white";
}

/** WCAG's relative luminance of an sRGB colour [r, g, b] (0-255). */
function relativeLuminance(rgb) {
  const [r, g, b] = rgb.map((c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function maxAbs(m) {
  return m.data.reduce((acc, v) => Math.max(acc, Math.abs(v)), 0) || 1;
}

/** One titled panel of the figure. `description` (plain text, default the title) is what a
 * screen reader says for the picture: the content is marked as an image with that name
 * (`null`: a group of images, each with its own name, named by the title). */
function panel(title, content, description = title) {
  content.setAttribute("role", description === null ? "group" : "img");
  content.setAttribute("aria-label", description ?? title);
  const box = document.createElement("figure");
  box.className = "cnn-panel";
  box.style.cssText = "margin:0 1em 0.5em 0; display:flex; flex-direction:column; align-items:center;";
  const caption = document.createElement("figcaption");
  caption.className = "cnn-panel-title";
  caption.textContent = title;
  caption.style.cssText = "font-size:0.9em; margin-bottom:0.3em;";
  box.append(caption, content);
  return box;
}

/** A small matrix as a grid of numbered cells; `window` = [row, col, height, width] is
 * outlined. Each cell keeps its exact value in data-value (the tests read it). */
function numberGrid(m, window = null) {
  const grid = document.createElement("div");
  grid.className = "cnn-grid";
  const size = Math.max(m.rows, m.cols) <= 6 ? 2.4 : 1.9;
  grid.style.cssText =
    `display:grid; grid-template-columns:repeat(${m.cols}, ${size}em); ` +
    `grid-auto-rows:${size}em; gap:1px; background:#999; border:1px solid #999;`;
  const lim = maxAbs(m);
  const signed = m.data.some((v) => v < 0);
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < m.cols; j++) {
      const v = at(m, i, j);
      const cell = document.createElement("div");
      cell.className = "cnn-cell";
      cell.dataset.value = String(v);
      cell.textContent = formatNumber(v);
      const background = cellColour(v, lim, signed);
      const inWindow = window && i >= window[0] && i < window[0] + window[2] && j >= window[1] && j < window[1] + window[3];
      cell.style.cssText =
        `display:flex; align-items:center; justify-content:center; font-size:${size * 0.36}em; ` +
        `background:${background}; color:${readableOn(background)};` +
        (inWindow ? ` box-shadow: inset 0 0 0 2px ${ORANGE};` : "");
      grid.append(cell);
    }
  }
  return grid;
}

/** A large matrix as an image: grey levels, or blue/white/red around zero when signed
 * (clipped at the 99.5th percentile of |v|, as viz.draw_image does). */
function imageCanvas(m, signed) {
  const canvas = document.createElement("canvas");
  canvas.className = "cnn-image";
  canvas.width = m.cols;
  canvas.height = m.rows;
  // the same scale for every panel, so a smaller output looks smaller
  canvas.style.cssText = `width:${Math.round(1.25 * m.cols)}px; max-width:100%; image-rendering:pixelated;`;
  const ctx = canvas.getContext("2d");
  const pixels = ctx.createImageData(m.cols, m.rows);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of m.data) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  const lim = signed ? percentileAbs(m.data, 99.5) || maxAbs(m) : 0;
  m.data.forEach((v, k) => {
    let rgb;
    if (signed) {
      rgb = cellColour(v, lim, true).slice(4, -1).split(",").map(Number);
    } else {
      const g = Math.round((255 * (v - lo)) / (hi - lo || 1));
      rgb = [g, g, g];
    }
    pixels.data.set([...rgb, 255], 4 * k);
  });
  ctx.putImageData(pixels, 0, 0);
  return canvas;
}

function percentileAbs(values, q) {
  const sorted = Array.from(values, Math.abs).sort((a, b) => a - b);
  const pos = ((sorted.length - 1) * q) / 100; // linear interpolation, NumPy's default
  const below = Math.floor(pos);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (pos - below);
}

/** The explorer's area: panels in a row that wraps on narrow screens, a caption below.
 * Returns {panels, caption, show(result, panelList, html), fail(error)}. */
function liveArea(el) {
  const root = document.createElement("div");
  root.className = "cnn-live";
  const panels = document.createElement("div");
  panels.className = "cnn-panels";
  panels.style.cssText = "display:flex; flex-wrap:wrap; align-items:flex-start; max-width:100%; overflow-x:auto;";
  const caption = document.createElement("div");
  caption.className = "cnn-caption";
  // a live region: screen readers read the new caption after each change of a control
  caption.setAttribute("role", "status");
  caption.setAttribute("aria-live", "polite");
  root.append(panels, caption);
  el.append(root);
  return {
    /** Draw a new state; `result` stays on the root element for tests (root.cnnResult). */
    show(result, panelList, html) {
      root.cnnResult = result;
      root.dataset.error = "";
      panels.style.opacity = 1;
      panels.replaceChildren(...panelList);
      caption.innerHTML = html;
    },
    fail(error) {
      root.cnnResult = null;
      root.dataset.error = error.message;
      panels.style.opacity = 0.3; // the last figure stays, faded: it no longer matches the controls
      caption.innerHTML = "";
      const message = document.createElement("span");
      message.style.color = "#b00020";
      message.textContent = `\u26a0 ${error.message}`;
      caption.append(message);
    },
  };
}

/** Call redraw now and whenever one of the model's `names` changes. */
function watch(model, names, redraw) {
  for (const name of names) model.on(`change:${name}`, redraw);
  redraw();
  return () => names.forEach((name) => model.off(`change:${name}`, redraw));
}

/** A matrix in words for a screen reader: its size, then its rows when it is small
 * ("3×3: 1 0 -1; 2 0 -2; 1 0 -1"), else the range of its values. */
function describeMatrix(m) {
  const size = `${m.rows}×${m.cols}`;
  if (m.rows * m.cols <= 36) {
    const rows = Array.from({ length: m.rows }, (_, i) =>
      Array.from({ length: m.cols }, (_, j) => formatNumber(at(m, i, j))).join(" "),
    );
    return `${size}: ${rows.join("; ")}`;
  }
  let [lo, hi] = [Infinity, -Infinity];
  for (const v of m.data) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  return `${size}, values from ${formatG3(lo)} to ${formatG3(hi)}`;
}

/** Small inputs as numbered cells, large ones as images (explorers' _small() in Python). */
function drawArray(m, window, signed = false) {
  return Math.max(m.rows, m.cols) <= 12 ? numberGrid(m, window) : imageCanvas(m, signed);
}

/** A line plot as SVG: `xs`, `ys` equally long; y on a log10 scale when `logY`. Axes at
 * zero are drawn when they fall inside the plot. */
function linePlot(xs, ys, { colour = "#1f77b4", logY = false, markers = false } = {}) {
  const [width, height, pad] = [240, 170, 8];
  const values = logY ? ys.map((v) => Math.log10(v)) : Array.from(ys);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...values), Math.max(...values)];
  if (y1 - y0 < 1e-12) [y0, y1] = [y0 - 1, y1 + 1];
  const margin = 0.05 * (y1 - y0);
  [y0, y1] = [y0 - margin, y1 + margin];
  const px = (x) => pad + ((x - x0) / (x1 - x0 || 1)) * (width - 2 * pad);
  const py = (y) => height - pad - ((y - y0) / (y1 - y0)) * (height - 2 * pad);
  const svgNS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "cnn-plot");
  svg.style.cssText = `width:${width}px; max-width:100%; background:white; border:1px solid #ccc;`;
  const line = (attrs) => {
    const el = document.createElementNS(svgNS, attrs.points ? "polyline" : "line");
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    svg.append(el);
  };
  if (!logY && y0 < 0 && y1 > 0) line({ x1: pad, x2: width - pad, y1: py(0), y2: py(0), stroke: "#888" });
  if (x0 < 0 && x1 > 0) line({ x1: px(0), x2: px(0), y1: pad, y2: height - pad, stroke: "#888" });
  const points = xs.map((x, i) => `${px(x).toFixed(1)},${py(values[i]).toFixed(1)}`).join(" ");
  line({ points, fill: "none", stroke: colour, "stroke-width": 2 });
  if (markers) {
    xs.forEach((x, i) => {
      const dot = document.createElementNS(svgNS, "circle");
      for (const [k, v] of Object.entries({ cx: px(x), cy: py(values[i]), r: 2, fill: colour })) {
        dot.setAttribute(k, v);
      }
      svg.append(dot);
    });
  }
  return svg;
}
