// The app's drawing canvas (a Streamlit components-v2 component, app_pages/ui/live_canvas.py): a 280x280 black
// canvas drawn on with a mouse, a finger or a stylus; undo, redo and clear always in view; and, while the pen
// moves, the shipped networks' reading computed in the page (reader.mjs) and drawn as bars.
//
// To the server it sends, at pen-up (and on undo, redo, clear), {strokes, png}: the strokes to start another
// page's canvas from, and the picture as drawn, which the server reads as it read the old canvas' pixels.
// With a Send button (``data.send``, its label: a class's student sheet), it sends nothing while the student
// draws, the drawing stays here, and Send sends the whole drawing, {strokes, png}, as one trigger ("sent"): a
// stroke costs the server nothing, and what is sent is all that is drawn.

import { drawStroke, drawStrokes } from "./ink.mjs";

const SIDE = 280;
const TITLES = { dnn: "DNN", convnet: "ConvNet", resnet: "ResNet" };
const RESEND_MS = 10000;  // Send pressed and no answer in this long: it can be pressed again

function element(tag, attrs = {}, parent = null) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") el.textContent = v;
    else el.setAttribute(k, v);
  }
  if (parent) parent.appendChild(el);
  return el;
}

// A button that acts on a click, and on a finger's tap when the finger lifts; the click the browser may send after
// the tap is then ignored (a tap that moves a little, or comes soon after a stroke, may never become a click).
function pressable(b, act) {
  let tapped = 0;
  b.addEventListener("pointerup", (e) => {
    if (e.pointerType === "mouse" || b.disabled) return;
    tapped = performance.now();
    act();
  });
  b.addEventListener("click", () => { if (performance.now() - tapped > 800) act(); });
  return b;
}

class LiveCanvas {
  constructor(root, data, setStateValue, setTriggerValue) {
    this.send = setStateValue;
    this.trigger = setTriggerValue;
    this.strokes = (data.strokes || []).map((s) => ({ points: s.points, width: s.width }));
    this.undone = [];
    this.pen = data.pen || 20;
    this.live = data.live || [];
    this.lead = data.lead || this.live[0];  // the network whose reading the page's tests and captions follow
    this.titles = data.titles || {};
    this.current = null;
    this.reading = false;
    this.pending = false;

    const box = element("div", { class: "vp-canvas" }, root);
    this.canvas = element("canvas", { width: SIDE, height: SIDE, "data-testid": "vp-canvas",
                                      "aria-label": "Drawing canvas" }, box);
    this.ctx = this.canvas.getContext("2d", { willReadFrequently: true });
    const bar = element("div", { class: "vp-toolbar" }, box);
    this.buttons = {};
    for (const [name, label, title] of [["undo", "↶ Undo", "Undo the last stroke"],
                                        ["redo", "↷ Redo", "Redo the stroke undone"],
                                        ["clear", "✕ Clear", "Clear the canvas"]]) {
      this.buttons[name] = pressable(element("button", { type: "button", "data-testid": `vp-${name}`, title,
                                                         text: label }, bar), () => this[name]());
    }
    if (data.send) {  // the page answers a Send with a new, blank canvas
      this.buttons.send = pressable(element("button", { type: "button", class: "vp-send", "data-testid": "vp-send",
                                                        text: data.send }, box), () => this.submit());
    }
    this.panel = element("div", { class: "vp-live", "data-testid": "vp-live", "aria-live": "polite" }, box);
    drawStrokes(this.ctx, this.strokes);
    this.canvas.addEventListener("pointerdown", (e) => this.down(e));
    this.canvas.addEventListener("pointermove", (e) => this.move(e));
    this.canvas.addEventListener("pointerup", (e) => this.up(e));
    this.canvas.addEventListener("pointercancel", (e) => this.up(e));
    this.refreshButtons();
    this.showReading(null);
    this.startReading();
  }

  startReading() {
    if (!this.live.length) { this.showReading(null); return; }
    this.reader = this.reader || import("./reader.mjs");  // after the canvas is drawable: the runtime is 15 MB
    this.reader.then((r) => Promise.all(this.live.map((m) => r.session(m)))).then(() => this.scheduleReading());
  }

  update(data) {
    if (this.sending) { this.sending = false; this.refreshButtons(); }  // the page answered: Send may go again
    this.pen = data.pen || this.pen;
    this.titles = data.titles || this.titles;
    const live = data.live || [];
    if (live.join() !== this.live.join()) {  // a lab network picked, or its browser copy just made
      this.live = live;
      this.lead = data.lead || live[0];
      this.startReading();
    }
  }

  point(e) {
    const rect = this.canvas.getBoundingClientRect();  // the canvas may be drawn smaller on a phone
    return [(e.clientX - rect.left) * SIDE / rect.width, (e.clientY - rect.top) * SIDE / rect.height];
  }

