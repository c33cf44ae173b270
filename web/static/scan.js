// Polls the scan until it is done or failed, then renders the report. No framework: the page
// must work from a plain `provscan serve` with nothing else installed.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function dd(dl, term, value) {
    dl.appendChild(el("dt", term));
    dl.appendChild(el("dd", value === null || value === undefined || value === "" ? "—" : value));
  }
  function render(r) {
    $("status").textContent = r.status === "error" ? "Error: " + (r.error || "analysis failed") : "Done";
    $("status").className = "status " + r.status;
    $("result").hidden = false;
    const v = r.verdict;
    const verdict = $("verdict");
    if (v) {
      verdict.textContent = v.label + " (P synthetic " + v.score.toFixed(2) + ")";
      verdict.className = "verdict " + v.label;
      const ul = $("reasons"); ul.innerHTML = "";
      v.reasons.forEach((x) => ul.appendChild(el("li", x)));
    } else {
      verdict.textContent = "no verdict";
    }
    const c = (r.provenance || {}).c2pa;
    const dl = $("c2pa"); dl.innerHTML = "";
    if (c) {
      dd(dl, "present", c.present ? "yes" : "no");
      const st = el("dd", c.state || "—", "c2pa-state"); st.id = "c2pa-state";
      dl.appendChild(el("dt", "state")); dl.appendChild(st);
      dd(dl, "explanation", c.explanation);
      dd(dl, "signer", c.signer);
      dd(dl, "digital source type", c.digital_source_type);
      dd(dl, "claim generator", (c.claim_generator || []).join(", "));
      dd(dl, "failures", (c.failures || []).join(", "));
      if (c.remote_url) dd(dl, "remote manifest", c.remote_url);
      // Edit history: what was done, by which software, declaring which source type.
      (c.actions || []).forEach((a, i) => {
        const who = a.softwareAgent ? (typeof a.softwareAgent === "string" ? a.softwareAgent
          : (a.softwareAgent.name || JSON.stringify(a.softwareAgent))) : "";
        dd(dl, i === 0 ? "actions" : "", [a.action, who, a.digitalSourceType ? a.digitalSourceType.split("/").pop() : "",
          a.when || ""].filter(Boolean).join(" · "));
      });
      (c.ingredients || []).forEach((g, i) => {
        dd(dl, i === 0 ? "ingredients" : "", [g.title, g.relationship, g.validation_state].filter(Boolean).join(" · "));
      });
      if (c.error) dd(dl, "error", c.error);
    }
    const wl = $("watermarks"); wl.innerHTML = "";
    ((r.provenance || {}).watermarks || []).forEach((w) => {
      // Show the p-value where the scheme has one: "score 0.96, not detected" reads as a contradiction.
      const stat = (w.p_value !== null && w.p_value !== undefined)
        ? "p = " + Number(w.p_value).toExponential(1) : "score " + Number(w.score).toFixed(3);
      wl.appendChild(el("li", w.scheme + ": " + (w.detected ? "DETECTED" : "not detected") +
        " (" + stat + (w.payload ? ", payload " + w.payload : "") + ")"));
    });
    const tb = document.querySelector("#detectors tbody"); tb.innerHTML = "";
    (r.detectors || []).forEach((d) => {
      const tr = document.createElement("tr");
      [d.name, d.version, d.status, d.score === null ? "—" : d.score.toFixed(3)]
        .forEach((x) => tr.appendChild(el("td", x)));
      tr.appendChild(evidenceCell(d.evidence || {}));
      tb.appendChild(tr);
    });
    const box = $("evidence");
    const urls = { media: window.PROVSCAN_MEDIA_URL, image: window.PROVSCAN_IMAGE_URL, text: window.PROVSCAN_TEXT_URL };
    if (window.ProvscanEvidence.render(r, box, urls) > 0) $("evidence-none").remove();
    $("raw").textContent = JSON.stringify(r, null, 2);
    setupReview(r);
  }
  // Scalars inline; maps, timelines and highlights are drawn above, their numbers stay one click away.
  function evidenceCell(ev) {
    const td = el("td");
    const scalars = Object.keys(ev).filter((k) => ev[k] === null || typeof ev[k] !== "object");
    td.appendChild(el("div", scalars.map((k) => k + ": " + ev[k]).join(" · ")));
    if (scalars.length < Object.keys(ev).length) {
      const det = el("details");
      det.append(el("summary", "evidence JSON"), el("pre", JSON.stringify(ev, null, 1)));
      td.appendChild(det);
    }
    return td;
  }
  function reviewLine(rv) {
    return rv.decision.replace(/_/g, " ") + " by " + rv.reviewer + " at " + rv.created_at.slice(0, 19).replace("T", " ") +
      " UTC" + (rv.note ? " — " + rv.note : "");
  }
  // Earlier decisions (the latest is shown above the form): a reviewer sees who changed their mind.
  function showHistory(history) {
    const list = $("review-history");
    list.replaceChildren(...history.slice(1).map((rv) => el("li", reviewLine(rv))));
    $("review-history-box").hidden = history.length < 2;
  }
  function showReview(rv) {
    $("review-saved").textContent = rv ? "Saved: " + reviewLine(rv) : "Not reviewed yet.";
    if (!rv) return;
    const radio = document.querySelector('#review-form input[value="' + rv.decision + '"]');
    if (radio) radio.checked = true;
  }
  function setupReview(r) {
    const form = $("review-form");
    if (r.status !== "done") { form.hidden = true; $("review-saved").textContent = "Only finished scans can be reviewed."; return; }
    let history = r.review_history || [];
    showReview(r.review);
    showHistory(history);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const err = $("review-error"); err.textContent = "";
      const checked = form.querySelector('input[name="decision"]:checked');
      if (!checked) { err.textContent = "Choose a decision."; return; }
      const btn = $("review-submit"); btn.disabled = true;
      try {
        const resp = await fetch(window.PROVSCAN_REVIEW_URL, {
          method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ decision: checked.value, note: $("review-note").value }),
        });
        const body = await resp.json().catch(() => null);
        if (!resp.ok || !body) {
          err.textContent = body && body.error ? body.error.message : "Not saved (HTTP " + resp.status + "); sign in again?";
          return;
        }
        history = [body.review, ...history];
        showReview(body.review);
        showHistory(history);
        const next = $("next-pending");
        if (body.next_pending) { next.href = body.next_pending; next.hidden = false; next.focus(); }
        else { next.hidden = true; $("review-saved").focus(); }
      } catch (x) {
        err.textContent = "Not saved: the server did not answer.";
      } finally {
        btn.disabled = false;
      }
    });
  }
  let delay = 500;
  async function poll() {
    try {
      const resp = await fetch(window.PROVSCAN_SCAN_URL, { headers: { Accept: "application/json" } });
      const r = await resp.json();
      if (r.status === "done" || r.status === "error") { render(r); return; }
      $("status").textContent = r.status + "…";
    } catch (e) {
      $("status").textContent = "waiting for the server…";
    }
    delay = Math.min(delay * 1.5, 5000);
    setTimeout(poll, delay);
  }
  poll();
})();
