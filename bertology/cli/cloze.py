"""The ``bertology cloze`` subcommand: run suites and benchmarks with a masked LM (calls :func:`run_cloze`)."""

from __future__ import annotations

import argparse

from bertology.analyses.cloze.formats import AGREEMENT_FORMATS
from bertology.analyses.cloze.scorer import PLL_VARIANTS
from bertology.analyses.cloze.suites import SUITES


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``cloze`` subcommand.

    Examples
    --------
    >>> from bertology.cli import build_parser
    >>> build_parser().parse_args(["cloze", "--out", "o", "--suite", "color"]).suites
    ['color']
    """
    parser = subparsers.add_parser("cloze", help="cloze suites and benchmarks with a masked LM",
                                   description="Score cloze suites (agreement, bias...) and standard benchmarks "
                                               "(CrowS-Pairs, StereoSet, BLiMP, agreement stimuli) with a masked LM.")
    parser.add_argument("--model", default="bert-base-uncased", help="masked-LM checkpoint (hub id or local path)")
    parser.add_argument("--suite", dest="suites", action="append", default=None,
                        help=f"shipped suite ({', '.join(SUITES)}) or suite JSONL file; repeat for several "
                             "(default: agreement)")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--crows-pairs", default=None, help="crows_pairs_anonymized.csv")
    parser.add_argument("--stereoset", default=None, help="StereoSet dev.json (intrasentence)")
    parser.add_argument("--blimp", default=None, help="a BLiMP .jsonl file or a directory of them")
    parser.add_argument("--agreement-stimuli", default=None,
                        help="lgd_dataset.tsv, generated.tab or Marvin & Linzen TSV")
    parser.add_argument("--agreement-format", default="auto", choices=AGREEMENT_FORMATS)
    parser.add_argument("--pll-variant", default="within_word_l2r", choices=PLL_VARIANTS)
    parser.add_argument("--max-tokens", type=int, default=4096, help="token budget per forward pass")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None, help="cpu, cuda, auto")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> None:
    from bertology.analyses.cloze.task import run_cloze
    from bertology.core.models import load_model

    results = run_cloze(load_model(args.model, head="mlm", device=args.device), args.out,
                        suites=args.suites or ["agreement"], crows_pairs=args.crows_pairs, stereoset=args.stereoset,
                        blimp=args.blimp, agreement_stimuli=args.agreement_stimuli,
                        agreement_format=args.agreement_format, pll_variant=args.pll_variant,
                        max_tokens=args.max_tokens, seed=args.seed, progress=args.progress)
    for name, result in results.items():
        print(f"{name}: {result.meta['primary_metric']} = {result.metric():.3f}")
    print(f"wrote {args.out}")
