// fcnlab's dashboard: one script draws the page the path names, from the
// JSON API, and keeps it current from one Server-Sent Events stream
// (/api/events). ?live=0 draws once without the stream.
'use strict';

const params = new URLSearchParams(location.search);
const live = params.get('live') !== '0';
const page = document.getElementById('page');

// ---------- small helpers ----------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}
const svgNs = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(svgNs, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}
async function getJson(url) {
  const response = await fetch(url);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}
const fmt = (v, digits = 4) => (v === null || v === undefined || Number.isNaN(v)) ? '—' : Number(v).toPrecision(digits);
function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return h ? `${h}h ${m}m` : m ? `${m}m ${s % 60}s` : `${s}s`;
}
const when = (t) => t ? new Date(t * 1000).toLocaleString() : '—';
// A run keeps its color on every page and in every comparison.
function runColor(id) {
  let hash = 2166136261; // FNV-1a: ids that differ a little differ in color
  for (const c of id) hash = Math.imul(hash ^ c.charCodeAt(0), 16777619) >>> 0;
  return `hsl(${hash % 360}, 70%, 40%)`;
}
const statusBadge = (status) => el('span', {class: `status status-${status}`}, status);

// ---------- the event stream ----------
const listeners = new Set();
function subscribe(lastId, listener) {
  listeners.add(listener);
  if (!live || subscribe.source) return;
  const source = new EventSource(`/api/events?last_id=${lastId}`);
  subscribe.source = source;
  const indicator = document.getElementById('live');
  source.onopen = () => { indicator.textContent = '● live'; };
  source.onerror = () => { indicator.textContent = '○ reconnecting'; };
  for (const type of ['run', 'metrics', 'reset']) {
    source.addEventListener(type, (event) => {
      const data = JSON.parse(event.data);
      for (const l of listeners) l(type, data);
    });
  }
}

// ---------- sparkline ----------
function sparkline(values, color = '#546e7a') {
  const w = 90, h = 22;
  const finite = values.filter((v) => v !== null && Number.isFinite(v));
  const box = svg('svg', {width: w, height: h, class: 'sparkline'});
  if (finite.length < 2) return box;
  const lo = Math.min(...finite), hi = Math.max(...finite);
  const y = (v) => h - 2 - (hi > lo ? (v - lo) / (hi - lo) : 0.5) * (h - 4);
  const points = values.map((v, i) => v === null ? null : `${(i / (values.length - 1) * w).toFixed(1)},${y(v).toFixed(1)}`)
    .filter(Boolean).join(' ');
  box.append(svg('polyline', {points, fill: 'none', stroke: color, 'stroke-width': 1.5}));
  return box;
}

// ---------- Runs ----------
const runColumns = [
  ['', null],
  ['name', (r) => r.name],
  ['network', (r) => r.network],
  ['dataset', (r) => r.dataset],
  ['status', (r) => r.status],
  ['epoch', (r) => r.epoch],
  ['iteration', (r) => r.iteration],
  ['loss', (r) => r.loss],
  ['best mean IU', (r) => r.best_mean_iu],
  ['images/s', (r) => r.images_per_second],
  ['ETA', (r) => r.eta_seconds],
  ['started', (r) => r.started],
  ['duration', (r) => r.duration],
];

