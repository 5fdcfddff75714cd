// The app's preprocessing of a canvas drawing (core/images/preprocess.py, to_mnist with invert=False), in the
// browser: crop to the ink, bring the strokes to MNIST's width at 80 px, shrink into 20x20 by area averaging,
// centre by the centre of mass in 28x28. Each step follows the Python one (PIL's BOX and BILINEAR resampling,
// scipy's distance transform, grey dilation and shift), so the live reading is the server's reading:
// tests/test_live_reading.py holds the two together on the UNIPEN development digits.

const FIT_BOX = 20;
const FRAME = 28;
const MNIST_STROKE_80 = 11.3;

// Python's round(): halves to the even neighbour
const roundHalfEven = (v) => {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

// A float image: {w, h, a: Float64Array(w * h)}, row-major.
const image = (w, h) => ({ w, h, a: new Float64Array(w * h) });

export function percentile(values, q) {
  // numpy's default (linear) percentile of an array of numbers
  const v = Float64Array.from(values).sort();
  const pos = (v.length - 1) * q / 100;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

// --- PIL's resampling (Resample.c): separable, horizontal pass then vertical ---
const box = (x) => (x > -0.5 && x <= 0.5 ? 1.0 : 0.0);
const triangle = (x) => { x = Math.abs(x); return x < 1.0 ? 1.0 - x : 0.0; };

function coefficients(inSize, outSize, filter, support) {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1.0);
  const reach = support * filterscale;
  const out = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - reach + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + reach + 0.5), inSize);
    const k = [];
    let total = 0;
    for (let x = xmin; x < xmax; x++) {
      const w = filter((x - center + 0.5) / filterscale);
      k.push(w);
      total += w;
    }
    out.push({ xmin, k: total !== 0 ? k.map((w) => w / total) : k });
  }
  return out;
}

export function resize(img, w, h) {
  // PIL Image.resize of a mode "F" image: BOX when shrinking either side, else BILINEAR (preprocess._resize)
  const shrinking = w < img.w || h < img.h;
  const [filter, support] = shrinking ? [box, 0.5] : [triangle, 1.0];
  let src = img;
  if (w !== img.w) {
    const cx = coefficients(img.w, w, filter, support);
    const mid = image(w, img.h);
    for (let y = 0; y < img.h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0;
        const { xmin, k } = cx[x];
        for (let i = 0; i < k.length; i++) s += img.a[y * img.w + xmin + i] * k[i];
        mid.a[y * w + x] = Math.fround(s);  // the intermediate image is float32, as PIL's
      }
    }
    src = mid;
  }
  if (h !== src.h) {
    const cy = coefficients(src.h, h, filter, support);
    const out = image(w, h);
    for (let y = 0; y < h; y++) {
      const { xmin, k } = cy[y];
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let i = 0; i < k.length; i++) s += src.a[(xmin + i) * w + x] * k[i];
        out.a[y * w + x] = Math.fround(s);
      }
    }
    src = out;
  }
  return src;
}

// --- scipy.ndimage ---
function edt1d(f, n, d, v, z) {
  // squared distance transform of one line, f -> d (Felzenszwalb and Huttenlocher); v, z: work space
  let k = 0;
  v[0] = 0; z[0] = -Infinity; z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    if (f[q] === Infinity) continue;
    if (f[v[k]] === Infinity) { v[k] = q; continue; }
    let s = ((f[q] + q * q) - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    while (s <= z[k]) {
      k--;
      s = ((f[q] + q * q) - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    }
    k++; v[k] = q; z[k] = s; z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    d[q] = f[v[k]] === Infinity ? Infinity : (q - v[k]) ** 2 + f[v[k]];
  }
}

export function strokeWidth(mask, w, h) {
  // preprocess.stroke_width: 4 x the mean distance from an ink pixel to the nearest background one
  const W = w + 2, H = h + 2, n = Math.max(W, H);  // padded: the outside is background
  const g = new Float64Array(W * H);
  let count = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (mask[y * w + x]) { g[(y + 1) * W + x + 1] = Infinity; count++; }
    }
  }
  if (!count) return 0;
  const line = new Float64Array(n), d = new Float64Array(n), v = new Int32Array(n), z = new Float64Array(n + 1);
  for (let x = 1; x <= w; x++) {  // the padding columns and rows are 0 throughout
    for (let y = 0; y < H; y++) line[y] = g[y * W + x];
    edt1d(line, H, d, v, z);
    for (let y = 0; y < H; y++) g[y * W + x] = d[y];
  }
  let total = 0;
  for (let y = 1; y <= h; y++) {
    const row = g.subarray(y * W, y * W + W);
    edt1d(row, W, d, v, z);
    for (let x = 1; x <= w; x++) if (mask[(y - 1) * w + x - 1]) total += Math.sqrt(d[x]);
  }
  return 4.0 * total / count;
}

