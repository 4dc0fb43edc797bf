// A figure drawn by the kernel (cnncourse.widgets.accessible.DescribedImage): PNG bytes
// shown as an <img> whose alternative text is redrawn with it.

function render({ model, el }) {
  const img = document.createElement("img");
  img.className = "cnn-figure";
  img.style.cssText = "max-width:100%; height:auto;";
  let url = null;
  const update = () => {
    const bytes = model.get("value");
    if (url) URL.revokeObjectURL(url);
    url = bytes && bytes.byteLength ? URL.createObjectURL(new Blob([bytes], { type: "image/png" })) : null;
    if (url) img.src = url;
    else img.removeAttribute("src");
    img.alt = model.get("alt");
  };
  model.on("change:value", update);
  model.on("change:alt", update);
  update();
  el.append(img);
  return () => {
    model.off("change:value", update);
    model.off("change:alt", update);
    if (url) URL.revokeObjectURL(url);
  };
}

export default { render };
