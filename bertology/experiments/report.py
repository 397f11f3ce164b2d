"""One self-contained HTML page per run: step summary, figures, tables and the manifest."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from bertology.core.paths import check_output
from bertology.experiments.config import COMPARE_DIR
from bertology.experiments.results import Run, StepResult

MAX_ROWS = 25
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2rem auto;max-width:72rem;
color:#1a1a1a;padding:0 1rem;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:2px solid #0072B2;padding-bottom:.2rem;margin-top:2.2rem}
h3{font-size:1rem;margin:1.2rem 0 .4rem}.meta{color:#555}
table{border-collapse:collapse;font-size:.82rem;margin:.4rem 0}
th,td{border:1px solid #ccc;padding:.2rem .5rem;text-align:right}th{background:#f2f6fa}
td:first-child,th:first-child{text-align:left}
.status-done,.status-cached{color:#009E73;font-weight:600}.status-skipped{color:#D55E00;font-weight:600}
.status-failed{color:#b00;font-weight:700}
figure{display:inline-block;margin:.5rem 1rem .5rem 0;vertical-align:top}
figure img{max-width:34rem;max-height:26rem;border:1px solid #eee}figcaption{font-size:.8rem;color:#555}
pre{background:#f7f7f7;padding:.8rem;overflow:auto;font-size:.75rem;max-height:30rem}
iframe{width:100%;height:36rem;border:1px solid #ddd}.note{color:#555;font-size:.85rem}
"""


def _figures_html(result: StepResult, where: str) -> str:
    pngs = [name for name in result.figures if name.endswith(".png") and (result.directory / name).is_file()]
    parts = []
    for name in pngs:
        data = base64.b64encode((result.directory / name).read_bytes()).decode("ascii")
        label = html.escape(Path(name).stem)
        parts.append(f'<figure><img alt="{label}" src="data:image/png;base64,{data}">'
                     f"<figcaption>{label} (PDF and PNG in {html.escape(where)}/figures)</figcaption></figure>")
    return "".join(parts)


def _tables_html(result: StepResult, where: str) -> str:
    parts = []
    for name in result.table_names:
        frame = result.table(name)
        shown = frame.head(MAX_ROWS).to_html(index=False, escape=True, float_format=lambda v: f"{v:.4g}",
                                             border=0, na_rep="")
        note = (f'<p class="note">First {MAX_ROWS} of {len(frame)} rows; the full table is '
                f"{html.escape(where)}/{html.escape(name)}.</p>" if len(frame) > MAX_ROWS else "")
        parts.append(f"<h3>{html.escape(name)}</h3>{shown}{note}")
    return "".join(parts)


def _pages_html(result: StepResult) -> str:
    parts = []
    for name in result.files:
        if name.endswith(".html"):
            page = (result.directory / name).read_text(encoding="utf-8")
            parts.append(f"<details><summary>{html.escape(name)} (interactive)</summary>"
                         f'<iframe sandbox="allow-scripts" title="{html.escape(name)}" '
                         f'srcdoc="{html.escape(page, quote=True)}"></iframe></details>')
    return "".join(parts)


def _step_html(result: StepResult, entry: dict, where: str) -> str:
    status = html.escape(result.status)
    name = html.escape(result.name)
    head = f'<h2 id="step-{name}">{name} <span class="status-{status}">{status}</span></h2>'
    if result.status == "skipped":
        return head + f"<p>{html.escape(result.reason)}</p>"
    params = html.escape(json.dumps(entry.get("params", {}), indent=1, sort_keys=True, default=str))
    return (head + f"<details><summary>parameters</summary><pre>{params}</pre></details>"
            + _figures_html(result, where) + _tables_html(result, where) + _pages_html(result))


def _summary_html(run: Run) -> str:
    rows = []
    for name, result in run.results.items():
        entry = run.manifest["steps"].get(name, {})
        seconds = entry.get("computed_elapsed_s") if result.status == "cached" else entry.get("elapsed_s")
        rows.append(f'<tr><td><a href="#step-{html.escape(name)}">{html.escape(name)}</a></td>'
                    f'<td class="status-{html.escape(result.status)}">{html.escape(result.status)}</td>'
                    f"<td>{'' if seconds is None else f'{seconds:.1f}'}</td>"
                    f"<td style='text-align:left'>{html.escape(result.reason)}</td></tr>")
    return ("<table><tr><th>step</th><th>status</th><th>seconds</th><th>note</th></tr>" + "".join(rows)
            + "</table>")


def render_report(run: Run) -> str:
    """The report page of a run as one HTML string (no external resources).

    Examples
    --------
    >>> render_report(Run.load("runs/quickstart"))[:15]  # doctest: +SKIP
    '<!DOCTYPE html>'
    """
    manifest = run.manifest
    title = f"bertology run: {run.directory.name}"
    text = {key: html.escape(str(manifest.get(key))) for key in ("seed", "started", "finished")}
    models = manifest.get("models") if isinstance(manifest.get("models"), list) else [manifest.get("model") or {}]
    described = [f"<b>{html.escape(str(model.get('name')))}</b> (revision {html.escape(str(model.get('revision')))}, "
                 f"weights sha256 {html.escape(str(model.get('weights_sha256')))})" for model in models]
    meta = (f"{'models' if len(described) > 1 else 'model'} {', '.join(described)}"
            f" · seed {text['seed']} · started {text['started']} · finished {text['finished']}")
    steps = "".join(_step_html(result, manifest["steps"].get(name, {}), f"{COMPARE_DIR}/{name}" if run.models else name)
                    for name, result in run.results.items())
    dump = html.escape(json.dumps(manifest, indent=2, sort_keys=True, default=str))
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1><p class='meta'>{meta}</p>"
            f"{_summary_html(run)}{steps}<h2>manifest</h2><pre>{dump}</pre></body></html>")


def write_report(run: str | Path, out: str | Path | None = None) -> Path:
    """Write the run's self-contained HTML report (figures as embedded PNG, tables, manifest).

    Parameters
    ----------
    run
        The run directory (the config's ``out``).
    out
        The HTML file to write; default ``<run>/report.html``.

    Returns
    -------
    pathlib.Path
        The written page.

    Raises
    ------
    StoreError
        When ``run`` is not a run or its manifest is damaged, or a finished step's result
        files are missing, truncated, changed or unreadable; no page is written then.
    InputError
        When ``out`` is empty, a directory, or cannot be written.

    Examples
    --------
    >>> write_report("runs/quickstart")  # doctest: +SKIP
    PosixPath('runs/quickstart/report.html')
    """
    stored = Run.load(run)
    target = check_output(out if out is not None else stored.directory / "report.html", kind="file")
    for result in stored.results.values():
        if result.status in ("done", "cached"):
            result.verify()
    page = render_report(stored)
    target.write_text(page, encoding="utf-8")
    return target
