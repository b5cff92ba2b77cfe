// The grading queue: rubric items, score, comment, save with a version check; keyboard only if you like.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const state = JSON.parse(document.getElementById("state").textContent);
  const $ = (id) => document.getElementById(id);
  const score = $("score"), note = $("note"), breakdown = $("breakdown");
  const items = new Map(state.items.map((i) => [i.id, i]));
  const buttons = Array.from(document.querySelectorAll("button.item"));
  let applied = new Set(state.grade ? state.grade.items : []);
  let adjustment = state.grade ? state.grade.adjustment : 0;
  let base = state.grade ? state.grade.version : 0;
  let dirty = false;

  // math in the answer, typeset by the vendored KaTeX (never trusted with \href and the like)
  if (window.katex) {
    document.querySelectorAll("#answer .math").forEach((el) => {
      window.katex.render(el.textContent, el, {displayMode: el.tagName === "DIV", throwOnError: false, trust: false});
    });
  }

  const fmt = (x) => (Math.round(x * 1e6) / 1e6).toString();
  const itemSum = () => Array.from(applied).reduce((s, id) => s + (items.has(id) ? items.get(id).points : 0), 0);
  const total = () => Math.min(state.max, Math.max(0, state.start + itemSum() + adjustment));

  function draw(keepScore) {
    buttons.forEach((b) => b.setAttribute("aria-pressed", applied.has(Number(b.dataset.item)) ? "true" : "false"));
    if (!keepScore) score.value = fmt(total());
    const parts = [`start ${fmt(state.start)}`];
    if (applied.size) parts.push(`items ${itemSum() >= 0 ? "+" : "−"}${fmt(Math.abs(itemSum()))}`);
    if (adjustment) parts.push(`adjustment ${adjustment >= 0 ? "+" : "−"}${fmt(Math.abs(adjustment))}`);
    breakdown.textContent = parts.join(", ") + ` = ${fmt(total())}`;
  }

  if (state.grade) note.value = state.grade.note;
  draw(false);

  function toggle(position) {
    const button = buttons[position - 1];
    if (!button) return;
    const id = Number(button.dataset.item);
    if (applied.has(id)) applied.delete(id); else applied.add(id);
    dirty = true;
    draw(false);
  }
  buttons.forEach((b, i) => b.addEventListener("click", () => toggle(i + 1)));
  score.addEventListener("input", () => {
    const typed = parseFloat(score.value);
    if (Number.isNaN(typed)) return;
    adjustment = typed - (state.start + itemSum());  // a typed score is kept as an adjustment on top of the items
    dirty = true;
    draw(true);
  });
  note.addEventListener("input", () => { dirty = true; });

  async function save(overwrite) {
    const r = await window.grader.post(state.save_url, {
      items: Array.from(applied), adjustment: adjustment, note: note.value, base_version: base,
    });
    if (r.status === 200) {
      dirty = false;
      base = r.body.grade.version;
      $("conflict").hidden = true;
      $("grade-info").textContent = `Scored ${fmt(r.body.grade.points)} by ${r.body.grade.graded_by} at ${r.body.grade.graded_at}`;
      const mark = document.querySelector(`.queue li.current .qstate`);
      if (mark) mark.textContent = fmt(r.body.grade.points);
      document.body.dataset.saved = String(base);
      if (state.next_ungraded && !overwrite) { window.location.href = state.next_ungraded; }
      else { window.grader.flash(state.next_ungraded ? "Saved." : "Saved. Every submission in this queue is scored."); }
    } else if (r.status === 409) {
      const c = r.body.conflict;
      $("conflict-msg").textContent = c.message;
      $("conflict").hidden = false;
      $("conflict").dataset.current = JSON.stringify(c.current);
    } else {
      window.grader.flash(r.body.error || `not saved (${r.status})`, true);
    }
  }
  $("save").addEventListener("click", () => save(false));
  $("conflict-load").addEventListener("click", () => { dirty = false; window.location.reload(); });
  $("conflict-overwrite").addEventListener("click", () => {
    const current = JSON.parse($("conflict").dataset.current || "null");
    base = current ? current.version : 0;  // deliberately on top of the score just seen
    save(true);
  });

  // rubric items: add, edit (re-scores everyone who has the item), delete
  const form = $("item-form");
  const editing = () => $("item-id").value !== "";
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = {description: $("item-desc").value, points: parseFloat($("item-points").value)};
    let r;
    if (editing()) {
      data.version = Number($("item-version").value);
      r = await window.grader.post(`/api/items/${encodeURIComponent(state.task)}/${$("item-id").value}`, data);
    } else {
      r = await window.grader.post(`/api/items/${encodeURIComponent(state.task)}`, data);
    }
    if (r.status === 200) { window.location.reload(); }
    else { window.grader.flash((r.body.conflict && r.body.conflict.message) || r.body.error, true); }
  });
  document.querySelectorAll("button.edit").forEach((b) => b.addEventListener("click", () => {
    const item = items.get(Number(b.dataset.item));
    $("item-id").value = item.id; $("item-version").value = item.version;
    $("item-points").value = item.points; $("item-desc").value = item.description;
    $("item-save").textContent = "Save item (re-scores everyone who has it)";
    $("item-delete").hidden = false; $("item-cancel").hidden = false;
    $("item-points").focus();
  }));
  $("item-cancel").addEventListener("click", () => window.location.reload());
  $("item-delete").addEventListener("click", async () => {
    if (!window.confirm("Delete this item? Every submission that has it is re-scored without it.")) return;
    const r = await window.grader.post(`/api/items/${encodeURIComponent(state.task)}/${$("item-id").value}`,
      {delete: true, version: Number($("item-version").value)});
    if (r.status === 200) window.location.reload(); else window.grader.flash(r.body.error || r.body.conflict.message, true);
  });

  // the comment bank
  const pick = $("bank-pick");
  pick.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    if (!pick.value.trim()) return;
    note.value = note.value.trim() ? `${note.value.trim()} ${pick.value.trim()}` : pick.value.trim();
    pick.value = "";
    dirty = true;
    note.focus();
  });
  $("bank-add").addEventListener("click", async () => {
    const r = await window.grader.post("/api/settings/bank", {task: state.task, text: note.value});
    window.grader.flash(r.status === 200 ? "Comment kept in the bank." : r.body.error, r.status !== 200);
  });
  $("scoring").addEventListener("change", async (event) => {
    const r = await window.grader.post("/api/settings/scoring", {task: state.task, mode: event.target.value});
    if (r.status === 200) window.location.reload(); else window.grader.flash(r.body.error, true);
  });
  $("related-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const tasks = Array.from(document.querySelectorAll('input[name="related"]:checked')).map((i) => i.value);
    const r = await window.grader.post("/api/settings/related", {task: state.task, tasks: tasks});
    if (r.status === 200) window.location.reload(); else window.grader.flash(r.body.error, true);
  });

  // the keyboard
  const go = (url) => { if (url) window.location.href = url; };
  document.addEventListener("keydown", (event) => {
    const field = event.target.closest("input, textarea, select");
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); save(false); return; }
    if (field) {
      if (event.key === "Escape") field.blur();
      else if (event.key === "Enter" && field === score) { event.preventDefault(); save(false); }
      return;
    }
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (/^[0-9]$/.test(event.key)) { event.preventDefault(); toggle(event.key === "0" ? 10 : Number(event.key)); }
    else if (event.key === "Enter") { event.preventDefault(); save(false); }
    else if (event.key === "n" || event.key === "ArrowRight" || event.key === "j") go(state.next);
    else if (event.key === "p" || event.key === "ArrowLeft" || event.key === "k") go(state.prev);
    else if (event.key === "u") go(state.next_ungraded);
    else if (event.key === "s") { event.preventDefault(); score.focus(); score.select(); }
    else if (event.key === "c") { event.preventDefault(); note.focus(); }
    else if (event.key === "b") { event.preventDefault(); pick.focus(); }
  });
  window.addEventListener("beforeunload", (event) => { if (dirty) { event.preventDefault(); event.returnValue = ""; } });
  document.body.dataset.ready = "1";
});
