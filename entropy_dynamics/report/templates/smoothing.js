// The smoothing slider: recompute every smoothed trace (meta.smooth_of = its raw trace's uid) as the
// debiased, step-aware EMA of entropy_dynamics/report/smoothing.py, and restyle the plots.
(function () {
  "use strict";
  var DTYPES = {f4: Float32Array, f8: Float64Array, i1: Int8Array, u1: Uint8Array, i2: Int16Array,
                u2: Uint16Array, i4: Int32Array, u4: Uint32Array};

  function numbers(v) {  // plotly.py ships numpy arrays as {dtype, bdata: base64}
    if (v && v.bdata !== undefined) {
      var bytes = Uint8Array.from(atob(v.bdata), function (c) { return c.charCodeAt(0); });
      return new DTYPES[v.dtype](bytes.buffer);
    }
    return v;
  }

  function ema(x, y, weight, gap) {
    var out = new Array(y.length), num = 0, den = 0;
    for (var i = 0; i < y.length; i++) {
      var decay = i === 0 ? 0 : Math.pow(weight, (x[i] - x[i - 1]) / gap);
      num = decay * num + y[i];
      den = decay * den + 1;
      out[i] = num / den;
    }
    return out;
  }

  function smooth(weight) {
    document.querySelectorAll(".js-plotly-plot").forEach(function (gd) {
      var byUid = {}, indices = [], ys = [];
      gd.data.forEach(function (t) { if (t.uid) byUid[t.uid] = t; });
      gd.data.forEach(function (t, i) {
        if (!t.meta || t.meta.smooth_of === undefined) return;
        var raw = byUid[t.meta.smooth_of];
        if (!raw) return;
        indices.push(i);
        ys.push(ema(numbers(raw.x), numbers(raw.y), weight, t.meta.gap));
      });
      if (indices.length) Plotly.restyle(gd, {y: ys}, indices);
    });
  }

  window.edSmooth = smooth;
  document.addEventListener("DOMContentLoaded", function () {
    var slider = document.getElementById("smoothing");
    if (!slider) return;
    var shown = document.getElementById("smoothing-value"), pending = null;
    slider.addEventListener("input", function () {
      shown.textContent = Number(slider.value).toFixed(2);
      if (pending !== null) cancelAnimationFrame(pending);
      pending = requestAnimationFrame(function () { pending = null; smooth(Number(slider.value)); });
    });
  });
})();
