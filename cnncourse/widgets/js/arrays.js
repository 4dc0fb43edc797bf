// Arrays for the explorers' modules. cnncourse/widgets/live.py puts this file, draw.js
// and one explorer's file together into the widget's ES module, so everything here is a
// plain function: no imports, no exports.

/** A 2-D array of float64 in row-major order. */
function makeMatrix(rows, cols, data = new Float64Array(rows * cols)) {
  return { rows, cols, data };
}

function at(m, i, j) {
  return m.data[i * m.cols + j];
}

/** An array of InputPicker.encoded_inputs(): photos come as 8-bit levels, read as
 * level / 255 exactly as Python reads them. */
function decodeInput({ shape, dtype, data }) {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const values = dtype === "uint8" ? Array.from(bytes, (b) => b / 255) : new Float32Array(bytes.buffer);
  return makeMatrix(shape[0], shape[1], Float64Array.from(values));
}

/** Rows of numbers separated by spaces or commas, one row per line, as
 * parse_matrix() in inputs.py reads them. Throws an Error a reader can act on. */
function parseMatrix(text) {
  const rows = text
    .split(/\r?\n/)
    .filter((line) => line.trim())
    .map((line) => line.replace(/,/g, " ").trim().split(/\s+/));
  if (!rows.length) throw new Error("the matrix is empty: type rows of numbers, one row per line");
  const lengths = rows.map((row) => row.length);
  if (new Set(lengths).size !== 1) {
    throw new Error(`every row needs the same number of values; got row lengths [${lengths.join(", ")}]`);
  }
  const words = rows.flat();
  const bad = words.find((word) => !Number.isFinite(Number(word)));
  if (bad !== undefined) throw new Error(`the matrix must hold numbers only ('${bad}' is not a number)`);
  return makeMatrix(rows.length, lengths[0], Float64Array.from(words, Number));
}

/** The name of the chosen input ("the typed matrix", "the photo: coins"), for descriptions. */
function inputName(model) {
  const name = model.get("input_names")[model.get("source")] || "the input";
  return name.startsWith("your ") ? name : `the ${name}`;
}

/** The explorer's input (H, W): the typed matrix, or the array of the chosen source. */
function currentInput(model) {
  const entry = model.get("inputs")[model.get("source")];
  return entry === null ? parseMatrix(model.get("matrix")) : decodeInput(entry);
}

/** floor((size + padTotal - kernel) / stride) + 1, with the error message of
 * cnncourse.nn.validation.output_size when the window does not fit. */
function outputSize(size, kernel, stride, padTotal, axis) {
  const padded = size + padTotal;
  if (kernel > padded) {
    throw new Error(
      `the window (${kernel}) is larger than the padded input (${padded} = ${size} + ` +
        `padding ${padTotal}) along ${axis}; use a smaller kernel or more padding`,
    );
  }
  return Math.floor((padded - kernel) / stride) + 1;
}