export function widthBound(mask, w, h) {
  // An upper bound of strokeWidth, cheap: an ink pixel is no further from the background than half the shorter
  // of its horizontal and vertical runs of ink, so 4 x the mean distance is at most 2 x (that run + 1). Only a
  // drawing this bound cannot tell from a dot pays for the distance transform.
  const hrun = new Int32Array(w * h), vrun = new Int32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w;) {
      if (!mask[y * w + x]) { x++; continue; }
      let end = x;
      while (end < w && mask[y * w + end]) end++;
      for (let i = x; i < end; i++) hrun[y * w + i] = end - x;
      x = end;
    }
  }
  let most = 0;
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h;) {
      if (!mask[y * w + x]) { y++; continue; }
      let end = y;
      while (end < h && mask[end * w + x]) end++;
      for (let i = y; i < end; i++) most = Math.max(most, Math.min(hrun[i * w + x], end - y));
      y = end;
    }
  }
  return 2 * (most + 1);
}

function disk(radius) {
  const r = Math.ceil(radius), offsets = [];
  for (let dy = -r; dy <= r; dy++) {
    for (let dx = -r; dx <= r; dx++) if (dx * dx + dy * dy <= radius * radius + 0.5) offsets.push([dy, dx]);
  }
  return offsets;
}

const reflect = (i, n) => {
  // scipy's "reflect" mode: d c b a | a b c d | d c b a
  while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
  return i;
};

function greyMorphology(img, radius, pick) {
  const offsets = disk(radius), out = image(img.w, img.h);
  for (let y = 0; y < img.h; y++) {
    for (let x = 0; x < img.w; x++) {
      let best = pick === Math.max ? -Infinity : Infinity;
      for (const [dy, dx] of offsets) best = pick(best, img.a[reflect(y + dy, img.h) * img.w + reflect(x + dx, img.w)]);
      out.a[y * img.w + x] = best;
    }
  }
  return out;
}

function components(mask, w, h) {
  // 8-connected labels (ndimage.label with a 3x3 structure) and each label's size
  const labels = new Int32Array(w * h), sizes = [0];
  const stack = [];
  for (let start = 0; start < w * h; start++) {
    if (!mask[start] || labels[start]) continue;
    const id = sizes.length;
    let size = 0;
    labels[start] = id;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop(), py = Math.floor(p / w), px = p % w;
      size++;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const y = py + dy, x = px + dx, q = y * w + x;
          if (y >= 0 && y < h && x >= 0 && x < w && mask[q] && !labels[q]) { labels[q] = id; stack.push(q); }
        }
      }
    }
    sizes.push(size);
  }
  return { labels, sizes };
}

function dilateCross(mask, w, h, iterations) {
  // ndimage.binary_dilation with its default (cross) structure
  let cur = mask;
  for (let it = 0; it < iterations; it++) {
    const next = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = y * w + x;
        next[p] = cur[p] || (x > 0 && cur[p - 1]) || (x < w - 1 && cur[p + 1]) || (y > 0 && cur[p - w])
          || (y < h - 1 && cur[p + w]) ? 1 : 0;
      }
    }
    cur = next;
  }
  return cur;
}

function shiftLinear(img, dy, dx) {
  // ndimage.shift(order=1, mode="constant"): no interpolation beyond the edges
  const out = image(img.w, img.h);
  for (let y = 0; y < img.h; y++) {
    const sy = y - dy;
    if (sy < 0 || sy > img.h - 1) continue;
    const y0 = Math.floor(sy), fy = sy - y0, y1 = Math.min(y0 + 1, img.h - 1);
    for (let x = 0; x < img.w; x++) {
      const sx = x - dx;
      if (sx < 0 || sx > img.w - 1) continue;
      const x0 = Math.floor(sx), fx = sx - x0, x1 = Math.min(x0 + 1, img.w - 1);
      const a = img.a;
      out.a[y * img.w + x] = (1 - fy) * ((1 - fx) * a[y0 * img.w + x0] + fx * a[y0 * img.w + x1])
        + fy * ((1 - fx) * a[y1 * img.w + x0] + fx * a[y1 * img.w + x1]);
    }
  }
  return out;
}

// --- to_mnist for the canvas ---
export function canvasGray(rgba, w, h) {
  // preprocess.canvas_to_gray: mean of r, g, b times alpha, in [0, 1] (float32 as numpy's)
  const g = image(w, h);
  for (let i = 0; i < w * h; i++) {
    const r = Math.fround(rgba[4 * i] / 255), gg = Math.fround(rgba[4 * i + 1] / 255);
    const b = Math.fround(rgba[4 * i + 2] / 255), al = Math.fround(rgba[4 * i + 3] / 255);
    g.a[i] = Math.fround(Math.fround((Math.fround(r + gg) + b) / 3) * al);
  }
  return g;
}

