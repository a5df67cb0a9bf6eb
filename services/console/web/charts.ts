/**
 * The charts, with Apache ECharts: its Sankey diagram draws the flow between agencies and its line
 * chart the lookups over time. Only the parts used are bundled, and this module is loaded with a
 * dynamic `import()` by the auditor's page, so the first page never carries it.
 */
import { LineChart, SankeyChart } from 'echarts/charts';
import { AriaComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { init, use } from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';

use([SankeyChart, LineChart, GridComponent, TooltipComponent, LegendComponent, AriaComponent, SVGRenderer]);

export interface Flow {
  period: string;
  readerAgency: string;
  sourceAgency: string;
  lookups: number;
  /** Events the reader agency's systems received under sharing agreements. */
  deliveries?: number;
}

/**
 * Source agency → reader agency, each link as wide as its allowed lookups and deliveries under
 * sharing agreements over the period. An
 * agency that both reads and is read appears twice, once on each side, so that the diagram has
 * no cycle.
 */
export function drawFlowMap(
  element: HTMLElement,
  flows: readonly Flow[],
  labels: { source: string; reader: string; description: string },
): () => void {
  const totals = new Map<string, number>();
  for (const f of flows) {
    const key = `${f.sourceAgency}\u0000${f.readerAgency}`;
    totals.set(key, (totals.get(key) ?? 0) + f.lookups + (f.deliveries ?? 0));
  }
  const source = (a: string) => `${a} · ${labels.source}`;
  const reader = (a: string) => `${a} · ${labels.reader}`;
  const nodes = new Set<string>();
  const links = [...totals].map(([key, value]) => {
    const [s, r] = key.split('\u0000') as [string, string];
    nodes.add(source(s));
    nodes.add(reader(r));
    return { source: source(s), target: reader(r), value };
  });
  const chart = init(element, undefined, { renderer: 'svg' });
  chart.setOption({
    aria: { enabled: true, label: { description: labels.description } },
    animation: false,
    tooltip: { trigger: 'item' },
    series: [
      {
        type: 'sankey',
        data: [...nodes].map((name) => ({ name })),
        links,
        emphasis: { focus: 'adjacency' },
        lineStyle: { color: 'gradient', curveness: 0.5 },
        left: 8,
        right: 160,
        label: { color: '#1b1f24', overflow: 'break', width: 150 },
      },
    ],
  });
  return () => chart.dispose();
}

/** Allowed lookups per period, one line per reader agency. */
export function drawFlowSeries(
  element: HTMLElement,
  flows: readonly Flow[],
  description: string,
): () => void {
  const periods = [...new Set(flows.map((f) => f.period))].sort();
  const readers = [...new Set(flows.map((f) => f.readerAgency))].sort();
  const chart = init(element, undefined, { renderer: 'svg' });
  chart.setOption({
    aria: { enabled: true, label: { description } },
    animation: false,
    tooltip: { trigger: 'axis' },
    legend: { data: readers, top: 0, textStyle: { color: '#1b1f24' } },
    grid: { left: 48, right: 16, top: 48, bottom: 32 },
    xAxis: { type: 'category', data: periods, axisLabel: { color: '#1b1f24' } },
    yAxis: { type: 'value', minInterval: 1, axisLabel: { color: '#1b1f24' } },
    series: readers.map((r) => ({
      name: r,
      type: 'line',
      data: periods.map((p) =>
        flows.filter((f) => f.period === p && f.readerAgency === r).reduce((n, f) => n + f.lookups, 0),
      ),
    })),
  });
  return () => chart.dispose();
}
