// The meshserve dashboard in the browser: loads /api/state (the last minutes of samples), then
// follows /api/stream (a server-sent event per sample). Charts are uPlot, served by meshserve
// itself from node_modules. No framework, no build step.

const COLOURS = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#7f7f7f',
  '#bcbd22',
];
const CHARTS = [
  { key: 'rate', el: 'chart-rate', unit: 'req/s', format: (v) => v.toFixed(1) },
  {
    key: 'attainment',
    el: 'chart-attainment',
    unit: '%',
    scale: 100,
    range: [0, 100],
    format: (v) => `${v.toFixed(1)}%`,
  },
  { key: 'rejections', el: 'chart-rejections', unit: 'req/s', format: (v) => v.toFixed(1) },
];

const $ = (id) => document.getElementById(id);
const state = { series: { t: [], models: {} }, models: [], charts: [] };

function colour(model) {
  return COLOURS[state.models.indexOf(model) % COLOURS.length];
}

function text(tag, content, className) {
  const node = document.createElement(tag);
  node.textContent = content;
  if (className) node.className = className;
  return node;
}

/** (Re)builds the three charts for the current model list. */
function buildCharts() {
  for (const c of state.charts) c.plot.destroy();
  state.charts = CHARTS.map((spec) => {
    const target = $(spec.el);
    const opts = {
      width: Math.max(300, target.clientWidth),
      height: 220,
      legend: { show: false }, // one legend for all three: the served models above
      scales: {
        x: { time: true },
        y: { range: spec.range ?? ((_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))]) },
      },
      axes: [{}, { size: 50, values: (_u, ticks) => ticks.map((v) => (spec.key === 'attainment' ? `${v}%` : v)) }],
      series: [
        {},
        ...state.models.map((m) => ({
          label: m,
          stroke: colour(m),
          width: 1.5,
          spanGaps: false,
          value: (_u, v) => (v == null ? '–' : spec.format(v)),
        })),
      ],
    };
    return { spec, plot: new uPlot(opts, chartData(spec), target) };
  });
}

function chartData(spec) {
  const scale = spec.scale ?? 1;
  return [
    state.series.t,
    ...state.models.map((m) => (state.series.models[m]?.[spec.key] ?? []).map((v) => (v == null ? null : v * scale))),
  ];
}

function redrawCharts() {
  for (const c of state.charts) c.plot.setData(chartData(c.spec));
}

function renderModels() {
  const list = $('models');
  list.replaceChildren(
    ...state.models.map((m) => {
      const li = document.createElement('li');
      li.dataset.model = m;
      const swatch = text('span', '', 'swatch');
      swatch.style.background = colour(m);
      li.append(swatch, text('span', m));
      return li;
    }),
  );
  if (!state.models.length) list.replaceChildren(text('li', 'none yet: no placement, no requests', 'muted'));
}

function renderTotals(tick) {
  const d = tick.dispatcher;
  const note = $('dispatcher-note');
  if (d.unavailable) {
    note.hidden = false;
    note.textContent = `dispatcher: ${d.unavailable}`;
    return;
  }
  note.hidden = true;
  const t = d.totals;
  $('total-requests').textContent = t.requests.toLocaleString('en-US');
  $('total-ok').textContent = t.ok.toLocaleString('en-US');
  $('total-rejected').textContent = t.rejected.toLocaleString('en-US');
  $('total-errors').textContent = t.errors.toLocaleString('en-US');
  $('total-inflight').textContent = String(d.inflight);
  $('total-attainment').textContent = t.requests ? `${((100 * t.withinSlo) / t.requests).toFixed(2)}%` : '–';
}

function deviceChip(device) {
  const chip = text('span', device.id, `device ${device.state}`);
  chip.title = `${device.id}: ${device.state}`;
  return chip;
}

function renderPlacement(p) {
  $('placement-version').textContent = p ? `v${p.version} · ${p.strategy} · ${p.reason}` : '';
  const body = $('groups');
  if (!p) {
    body.replaceChildren();
    const row = body.insertRow();
    const cell = row.insertCell();
    cell.colSpan = 6;
    cell.className = 'muted';
    cell.textContent = 'no placement yet';
    return;
  }
  body.replaceChildren(
    ...p.groups.map((g) => {
      const row = document.createElement('tr');
      row.dataset.group = g.id;
      if (g.out) row.className = 'out';
      const devices = document.createElement('td');
      for (const stage of g.devices) {
        const line = document.createElement('div');
        line.className = 'stage';
        line.append(...stage.map(deviceChip));
        devices.append(line);
      }
      row.append(
        text('td', g.out ? `${g.id} (out of routing)` : g.id),
        text('td', `(${g.pp}, ${g.op})`),
        text('td', g.models.join(', ')),
        devices,
        text('td', String(g.inflight), 'num'),
        text('td', String(g.routed), 'num'),
      );
      return row;
    }),
  );
}

function renderDevices(devices) {
  $('devices').replaceChildren(
    ...devices.map((d) => {
      const li = document.createElement('li');
      li.append(deviceChip(d));
      return li;
    }),
  );
}

function renderEvents(events) {
  const list = $('events');
  if (!events.length) return;
  list.replaceChildren(
    ...events.map((e) => {
      const li = document.createElement('li');
      li.className = `kind-${e.kind.replace('.', '-')}`;
      li.append(text('time', new Date(e.at).toLocaleTimeString()), text('span', e.text));
      return li;
    }),
  );
}

/** Everything but the charts, from one tick (or the initial state). */
function render(tick) {
  $('version').textContent = `v${tick.version}`;
  const known = state.models.join('\n');
  state.models = tick.models;
  if (known !== state.models.join('\n')) {
    renderModels();
    buildCharts();
  }
  renderTotals(tick);
  renderPlacement(tick.placement);
  renderDevices(tick.devices);
  renderEvents(tick.events);
}

function append(tick) {
  const s = state.series;
  s.t.push(tick.t);
  for (const m of new Set([...Object.keys(s.models), ...tick.models])) {
    s.models[m] ??= {
      rate: s.t.slice(1).map(() => null),
      attainment: s.t.slice(1).map(() => null),
      rejections: s.t.slice(1).map(() => null),
    };
    const p = tick.point[m];
    for (const key of ['rate', 'attainment', 'rejections']) s.models[m][key].push(p ? p[key] : null);
  }
  const keep = 600;
  if (s.t.length > keep) {
    const drop = s.t.length - keep;
    s.t.splice(0, drop);
    for (const m of Object.values(s.models))
      for (const key of ['rate', 'attainment', 'rejections']) m[key].splice(0, drop);
  }
}

function setConnection(live, label) {
  const badge = $('connection');
  badge.textContent = label;
  badge.className = `badge ${live ? 'live' : 'down'}`;
}

async function main() {
  const initial = await (await fetch('/api/state')).json();
  state.series = initial.series;
  document.querySelector('.window').textContent = `(requests answered in the last ${initial.windowSeconds} s)`;
  render(initial);
  if (!state.charts.length) buildCharts();
  redrawCharts();
  const stream = new EventSource('/api/stream');
  stream.addEventListener('open', () => setConnection(true, 'live'));
  stream.addEventListener('error', () => setConnection(false, 'disconnected: retrying'));
  stream.addEventListener('tick', (message) => {
    const tick = JSON.parse(message.data);
    append(tick);
    render(tick);
    redrawCharts();
  });
  window.addEventListener('resize', () => {
    for (const c of state.charts) c.plot.setSize({ width: Math.max(300, $(c.spec.el).clientWidth), height: 220 });
  });
}

main().catch((err) => setConnection(false, `failed: ${err.message}`));
