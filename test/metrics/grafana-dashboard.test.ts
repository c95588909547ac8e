/**
 * docs/grafana/herald-dashboard.json against the metrics Herald really exports: every metric a
 * query names exists in the registry (src/metrics/metrics.ts, as a `serve` process builds it), and
 * every metric of Herald's own is on the dashboard — so neither can drift from the other unnoticed.
 * Also what makes it importable: a `${DS_PROMETHEUS}` datasource input every panel uses.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Queryable } from '../../src/db/db.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';

const FILE = new URL('../../docs/grafana/herald-dashboard.json', import.meta.url);
/** The datasource input's placeholder, which Grafana replaces on import. */
const DS_UID = `\${DS_PROMETHEUS}`;

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos?: { h: number; w: number; x: number; y: number };
  targets?: Array<{ expr: string; refId: string; datasource?: { uid: string } }>;
}

const dashboard = JSON.parse(readFileSync(FILE, 'utf8')) as {
  __inputs: Array<{ name: string; type: string; pluginId: string }>;
  schemaVersion: number;
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; datasource: { uid: string }; definition: string }> };
};

/** Every series name the registry of a `serve` process exports (histograms as their three series). */
function exportedSeries(): Set<string> {
  // Never queried: the registry is listed, not scraped.
  const db = { query: () => Promise.reject(new Error('not scraped')) } as unknown as Queryable;
  const metrics = createMetrics({ db, processMetrics: true, deliveries: true });
  const names = new Set<string>();
  for (const m of metrics.registry.getMetricsAsArray()) {
    const type = (m as unknown as { type: string }).type;
    names.add(m.name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${m.name}${s}`);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(`${m.name}${s}`);
  }
  return names;
}

/** The queries of the dashboard: panel targets and template variables. */
function queries(): string[] {
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  return [...exprs, ...dashboard.templating.list.map((v) => v.definition)];
}

test('every metric the dashboard queries exists in the registry', () => {
  const exported = exportedSeries();
  const named = new Set(queries().flatMap((q) => q.match(/\bherald_[a-z0-9_]+/g) ?? []));
  assert.ok(named.size >= 8, `the dashboard queries Herald's metrics (${[...named].join(', ')})`);
  const missing = [...named].filter((n) => !exported.has(n));
  assert.deepEqual(missing, [], `queried but not exported: ${missing.join(', ')}`);
});

test("every metric of Herald's own (not Node's process metrics) is on the dashboard", () => {
  const text = queries().join('\n');
  const own = [...exportedSeries()].filter(
    (n) => !/^herald_(process|nodejs)_/.test(n) && !/_(bucket|sum|count)$/.test(n),
  );
  assert.ok(own.includes('herald_deliveries_total'));
  const absent = own.filter((n) => !new RegExp(`\\b${n}(_bucket|_sum|_count)?\\b`).test(text));
  assert.deepEqual(absent, [], `exported but not on the dashboard: ${absent.join(', ')}`);
});

test('importable: a DS_PROMETHEUS input that every panel and variable uses, unique ids, a layout', () => {
  assert.deepEqual(
    dashboard.__inputs.map((i) => [i.name, i.type, i.pluginId]),
    [['DS_PROMETHEUS', 'datasource', 'prometheus']],
  );
  assert.ok(dashboard.schemaVersion >= 36 && dashboard.schemaVersion <= 41, String(dashboard.schemaVersion));
  assert.equal(dashboard.uid, 'herald-overview');
  const ids = dashboard.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  for (const p of dashboard.panels) {
    assert.ok(p.gridPos, `${p.title}: gridPos`);
    if (p.type === 'row') continue;
    assert.equal(p.datasource?.uid, DS_UID, p.title);
    assert.ok(p.targets && p.targets.length > 0, `${p.title}: a query`);
    for (const t of p.targets) assert.equal(t.datasource?.uid, DS_UID, `${p.title} ${t.refId}`);
  }
  for (const v of dashboard.templating.list) assert.equal(v.datasource.uid, DS_UID, v.name);
});