  down(e) {
    if (e.button !== undefined && e.button > 0) return;
    e.preventDefault();
    this.canvas.setPointerCapture(e.pointerId);
    this.current = { points: [this.point(e)], width: this.pen };
    drawStroke(this.ctx, this.current);
    this.scheduleReading();
  }

  move(e) {
    if (!this.current) return;
    e.preventDefault();
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    for (const ev of events.length ? events : [e]) this.current.points.push(this.point(ev));
    drawStroke(this.ctx, { points: this.current.points.slice(-events.length - 1), width: this.current.width });
    this.scheduleReading();
  }

  up(e) {
    if (!this.current) return;
    e.preventDefault();
    this.strokes.push(this.current);
    this.current = null;
    this.undone = [];
    this.changed();
  }

  undo() {
    if (!this.strokes.length) return;
    this.undone.push(this.strokes.pop());
    this.changed();
  }

  redo() {
    if (!this.undone.length) return;
    this.strokes.push(this.undone.pop());
    this.changed();
  }

  clear() {
    if (!this.strokes.length) return;
    this.undone = [];
    this.strokes = [];
    this.changed();
  }

  changed() {
    drawStrokes(this.ctx, this.strokes);
    this.refreshButtons();
    this.scheduleReading();
    this.sending = false;
    if (!this.buttons.send) this.send("drawing", this.drawing());
  }

  drawing() {
    const strokes = this.strokes.map((s) => ({ points: s.points.map(([x, y]) => [+x.toFixed(1), +y.toFixed(1)]),
                                              width: s.width }));
    return { strokes, png: this.strokes.length ? this.canvas.toDataURL("image/png") : null };
  }

  submit() {
    if (!this.strokes.length || this.sending) return;
    // Pressed once, sent once; the page's answer replaces this canvas. Should no answer come (the server
    // restarting), Send comes back, the drawing still here.
    this.sending = true;
    this.refreshButtons();
    clearTimeout(this.resend);
    this.resend = setTimeout(() => { this.sending = false; this.refreshButtons(); }, RESEND_MS);
    this.trigger("sent", this.drawing());
  }

  refreshButtons() {
    this.buttons.undo.disabled = !this.strokes.length;
    this.buttons.redo.disabled = !this.undone.length;
    this.buttons.clear.disabled = !this.strokes.length;
    if (this.buttons.send) this.buttons.send.disabled = !this.strokes.length || this.sending;
  }

  scheduleReading() {
    // One reading at a time, each on the newest ink: moves that come during a reading ask for one more after it.
    if (!this.reader) return;
    if (this.reading) { this.pending = true; return; }
    this.reading = true;
    setTimeout(async () => {  // as soon as this pointer event is handled: the answer shows in the next frame
      try {
        const { readCanvas } = await this.reader;
        const at = performance.now();  // the ink read is the ink at this moment (bench_browser times from it)
        this.showReading(await readCanvas(this.canvas, this.live), at);
      } catch (err) {
        this.panel.textContent = `The live reading stopped: ${err.message || err}`;
        this.reader = null;
      } finally {
        this.reading = false;
        if (this.pending) { this.pending = false; this.scheduleReading(); }
      }
    }, 0);
  }

  showReading(result, at = 0) {
    if (!this.live.length) { this.panel.hidden = true; return; }
    this.panel.replaceChildren();
    if (!result) {
      this.panel.dataset.digit = "";
      element("div", { class: "vp-hint", text: "Draw: the networks read it as you go." }, this.panel);
      return;
    }
    const lead = result.readings[this.lead];
    Object.assign(this.panel.dataset, { digit: lead.digit, model: this.lead, ms: lead.ms.toFixed(1),
                                        at: at.toFixed(1) });
    for (const name of this.live) {
      const r = result.readings[name];
      if (!r) continue;  // a network added while this reading was computed: in the next one
      const row = element("div", { class: "vp-row", "data-model": name, "data-digit": r.digit }, this.panel);
      const named = this.titles[name] || TITLES[name] || name;
      element("span", { class: "vp-name", title: named, text: named }, row);
      element("span", { class: "vp-digit", text: r.digit }, row);
      const bars = element("span", { class: "vp-bars" }, row);
      r.probs.forEach((p, d) => {
        const b = element("span", { class: d === r.digit ? "vp-bar vp-top" : "vp-bar",
                                    title: `${d}: ${(100 * p).toFixed(1)}%` }, bars);
        b.style.height = `${Math.max(2, Math.round(28 * p))}px`;
        element("span", { class: "vp-label", text: d }, b);
      });
    }
  }
}

export function mount(component) {
  const { parentElement, data, setStateValue, setTriggerValue } = component;
  const root = parentElement.querySelector(".vp-root") || element("div", { class: "vp-root" }, parentElement);
  if (!root.vp) root.vp = new LiveCanvas(root, data || {}, setStateValue, setTriggerValue);
  else root.vp.update(data || {});
}