async function runsPage() {
  const start = performance.now();
  const body = await getJson('/api/runs');
  const runs = new Map(body.runs.map((r) => [r.id, r]));
  const selected = new Set();
  let sortKey = 11, sortDir = -1;
  const tbody = el('tbody');
  const compare = el('button', {onclick: () => { location.href = `/compare?runs=${[...selected].join(',')}`; }, disabled: ''}, 'Compare selected');
  const header = el('tr', {}, runColumns.map(([label], i) => el('th', {
    onclick: () => { sortDir = sortKey === i ? -sortDir : 1; sortKey = i; draw(); },
  }, label)));
  function row(r) {
    const check = el('input', {type: 'checkbox', onchange: (e) => {
      e.target.checked ? selected.add(r.id) : selected.delete(r.id);
      selected.size >= 2 ? compare.removeAttribute('disabled') : compare.setAttribute('disabled', '');
    }});
    check.checked = selected.has(r.id);
    const epoch = r.epoch === null ? '—' : `${r.epoch}${r.epochs ? ' / ' + r.epochs : ''}`;
    const iteration = r.iteration === null ? '—' : `${r.iteration}${r.total_iterations ? ' / ' + r.total_iterations : ''}`;
    return el('tr', {'data-run': r.id},
      el('td', {}, check),
      el('td', {}, el('a', {href: `/run/${r.id}`, style: `color:${runColor(r.id)}`}, r.name)),
      el('td', {}, r.network || '—'), el('td', {}, r.dataset || '—'),
      el('td', {title: r.error || ''}, statusBadge(r.status)),
      el('td', {class: 'num'}, epoch), el('td', {class: 'num'}, iteration),
      el('td', {class: 'num'}, el('span', {}, fmt(r.loss)), ' ', sparkline(r.sparkline, runColor(r.id))),
      el('td', {class: 'num'}, r.best_mean_iu === null ? '—' : `${fmt(r.best_mean_iu)} (epoch ${r.best_epoch})`),
      el('td', {class: 'num'}, fmt(r.images_per_second, 3)),
      el('td', {class: 'num'}, r.status === 'running' ? duration(r.eta_seconds) : '—'),
      el('td', {}, when(r.started)), el('td', {class: 'num'}, duration(r.duration)));
  }
  function draw() {
    const getter = runColumns[sortKey][1] || ((r) => r.name);
    const rows = [...runs.values()].sort((a, b) => {
      const x = getter(a), y = getter(b);
      if (x === y) return 0;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * sortDir;
    });
    [...header.children].forEach((th, i) => {
      th.classList.toggle('sorted', i === sortKey);
      th.dataset.dir = sortDir > 0 ? '▲' : '▼';
    });
    tbody.replaceChildren(...rows.map(row));
    document.body.dataset.runs = String(runs.size);
  }
  const datasets = el('ul', {id: 'datasets'});
  getJson('/api/datasets').then((d) => datasets.replaceChildren(...d.datasets.map((x) =>
    el('li', {}, el('a', {href: `/dataset/${x.id}`}, x.name), el('span', {class: 'muted'}, ` ${x.path}`)))));
  page.replaceChildren(
    el('h1', {}, 'Runs'),
    runs.size ? el('div', {class: 'controls'}, compare) : el('p', {class: 'muted'}, 'No runs found yet: this page lists them as they appear.'),
    el('table', {id: 'runs'}, el('thead', {}, header), tbody),
    el('h2', {}, 'Datasets'), datasets);
  draw();
  document.body.dataset.renderMs = String(Math.round(performance.now() - start));
  document.body.dataset.ready = '1';
  subscribe(body.last_event_id, (type, data) => {
    if (type === 'run') { runs.set(data.id, data); draw(); }
    if (type === 'reset') location.reload();
  });
}

// ---------- charts ----------
function smooth(values, weight) {
  // TensorBoard's debiased exponential moving average.
  const out = [];
  let last = 0, count = 0;
  for (const v of values) {
    if (v === null || !Number.isFinite(v)) { out.push(null); continue; }
    last = last * weight + (1 - weight) * v;
    count += 1;
    out.push(last / (1 - Math.pow(weight, count)));
  }
  return out;
}

function chart(target, title, series, data, {xTime = false, yLog = false, xLabel = 'iteration'} = {}) {
  const width = Math.max(360, target.clientWidth - 24);
  const options = {
    title, width, height: 240,
    scales: {x: {time: xTime}, y: yLog ? {distr: 3} : {}},
    // Log axes label small numbers as 1e-4, not 0.
    axes: [{label: xLabel}, yLog ? {values: (u, ticks) => ticks.map((v) => v === null ? '' : Number(v).toExponential(0)), size: 60} : {size: 60}],
    series: [{label: xLabel}, ...series],
    cursor: {drag: {x: true, y: false}},
    // A drag zooms; live updates then keep that zoom until a double click.
    hooks: {setSelect: [(u) => { if (u.select.width > 0) u.zoomed = true; }]},
  };
  const plot = new uPlot(options, data, target);
  plot.over.addEventListener('dblclick', () => { plot.zoomed = false; });
  return plot;
}

