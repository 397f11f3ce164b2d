"""``erase_task``: fit a concept eraser on one layer, run amnesic probing, save results and figures."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from bertology.analyses.erasure.amnesic import AmnesicResult, _resolve_layers, amnesic_probe
from bertology.analyses.erasure.erasure import Erasure, check_erase_arguments, erase, split_rows
from bertology.analyses.erasure.leace import check_concept_data
from bertology.core.data.loaders import load_dataset
from bertology.core.errors import InputError
from bertology.core.hooks.names import hidden_index
from bertology.core.models import LoadedModel, load_model
from bertology.core.paths import check_output
from bertology.core.viz import save_figure

ERASURE_DIR = "erasure"
AMNESIC_DIR = "amnesic"


def save_erasure_figures(erasure: Erasure, amnesic: AmnesicResult | None, out: str | Path) -> list[Path]:
    """The erasure bars (``figures/erasure``) and the amnesic-probing bars (``figures/amnesic``) under ``out``.

    Examples
    --------
    >>> import tempfile
    >>> from tests.result_examples.erasure import examples
    >>> erasure, amnesic = examples()
    >>> [p.name for p in save_erasure_figures(erasure, amnesic, tempfile.mkdtemp())]
    ['erasure.pdf', 'erasure.png', 'amnesic.pdf', 'amnesic.png']
    """
    written = []
    for name, result in ((ERASURE_DIR, erasure), (AMNESIC_DIR, amnesic)):
        if result is not None:
            figure = result.plot()
            written += save_figure(figure, Path(out) / "figures" / name)
            plt.close(figure)
    return written


def erase_task(model: str | LoadedModel, dataset: str, out: str | Path, *, layer: int, input: str | Path | None = None,
               word: str | None = None, text_column: str = "sentence", label_column: str = "label",
               word_column: str | None = None, method: str = "leace", pool: str = "auto", seed: int = 0,
               n_iterations: int = 50, controls: int = 3, amnesic: bool = True, layers: str | Sequence[int] = "after",
               mlm: bool = False, batch_size: int = 32, device: str | None = None, figures: bool = True,
               progress: bool = True) -> tuple[Erasure, AmnesicResult | None]:
    """Fit an eraser on one layer of a dataset, then probe downstream with it applied (what ``bertology erase`` runs).

    The :class:`Erasure` is saved into ``out/erasure``, the :class:`AmnesicResult` into
    ``out/amnesic`` and, unless ``figures=False``, both figures into ``out/figures``.

    Parameters
    ----------
    model
        Model name, path, ``"minilm"``, or a loaded model.
    dataset, input, word, text_column, label_column, word_column
        The labelled data, as in :func:`bertology.core.data.loaders.load_dataset`.
    out
        Output directory.
    layer
        Hidden state the concept is erased from (0 = embeddings; negative from the end).
    method, pool, seed, n_iterations, controls
        As in :func:`~bertology.analyses.erasure.erasure.erase`.
    amnesic
        Also run :func:`~bertology.analyses.erasure.amnesic.amnesic_probe` on the same dataset.
    layers
        Hidden states probed by amnesic probing (``"after"``: the erased one and later).
    mlm
        Load a model name with its masked-LM head, so amnesic probing also reports the
        masked-token accuracy and PLL.
    batch_size, device, figures, progress
        Sentences per forward pass, device of a model name, render figures, progress bars.

    Returns
    -------
    tuple
        ``(Erasure, AmnesicResult or None)``.

    Raises
    ------
    InputError
        A bad option, unreadable data, a single class or an ``out`` that cannot be written,
        before the model loads; a layer out of the model's range.

    Examples
    --------
    >>> import tempfile
    >>> er, amn = erase_task("minilm", "coarsewsd20", tempfile.mkdtemp(), word="bank", layer=2, method="inlp",
    ...                      layers=[2, 6], controls=1, figures=False, progress=False)
    >>> er.method, sorted(amn.to_frame()["layer"].unique().tolist())
    ('inlp', [2, 6])
    """
    check_erase_arguments(method, n_iterations, controls)
    if isinstance(layer, bool) or not isinstance(layer, int):
        raise InputError(f"layer must be a hidden-state index (an integer), got {layer!r}.")
    data = load_dataset(dataset, input, word, text_column, label_column, word_column)
    check_concept_data(np.zeros((len(data), 1)), data.labels)
    split_rows(data, np.ones(len(data), dtype=bool), seed)
    directory = check_output(out)
    loaded = model if isinstance(model, LoadedModel) else load_model(
        model, head="mlm" if mlm else "base", device=device, allow_random_head=False)
    index = hidden_index(layer, loaded.num_layers)
    erasure = erase(loaded, data, index, method=method, pool=pool, seed=seed, n_iterations=n_iterations,
                    controls=controls, batch_size=batch_size, progress=progress)
    erasure.save(directory / ERASURE_DIR)
    result = None
    if amnesic:
        _resolve_layers(layers, erasure, loaded.num_layers)
        result = amnesic_probe(loaded, erasure, [data], layers=layers, pool=pool, controls=controls, seed=seed,
                               batch_size=batch_size, progress=progress)
        result.save(directory / AMNESIC_DIR)
    if figures:
        save_erasure_figures(erasure, result, directory)
    return erasure, result
