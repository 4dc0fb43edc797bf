// The feature-map viewer (cnncourse.widgets.FeatureMapViewer): Python computes every
// layer's maps once and sends them as 8-bit levels per map; this draws the chosen layer
// for the chosen image whenever the layer or the image changes.

function base64Bytes(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** The bytes of base64 text holding zlib-compressed data (Python's zlib.compress). */
async function inflateBase64(text) {
  const stream = new Blob([base64Bytes(text)]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Map k of image n of one layer's quantise_maps() as {rows, cols, data} with its real
 * values, lo + level / 255 * (hi - lo), and its 8-bit levels. */
function decodeMap(encoded, bytes, n, k) {
  const [, channels, rows, cols] = encoded.shape;
  const [lo, hi] = [encoded.lo[n][k], encoded.hi[n][k]];
  const start = (n * channels + k) * rows * cols;
  const levels = bytes.subarray(start, start + rows * cols);
  const map = makeMatrix(rows, cols, Float64Array.from(levels, (q) => lo + (q / 255) * (hi - lo)));
  return { ...map, levels, lo, hi };
}

/** An (H, W) map drawn through a 256-colour table, as imshow draws it (its own min..max). */
function levelCanvas(map, colours, size) {
  const canvas = document.createElement("canvas");
  canvas.className = "cnn-image";
  [canvas.width, canvas.height] = [map.cols, map.rows];
  canvas.style.cssText = `width:${size}px; image-rendering:pixelated;`;
  canvas.title = `${formatG3(map.lo)} to ${formatG3(map.hi)}`;
  const ctx = canvas.getContext("2d");
  const pixels = ctx.createImageData(map.cols, map.rows);
  map.levels.forEach((q, i) => pixels.data.set([...colours.subarray(3 * q, 3 * q + 3), 255], 4 * i));
  ctx.putImageData(pixels, 0, 0);
  return canvas;
}

/** Image n of the batch (8-bit levels, (N, H, W, C)): grey when C is 1 (scaled to its
 * own range, as imshow does), else the first three channels as RGB; drawn at least as
 * large as a map, since the images are small (28×28 digits). */
function inputCanvas(images, bytes, n) {
  const [, rows, cols, channels] = images.shape;
  const image = bytes.subarray(n * rows * cols * channels, (n + 1) * rows * cols * channels);
  let canvas;
  if (channels === 1) {
    canvas = imageCanvas(makeMatrix(rows, cols, Float64Array.from(image, (q) => q / 255)), false);
  } else {
    canvas = document.createElement("canvas");
    canvas.className = "cnn-image";
    [canvas.width, canvas.height] = [cols, rows];
    canvas.style.imageRendering = "pixelated";
    const ctx = canvas.getContext("2d");
    const pixels = ctx.createImageData(cols, rows);
    for (let i = 0; i < rows * cols; i++) {
      pixels.data.set([...image.subarray(i * channels, i * channels + 3), 255], 4 * i);
    }
    ctx.putImageData(pixels, 0, 0);
  }
  canvas.style.width = `${Math.min(160, Math.max(96, 4 * cols))}px`;
  return canvas;
}

/** The maps as a grid of titled images, at most 8 a row (viz.draw_feature_maps). */
function mapGrid(maps, colours) {
  const grid = document.createElement("div");
  grid.className = "cnn-map-grid";
  const size = Math.max(40, Math.min(96, 3 * maps[0].cols));
  grid.style.cssText = `display:grid; grid-template-columns:repeat(${Math.min(maps.length, 8)}, auto); gap:4px;`;
  maps.forEach((map, k) => {
    const cell = panel(String(k), levelCanvas(map, colours, size), `map ${k}, ${describeMatrix(map)}`);
    cell.style.margin = "0";
    cell.firstChild.style.cssText = "font-size:0.7em; margin:0; padding:0;";
    grid.append(cell);
  });
  return grid;
}

function render({ model, el }) {
  const area = liveArea(el);
  const colours = base64Bytes(model.get("colours"));
  const images = model.get("images");
  const imageBytes = base64Bytes(images.data);
  const layerBytes = new Map(); // layer name -> its levels, decompressed on first view
  let drawn = 0; // the latest redraw wins when decompressing makes them finish out of order
  const redraw = async () => {
    const ticket = ++drawn;
    try {
      const layer = model.get("layers")[model.get("layer")];
      const n = model.get("image");
      if (!layerBytes.has(layer.name)) layerBytes.set(layer.name, inflateBase64(layer.maps.data));
      const bytes = await layerBytes.get(layer.name);
      if (ticket !== drawn) return;
      const [h, w, c] = layer.shape;
      const shown = layer.maps.shape[1];
      const maps = Array.from({ length: shown }, (_, k) => decodeMap(layer.maps, bytes, n, k));
      const values = new Float64Array(shown * h * w);
      maps.forEach((map, k) => values.set(map.data, k * h * w));
      const more = shown < c ? ` (first ${shown} shown)` : "";
      area.show(
        { layer: layer.name, image: n, shape: [h, w, c], maps: values },
        [
          panel("input", inputCanvas(images, imageBytes, n), `input image ${n}`),
          panel(`${layer.name}: ${c} feature maps of ${h}×${w}`, mapGrid(maps, colours), null),
        ],
        `output of <b>${layer.name}</b>: shape (${h}, ${w}, ${c}) &mdash; one map per filter${more}; ` +
          "bright = strong response",
      );
    } catch (error) {
      area.fail(error);
    }
  };
  return watch(model, ["layer", "image"], redraw);
}

export default { render };
