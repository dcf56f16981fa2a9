// Honyaku's page: pick runs, translate, compare side by side, inspect n-best lists and
// attention. Talks to the JSON API only; builds the DOM with textContent (no HTML injection).
'use strict';

const state = { runs: [], selected: new Set(), focus: null, busy: false };
const $ = (sel) => document.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  };
  const response = await fetch(path, init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function formatParams(n) {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M params`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)}k params`;
  return `${n} params`;
}

function langs(run) {
  return run.src_lang && run.tgt_lang ? `${run.src_lang} → ${run.tgt_lang}` : '';
}

function renderChips() {
  const box = $('#run-chips');
  box.replaceChildren();
  for (const run of state.runs) {
    const input = el('input', { type: 'checkbox', value: run.name });
    input.checked = state.selected.has(run.name);
    const chip = el('label', { class: 'chip' + (input.checked ? ' on' : ''), 'data-run': run.name },
      input,
      el('span', { class: 'badge ' + run.arch, text: run.arch }),
      el('span', { text: run.name }),
      el('span', { class: 'meta', text: [formatParams(run.parameters), langs(run)].filter(Boolean).join(' · ') }));
    input.addEventListener('change', () => {
      if (input.checked) state.selected.add(run.name); else state.selected.delete(run.name);
      chip.classList.toggle('on', input.checked);
    });
    box.append(chip);
  }
}

function fillSelect(select, max, value) {
  select.replaceChildren();
  for (let i = 1; i <= max; i++) select.append(el('option', { value: String(i), text: String(i) }));
  select.value = String(value);
}

function showError(message) {
  const box = $('#error');
  box.textContent = message || '';
  box.hidden = !message;
}

async function init() {
  fillSelect($('#beam'), 8, 4);
  fillSelect($('#nbest'), 4, 3);
  $('#beam').addEventListener('change', syncNbest);
  $('#translate').addEventListener('click', translate);
  $('#source').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); translate(); }
  });
  try {
    const { runs } = await api('/api/runs');
    state.runs = runs;
    runs.slice(0, 4).forEach((r) => state.selected.add(r.name));
    renderChips();
    const status = $('#status');
    status.textContent = `${runs.length} run${runs.length === 1 ? '' : 's'} ready`;
    status.className = 'status ok';
  } catch (err) {
    $('#status').textContent = 'server unreachable';
    $('#status').className = 'status down';
    showError(`Cannot list the runs: ${err.message}`);
  }
}

function syncNbest() {
  const beam = Number($('#beam').value);
  const nbest = Math.min(Number($('#nbest').value), beam);
  fillSelect($('#nbest'), beam, nbest);
}

function inputLines() {
  const lines = $('#source').value.split('\n').map((l) => l.trim());
  while (lines.length && !lines[lines.length - 1]) lines.pop();
  while (lines.length && !lines[0]) lines.shift();
  return lines;
}

async function translate() {
  if (state.busy) return;
  showError('');
  const lines = inputLines();
  const runs = state.runs.filter((r) => state.selected.has(r.name));
  if (!lines.length) { showError('Type a sentence to translate first.'); return; }
  if (!runs.length) { showError('Pick at least one run.'); return; }
  const beam = Number($('#beam').value);
  const nbest = Math.min(Number($('#nbest').value), beam);
  state.busy = true;
  $('#translate').disabled = true;
  const results = $('#results');
  results.replaceChildren();
  hideAttention();
  const jobs = runs.map(async (run) => {
    const col = el('div', { class: 'card run-col', 'data-run': run.name }, runHead(run, null),
      el('div', { class: 'skeleton wide' }), el('div', { class: 'skeleton' }));
    results.append(col);
    try {
      const data = await api('/api/translate',
        { run: run.name, text: lines, beam, nbest, attention: run.has_attention });
      renderColumn(col, run, data);
    } catch (err) {
      col.replaceChildren(runHead(run, null), el('div', { class: 'col-error', text: err.message }));
    }
  });
  await Promise.all(jobs);
  state.busy = false;
  $('#translate').disabled = false;
  const first = results.querySelector('.hyp.best[data-has-attention="1"]');
  if (first) first.click();
}

function runHead(run, elapsed) {
  const meta = [formatParams(run.parameters)];
  if (elapsed !== null) meta.push(`${elapsed.toFixed(0)} ms`);
  return el('div', { class: 'run-head' },
    el('span', { class: 'badge ' + run.arch, text: run.arch }),
    el('span', { class: 'run-name', text: run.name }),
    el('span', { class: 'run-meta', text: meta.join(' · ') }));
}

