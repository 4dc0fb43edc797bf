// The convolution explorer (cnncourse.widgets.ConvolutionExplorer): slides a kernel over
// the input with a stride and padding, recomputed here in the browser whenever a control
// changes. The kernel's weights are edited here too: in the static book no kernel could
// rebuild Python's cells when the size or the preset changes.

/** A K x K preset centred in a size x size array of zeros, or cropped to it (fit_kernel
 * in convolution.py). */
function fitKernel(kernel, size) {
  const k = kernel.length;
  const out = makeMatrix(size, size);
  const offset = Math.abs(size - k) >> 1;
  for (let i = 0; i < Math.min(k, size); i++) {
    for (let j = 0; j < Math.min(k, size); j++) {
      const [from, to] = k <= size ? [[i, j], [i + offset, j + offset]] : [[i + offset, j + offset], [i, j]];
      out.data[to[0] * size + to[1]] = kernel[from[0]][from[1]];
    }
  }
  return out;
}

/** Keras' "same" padding along one axis: [before, after] for an output of ceil(n / s). */
function samePadding(n, k, s) {
  const total = Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
  return [total >> 1, total - (total >> 1)];
}

/** [top, bottom, left, right] for "valid", "same" or a number of zeros on every side. */
function resolvePadding(padding, x, k, s) {
  if (padding === "valid") return [0, 0, 0, 0];
  if (padding === "same") return [...samePadding(x.rows, k, s), ...samePadding(x.cols, k, s)];
  return [padding, padding, padding, padding];
}

function padMatrix(x, [top, bottom, left, right]) {
  const out = makeMatrix(x.rows + top + bottom, x.cols + left + right);
  for (let i = 0; i < x.rows; i++) {
    out.data.set(x.data.subarray(i * x.cols, (i + 1) * x.cols), (i + top) * out.cols + left);
  }
  return out;
}

/** Cross-correlation of the padded input with the kernel, as conv2d_forward computes it
 * (what deep learning calls convolution): out[i, j] = sum of window * kernel. */
function correlate(xp, kernel, stride) {
  const k = kernel.rows;
  const out = makeMatrix(outputSize(xp.rows, k, stride, 0, "height"), outputSize(xp.cols, k, stride, 0, "width"));
  for (let i = 0; i < out.rows; i++) {
    for (let j = 0; j < out.cols; j++) {
      let sum = 0;
      for (let a = 0; a < k; a++) {
        for (let b = 0; b < k; b++) sum += at(xp, i * stride + a, j * stride + b) * at(kernel, a, b);
      }
      out.data[i * out.cols + j] = sum;
    }
  }
  return out;
}

function flipped(kernel) {
  return makeMatrix(kernel.rows, kernel.cols, kernel.data.slice().reverse());
}

/** The weights as number boxes; typing one calls onEdit(index, value). */
function kernelEditor(values, size, onEdit) {
  const grid = document.createElement("div");
  grid.className = "cnn-kernel-editor";
  // the boxes shrink on a phone rather than push the page wider
  grid.style.cssText =
    `display:grid; grid-template-columns:repeat(${size}, minmax(0, 4.5em)); gap:2px; ` +
    "max-width:100%; margin:0.3em 0 0.6em min(90px, 8%);";
  values.forEach((v, index) => {
    const box = document.createElement("input");
    box.type = "number";
    box.step = "any";
    box.value = String(Math.round(v * 1e4) / 1e4); // the cells show 4 decimals, the maths uses all
    box.setAttribute("aria-label", `kernel weight row ${Math.floor(index / size) + 1}, column ${(index % size) + 1}`);
    box.style.cssText = "width:100%; box-sizing:border-box;";
    box.addEventListener("change", () => {
      if (box.value.trim() !== "" && Number.isFinite(Number(box.value))) onEdit(index, Number(box.value));
    });
    grid.append(box);
  });
  return grid;
}

