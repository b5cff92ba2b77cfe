// grader serve: the bar on every page (who you are, blind mode, release, regrade), and the one way to write.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// Every write: JSON, with the page's CSRF token. Resolves to {status, body}.
async function post(url, data) {
  const response = await fetch(url, {
    method: "POST",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrfToken()},
    body: JSON.stringify(data || {}),
    credentials: "same-origin",
  });
  let body = {};
  try { body = await response.json(); } catch (e) { body = {error: response.statusText}; }
  return {status: response.status, body: body};
}

function flash(text, bad) {
  const el = document.getElementById("flash");
  if (!el) return;
  el.textContent = text;
  el.classList.toggle("bad", !!bad);
}

window.grader = {post: post, flash: flash};

// "exports updating…" until the helper process has rebuilt index.html, grades.csv and junit.xml
async function followExports() {
  const el = document.getElementById("exports-status");
  if (!el || el.textContent.indexOf("updating") < 0) return;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const response = await fetch("/api/status", {credentials: "same-origin"});
    const status = await response.json();
    if (status.exports_error) { el.textContent = "exports failed: " + status.exports_error; el.classList.add("bad"); return; }
    if (!status.exports_pending) { el.textContent = "exports up to date"; return; }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  followExports();
  const me = document.getElementById("me");
  if (me) me.addEventListener("click", async () => {
    const name = window.prompt("Your name (recorded with every score you give):", me.textContent);
    if (!name) return;
    const r = await post("/api/me", {name: name});
    if (r.status === 200) { me.textContent = r.body.name; } else { flash(r.body.error, true); }
  });
  const blind = document.getElementById("blind-toggle");
  if (blind) blind.addEventListener("click", async () => {
    const on = blind.dataset.on === "true";
    if (!on && !window.confirm("Unblind: show every TA the real submission ids?")) return;
    const r = await post("/api/settings/blind", {on: on});
    if (r.status === 200) { window.location.href = "/"; } else { flash(r.body.error, true); }
  });
  const release = document.getElementById("release");
  if (release) release.addEventListener("click", async () => {
    if (!window.confirm("Write every student's feedback page now (the student view plus your rubric items and comments)?")) return;
    flash("writing feedback…");
    const r = await post("/api/release", {});
    if (r.status === 200) {
      flash(`Feedback written for ${r.body.written} submission(s) into ${r.body.folder}` +
            (r.body.ungraded ? `; ${r.body.ungraded} task score(s) still missing` : ""));
    } else { flash(r.body.error || "release failed", true); }
  });
  const regrade = document.getElementById("regrade");
  const status = document.getElementById("regrade-status");
  async function watch(url) {
    for (;;) {
      const response = await fetch(url, {credentials: "same-origin"});
      const job = await response.json();
      if (job.state !== "running") {
        if (job.state === "done") { window.location.reload(); } else { status.textContent = job.message; regrade.disabled = false; }
        return;
      }
      status.textContent = "grading in a worker process…";
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  if (regrade) {
    if (regrade.dataset.job) watch(regrade.dataset.job);
    regrade.addEventListener("click", async () => {
      regrade.disabled = true;
      const r = await post(regrade.dataset.url, {});
      if (r.status === 200) { watch(r.body.status_url); } else { status.textContent = r.body.error; regrade.disabled = false; }
    });
  }
});
