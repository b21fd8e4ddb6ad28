import { describe, expect, it } from 'vitest';
import { labelledSeriesValues, parseProcessSample } from './sampling.js';

/** As a service's /metrics writes it (packages/metrics: prom-client with the `service` default label). */
const exposition = (gcSeries: string) => `# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes{service="registry"} 413138944
# TYPE nodejs_heap_size_used_bytes gauge
nodejs_heap_size_used_bytes{service="registry"} 54525952
# TYPE nodejs_eventloop_lag_p99_seconds gauge
nodejs_eventloop_lag_p99_seconds{service="registry"} 0.012
${gcSeries}`;

const gcHistogram = `# HELP nodejs_gc_duration_seconds Garbage collection duration by kind, one of major, minor, incremental or weakcb.
# TYPE nodejs_gc_duration_seconds histogram`;

describe('reading major collections from /metrics', () => {
  it('counts only the kind="major" series of the GC histogram, whatever the label order', () => {
    const text = exposition(`${gcHistogram}
nodejs_gc_duration_seconds_bucket{le="0.001",service="registry",kind="major"} 0
nodejs_gc_duration_seconds_sum{service="registry",kind="major"} 0.25
nodejs_gc_duration_seconds_count{service="registry",kind="major"} 7
nodejs_gc_duration_seconds_count{kind="minor",service="registry"} 812
nodejs_gc_duration_seconds_count{service="registry",kind="incremental"} 30`);
    const sample = parseProcessSample(text);
    expect(sample.majorGcCount).toBe(7);
    expect(sample.heapUsedBytes).toBe(54525952);
    expect(labelledSeriesValues(text, 'nodejs_gc_duration_seconds_count', { kind: 'minor' })).toEqual([812]);
  });

  it('reads 0 before the first major collection and NaN when the histogram is not exported', () => {
    const minorOnly = `${gcHistogram}\nnodejs_gc_duration_seconds_count{service="registry",kind="minor"} 3`;
    expect(parseProcessSample(exposition(minorOnly)).majorGcCount).toBe(0);
    expect(parseProcessSample(exposition('')).majorGcCount).toBeNaN();
  });

  it('reads label values holding quotes, commas and braces', () => {
    const text = 'm{a="x\\"},y",kind="major"} 4\nm{kind="majors"} 9';
    expect(labelledSeriesValues(text, 'm', { kind: 'major' })).toEqual([4]);
    expect(labelledSeriesValues(text, 'm', { a: 'x"},y' })).toEqual([4]);
  });
});
