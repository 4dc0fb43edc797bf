// HTML that a screen reader announces when it changes (cnncourse.widgets.accessible.AnnouncedHTML):
// an explorer's caption, a quiz's feedback. The kernel writes it; it is shown in a live region.

function render({ model, el }) {
  const box = document.createElement("div");
  box.className = "cnn-announced";
  box.setAttribute("role", "status");
  box.setAttribute("aria-live", "polite");
  const update = () => {
    box.innerHTML = model.get("value");
  };
  model.on("change:value", update);
  update();
  el.append(box);
  return () => model.off("change:value", update);
}

export default { render };