// A run's series, as the run page plots them.
function columns(run, xAxis) {
  const it = run.iterations;
  // By epoch, an iteration sits at its fraction of the run's epochs.
  const perEpoch = run.epochs && run.total_iterations ? run.total_iterations / run.epochs : null;
  const epochX = perEpoch ? it.iteration.map((i) => i / perEpoch) : it.epoch;
  const x = xAxis === 'time' ? it.time : xAxis === 'epoch' ? epochX : it.iteration;
  const epochs = run.epoch_lines;
  const ex = epochs.map((e) => xAxis === 'time' ? e.time : xAxis === 'epoch' ? e.epoch : e.iteration);
  return {x, epochs, ex};
}

function bestEpoch(epochs) {
  let best = -1, at = null;
  epochs.forEach((e, i) => { if (e.val_mean_iu !== null && e.val_mean_iu > best) { best = e.val_mean_iu; at = i; } });
  return at;
}

function classIuBars(run, epochIndex) {
  const epoch = run.epoch_lines[epochIndex];
  const names = run.class_names;
  const values = epoch && epoch.val_class_iu ? epoch.val_class_iu : [];
  const rowH = 16, labelW = 120, barW = 300;
  const box = svg('svg', {width: labelW + barW + 60, height: rowH * values.length + 4});
  values.forEach((v, i) => {
    const y = i * rowH + 2;
    box.append(svg('text', {x: labelW - 6, y: y + 12, 'text-anchor': 'end'}, names[i] || `class ${i}`));
    const bar = svg('rect', {x: labelW, y, width: v === null ? 0 : v * barW, height: rowH - 3, fill: '#42a5f5'});
    bar.append(svg('title', {}, `${names[i] || i}: IU ${fmt(v)}`));
    box.append(bar);
    box.append(svg('text', {x: labelW + (v || 0) * barW + 4, y: y + 12}, v === null ? 'absent' : v.toFixed(3)));
  });
  return box;
}

function confusionMatrix(run, epochIndex, normalized) {
  const epoch = run.epoch_lines[epochIndex];
  const counts = epoch && epoch.val_confusion;
  if (!counts) return el('p', {class: 'muted'}, 'No confusion matrix for this epoch.');
  const n = Math.round(Math.sqrt(counts.length));
  const names = run.class_names;
  const cell = Math.max(10, Math.min(24, Math.floor(480 / n))), label = 110;
  const box = svg('svg', {width: label + n * cell + 4, height: label + n * cell + 4, class: 'confusion'});
  for (let t = 0; t < n; t++) {
    const rowSum = counts.slice(t * n, t * n + n).reduce((a, b) => a + b, 0);
    box.append(svg('text', {x: label - 4, y: label + t * cell + cell * 0.7, 'text-anchor': 'end'}, names[t] || t));
    for (let p = 0; p < n; p++) {
      const count = counts[t * n + p];
      const share = rowSum ? count / rowSum : 0;
      const maxCount = Math.max(...counts);
      const value = normalized ? share : (maxCount ? Math.log1p(count) / Math.log1p(maxCount) : 0);
      const rect = svg('rect', {x: label + p * cell, y: label + t * cell, width: cell - 1, height: cell - 1,
        fill: `rgba(21, 101, 192, ${value.toFixed(3)})`});
      rect.append(svg('title', {}, `true ${names[t] || t}, predicted ${names[p] || p}: ${count} pixels (${(share * 100).toFixed(1)}% of the row)`));
      box.append(rect);
    }
  }
  for (let p = 0; p < n; p++) {
    box.append(svg('text', {transform: `translate(${label + p * cell + cell * 0.7},${label - 4}) rotate(-60)`}, names[p] || p));
  }
  return box;
}

