"""``patch_task``: activation patching of a suite with a masked LM, saved as a result and its heatmaps."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt

from bertology.analyses.patching.pairs import suite_pairs
from bertology.analyses.patching.patch import check_patch_arguments, patch
from bertology.analyses.patching.result import PatchingResult
from bertology.core.models import LoadedModel, load_model
from bertology.core.paths import check_output
from bertology.core.viz import save_figure


def save_patching_figures(result: PatchingResult, out: str | Path) -> list[Path]:
    """One heatmap per component (``figures/patching_resid``, ``figures/patching_heads``) under ``out``.

    Examples
    --------
    >>> import tempfile
    >>> from tests.result_examples.patching import examples
    >>> [p.name for p in save_patching_figures(examples()[0], tempfile.mkdtemp())][::2]
    ['patching_resid.pdf', 'patching_heads.pdf']
    """
    written = []
    for component in dict.fromkeys(result.effects["component"]):
        figure = result.plot(component)
        written += save_figure(figure, Path(out) / "figures" / f"patching_{component}")
        plt.close(figure)
    return written


def patch_task(model: str | LoadedModel, out: str | Path, *, suite: str | Path = "agreement",
               components: str | Sequence[str] = "resid", positions: str | Sequence[int] = "all",
               batch_size: int = 64, device: str | None = None, figures: bool = True,
               progress: bool = True) -> PatchingResult:
    """Patch every component of a suite's minimal pairs with a masked LM and save the result (``bertology patch``).

    Parameters
    ----------
    model
        A model name or path (loaded with ``head="mlm"``) or a loaded masked LM.
    out
        Output directory: the :class:`PatchingResult` and ``figures/``.
    suite, components, positions, batch_size, progress
        As in :func:`~bertology.analyses.patching.patch.patch`.
    device
        Device of a model name.
    figures
        Render the heatmaps.

    Returns
    -------
    PatchingResult

    Raises
    ------
    InputError
        A bad option, an unknown or malformed suite, or an ``out`` that cannot be written,
        before the model loads.
    ModelError
        A model without a masked-LM head.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from tests.tiny_models import build_context_mlm
    >>> path = build_context_mlm("bert", pathlib.Path(tempfile.mkdtemp()))
    >>> r = patch_task(str(path), tempfile.mkdtemp(), suite="pronoun", positions=[0], figures=False, progress=False)
    >>> r.meta["metric"]
    'logprob_diff'
    """
    check_patch_arguments(components, positions, batch_size, 1)
    suite_pairs(suite)
    directory = check_output(out)
    loaded = model if isinstance(model, LoadedModel) else load_model(model, head="mlm", device=device)
    result = patch(loaded, suite=suite, components=components, positions=positions, batch_size=batch_size,
                   progress=progress)
    result.save(directory)
    if figures:
        save_patching_figures(result, directory)
    return result
