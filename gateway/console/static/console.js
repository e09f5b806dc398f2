// The console's only script (CSP: script-src 'self'). Text from messages is only ever set with textContent.
"use strict";

function liveLog() {
  const table = document.getElementById("intake-log");
  if (!table || !window.EventSource) return;
  const status = document.getElementById("live-status");
  const body = table.tBodies[0];
  const url = new URL(table.dataset.feed, window.location.href);
  url.searchParams.set("after", table.dataset.after || "0");
  const source = new EventSource(url.toString());
  const columns = ["at", "channel", "tracking_id", "state", "contact", "category", "flags", "detail"];
  source.addEventListener("row", (ev) => {
    const e = JSON.parse(ev.data);
    const empty = body.querySelector("tr.empty");
    if (empty) empty.remove();
    const tr = document.createElement("tr");
    tr.className = "state-" + e.state.replace(/[^a-z_]/g, "") + " new";
    for (const key of columns) {
      const td = document.createElement("td");
      if (["at", "channel", "state", "contact"].includes(key)) td.className = "nowrap";
      if (key === "tracking_id" && /^[0-9]{10}$/.test(e.tracking_id)) {
        const a = document.createElement("a");
        a.href = "/console/complaints/" + e.tracking_id;
        a.textContent = e.tracking_id;
        td.appendChild(a);
      } else if (key === "state" && e.state_label) {
        td.textContent = e.state_label + " ";
        const code = document.createElement("small");
        code.className = "code";
        code.textContent = e.state;
        td.appendChild(code);
      } else if (key === "detail" && e.detail) {
        // a plain phrase; the technical detail one click away
        const details = document.createElement("details");
        details.className = "detail";
        const summary = document.createElement("summary");
        summary.textContent = e.note || table.dataset.technical || "";
        const code = document.createElement("code");
        code.className = "wrap";
        code.textContent = e.detail;
        details.append(summary, code);
        td.appendChild(details);
      } else {
        td.textContent = e[key] || "";
      }
      tr.appendChild(td);
    }
    body.insertBefore(tr, body.firstChild);
    while (body.rows.length > 500) body.deleteRow(body.rows.length - 1);
    if (status) status.textContent = status.dataset.live;
  });
  source.onerror = () => { if (status) status.textContent = status.dataset.lost; };
  source.onopen = () => { if (status) status.textContent = status.dataset.live; };
}

function uploadProgress() {
  const form = document.getElementById("scan-form");
  if (!form || !window.FormData) return;
  const bar = document.getElementById("scan-progress");
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.onprogress = (p) => {
      if (p.lengthComputable && bar) { bar.hidden = false; bar.value = Math.round(100 * p.loaded / p.total); }
    };
    xhr.onload = () => { document.open(); document.write(xhr.responseText); document.close(); };
    xhr.send(new FormData(form));
  });
}

function confirmButtons() {
  for (const b of document.querySelectorAll("button[data-confirm]")) {
    b.addEventListener("click", (ev) => { if (!window.confirm(b.dataset.confirm)) ev.preventDefault(); });
  }
}

function entryAddress() {
  // a desk entry's answer: its own address, so a reload asks for the number again and never posts twice
  const h = document.getElementById("desk-entry");
  if (h && h.dataset.url && window.location.pathname !== h.dataset.url) {
    window.history.replaceState(null, "", h.dataset.url);
  }
}

document.addEventListener("DOMContentLoaded", () => { liveLog(); uploadProgress(); confirmButtons(); entryAddress(); });
