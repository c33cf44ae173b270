// Evidence views for a scan report: image heatmap overlay, audio segment timeline, text token
// highlights and the text watermark's green-list map. No framework, and user data only ever goes
// into the page through textContent / attributes, never innerHTML.
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function svg(tag, attrs) {
    const e = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach((k) => e.setAttribute(k, attrs[k]));
    return e;
  }

  // P(synthetic) → colour: blue (0, camera-like) → pale yellow (0.5) → red (1, synthetic-like).
  const STOPS = [[0, [49, 54, 149]], [0.5, [255, 255, 191]], [1, [165, 0, 38]]];
  function colour(p) {
    const v = Math.min(1, Math.max(0, Number(p) || 0));
    for (let i = 1; i < STOPS.length; i++) {
      if (v <= STOPS[i][0]) {
        const [a, ca] = STOPS[i - 1], [b, cb] = STOPS[i];
        const t = (v - a) / (b - a);
        return ca.map((x, j) => Math.round(x + t * (cb[j] - x)));
      }
    }
    return STOPS[STOPS.length - 1][1];
  }
  const rgb = (p, alpha) => "rgba(" + colour(p).join(",") + "," + (alpha === undefined ? 1 : alpha) + ")";

  function legend(caption) {
    const box = el("div", null, "legend");
    const bar = el("span", null, "legend-bar");
    bar.style.background = "linear-gradient(to right," + [0, 0.25, 0.5, 0.75, 1].map((p) => rgb(p)).join(",") + ")";
    box.append(el("span", "0"), bar, el("span", "1"), el("span", caption, "hint"));
    return box;
  }

  function fmtTime(s) {
    if (s < 60) return (Math.round(s * 10) / 10) + " s";
    const m = Math.floor(s / 60), r = Math.round(s - 60 * m);
    return m + ":" + String(r).padStart(2, "0");
  }

  // --- image: heatmap over the image --------------------------------------------------------
  function heatmap(d, report, urls) {
    const ev = d.evidence, hm = ev.heatmap;
    const rows = hm.length, cols = rows ? hm[0].length : 0;
    const fig = el("figure", null, "evidence-image");
    fig.dataset.detector = d.name;
    const wrap = el("div", null, "overlay-wrap");
    const img = el("img", null, "scanned");
    img.alt = "the scanned image";
    const canvas = el("canvas", null, "heatmap-canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", d.name + " heatmap: " + rows + " × " + cols + " cells of P(synthetic)");
    const readout = el("p", "Point at the image to read a cell's score.", "hint readout");
    img.addEventListener("load", () => {
      // The detector saw the stored pixels without EXIF rotation, and so does the page
      // (image-orientation: none), but naturalWidth/Height report the rotated size: take the
      // stored size from the report's metadata when it is there.
      const meta = (report.provenance || {}).metadata || {};
      const W = meta.width > 0 ? meta.width : img.naturalWidth, H = meta.height > 0 ? meta.height : img.naturalHeight;
      canvas.width = W; canvas.height = H;
      // Small images are enlarged so the cells can be told apart (max-width still fits the page).
      if (W < 480) img.style.width = "480px";
      const [x, y, w, h] = ev.heatmap_box || [0, 0, W, H];
      const cw = w / cols, ch = h / rows, g = canvas.getContext("2d");
      // Integer cell edges shared by neighbours: no gaps and no double-painted seams.
      const xs = Array.from({ length: cols + 1 }, (_, c) => Math.round(x + c * cw));
      const ys = Array.from({ length: rows + 1 }, (_, r) => Math.round(y + r * ch));
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          g.fillStyle = rgb(hm[r][c], 0.5);
          g.fillRect(xs[c], ys[r], xs[c + 1] - xs[c], ys[r + 1] - ys[r]);
        }
      }
      g.strokeStyle = "#fff"; g.lineWidth = Math.max(1, Math.round(W / 400));
      g.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
      canvas.dataset.ready = "1";
      canvas.addEventListener("mousemove", (e) => {
        const b = canvas.getBoundingClientRect();
        const px = (e.clientX - b.left) * canvas.width / b.width, py = (e.clientY - b.top) * canvas.height / b.height;
        const c = Math.floor((px - x) / cw), r = Math.floor((py - y) / ch);
        readout.textContent = (r >= 0 && r < rows && c >= 0 && c < cols)
          ? "cell row " + (r + 1) + ", column " + (c + 1) + ": P(synthetic) " + Number(hm[r][c]).toFixed(3)
          : "outside the analysed region";
      });
    });
    img.addEventListener("error", () => { readout.textContent = "The image could not be loaded for display."; });
    img.src = urls.image || urls.media;
    wrap.append(img, canvas);
    const toggle = el("label", null, "toggle");
    const cb = el("input"); cb.type = "checkbox"; cb.checked = true; cb.className = "heatmap-toggle";
    cb.addEventListener("change", () => { canvas.hidden = !cb.checked; });
    toggle.append(cb, document.createTextNode(" show heatmap"));
    const cap = el("figcaption");
    cap.append(el("strong", d.name), document.createTextNode(" — P(synthetic) per region (" + rows + " × " + cols +
      " cells; the white frame is the analysed area). "), toggle);
    fig.append(cap, wrap, legend("P(synthetic) per cell"), readout);
    return fig;
  }

  // --- audio: per-segment timeline ----------------------------------------------------------
  let player = null;
  function audioPlayer(urls) {
    if (!player) {
      player = el("audio"); player.controls = true; player.preload = "metadata"; player.src = urls.media;
      player.id = "player";
    }
    return player;
  }

  function timeline(d, urls) {
    const segs = d.evidence.segments.filter((s) => s && typeof s.start === "number" && typeof s.end === "number");
    const fig = el("figure", null, "evidence-audio");
    fig.dataset.detector = d.name;
    const dur = Math.max(...segs.map((s) => s.end), 0.001);
    const W = 1000, H = 70, AX = 18;
    const root = svg("svg", { viewBox: "0 0 " + W + " " + (H + AX), class: "timeline", role: "img",
      "aria-label": d.name + ": P(synthetic) for " + segs.length + " segments over " + fmtTime(dur) });
    root.appendChild(svg("line", { x1: 0, x2: W, y1: H / 2, y2: H / 2, class: "mid" }));
    const audio = audioPlayer(urls);
    segs.forEach((s) => {
      const score = Number(s.score) || 0, h = Math.max(2, score * H);
      const rect = svg("rect", { x: (s.start / dur) * W, width: Math.max(1, ((s.end - s.start) / dur) * W - 1),
        y: H - h, height: h, fill: rgb(score), class: "segment", tabindex: 0 });
      rect.dataset.start = s.start;
      const t = svg("title");
      t.textContent = s.start.toFixed(2) + "–" + s.end.toFixed(2) + " s: P(synthetic) " + score.toFixed(3);
      rect.appendChild(t);
      // Click or Enter plays from that segment.
      const seek = () => { audio.currentTime = s.start; audio.play().catch(() => {}); };
      rect.addEventListener("click", seek);
      rect.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); seek(); } });
      root.appendChild(rect);
    });
    const steps = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];
    const step = steps.find((x) => dur / x <= 10) || 3600;
    for (let t = 0; t <= dur + 1e-9; t += step) {
      const x = (t / dur) * W;
      root.appendChild(svg("line", { x1: x, x2: x, y1: H, y2: H + 4, class: "tick" }));
      const lbl = svg("text", { x: Math.min(Math.max(x, 12), W - 12), y: H + AX - 2, class: "tick-label",
        "text-anchor": "middle" });
      lbl.textContent = fmtTime(t);
      root.appendChild(lbl);
    }
    const head = svg("line", { x1: 0, x2: 0, y1: 0, y2: H, class: "playhead" });
    root.appendChild(head);
    audio.addEventListener("timeupdate", () => {
      const x = (audio.currentTime / dur) * W;
      head.setAttribute("x1", x); head.setAttribute("x2", x);
    });
    const cap = el("figcaption");
    cap.append(el("strong", d.name), document.createTextNode(" — P(synthetic) per " +
      (d.evidence.segment_s || 0.5) + " s segment; bar height and colour follow the score. Click a bar to play from there."));
    fig.append(cap, root, legend("P(synthetic) per segment"));
    return fig;
  }

  // --- text: token highlights and the watermark map -----------------------------------------
  let textPromise = null;
  function loadText(urls) {
    if (!textPromise) {
      textPromise = fetch(urls.text, { headers: { Accept: "application/json" } }).then((r) => {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      });
    }
    return textPromise;
  }

  // Builds the text with [start, end) code-point ranges wrapped in spans from makeSpan(item).
  function spannedText(text, items, makeSpan) {
    const cps = Array.from(text); // offsets count code points, JS strings count UTF-16 units
    const out = el("div", null, "textview");
    let pos = 0;
    items.slice().sort((a, b) => a.start - b.start).forEach((it) => {
      if (!Number.isInteger(it.start) || !Number.isInteger(it.end) || it.start < pos || it.end <= it.start ||
          it.end > cps.length) return;
      if (it.start > pos) out.appendChild(document.createTextNode(cps.slice(pos, it.start).join("")));
      const span = makeSpan(it);
      span.textContent = cps.slice(it.start, it.end).join("");
      out.appendChild(span);
      pos = it.end;
    });
    if (pos < cps.length) out.appendChild(document.createTextNode(cps.slice(pos).join("")));
    return out;
  }

  const BUCKETS = [["top1", "rank 1"], ["top10", "rank 2–10"], ["top100", "rank 11–100"], ["rest", "rank > 100"]];

  function highlights(d, urls) {
    const fig = el("figure", null, "evidence-text");
    fig.dataset.detector = d.name;
    const cap = el("figcaption");
    cap.append(el("strong", d.name), document.createTextNode(" — each word coloured by how highly a human-text " +
      "language model ranked it (GLTR). Machine text has more top-ranked words."));
    const key = el("p", null, "legend");
    BUCKETS.forEach(([b, words]) => key.appendChild(el("span", words, "tok bucket-" + b)));
    const body = el("div", "loading the text…", "hint");
    fig.append(cap, key, body);
    loadText(urls).then((t) => {
      const view = spannedText(t.text, d.evidence.highlight, (h) => {
        const s = el("span", null, "tok bucket-" + h.bucket);
        s.title = "rank " + h.rank + " (" + h.bucket + "), log p " + h.logp;
        return s;
      });
      view.id = "text-highlight";
      body.replaceWith(view);
      const notes = [];
      if (t.normalized) notes.push("Shown normalised (NFKC, lower case): normalising changed the text's length, " +
        "and the offsets refer to that form.");
      if (t.truncated) notes.push("The text is cut for display.");
      notes.push("Highlights cover the first " + d.evidence.highlight.length + " words scored.");
      fig.appendChild(el("p", notes.join(" "), "hint"));
    }).catch((e) => body.replaceWith(el("p", "The text could not be loaded (" + e.message + ").", "error")));
    return fig;
  }

  function tokenMap(w, urls) {
    const det = el("details", null, "evidence-watermark");
    det.open = !!w.detected;
    det.appendChild(el("summary", "Watermark " + w.scheme + ": green-list map (" + (w.detected ? "detected" : "not detected") +
      ", z = " + Number(w.evidence.z).toFixed(2) + ")"));
    const key = el("p", null, "legend");
    [["green", "green list"], ["red", "not green"], ["none", "not scored"]].forEach(([c, words]) =>
      key.appendChild(el("span", words, "tok wm-" + c)));
    det.appendChild(key);
    loadText(urls).then((t) => {
      const map = w.evidence.token_map;
      const items = [];
      for (let i = 0; i < map.length && i < t.words.length; i++) {
        items.push({ start: t.words[i][0], end: t.words[i][1], green: map[i][1] });
      }
      const view = spannedText(t.text, items, (it) => {
        const s = el("span", null, "tok wm-" + (it.green === true ? "green" : it.green === false ? "red" : "none"));
        s.title = it.green === null ? "not scored (first word or a repeated pair)" : it.green ? "green" : "not green";
        return s;
      });
      view.classList.add("wm-map");
      det.appendChild(view);
    }).catch((e) => det.appendChild(el("p", "The text could not be loaded (" + e.message + ").", "error")));
    return det;
  }

  const isGrid = (h) => Array.isArray(h) && h.length > 0 && Array.isArray(h[0]) && h[0].length > 0;

  // Renders every evidence view the report supports into `box`; returns how many it made.
  function render(r, box, urls) {
    let n = 0;
    if (r.status !== "done") return 0;
    (r.detectors || []).forEach((d) => {
      const ev = d.evidence || {};
      if (d.status !== "ok") return;
      if (r.media_type === "image" && isGrid(ev.heatmap)) { box.appendChild(heatmap(d, r, urls)); n++; }
      if (r.media_type === "audio" && Array.isArray(ev.segments) && ev.segments.length) {
        box.appendChild(timeline(d, urls)); n++;
      }
      if (r.media_type === "text" && Array.isArray(ev.highlight) && ev.highlight.length) {
        box.appendChild(highlights(d, urls)); n++;
      }
    });
    // The reviewer should always be able to see or hear the item itself.
    if (r.media_type === "audio") box.insertBefore(audioPlayer(urls), box.firstChild);
    if (r.media_type === "image" && !box.querySelector(".evidence-image")) {
      const img = el("img", null, "scanned preview"); img.alt = "the scanned image"; img.src = urls.image || urls.media;
      box.insertBefore(img, box.firstChild);
    }
    if (r.media_type === "text") {
      ((r.provenance || {}).watermarks || []).forEach((w) => {
        if (w.evidence && Array.isArray(w.evidence.token_map) && w.evidence.token_map.length) {
          box.appendChild(tokenMap(w, urls)); n++;
        }
      });
    }
    return n;
  }

  window.ProvscanEvidence = { render: render, colour: colour };
})();