function optionsTable(options) {
  return el('table', {}, el('tbody', {}, Object.entries(options || {}).map(([key, value]) =>
    el('tr', {}, el('td', {}, key), el('td', {}, typeof value === 'object' ? JSON.stringify(value) : String(value))))));
}

function csvOf(run) {
  const it = run.iterations;
  const lines = ['iteration,epoch,loss,accuracy,lr,time'];
  it.iteration.forEach((_, i) => lines.push([it.iteration[i], it.epoch[i], it.loss[i], it.accuracy[i], it.lr[i], it.time[i]]
    .map((v) => v === null ? '' : v).join(',')));
  return lines.join('\n') + '\n';
}

// ---------- Run ----------
async function runPage(id) {
  const run = await getJson(`/api/runs/${id}`);
  const state = {x: 'iteration', log: false, smoothing: 0.6, epoch: Math.max(0, run.epoch_lines.length - 1), normalized: true};
  const charts = el('div', {class: 'grid'});
  const lower = el('div');
  const plots = [];

  function lossData() {
    const {x} = columns(run, state.x);
    return [x, run.iterations.loss.slice(), smooth(run.iterations.loss, state.smoothing)];
  }
  function epochData(keys) {
    const {ex, epochs} = columns(run, state.x);
    const best = bestEpoch(epochs);
    const data = [ex];
    for (const key of keys) data.push(epochs.map((e) => e[key] === undefined ? null : e[key]));
    if (keys.includes('val_mean_iu')) data.push(epochs.map((e, i) => i === best ? e.val_mean_iu : null));
    return data;
  }
  function lrData() {
    const {x} = columns(run, state.x);
    return [x, run.iterations.lr];
  }
  function drawCharts() {
    plots.forEach(([, p]) => p.destroy());
    plots.length = 0;
    // Every panel first, so that each chart is sized to its own column.
    const boxes = [0, 1, 2, 3].map(() => el('div', {class: 'panel'}));
    charts.replaceChildren(...boxes);
    const opts = {xTime: state.x === 'time', xLabel: state.x};
    plots.push(['loss', chart(boxes[0], 'training loss', [
      {label: 'raw', stroke: 'rgba(30, 136, 229, 0.25)'},
      {label: 'smoothed', stroke: '#1e88e5', width: 2}], lossData(), {...opts, yLog: state.log})]);
    plots.push(['epoch-loss', chart(boxes[1], 'loss by epoch', [
      {label: 'train', stroke: '#1e88e5', points: {show: true}},
      {label: 'validation', stroke: '#e53935', points: {show: true}}], epochData(['train_loss', 'val_loss']), {...opts, yLog: state.log})]);
    plots.push(['epoch-quality', chart(boxes[2], 'accuracy and mean IU by epoch', [
      {label: 'train accuracy', stroke: '#90a4ae', points: {show: true}},
      {label: 'pixel accuracy', stroke: '#43a047', points: {show: true}},
      {label: 'mean IU', stroke: '#8e24aa', width: 2, points: {show: true}},
      {label: 'best epoch', stroke: 'transparent', points: {show: true, size: 12, stroke: '#ff6f00', fill: '#ffca28'}}],
    epochData(['train_accuracy', 'val_pixel_accuracy', 'val_mean_iu']), opts)]);
    plots.push(['lr', chart(boxes[3], 'learning rate', [{label: 'lr', stroke: '#6d4c41'}], lrData(), {...opts, yLog: true})]);
  }
  function refreshCharts() {
    // setData without resetting scales: a zoom survives the update.
    for (const [name, plot] of plots) {
      const data = name === 'loss' ? lossData() : name === 'lr' ? lrData()
        : name === 'epoch-loss' ? epochData(['train_loss', 'val_loss'])
          : epochData(['train_accuracy', 'val_pixel_accuracy', 'val_mean_iu']);
      plot.setData(data, !plot.zoomed);
    }
    document.body.dataset.iterations = String(run.iterations.iteration.length);
    document.body.dataset.lastLoss = String(run.iterations.loss[run.iterations.loss.length - 1]);
  }
  function drawLower() {
    const epochs = run.epoch_lines.length;
    const slider = el('input', {type: 'range', min: 0, max: Math.max(0, epochs - 1), value: state.epoch,
      oninput: (e) => { state.epoch = Number(e.target.value); drawLower(); }});
    const epochLabel = epochs ? `epoch ${run.epoch_lines[state.epoch].epoch}` : 'no epoch yet';
    const normalized = el('input', {type: 'checkbox', onchange: (e) => { state.normalized = e.target.checked; drawLower(); }});
    normalized.checked = state.normalized;
    lower.replaceChildren(
      el('div', {class: 'grid'},
        el('div', {class: 'panel'}, el('h2', {}, 'IU per class'),
          el('div', {class: 'controls'}, el('label', {}, 'epoch ', slider, epochLabel)),
          epochs ? classIuBars(run, state.epoch) : el('p', {class: 'muted'}, 'Not validated yet.')),
        el('div', {class: 'panel'}, el('h2', {}, 'Confusion matrix (rows: truth, columns: prediction)'),
          el('div', {class: 'controls'}, el('label', {}, normalized, 'row-normalized'), epochLabel),
          epochs ? confusionMatrix(run, state.epoch, state.normalized) : el('p', {class: 'muted'}, 'Not validated yet.'))),
      el('div', {class: 'grid'},
        el('div', {class: 'panel'}, el('h2', {}, 'Options'), optionsTable(run.record.options),
          el('h2', {}, 'Solver'), el('pre', {}, run.solver || '(none)')),
        el('div', {class: 'panel'}, el('h2', {}, 'Files'),
          el('ul', {}, run.files.map((f) => el('li', {}, el('a', {href: `/api/runs/${id}/files/${encodeURIComponent(f.name)}`}, f.name), ` (${(f.bytes / 1024).toFixed(1)} KiB)`))),
          el('p', {}, el('a', {href: `/network/${id}`}, 'Network'), ' · ', el('a', {href: `/test/${id}`}, 'Test One'), ' · ',
            el('a', {href: '#', onclick: (e) => {
              e.preventDefault();
              const link = el('a', {href: URL.createObjectURL(new Blob([csvOf(run)], {type: 'text/csv'})), download: `${id}-iterations.csv`});
              link.click();
            }}, 'CSV export')))));
  }
  const xSelect = el('select', {onchange: (e) => { state.x = e.target.value; drawCharts(); }},
    ['iteration', 'epoch', 'time'].map((v) => el('option', {value: v}, v)));
  const logBox = el('input', {type: 'checkbox', onchange: (e) => { state.log = e.target.checked; drawCharts(); }});
  const smoothing = el('input', {type: 'range', min: 0, max: 0.99, step: 0.01, value: state.smoothing,
    oninput: (e) => { state.smoothing = Number(e.target.value); refreshCharts(); }});
  const status = el('span');
  const drawStatus = () => status.replaceChildren(statusBadge(run.status), ' ',
    run.error ? el('span', {class: 'error'}, run.error) : '',
    ` ${run.network || ''} on `,
    run.dataset_id ? el('a', {href: `/dataset/${run.dataset_id}`}, run.dataset) : (run.dataset || '?'),
    ` · iteration ${run.iteration ?? '—'}${run.total_iterations ? ' / ' + run.total_iterations : ''}`);
  drawStatus();
  page.replaceChildren(
    el('h1', {}, run.name, ' ', status),
    el('div', {class: 'controls'},
      el('label', {}, 'x axis ', xSelect), el('label', {}, logBox, 'log y'),
      el('label', {}, 'smoothing ', smoothing)),
    charts, lower);
  drawCharts();
  refreshCharts();
  drawLower();
  window.fcnlabCharts = plots; // [name, uPlot] pairs, for tests and the console
  document.body.dataset.ready = '1';
  subscribe(run.last_event_id, (type, data) => {
    if (type === 'reset') { location.reload(); return; }
    if (type === 'run' && data.id === id) { Object.assign(run, data); drawStatus(); return; }
    if (type !== 'metrics' || data.run !== id) return;
    const line = data.line;
    if (line.type === 'epoch') {
      run.epoch_lines.push(line);
      state.epoch = run.epoch_lines.length - 1;
      drawLower();
    } else {
      for (const key of ['iteration', 'epoch', 'loss', 'accuracy', 'lr', 'time']) {
        run.iterations[key].push(line[key] === undefined ? null : line[key]);
      }
    }
    refreshCharts();
  });
}

