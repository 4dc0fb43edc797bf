// Names for the handles of ipywidgets' sliders (IntSlider, FloatSlider, ...), which a
// screen reader otherwise announces as "slider" with no name (WCAG 4.1.2): each handle is
// tied to its widget's visible description, or gets the widget's tooltip when it has none.
// Sliders appear when the embed manager renders the widgets, after the page has loaded, so
// new ones are looked for whenever the page changes.
(function () {
  let counter = 0;

  function name(handle) {
    const slider = handle.closest(".widget-slider, .jupyter-widget-slider");
    if (!slider) return;
    const label = slider.querySelector(".widget-label");
    if (label && label.textContent.trim()) {
      if (!label.id) label.id = `cnn-slider-label-${++counter}`;
      handle.setAttribute("aria-labelledby", label.id);
    } else if (slider.title) {
      handle.setAttribute("aria-label", slider.title);
    }
  }

  // only the handles not named yet: the page changes often while MathJax typesets
  const nameAll = () =>
    document.querySelectorAll(".noUi-handle:not([aria-label]):not([aria-labelledby])").forEach(name);
  new MutationObserver(nameAll).observe(document.documentElement, { childList: true, subtree: true });
})();
