// Fits each slide's content to the slide, the way a lecturer would by hand: display
// maths, code and tables that are too wide get smaller type (down to MIN_SCALE), figures
// grow into the free height or shrink until everything fits (down to MIN_FIGURE pixels),
// and a slide still too tall gets smaller type overall (down to MIN_TEXT). Sizes are
// layout pixels of the unscaled slide (reveal.js scales the frame).
var MIN_SCALE = 0.55;
var MIN_TEXT = 0.7;
var MIN_FIGURE = 140;
var MAX_FIGURE = 560;

function contentBottom(slide) {
  var bottom = 0;
  Array.prototype.forEach.call(slide.children, function (child) {
    if (child.matches("aside.notes")) return;
    bottom = Math.max(bottom, child.offsetTop + child.offsetHeight);
  });
  return bottom;
}

function shrinkWide(element, inner) {
  var needed = inner.scrollWidth, room = element.clientWidth;
  if (needed > room + 1) {
    element.style.fontSize = Math.max(MIN_SCALE, room / needed) * 100 + "%";
  }
}

function fitSlide(slide, height) {
  if (!slide || slide.dataset.fitted) return;
  slide.dataset.fitted = "yes";
  slide.querySelectorAll('mjx-container[display="true"]').forEach(function (maths) {
    shrinkWide(maths, maths);
  });
  slide.querySelectorAll("pre, table").forEach(function (block) {
    block.style.whiteSpace = block.tagName === "PRE" ? "pre" : "";
    shrinkWide(block, block);
    if (block.scrollWidth > block.clientWidth + 1 && block.tagName === "PRE") {
      block.style.whiteSpace = "pre-wrap";  // still too wide: wrap rather than cut
    }
  });
  fitFigures(slide, height);
  for (var scale = 0.95; contentBottom(slide) > height - 16 && scale >= MIN_TEXT; scale -= 0.05) {
    slide.style.fontSize = scale * 100 + "%";
  }
}

function fitFigures(slide, height) {
  var figures = Array.prototype.filter.call(slide.querySelectorAll(".jp-RenderedImage img"), function (img) {
    return img.naturalWidth > 0;
  });
  if (!figures.length) return;
  var width = slide.clientWidth - 48;
  var widest = figures.map(function (img) {  // the height at which the figure fills the width
    return Math.min(MAX_FIGURE, width * img.naturalHeight / img.naturalWidth);
  });
  figures.forEach(function (img, i) { img.style.maxHeight = "none"; img.style.height = widest[i] + "px"; });
  var room = height - 16;
  var excess = contentBottom(slide) - room;
  if (excess > 0) {
    var total = widest.reduce(function (a, b) { return a + b; }, 0);
    figures.forEach(function (img, i) {
      img.style.height = Math.max(MIN_FIGURE, widest[i] - excess * widest[i] / total) + "px";
    });
  }
}

function fitDeck(reveal, height) {
  fitSlide(reveal.getCurrentSlide(), height);
  reveal.on("slidechanged", function (event) { fitSlide(event.currentSlide, height); });
  if (reveal.isPrintView && reveal.isPrintView()) {
    reveal.getSlides().forEach(function (slide) { fitSlide(slide, height); });
  }
  reveal.layout();
}