// ---------- Compare ----------
async function comparePage() {
  const ids = (params.get('runs') || '').split(',').filter(Boolean);
  const runs = await Promise.all(ids.map((id) => getJson(`/api/runs/${id}`)));
  const panel = (title) => { const d = el('div', {class: 'panel'}); d.dataset.title = title; return d; };
  const lossBox = panel('loss'), iuBox = panel('mean IU');
  // uPlot.join aligns runs logged at different iterations.
  const lossData = uPlot.join(runs.map((r) => [r.iterations.iteration, smooth(r.iterations.loss, 0.6)]));
  const iuData = uPlot.join(runs.map((r) => [r.epoch_lines.map((e) => e.epoch), r.epoch_lines.map((e) => e.val_mean_iu)]));
  const series = runs.map((r) => ({label: r.name, stroke: runColor(r.id), spanGaps: true}));
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.record.options || {})))].sort();
  const value = (r, k) => JSON.stringify((r.record.options || {})[k]);
  const differing = ['network', 'dataset'].filter((k) => new Set(runs.map((r) => r[k])).size > 1)
    .map((k) => [k, runs.map((r) => r[k])])
    .concat(keys.filter((k) => new Set(runs.map((r) => value(r, k))).size > 1).map((k) => [k, runs.map((r) => value(r, k))]));
  page.replaceChildren(el('h1', {}, 'Compare'), el('div', {class: 'grid'}, lossBox, iuBox),
    el('h2', {}, 'Options that differ'),
    differing.length ? el('table', {id: 'differing'}, el('thead', {}, el('tr', {}, el('th', {}, 'option'), runs.map((r) => el('th', {style: `color:${runColor(r.id)}`}, r.name)))),
      el('tbody', {}, differing.map(([k, values]) => el('tr', {}, el('td', {}, k), values.map((v) => el('td', {}, v ?? '—'))))))
      : el('p', {class: 'muted'}, 'The runs share every option.'));
  chart(lossBox, 'training loss (smoothed)', series, lossData);
  chart(iuBox, 'validation mean IU', series.map((s) => ({...s, points: {show: true}})), iuData, {xLabel: 'epoch'});
  document.body.dataset.ready = '1';
}