// A 28x28 Float32Array for the network, or null when the drawing is empty (or a dot), or when its ink covers
// so much of the border that the server would first subtract a background (rare on a canvas: the server's
// answer at pen-up stands alone then).
export function toMnist(full) {
  const border = [];
  for (let x = 0; x < full.w; x++) border.push(full.a[x], full.a[(full.h - 1) * full.w + x]);
  for (let y = 0; y < full.h; y++) border.push(full.a[y * full.w], full.a[y * full.w + full.w - 1]);
  if (percentile(border, 80) > 0.03) return null;
  // Every step below leaves paper (0) as it is: work on the box around the ink only.
  let top0 = full.h, bottom0 = -1, left0 = full.w, right0 = -1, peak = 0;
  for (let y = 0; y < full.h; y++) {
    for (let x = 0; x < full.w; x++) {
      const v = full.a[y * full.w + x];
      if (v > 0) {
        if (y < top0) top0 = y;
        if (y > bottom0) bottom0 = y;
        if (x < left0) left0 = x;
        if (x > right0) right0 = x;
        if (v > peak) peak = v;
      }
    }
  }
  if (peak < 0.1) return null;
  const w = right0 - left0 + 1, h = bottom0 - top0 + 1;
  const gray = image(w, h);
  for (let y = 0; y < h; y++) gray.a.set(full.a.subarray((y + top0) * full.w + left0, (y + top0) * full.w + left0 + w), y * w);
  const strong = gray.a.filter((v) => v > 0.5 * peak);
  const p75 = percentile(strong, 75);
  const x = image(w, h), mask = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) {
    let v = gray.a[i] / p75;
    v = v > 1 ? 1 : v;
    v = (v - 0.25) / 0.75;
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    x.a[i] = v;
    mask[i] = v > 0.5 ? 1 : 0;
  }
  const { labels, sizes } = components(mask, w, h);
  if (sizes.length === 1) return null;
  const largest = Math.max(...sizes.slice(1));
  const kept = Uint8Array.from(sizes, (s, id) => (id > 0 && s >= Math.max(0.08 * largest, 2) ? 1 : 0));
  const keep = new Uint8Array(w * h);
  let y0 = h, y1 = -1, x0 = w, x1 = -1, inked = 0;
  for (let py = 0; py < h; py++) {
    for (let px = 0; px < w; px++) {
      const i = py * w + px;
      if (!kept[labels[i]]) continue;
      keep[i] = 1; inked++;
      if (py < y0) y0 = py;
      if (py + 1 > y1) y1 = py + 1;
      if (px < x0) x0 = px;
      if (px + 1 > x1) x1 = px + 1;
    }
  }
  if (!inked) return null;
  const near = dilateCross(keep, w, h, 2);
  const ch = y1 - y0, cw = x1 - x0;
  const crop = image(cw, ch), keepCrop = new Uint8Array(cw * ch);
  for (let y = 0; y < ch; y++) {
    for (let xx = 0; xx < cw; xx++) {
      const p = (y + y0) * w + xx + x0;
      crop.a[y * cw + xx] = near[p] ? x.a[p] : 0;
      keepCrop[y * cw + xx] = keep[p];
    }
  }
  if (inked < 4 || (Math.max(ch, cw) < 2.0 * Math.max(widthBound(keepCrop, cw, ch), 1.0)
                   && Math.max(ch, cw) < 2.0 * Math.max(strokeWidth(keepCrop, cw, ch), 1.0))) return null;
  const s = 4 * FIT_BOX / Math.max(ch, cw);
  let work = resize(crop, Math.max(roundHalfEven(cw * s), 1), Math.max(roundHalfEven(ch * s), 1));
  let wmax = 0;
  for (const v of work.a) wmax = Math.max(wmax, v);
  const core = percentile(work.a.filter((v) => v > 0.5 * wmax), 75);
  for (let i = 0; i < work.a.length; i++) work.a[i] = Math.min(Math.max(work.a[i] / core, 0), 1);
  const width = strokeWidth(work.a.map((v) => (v > 0.5 ? 1 : 0)), work.w, work.h);
  if (width < 0.6 * MNIST_STROKE_80) work = greyMorphology(work, (0.8 * MNIST_STROKE_80 - width) / 2, Math.max);
  else if (width > 1.8 * MNIST_STROKE_80) work = greyMorphology(work, (width - 1.4 * MNIST_STROKE_80) / 2, Math.min);
  const fit = resize(work, Math.max(roundHalfEven(work.w / 4), 1), Math.max(roundHalfEven(work.h / 4), 1));
  const frame = image(FRAME, FRAME);
  const top = Math.floor((FRAME - fit.h) / 2), left = Math.floor((FRAME - fit.w) / 2);
  let mass = 0, my = 0, mx = 0;
  for (let y = 0; y < fit.h; y++) {
    for (let xx = 0; xx < fit.w; xx++) {
      const v = Math.min(Math.max(fit.a[y * fit.w + xx], 0), 1);
      frame.a[(y + top) * FRAME + xx + left] = v;
      mass += v; my += v * (y + top); mx += v * (xx + left);
    }
  }
  const centred = shiftLinear(frame, FRAME / 2 - 0.5 - my / mass, FRAME / 2 - 0.5 - mx / mass);
  return Float32Array.from(centred.a, (v) => Math.min(Math.max(v, 0), 1));
}
