// The live reading: a canvas drawing through the app's preprocessing (preprocess.mjs) and a shipped network's
// ONNX copy (static/models, made by `python -m core browser-models`), run by onnxruntime-web, all in the page.

import * as ort from "../vendor/onnxruntime-web/ort.wasm.bundle.min.mjs";
import { canvasGray, toMnist } from "./preprocess.mjs";

// One thread: the reading is small, and threads need cross-origin isolation the app's server does not set.
ort.env.wasm.numThreads = 1;
// The runtime's glue is in the bundle; only its WebAssembly file is fetched, from the app.
ort.env.wasm.wasmPaths = { wasm: new URL("../vendor/onnxruntime-web/ort-wasm-simd-threaded.wasm", import.meta.url).href };

const sessions = new Map();

export function session(name) {
  if (!sessions.has(name)) {
    // A lab network, run:<id>, is at models/run/<id>.onnx (core.nets.browser.onnx_path).
    const url = new URL(`../models/${name.replace(":", "/")}.onnx`, import.meta.url).href;
    sessions.set(name, ort.InferenceSession.create(url, { executionProviders: ["wasm"] }));
  }
  return sessions.get(name);
}

export async function readImage(name, image28) {
  // The network's ten probabilities for a 28x28 input
  const s = await session(name);
  const out = await s.run({ [s.inputNames[0]]: new ort.Tensor("float32", image28, [1, 28, 28, 1]) });
  return Float32Array.from(out[s.outputNames[0]].data);
}

export const topDigit = (probs) => probs.indexOf(Math.max(...probs));

export async function readCanvas(canvas, names) {
  // The drawing on ``canvas`` read by each network in ``names``: {image, readings: {name: {digit, probs, ms}}}
  // (ms: from the canvas' pixels to that network's answer), or null when there is nothing to read yet.
  const start = performance.now();
  const { width, height } = canvas;
  const rgba = canvas.getContext("2d", { willReadFrequently: true }).getImageData(0, 0, width, height).data;
  const image = toMnist(canvasGray(rgba, width, height));
  if (!image) return null;
  const prepared = performance.now() - start;
  const readings = {};
  for (const name of names) {
    const t = performance.now();
    const probs = await readImage(name, image);
    readings[name] = { digit: topDigit(probs), probs, ms: prepared + performance.now() - t };
  }
  return { image, readings };
}
