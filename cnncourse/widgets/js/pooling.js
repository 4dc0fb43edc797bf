// The pooling explorer (cnncourse.widgets.PoolingExplorer): max, average or sum pooling,
// recomputed here in the browser whenever a control changes.

const POOLING_NAMES = { max: "max", avg: "average", sum: "sum" };

/** Pool x (H, W) with a k x k window moved by `stride` -> (OH, OW), as
 * cnncourse.nn.functional.pool_forward does (no padding). */
function pool(x, k, stride, mode) {
  const out = makeMatrix(outputSize(x.rows, k, stride, 0, "height"), outputSize(x.cols, k, stride, 0, "width"));
  for (let i = 0; i < out.rows; i++) {
    for (let j = 0; j < out.cols; j++) {
      let max = -Infinity;
      let sum = 0;
      for (let a = 0; a < k; a++) {
        for (let b = 0; b < k; b++) {
          const v = at(x, i * stride + a, j * stride + b);
          max = Math.max(max, v);
          sum += v;
        }
      }
      out.data[i * out.cols + j] = mode === "max" ? max : mode === "avg" ? sum / (k * k) : sum;
    }
  }
  return out;
}

function render({ model, el }) {
  const area = liveArea(el);
  return watch(model, ["source", "matrix", "mode", "pool_size", "stride"], () => {
    try {
      const x = currentInput(model);
      const mode = model.get("modes")[model.get("mode")];
      const [k, stride] = [model.get("pool_size"), model.get("stride")];
      const out = pool(x, k, stride, mode);
      const share = Math.round((100 * out.rows * out.cols) / (x.rows * x.cols));
      area.show(
        { input: x, output: out },
        [
          panel(`input ${x.rows}×${x.cols}`, drawArray(x, [0, 0, k, k]), `input, ${inputName(model)}, ${describeMatrix(x)}`),
          panel(
            `${POOLING_NAMES[mode]} pooled ${out.rows}×${out.cols}`,
            drawArray(out, [0, 0, 1, 1]),
            `${POOLING_NAMES[mode]} pooled with a ${k}×${k} window and stride ${stride}, ${describeMatrix(out)}`,
          ),
        ],
        `${x.rows * x.cols} values in, ${out.rows * out.cols} out (${share}% of the memory and of the ` +
          `work for the next layer); output side ⌊(${x.rows} − ${k}) / ${stride}⌋ + 1 = <b>${out.rows}</b>`,
      );
    } catch (error) {
      area.fail(error);
    }
  });
}

export default { render };
