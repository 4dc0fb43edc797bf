// Loaded on pages with widgets, after require.js and before the ipywidgets embed manager.
(function () {
  // 1. Tell RequireJS that the embed manager's modules live in _static/html-manager/, so the
  //    fonts each module loads relative to itself come from the book, not the page's folder.
  var here = document.currentScript.src.replace(/[^/]*$/, "");
  require.config({ paths: {
    "@jupyter-widgets/html-manager/dist": here + "html-manager",
    "@jupyter-widgets": here + "html-manager",
    // anywidget's front end (`make vendor`), which draws the live explorers
    "anywidget": here + "anywidget/index",
  } });

  // 2. ipywidgets typesets labels with MathJax 2's MathJax.Hub.Queue; the book serves
  //    MathJax 3, so give it that one entry point, before and after MathJax 3 starts.
  var hub = { Queue: function (job) {
    var el = job[job.length - 1];
    if (window.MathJax && window.MathJax.typesetPromise && el instanceof Element) {
      window.MathJax.typesetPromise([el]).catch(function () {});
    }
  } };
  var mj = window.MathJax = window.MathJax || {};
  if (!mj.version) {
    mj.Hub = hub;
    mj.startup = mj.startup || {};
    var ready = mj.startup.ready;
    mj.startup.ready = function () {
      if (ready) { ready(); } else { window.MathJax.startup.defaultReady(); }
      window.MathJax.Hub = hub;
    };
  } else {
    mj.Hub = hub;
  }
})();