// ---------- Network ----------
async function networkPage(id) {
  const response = await fetch(`/api/runs/${id}/network.svg`);
  const text = await response.text();
  if (!response.ok) throw new Error(JSON.parse(text).error);
  const holder = el('div', {class: 'panel network'});
  holder.innerHTML = text.slice(text.indexOf('<svg'));
  page.replaceChildren(el('h1', {}, 'Network of ', el('a', {href: `/run/${id}`}, id)), holder);
  document.body.dataset.layers = String(holder.querySelectorAll('g.node').length);
  document.body.dataset.ready = '1';
}

// ---------- Test One ----------
async function testPage(id) {
  const run = await getJson(`/api/runs/${id}`);
  const file = el('input', {type: 'file', name: 'image', accept: 'image/*'});
  const model = el('select', {name: 'model'}, run.models.map((m) => el('option', {value: m}, m)));
  const colormap = el('select', {name: 'colormap'}, ['palette', 'paired', 'gray'].map((m) => el('option', {value: m}, m)));
  const opacity = el('input', {type: 'range', name: 'opacity', min: 0, max: 1, step: 0.05, value: 0.5});
  const result = el('div');
  const hover = el('p', {class: 'muted', id: 'hovered'}, 'Move over the overlay to see the class under the cursor.');
  // Or a validation image of the run's own dataset, when it is served.
  const picked = el('select', {id: 'validation-image'}, el('option', {value: ''}, '—'));
  if (run.dataset_id) {
    getJson(`/api/datasets/${run.dataset_id}?split=val&limit=200`).then((d) => picked.append(
      ...d.items.map((item) => el('option', {value: item.index}, item.name)))).catch(() => {});
  }
  async function submit(event) {
    event.preventDefault();
    const form = new FormData();
    if (file.files.length) {
      form.append('image', file.files[0]);
    } else if (picked.value !== '') {
      const image = await fetch(`/api/datasets/${run.dataset_id}/val/${picked.value}/image.png`);
      form.append('image', await image.blob(), `${picked.selectedOptions[0].textContent}.png`);
    } else {
      return;
    }
    form.append('model', model.value);
    form.append('colormap', colormap.value);
    form.append('opacity', opacity.value);
    result.replaceChildren(el('p', {class: 'muted'}, 'Segmenting…'));
    const response = await fetch(`/api/runs/${id}/segment?format=json`, {method: 'POST', body: form});
    const body = await response.json();
    if (!response.ok) { result.replaceChildren(el('p', {class: 'error'}, body.error)); return; }
    const classMap = Uint8Array.from(atob(body.class_map), (c) => c.charCodeAt(0));
    const byIndex = new Map(body.classes.map((c) => [c.index, c]));
    const overlay = el('img', {id: 'overlay', src: `data:image/png;base64,${body.overlay_png}`, alt: 'overlay'});
    overlay.addEventListener('mousemove', (e) => {
      const x = Math.floor(e.offsetX * body.width / overlay.clientWidth);
      const y = Math.floor(e.offsetY * body.height / overlay.clientHeight);
      const found = byIndex.get(classMap[y * body.width + x]);
      hover.textContent = found ? `(${x}, ${y}): ${found.name}` : '';
    });
    result.replaceChildren(
      el('div', {class: 'images'}, overlay, el('img', {id: 'mask', src: `data:image/png;base64,${body.mask_png}`, alt: 'mask'})),
      hover,
      el('h2', {}, 'Classes found'),
      el('div', {id: 'legend'}, body.classes.map((c) => el('div', {class: 'legend-row', 'data-class': c.name},
        el('span', {class: 'swatch', style: `background: rgb(${c.color.join(',')})`}), c.name, ` ${(c.share * 100).toFixed(1)}%`))));
    document.body.dataset.segmented = String(body.classes.length);
    document.body.dataset.segmentations = String(Number(document.body.dataset.segmentations || 0) + 1);
  }
  page.replaceChildren(el('h1', {}, 'Test One: ', el('a', {href: `/run/${id}`}, id)),
    run.models.length ? el('form', {class: 'controls panel', onsubmit: submit},
      el('label', {}, 'image ', file),
      run.dataset_id ? el('label', {}, 'or a validation image ', picked) : null,
      el('label', {}, 'model ', model), el('label', {}, 'colormap ', colormap),
      el('label', {}, 'opacity ', opacity), el('button', {type: 'submit'}, 'Segment'))
      : el('p', {class: 'muted'}, 'This run has no model.pt yet.'),
    result);
  document.body.dataset.ready = '1';
}

