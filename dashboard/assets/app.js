// aligngate dashboard: polls the JSON endpoints and renders with DOM
// methods only (textContent, never innerHTML), so answers cannot inject
// markup.
'use strict';
(() => {
  const POLL_MS = 2000;
  const $ = (id) => document.getElementById(id);
  let newest = 0;
  let ringSize = 500;
  let selected = null;

  function el(tag, attrs, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') n.textContent = v; else n.setAttribute(k, v);
    }
    for (const k of kids) if (k != null) n.append(k);
    return n;
  }
  const pct = (v) => (v == null ? '–' : (v * 100).toFixed(1) + '%');
  const secs = (v) => (v == null ? '–' : v < 1 ? (v * 1000).toFixed(0) + ' ms' : v.toFixed(2) + ' s');
  const ms = (v) => (v ? v + ' ms' : '–');
  const time = (t) => new Date(t).toLocaleTimeString();

  async function getJSON(url) {
    const r = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
    if (r.status === 401) { location.reload(); throw new Error('logged out'); }
    if (!r.ok) throw new Error(url + ': ' + r.status);
    return r.json();
  }

  function outcome(r) {
    if (r.fallback) return el('span', { class: 'outcome-fallback', text: 'fallback: ' + (r.fallback_reason || 'unknown') });
    if (r.corrected) return el('span', { class: 'outcome-corrected', text: 'corrected' });
    return el('span', { text: 'unchanged' });
  }

  function row(r) {
    const open = el('button', { type: 'button', 'aria-label': 'Open request ' + r.id, text: time(r.time) });
    open.addEventListener('click', () => openRecord(r.id, tr));
    const tr = el('tr', { 'data-id': String(r.id) },
      el('td', {}, open), el('td', { text: r.route || '–' }), el('td', { text: r.model || '–' }),
      el('td', { text: r.mode || '–' }), el('td', { class: 'arm', text: r.arm ? r.experiment + '/\u200b' + r.arm : '–' }),
      el('td', { text: r.cache || '–' }), el('td', { class: 'num', text: ms(r.latency_ms || r.upstream_ms + r.correction_ms) }),
      el('td', {}, outcome(r)));
    return tr;
  }

  async function pollRecords() {
    const d = await getJSON('/ui/api/records?after=' + newest);
    ringSize = d.ring_size;
    const note = $('capture-note');
    note.hidden = !d.note;
    note.textContent = d.note || '';
    const body = document.querySelector('#records tbody');
    // The API lists newest first; insert oldest first at the top.
    for (const r of d.records.slice().reverse()) body.prepend(row(r));
    while (body.rows.length > ringSize) body.deleteRow(body.rows.length - 1);
    newest = d.newest;
    $('records-empty').hidden = body.rows.length > 0;
    $('recent-count').textContent = body.rows.length ? '(' + body.rows.length + ' shown, last ' + ringSize + ' kept)' : '';
  }

  function meta(pairs) {
    const dl = $('d-meta');
    dl.replaceChildren();
    for (const [k, v] of pairs) dl.append(el('dt', { text: k }), el('dd', { text: v }));
  }

  async function openRecord(id, tr) {
    if (selected) selected.removeAttribute('aria-selected');
    selected = tr;
    tr.setAttribute('aria-selected', 'true');
    const d = await getJSON('/ui/api/records/' + id);
    $('d-id').textContent = '#' + d.id;
    meta([['time', new Date(d.time).toLocaleString()], ['route', d.route || '–'], ['model', d.model || '–'],
      ['mode', d.mode || '–'], ['experiment', d.experiment ? d.experiment + ' / ' + d.arm : '–'],
      ['cache', d.cache || '–'], ['latency', ms(d.latency_ms)], ['upstream', ms(d.upstream_ms)],
      ['correction', ms(d.correction_ms)],
      ['outcome', d.fallback ? 'fallback (' + (d.fallback_reason || 'unknown') + ')' : d.corrected ? 'corrected' : 'unchanged'],
      ['draft accepted', d.draft_tokens ? d.draft_accepted + ' / ' + d.draft_tokens + ' tokens' : '–']]);
    $('d-note').hidden = !d.note;
    $('d-note').textContent = d.note || '';
    $('d-content').hidden = !!d.note;
    $('d-question').textContent = d.question || '';
    $('d-original').textContent = d.original_answer || '';
    $('d-corrected').textContent = d.corrected_answer || '';
    const diff = $('d-diff');
    diff.replaceChildren(...(d.diff || []).map((c) =>
      c.op === 'insert' ? el('ins', { text: c.text }) : c.op === 'delete' ? el('del', { text: c.text }) : document.createTextNode(c.text)));
    const art = $('detail');
    art.hidden = false;
    art.focus();
  }

  // Arrow keys move between the rows' buttons.
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const btns = [...document.querySelectorAll('#records tbody button')];
    const i = btns.indexOf(document.activeElement);
    if (i < 0) return;
    e.preventDefault();
    const next = btns[i + (e.key === 'ArrowDown' ? 1 : -1)];
    if (next) next.focus();
  });

  function card(label, value) { return el('div', {}, el('dt', { text: label }), el('dd', { text: value })); }

  function renderHealth(h) {
    const corr = h.corrections || {};
    const total = Object.values(corr).reduce((a, b) => a + b, 0);
    const fb = Object.entries(corr).filter(([k]) => k.startsWith('fallback_'));
    const cards = [
      card('Requests', String(h.requests)),
      card('Correction rate', total ? pct((corr.corrected || 0) / total) : '–'),
      card('Fallbacks', fb.length ? fb.map(([k, v]) => k.slice(9) + ' ' + v).join(', ') : 'none'),
      card('Latency p50 / p95', secs(h.latency_p50_s) + ' / ' + secs(h.latency_p95_s)),
      card('Cache hit ratio', pct(h.cache_hit_ratio) + ' of ' + h.cache_lookups),
      card('Engine queue / busy', h.engine_queue_depth + ' / ' + h.engine_busy_sequences),
      card('Tokens/s (p50)', h.tokens_per_second_p50 == null ? '–' : h.tokens_per_second_p50.toFixed(1)),
      card('Upstream errors', pct(h.upstream_error_ratio)),
    ];
    for (const [name, state] of Object.entries(h.checks || {})) cards.push(card(name[0].toUpperCase() + name.slice(1), state));
    if (!h.checks || !('redis' in h.checks)) cards.push(card('Redis', 'not configured'));
    if (h.metrics_error) cards.push(card('Metrics', h.metrics_error));
    $('health-cards').replaceChildren(...cards);
  }

  function renderExperiments(exps) {
    if (!exps.length) return;
    const tables = exps.map((e) => {
      const head = el('tr', {}, ...['Arm', 'Requests', 'Recorded', 'Correction rate', 'Fallbacks', 'p50', 'p95']
        .map((t, i) => el('th', { scope: 'col', class: i ? 'num' : '', text: t })));
      const rows = e.arms.map((a) => el('tr', { 'data-arm': a.arm },
        el('th', { scope: 'row', text: a.arm }), el('td', { class: 'num', text: String(a.requests) }),
        el('td', { class: 'num', text: String(a.records) }), el('td', { class: 'num', text: pct(a.correction_rate) }),
        el('td', { class: 'num', text: Object.entries(a.fallbacks).map(([k, v]) => k + ' ' + v).join(', ') || '0' }),
        el('td', { class: 'num', text: secs(a.latency_p50_s) }), el('td', { class: 'num', text: secs(a.latency_p95_s) })));
      return el('div', { class: 'table-wrap' }, el('table', { class: 'arms', 'data-experiment': e.name },
        el('caption', { text: 'Experiment ' + e.name }), el('thead', {}, head), el('tbody', {}, ...rows)));
    });
    $('exp-body').replaceChildren(...tables);
  }

  function renderEval(ev) {
    const box = $('eval-body');
    if (!ev.configured) { box.replaceChildren(el('p', { class: 'muted', text: 'No eval report configured (dashboard.eval_report).' })); return; }
    if (ev.error) { box.replaceChildren(el('p', { class: 'error', text: ev.error })); return; }
    if (!ev.report) { box.replaceChildren(el('p', { class: 'muted', text: 'No eval report yet: run aligngate eval.' })); return; }
    const r = ev.report;
    const f = (v) => (v == null ? 'n/a' : (v >= 0 ? '+' : '') + v.toFixed(1) + '%');
    const head = el('tr', {}, ...['Dimension', 'W', 'T', 'L', 'ω', '95% interval'].map((t, i) => el('th', { scope: 'col', class: i ? 'num' : '', text: t })));
    const rows = r.dimensions.map((d) => el('tr', {}, el('th', { scope: 'row', text: d.dimension }),
      el('td', { class: 'num', text: String(d.win) }), el('td', { class: 'num', text: String(d.tie) }),
      el('td', { class: 'num', text: String(d.loss) }), el('td', { class: 'num', text: f(d.omega) }),
      el('td', { class: 'num', text: '[' + f(d.ci_low) + ', ' + f(d.ci_high) + ']' })));
    box.replaceChildren(el('p', { class: 'muted', text: r.pairs + ' pairs, judge ' + r.judge.name + ', ' + new Date(r.time).toLocaleString() }),
      el('div', { class: 'table-wrap' }, el('table', { id: 'eval-table' }, el('thead', {}, head), el('tbody', {}, ...rows))));
  }

  const SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs) {
    const n = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    return n;
  }

  // chart draws one series as a line; null values break it.
  function chart(title, pts, key, fmt) {
    const W = 300, H = 90, P = 4;
    const vals = pts.map((p) => p[key]);
    const max = Math.max(1e-9, ...vals.filter((v) => v != null));
    const s = svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', preserveAspectRatio: 'none' });
    const last = [...vals].reverse().find((v) => v != null);
    s.setAttribute('aria-label', `${title}: last ${last == null ? 'no data' : fmt(last)}, max ${fmt(max)}, ${pts.length} samples`);
    for (const y of [P, H / 2, H - P]) s.append(svg('line', { class: 'grid', x1: 0, x2: W, y1: y, y2: y }));
    let seg = [];
    const flush = () => { if (seg.length) s.append(svg('polyline', { class: 'line', points: seg.join(' ') })); seg = []; };
    vals.forEach((v, i) => {
      if (v == null) { flush(); return; }
      const x = pts.length > 1 ? (i / (pts.length - 1)) * W : W / 2;
      seg.push(x.toFixed(1) + ',' + (H - P - (v / max) * (H - 2 * P)).toFixed(1));
    });
    if (seg.length === 1) seg.push(seg[0]);
    flush();

    return el('figure', {}, el('figcaption', {}, el('span', { text: title }),
      el('span', { text: last == null ? 'no data yet' : 'now ' + fmt(last) + ' · max ' + fmt(max) })), s);
  }

  async function pollSeries() {
    const d = await getJSON('/ui/api/series');
    const p = d.points;
    const n = (v) => v.toFixed(v < 10 ? 2 : 0);
    $('charts').replaceChildren(
      chart('Requests/s (last hour)', p, 'requests_per_s', n),
      chart('Latency p95', p, 'latency_p95_s', secs),
      chart('Cache hit ratio', p, 'cache_hit_ratio', pct),
      chart('Upstream error ratio', p, 'upstream_error_ratio', pct),
      chart('Correction tokens/s', p, 'tokens_per_second', n),
      chart('Engine queue depth', p, 'engine_queue_depth', n));
  }

  async function pollSummary() {
    const d = await getJSON('/ui/api/summary');
    renderHealth(d.health);
    renderExperiments(d.experiments);
    renderEval(d.eval);
  }

  let ticks = 0;
  async function tick() {
    try {
      await Promise.all([pollRecords(), pollSummary(), ticks % 5 === 0 ? pollSeries() : null]);
      $('live').textContent = 'live · updated ' + new Date().toLocaleTimeString();
    } catch (e) {
      $('live').textContent = 'update failed: ' + e.message;
    }
    ticks++;
    setTimeout(tick, POLL_MS);
  }
  tick();
})();