function render({ model, el }) {
  const editorSlot = document.createElement("div");
  el.append(editorSlot);
  const area = liveArea(el);
  const presets = () => model.get("presets"); // [[name, K x K rows], ...], then "custom"
  const isCustom = () => model.get("preset") >= presets().length;
  const size = () => model.get("sizes")[model.get("size")];
  const presetKernel = () => fitKernel(presets()[model.get("preset")][1], size());

  const setKernel = (values) => {
    model.set("kernel", Array.from(values));
    model.save_changes();
  };
  // A preset fills the weights, growing the kernel to 5x5 if the preset needs it.
  const onPreset = () => {
    if (isCustom()) return;
    const needed = presets()[model.get("preset")][1].length;
    if (needed > size()) model.set("size", model.get("sizes").indexOf(needed));
    setKernel(presetKernel().data);
  };
  // A new size keeps the weights, centred in zeros or cropped.
  const onSize = () => {
    if (isCustom()) {
      const old = model.get("kernel");
      const k = Math.round(Math.sqrt(old.length));
      const rows = Array.from({ length: k }, (_, i) => old.slice(i * k, (i + 1) * k));
      setKernel(fitKernel(rows, size()).data);
    } else {
      setKernel(presetKernel().data);
    }
  };
  // Typing a weight that differs from the preset makes the kernel "custom".
  const onEdit = (index, value) => {
    const values = model.get("kernel").slice();
    values[index] = value;
    if (!isCustom() && Math.abs(value - presetKernel().data[index]) > 1e-4) {
      model.set("preset", presets().length);
    }
    setKernel(values);
  };

  const redraw = () => {
    const k = size();
    // the exact preset (the boxes show it rounded), or the weights typed in
    const weights = isCustom() ? model.get("kernel") : presetKernel().data;
    if (weights.length !== k * k) return; // the size just changed; the new weights follow at once
    editorSlot.replaceChildren(kernelEditor(weights, k, onEdit));
    try {
      const x = currentInput(model);
      let kernel = makeMatrix(k, k, Float64Array.from(weights));
      if (model.get("flip")) kernel = flipped(kernel);
      const stride = model.get("stride");
      const pads = resolvePadding(model.get("paddings")[model.get("padding")], x, k, stride);
      const xp = padMatrix(x, pads);
      const out = correlate(xp, kernel, stride);
      const small = Math.max(xp.rows, xp.cols) <= 12;
      const signed = out.data.some((v) => v < 0);
      const padded = pads.some((p) => p > 0) ? `, padded to ${xp.rows}×${xp.cols}` : "";
      const kernelName = isCustom() ? "custom" : presets()[model.get("preset")][0];
      const source = inputName(model);
      const described = {
        input: `input, ${source}${padded}, ${describeMatrix(xp)}`,
        kernel: `${kernelName} kernel${model.get("flip") ? ", flipped" : ""}, ${describeMatrix(kernel)}`,
        output: `output ${describeMatrix(out)}, of the ${kernelName} kernel on ${source}`,
      };
      const panels = small
        ? [
            panel(`input ${x.rows}×${x.cols}${padded}`, numberGrid(xp, [0, 0, k, k]), described.input),
            panel(`kernel ${k}×${k}`, numberGrid(kernel), described.kernel),
            panel(`output ${out.rows}×${out.cols}`, numberGrid(out, [0, 0, 1, 1]), described.output),
          ]
        : [
            panel(`input ${x.rows}×${x.cols}`, imageCanvas(x, false), described.input),
            panel(`kernel ${k}×${k}`, numberGrid(kernel), described.kernel),
            panel(`output ${out.rows}×${out.cols}`, imageCanvas(out, signed), described.output),
          ];
      const sides = [
        ["height", x.rows, pads[0] + pads[1], out.rows],
        ["width", x.cols, pads[2] + pads[3], out.cols],
      ].map(([axis, n, pad, o]) => `${axis}: ⌊(${n} + ${pad} − ${k}) / ${stride}⌋ + 1 = <b>${o}</b>`);
      const note = small
        ? "the orange window times the kernel, summed, gives the orange output"
        : signed
          ? "blue: negative response, red: positive"
          : "";
      area.show(
        { input: x, kernel, output: out, pads },
        panels,
        `output size ⌊(n + padding − k) / stride⌋ + 1 &mdash; ${sides.join("; ")}` +
          (note ? `<br><i>${note}</i>` : ""),
      );
    } catch (error) {
      area.fail(error);
    }
  };

  model.on("change:preset", onPreset);
  model.on("change:size", onSize);
  const stop = watch(model, ["source", "matrix", "preset", "size", "kernel", "flip", "stride", "padding"], redraw);
  return () => {
    model.off("change:preset", onPreset);
    model.off("change:size", onSize);
    stop();
  };
}

export default { render };