// ---------- Dataset (Explore DB) ----------
async function datasetPage(id) {
  const state = {split: params.get('split') || 'train', offset: 0, limit: 24, cls: -1, opacity: 0.6};
  const grid = el('div', {class: 'tiles'});
  const info = el('div', {class: 'controls'});
  const shares = el('div', {class: 'panel'});
  async function draw() {
    const body = await getJson(`/api/datasets/${id}?split=${state.split}&offset=${state.offset}&limit=${state.limit}&class=${state.cls}`);
    const name = (c) => body.class_names[c] || `class ${c}`;
    const splitSelect = el('select', {onchange: (e) => { state.split = e.target.value; state.offset = 0; draw(); }},
      body.splits.map((s) => el('option', {value: s}, s)));
    splitSelect.value = state.split;
    const classSelect = el('select', {id: 'class-filter', onchange: (e) => { state.cls = Number(e.target.value); state.offset = 0; draw(); }},
      el('option', {value: -1}, 'every class'), body.class_names.map((n, c) => el('option', {value: c}, n)));
    classSelect.value = String(state.cls);
    const opacity = el('input', {type: 'range', min: 0, max: 1, step: 0.05, value: state.opacity, oninput: (e) => {
      state.opacity = Number(e.target.value);
      grid.querySelectorAll('img.label').forEach((img) => { img.style.opacity = state.opacity; });
    }});
    const pages = Math.max(1, Math.ceil(body.count / state.limit));
    const pageNumber = Math.floor(state.offset / state.limit) + 1;
    info.replaceChildren(el('label', {}, 'split ', splitSelect), el('label', {}, 'holding ', classSelect),
      el('label', {}, 'label opacity ', opacity),
      el('button', {onclick: () => { state.offset = Math.max(0, state.offset - state.limit); draw(); }, ...(pageNumber > 1 ? {} : {disabled: ''})}, '‹ previous'),
      `page ${pageNumber} of ${pages} · ${body.count} of ${body.total} samples`,
      el('button', {onclick: () => { state.offset += state.limit; draw(); }, ...(pageNumber < pages ? {} : {disabled: ''})}, 'next ›'));
    grid.replaceChildren(...body.items.map((item) => el('figure', {class: 'tile', 'data-index': item.index},
      el('div', {class: 'stack'},
        el('img', {src: `/api/datasets/${id}/${state.split}/${item.index}/image.png`, alt: item.name}),
        el('img', {class: 'label', src: `/api/datasets/${id}/${state.split}/${item.index}/label.png`, alt: '', style: `opacity:${state.opacity}`})),
      el('figcaption', {}, item.name, el('br'), el('span', {class: 'muted'}, item.classes.filter((c) => c !== 0).map(name).join(', '))))));
    const w = 300;
    shares.replaceChildren(el('h2', {}, `Class pixel shares (${state.split})`),
      el('div', {}, body.class_shares.map((share, c) => el('div', {class: 'legend-row'},
        el('span', {class: 'swatch', style: `background: rgb(${body.colors[c].join(',')})`}),
        el('span', {style: 'display:inline-block; width: 9em'}, name(c)),
        el('span', {style: `display:inline-block; height: .8em; background:#42a5f5; width:${Math.round(share * w)}px`}),
        ` ${(share * 100).toFixed(2)}%`))));
    document.body.dataset.tiles = String(body.items.length);
    document.body.dataset.filter = String(state.cls);
    document.body.dataset.ready = '1';
  }
  page.replaceChildren(el('h1', {}, 'Dataset ', id.replaceAll('~', '/')), info, el('div', {class: 'grid-2'}, grid, shares));
  await draw();
}

// ---------- routing ----------
async function main() {
  const parts = location.pathname.split('/').filter(Boolean);
  try {
    if (parts[0] === 'run') await runPage(parts[1]);
    else if (parts[0] === 'compare') await comparePage();
    else if (parts[0] === 'network') await networkPage(parts[1]);
    else if (parts[0] === 'test') await testPage(parts[1]);
    else if (parts[0] === 'dataset') await datasetPage(parts[1]);
    else await runsPage();
  } catch (error) {
    page.replaceChildren(el('p', {class: 'error'}, String(error.message || error)));
    document.body.dataset.ready = 'error';
  }
}
main();
