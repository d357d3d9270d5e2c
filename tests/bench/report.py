#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""report.py RAW OUTDIR KERNEL ENGINE_TOUCH_HZ PERF_TOUCH_HZ

Turns run-bench's raw key=value lines into results.csv, results.md,
results.gp (+ .dat files for gnuplot's results.png) and summary.txt,
whose last line is the summary:
p2p_vs_migrate=X p2p_vs_migrate_perftest=X2 p2p_vs_host=Y fault_overhead=Z
fault_overhead_one_provider=Z1 fault_overhead_scattered=Z2 migrations_p2p=N
rows_failed=F/T

Only measurements reach a table: a row that failed (run-bench tried it
ATTEMPTS times) or whose figure is not a finite positive number says
"failed" and is left out of every ratio, mean and sum; each mean says how
many ratios it used, and a value with none says "failed". Exit status 3
when more than MAX_FAILED_SHARE of the rows failed.
"""
import csv
import datetime
import math
import os
import sys

MAX_FAILED_SHARE = 0.10
raw, out, kernel, eng_hz, perf_hz = sys.argv[1:6]
rows = []
with open(raw) as f:
    for line in f:
        kv = dict(w.split('=', 1) for w in line.split() if '=' in w)
        if kv:
            rows.append(kv)

# The fault-path figure is the run with the median ratio (run-bench makes
# several runs: one alone moves with the host's noise and with the vCPU it
# lands on, docs/benchmarks.md).
fb_runs = [r for r in rows if r.get('tool') == 'faultbench']


def fault_ratio(r):
    try:
        x = float(r.get('fault_ratio', 'nan'))
    except ValueError:
        return float('nan')
    return x if math.isfinite(x) and x > 0 else float('nan')


def median_run(runs):
    """(the run at the median ratio, the lower of the middle two for an even
    count, or {}; the runs with a ratio)."""
    ok = sorted((r for r in runs if math.isfinite(fault_ratio(r))), key=fault_ratio)
    return (ok[(len(ok) - 1) // 2] if ok else {}), ok


def median_ratio(ok):
    """The median of the runs' ratios (the mean of the middle two)."""
    if not ok:
        return float('nan')
    v = [fault_ratio(r) for r in ok]
    return (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2


# With the benchmark's two GPUs registered (the path the tables' runs
# take), and with one (the common case: the second GPU unbound).
# And over a buffer whose pages lie all over memory (two providers).
fb_runs_sc = [r for r in fb_runs if r.get('scatter')]
fb_runs = [r for r in fb_runs if not r.get('scatter')]
fb_runs1 = [r for r in fb_runs if r.get('providers') == '1']
fb_runs = [r for r in fb_runs if r.get('providers') != '1']
fb, fb_ok = median_run(fb_runs)
fb1, fb1_ok = median_run(fb_runs1)
fb_sc, fb_sc_ok = median_run(fb_runs_sc)
copies = [r for r in rows if r.get('tool') == 'copybench']
rounds = [r for r in rows if r.get('tool') in ('engine', 'perftest')]


def num(r, k, default=float('nan')):
    try:
        return float(r[k])
    except (KeyError, ValueError):
        return default


def metric_of(r):
    return 'lat_typ_us' if r.get('test', '').endswith('_lat') else 'mib_s'


def measured(x):
    return x is not None and math.isfinite(x) and x > 0


def row_failed(r):
    """Why row @r is not a measurement, or None."""
    if r.get('failed'):
        return r.get('reason', 'failed')
    if not measured(num(r, metric_of(r))):
        return f'{metric_of(r)}={r.get(metric_of(r), "missing")}'
    return None


for r in rounds:
    # The engine prints MiB/s to one decimal: a slow row (stock under GPU
    # touch) would read 0.0; its bytes and seconds give the figure.
    if r.get('tool') == 'engine' and measured(num(r, 'sec')) and 'bytes' in r:
        r['mib_s'] = f'{num(r, "bytes") / num(r, "sec") / 2**20:.6g}'
for r in rounds:
    why = row_failed(r)
    if why:
        r['failed'], r['reason'] = '1', why


def key(r):
    return (r['tool'], r['test'], int(r['size']), r['touch_hz'] != '0')


def median_round(rs):
    """A row from its rounds: the one with the median figure (of an even
    number, the slower one), which rounds it used; failed if all failed."""
    ok = [r for r in rs if not r.get('failed')]
    if not ok:
        return dict(rs[-1], rounds=f'0/{len(rs)}')
    m = metric_of(ok[0])
    lat = m.startswith('lat')
    ok.sort(key=lambda r: num(r, m))
    r = dict(ok[len(ok) // 2] if lat else ok[(len(ok) - 1) // 2])
    r['rounds'] = f'{len(ok)}/{len(rs)}'
    r['round_values'] = ';'.join(r2.get(m, '') for r2 in ok)
    return r


by_rounds = {}
for r in rounds:
    by_rounds.setdefault(key(r) + (r['case'],), []).append(r)
runs = [median_round(rs) for rs in by_rounds.values()]
failed_rounds = [r for r in rounds if r.get('failed')]
by = {}
for r in runs:
    by[key(r) + (r['case'],)] = r


def gmean(v):
    """(geometric mean, number of ratios used); ratios of failed rows are NaN."""
    v = [x for x in v if measured(x)]
    return (math.exp(sum(map(math.log, v)) / len(v)) if v else float('nan'),
            len(v))


def ratio(k, a, b, metric='mib_s'):
    ra, rb = by.get(k + (a,)), by.get(k + (b,))
    if not ra or not rb or ra.get('failed') or rb.get('failed'):
        return float('nan')
    x, y = num(ra, metric), num(rb, metric)
    if metric.startswith('lat'):
        x, y = y, x  # lower is better: the ratio says "times faster"
    return x / y


groups = sorted({key(r) for r in runs},
                key=lambda k: (k[0] != 'engine', k[1], k[2], k[3]))


def fmt(x, nd=1):
    return 'failed' if x is None or not math.isfinite(x) else f'{x:.{nd}f}'


def cell(r, k, nd=1, unit=''):
    """A table cell: the measurement, 'failed' for a failed row, '-' for none."""
    if not r:
        return '-'
    if r.get('failed'):
        return 'failed'
    return fmt(num(r, k), nd) + unit


# ---- CSV -------------------------------------------------------------------
cols = ['tool', 'test', 'case', 'size', 'touch_hz', 'mib_s', 'mpps',
        'lat_typ_us', 'lat_avg_us', 'bytes', 'migrations', 'migr_per_mib',
        'to_dev', 'to_ram', 'faults', 'fault_pages', 'invalidations',
        'p2p_pages', 'hmm_p2p_walks', 'hmm_p2p_aliases', 'hmm_p2p_faulted',
        'rounds', 'round_values', 'failed', 'reason']
with open(os.path.join(out, 'results.csv'), 'w', newline='') as f:
    w = csv.writer(f)
    w.writerow(cols)
    for r in runs:
        w.writerow([r.get(c, '') for c in cols])
    for run in (fb, fb1):
        if run:
            w.writerow([])
            w.writerow(sorted(run))
            w.writerow([run[k] for k in sorted(run)])

# ---- summary -----------------------------------------------------------------
eng_touch = [ratio(k, 'p2p', 'stock') for k in groups if k[0] == 'engine' and k[3]]
eng_host = [ratio(k, 'p2p', 'host') for k in groups if k[0] == 'engine' and not k[3]]
perf_touch = [ratio(k, 'p2p', 'stock', 'lat_typ_us' if k[1].endswith('_lat') else 'mib_s')
              for k in groups if k[0] == 'perftest' and k[3]]
perf_all = [ratio(k, 'p2p', 'stock', 'lat_typ_us' if k[1].endswith('_lat') else 'mib_s')
            for k in groups if k[0] == 'perftest']
# Without touch no page moves after the first access (stock migrates each
# page once), so the spread of these ratios is the run's own measure of its
# noise, against which an under-touch row below 1 is read.
perf_quiet = [x for x in (ratio(k, 'p2p', 'stock', 'lat_typ_us' if k[1].endswith('_lat') else 'mib_s')
                          for k in groups if k[0] == 'perftest' and not k[3]) if measured(x)]
# Migrations count in every round that was measured, not only the median.
ok_runs = [r for r in rounds if not r.get('failed')]
mig_p2p = sum(int(num(r, 'migrations', 0)) for r in ok_runs if r['case'] == 'p2p')
mig_stock_touched = [r for r in ok_runs if r['case'] == 'stock']
fault = median_ratio(fb_ok)
fault1 = median_ratio(fb1_ok)
fault_sc = median_ratio(fb_sc_ok)
(X, nX), (X2, nX2), (Y, nY) = gmean(eng_touch), gmean(perf_touch), gmean(eng_host)
failed = [r for r in runs if r.get('failed')]
summary = (f'p2p_vs_migrate={fmt(X, 2)} p2p_vs_migrate_perftest={fmt(X2, 2)} '
           f'p2p_vs_host={fmt(Y, 2)} fault_overhead={fmt(fault, 3)} '
           f'fault_overhead_one_provider={fmt(fault1, 3)} '
           f'fault_overhead_scattered={fmt(fault_sc, 3)} '
           f'migrations_p2p={mig_p2p} rows_failed={len(failed)}/{len(runs)}')

# ---- Markdown ----------------------------------------------------------------
md = []
md.append(f'# hmm-p2p benchmark: kernel {kernel}, '
          f'{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC\n')
md.append('Cases, side by side in one run: **host** (ODP on host memory), '
          '**stock** (buffer in the emulated GPU, hmm-p2p off for the NIC: pages migrate), '
          '**p2p** (same buffer with hmm-p2p: P2P aliases). '
          f'GPU touch: engine {eng_hz} Hz, perftest {perf_hz} Hz '
          '(host case: the CPU writes the buffer at that rate). '
          'migr/MiB: pages migrated (either way) per MiB moved, initial placement excluded. '
          'ODP faults: engine range faults; perftest hmm-p2p walks (0 when the consumer is off).\n')
md.append('## Fault path over system RAM (in-kernel microbenchmark)\n')
for what, run, ok, all_runs, ratio_ in (
        ('two providers registered (both GPUs, as in the runs below)', fb, fb_ok, fb_runs, fault),
        ('one provider registered (the second GPU unbound)', fb1, fb1_ok, fb_runs1, fault1),
        ('two providers, the buffer scattered (every other page of '
         f'{(fb_runs_sc or [{}])[0].get("scatter", "?")} freed first, '
         'so that its pages come from all over it)', fb_sc, fb_sc_ok, fb_runs_sc, fault_sc)):
    if not run:
        md.append(f'{what}: failed (no run gave a ratio; {len(all_runs)} runs)\n')
        continue
    md.append(f'{what}:\n')
    md.append('| path | ns per page (median) | ns per page (min) |')
    md.append('|---|---:|---:|')
    md.append(f'| hmm_range_fault() | {fmt(num(run, "fault_stock_ns_per_page"), 2)} | {fmt(num(run, "stock_min_ns_per_page"), 2)} |')
    md.append(f'| hmm_p2p_range_fault() | {fmt(num(run, "fault_p2p_ns_per_page"), 2)} | {fmt(num(run, "p2p_min_ns_per_page"), 2)} |')
    cpus = sorted({r.get('cpu') for r in ok if r.get('cpu') is not None})
    per_cpu = '; '.join(f'vCPU {c}: {fmt(median_ratio([r for r in ok if r.get("cpu") == c]), 3)}'
                        for c in cpus)
    md.append(f'\nEach run: the median of {run.get("reps")} interleaved pairs over {run.get("pages")} pages '
              f'(the table: the run at the median). Median of {len(ok)} runs of {len(all_runs)}: '
              f'**{fmt(ratio_, 3)}**; runs (vCPU, runs of pages in one 2 MiB subsection): '
              f'{", ".join(fmt(num(r, "fault_ratio"), 3) + " (" + r.get("cpu", "?") + ", " + r.get("subsection_runs", "?") + ")" for r in all_runs)}'
              f'{"; per vCPU, " + per_cpu if per_cpu else ""}.\n')


def table(tool):
    md.append('| test | size | touch | MiB/s host | MiB/s stock | MiB/s p2p | p2p/stock | p2p/host | '
              'Mmsg/s host / stock / p2p | migr/MiB stock | migr/MiB p2p | ODP faults stock / p2p |')
    md.append('|---|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---|')
    for k in groups:
        if k[0] != tool:
            continue
        c = {n: by.get(k + (n,), {}) for n in ('host', 'stock', 'p2p')}
        lat = k[1].endswith('_lat')
        m = 'lat_typ_us' if lat else 'mib_s'
        fk = 'faults' if tool == 'engine' else 'hmm_p2p_walks'
        touch = 'yes' if k[3] else 'no'
        if lat:
            cells = [cell(c[n], m, 2, ' us') for n in ('host', 'stock', 'p2p')]
            rate = '-'
        else:
            cells = [cell(c[n], m) for n in ('host', 'stock', 'p2p')]
            rate = ' / '.join(cell(c[n], 'mpps', 4) for n in ('host', 'stock', 'p2p'))
        md.append(f'| {k[1]} | {k[2]} | {touch} | {cells[0]} | {cells[1]} | {cells[2]} | '
                  f'{fmt(ratio(k, "p2p", "stock", m), 2)} | {fmt(ratio(k, "p2p", "host", m), 2)} | {rate} | '
                  f'{cell(c["stock"], "migr_per_mib", 1)} | {cell(c["p2p"], "migr_per_mib", 1)} | '
                  f'{"failed" if c["stock"].get("failed") else c["stock"].get(fk, "-")} / '
                  f'{"failed" if c["p2p"].get("failed") else c["p2p"].get(fk, "-")} |')
    md.append('')


md.append('## NIC-speed engine (hmm_p2p_engine: ODP-style resolution, CPU copy at memory speed)\n')
eng_rounds = sorted({r['rounds'] for r in runs if r['tool'] == 'engine'})
md.append(f'Each row is the median of its rounds (rounds measured/run: {", ".join(eng_rounds) or "-"}), '
          'the three cases in turn per round; every round is in raw.txt.\n')
table('engine')
if copies:
    md.append('### The engine\'s copy loop alone\n')
    md.append('Per message, medians of interleaved pairs: system RAM against GPU memory '
              'copied through its P2PDMA aliases (mapped uncached by the kernel), nothing resolved while timed.\n')
    md.append('| direction | size | MiB/s RAM | MiB/s GPU (aliases) | GPU/RAM (median of pair ratios) |')
    md.append('|---|---:|---:|---:|---:|')
    for r in sorted(copies, key=lambda r: (r.get('test', ''), int(r.get('size', 0)))):
        if r.get('failed') or not measured(num(r, 'gpu_vs_ram')):
            md.append(f'| {r.get("test", "?")} | {r.get("size", "?")} | failed | failed | '
                      f'failed ({r.get("reason", "no ratio")}) |')
            continue
        md.append(f'| {r["test"]} | {r["size"]} | {fmt(num(r, "ram_mib_s"))} | '
                  f'{fmt(num(r, "gpu_mib_s"))} | {fmt(num(r, "gpu_vs_ram"), 2)} |')
    md.append('')
md.append('## perftest over rdma_rxe (Debian\'s binaries, buffers in GPU memory by LD_PRELOAD)\n')
md.append('Latency rows (`*_lat`) give t_typical; their ratios are "times faster".\n')
table('perftest')
if failed:
    md.append(f'Failed rows ({len(failed)} of {len(runs)}), left out of every ratio, mean and sum: '
              + ', '.join(f'{r["test"]} {r["case"]} {r["size"]} touch={r["touch_hz"]} ({r.get("reason", "failed")})'
                          for r in failed) + '\n')
md.append('## Summary\n')
md.append(f'- engine under GPU touch, p2p/stock (geometric mean of {nX} ratios over sizes and directions): {fmt(X, 2)}')
md.append(f'- engine without touch, p2p/host (geometric mean of {nY} ratios): {fmt(Y, 2)}')
md.append(f'- perftest under GPU touch, p2p/stock (geometric mean of {nX2} ratios): {fmt(X2, 2)}; '
          f'lowest p2p/stock of any perftest row: {fmt(min([x for x in perf_all if measured(x)], default=float("nan")), 2)}')
md.append(f'- perftest without touch, p2p/stock, where no page moves after the first access '
          f'(the spread shows this run\'s noise): '
          + (f'{fmt(min(perf_quiet), 2)} to {fmt(max(perf_quiet), 2)} over {len(perf_quiet)} rows'
             if perf_quiet else 'no measured row'))
md.append(f'- fault-path overhead on system RAM: {fmt(fault, 3)} with two providers, '
          f'{fmt(fault1, 3)} with one, {fmt(fault_sc, 3)} over a scattered buffer')
md.append(f'- pages migrated on the p2p path (engine + perftest, {sum(1 for r in ok_runs if r["case"] == "p2p")} runs, every round): {mig_p2p}; '
          f'on the stock path: {sum(int(num(r, "migrations", 0)) for r in mig_stock_touched)}')
md.append(f'- rows that failed: {len(failed)} of {len(runs)} (the run fails above {MAX_FAILED_SHARE:.0%}); '
          f'engine rounds that failed: {sum(1 for r in failed_rounds if r["tool"] == "engine")} of '
          f'{sum(1 for r in rounds if r["tool"] == "engine")}\n')
md.append('```')
md.append(summary)
md.append('```')
with open(os.path.join(out, 'results.md'), 'w') as f:
    f.write('\n'.join(md) + '\n')
with open(os.path.join(out, 'summary.txt'), 'w') as f:
    f.write(summary + '\n')

# ---- gnuplot -------------------------------------------------------------------
# One panel per engine direction and per perftest tool (bandwidth, or
# latency for the *_lat tools) against message size, host / stock / p2p
# without and with GPU touch, and one panel of pages migrated per MiB.
# Failed rows are gaps (NaN), never a point. Titles are plain text
# (noenhanced: no subscripts from underscores).


def size_label(n):
    for unit, b in (('MiB', 1 << 20), ('KiB', 1 << 10)):
        if n >= b and n % b == 0:
            return f'{n // b} {unit}'
    return f'{n} B'


def value(r, k):
    x = num(r, k) if r and not r.get('failed') else float('nan')
    return 'NaN' if not math.isfinite(x) else repr(x)


panels = []
for tool, test in sorted({(k[0], k[1]) for k in groups},
                         key=lambda t: (t[0] != 'engine', t[1])):
    sizes = sorted({k[2] for k in groups if k[0] == tool and k[1] == test})
    lat = test.endswith('_lat')
    m = 'lat_typ_us' if lat else 'mib_s'
    dat = os.path.join(out, f'{test}.dat')
    with open(dat, 'w') as f:
        f.write(f'# size host stock p2p host_touch stock_touch p2p_touch ({m})\n')
        for n in sizes:
            f.write(f'{n} ' + ' '.join(value(by.get((tool, test, n, t, c)), m)
                                      for t in (False, True)
                                      for c in ('host', 'stock', 'p2p')) + '\n')
    what = {'engine': 'engine', 'perftest': 'perftest over rxe'}[tool]
    panels.append((dat, f'{what}: {test}', sizes,
                   'latency (us, t_typical)' if lat else 'MiB/s'))
mig = os.path.join(out, 'migrations.dat')
with open(mig, 'w') as f:
    f.write('# row stock stock_touch p2p p2p_touch (pages migrated per MiB moved)\n')
    for tool, test, n in sorted({k[:3] for k in groups},
                                key=lambda t: (t[0] != 'engine', t[1], t[2])):
        f.write(f'"{test} {size_label(n)}" ' +
                ' '.join(value(by.get((tool, test, n, t, c)), 'migr_per_mib')
                         for c in ('stock', 'p2p') for t in (False, True)) + '\n')
cols = 3
rows = (len(panels) + 1 + cols - 1) // cols
gp = ['if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {',
      f'  set terminal pngcairo noenhanced size {520 * cols},{400 * rows}',
      '} else {',
      f'  set terminal png noenhanced size {520 * cols},{400 * rows}',
      '}',
      f'set output "{os.path.join(out, "results.png")}"',
      f'set multiplot layout {rows},{cols} title "hmm-p2p benchmark, kernel {kernel}"',
      'set key outside bottom center horizontal font ",8"', 'set grid']
for dat, title, sizes, ylabel in panels:
    tics = ', '.join(f'"{size_label(n)}" {n}' for n in sizes)
    gp += ['set logscale xy', f'set xtics ({tics})', 'set xlabel "message size"',
           f'set ylabel "{ylabel}"', f'set title "{title}"',
           f'set xrange [{sizes[0] / 2}:{sizes[-1] * 2}]',
           f'plot "{dat}" u 1:2 w lp lc 1 dt 1 t "host", '
           f'"" u 1:3 w lp lc 2 dt 1 t "stock", "" u 1:4 w lp lc 3 dt 1 t "p2p", '
           f'"" u 1:5 w lp lc 1 dt 2 t "host, touch", "" u 1:6 w lp lc 2 dt 2 t "stock, touch", '
           f'"" u 1:7 w lp lc 3 dt 2 t "p2p, touch"']
gp += ['unset logscale', 'set xrange [*:*]', 'set xtics rotate by -45 font ",7"',
       'unset xlabel', 'set ylabel "pages migrated per MiB"',
       'set title "migrations (initial placement excluded)"',
       'set style data histograms', 'set style histogram clustered gap 1',
       'set style fill solid 0.8 border -1', 'set yrange [0:*]',
       f'plot "{mig}" u 2:xtic(1) lc 2 t "stock", "" u 3 lc 4 t "stock, touch", '
       '"" u 4 lc 3 t "p2p", "" u 5 lc 6 t "p2p, touch"',
       'unset multiplot']
with open(os.path.join(out, 'results.gp'), 'w') as f:
    f.write('\n'.join(gp) + '\n')
if runs and len(failed) > MAX_FAILED_SHARE * len(runs):
    print(f'report: {len(failed)} of {len(runs)} rows failed (more than {MAX_FAILED_SHARE:.0%})',
          file=sys.stderr)
    sys.exit(3)