function renderColumn(col, run, data) {
  const parts = [runHead(run, data.elapsed_ms)];
  data.results.forEach((result, lineIndex) => {
    const line = el('div', { class: 'line' });
    line.append(el('div', { class: 'line-source', text: result.source }));
    result.hypotheses.forEach((hyp, rank) => {
      const text = el('span', { class: 'hyp-text' + (hyp.text ? '' : ' blank'), text: hyp.text || '(empty)' });
      const row = el('div', {
        class: 'hyp' + (rank === 0 ? ' best' : ''),
        'data-has-attention': hyp.attention ? '1' : '0',
        title: hyp.attention ? 'Show this output\'s attention' : 'This model has no attention to show',
      },
      el('span', { class: 'hyp-rank', text: rank === 0 ? '★' : `${rank + 1}` }),
      text,
      el('span', { class: 'hyp-score', text: hyp.score.toFixed(2) }));
      row.addEventListener('click', () => focusHypothesis(row, run, lineIndex, rank, hyp));
      line.append(row);
    });
    parts.push(line);
  });
  col.replaceChildren(...parts);
}

function focusHypothesis(row, run, lineIndex, rank, hyp) {
  document.querySelectorAll('.hyp.focus').forEach((n) => n.classList.remove('focus'));
  row.classList.add('focus');
  const caption = `${run.name} · line ${lineIndex + 1} · hypothesis ${rank + 1}`;
  if (!hyp.attention) {
    showAttention(`${caption}: the plain LSTM sees the source only through its final state, so it has no attention to draw.`, null);
    return;
  }
  showAttention(caption, hyp.attention);
}

function hideAttention() { $('#attention').hidden = true; }

function showAttention(caption, attention) {
  $('#attention').hidden = false;
  $('#attention-caption').textContent = caption;
  const canvas = $('#heatmap');
  if (!attention) { canvas.hidden = true; return; }
  canvas.hidden = false;
  drawHeatmap(canvas, attention);
}

const RAMP = [[247, 247, 251], [199, 210, 254], [129, 140, 248], [79, 70, 229], [30, 27, 75]];

function rampColor(v) {
  const x = Math.max(0, Math.min(1, v)) * (RAMP.length - 1);
  const i = Math.min(Math.floor(x), RAMP.length - 2);
  const t = x - i;
  const c = RAMP[i].map((a, k) => Math.round(a + (RAMP[i + 1][k] - a) * t));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function pieceLabel(piece) {
  const text = piece.replace(/^▁/, '');
  return text || '▁';
}

function drawHeatmap(canvas, attention) {
  const { source, target, weights } = attention;
  const ctx = canvas.getContext('2d');
  const font = '13px system-ui, sans-serif';
  ctx.font = font;
  const widest = (labels) => Math.max(...labels.map((l) => ctx.measureText(pieceLabel(l)).width), 10);
  const cell = Math.max(16, Math.min(34, Math.floor(760 / Math.max(source.length, 1))));
  const left = Math.ceil(widest(target)) + 16;
  const rise = Math.ceil(widest(source) * 0.72);
  const top = rise + 18;
  const width = left + cell * source.length + rise + 8;
  const height = top + cell * target.length + 8;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.font = font;
  ctx.fillStyle = '#1c1d2b';
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  target.forEach((t, r) => ctx.fillText(pieceLabel(t), left - 8, top + r * cell + cell / 2));
  ctx.textAlign = 'left';
  source.forEach((s, c) => {
    ctx.save();
    ctx.translate(left + c * cell + cell / 2, top - 6);
    ctx.rotate(-Math.PI / 4);
    ctx.fillText(pieceLabel(s), 0, 0);
    ctx.restore();
  });
  weights.forEach((row, r) => row.forEach((w, c) => {
    ctx.fillStyle = rampColor(w);
    ctx.fillRect(left + c * cell, top + r * cell, cell - 1, cell - 1);
  }));
  canvas.onmousemove = (e) => {
    const box = canvas.getBoundingClientRect();
    const c = Math.floor((e.clientX - box.left - left) / cell);
    const r = Math.floor((e.clientY - box.top - top) / cell);
    const tip = $('#heat-tip');
    if (r < 0 || c < 0 || r >= weights.length || c >= source.length) { tip.hidden = true; return; }
    tip.hidden = false;
    tip.textContent = `${pieceLabel(target[r])} → ${pieceLabel(source[c])}: ${weights[r][c].toFixed(3)}`;
    tip.style.left = `${e.clientX - box.left + 12}px`;
    tip.style.top = `${e.clientY - box.top + 12}px`;
  };
  canvas.onmouseleave = () => { $('#heat-tip').hidden = true; };
}

init();
