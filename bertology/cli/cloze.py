"""``bertology cloze``: calls :func:`bertology.analyses.cloze.task.cloze_task`."""

from __future__ import annotations

import argparse

from bertology.analyses.cloze.names import AGREEMENT_FORMATS, PLL_VARIANTS
from bertology.cli import options
from bertology.core.data.names import SUITES


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    """Add the ``cloze`` command."""
    parser = subparsers.add_parser(name, help=help_text,
                                   description="Score cloze suites (agreement, bias...) and published evaluation "
                                               "sets (CrowS-Pairs, StereoSet, BLiMP, agreement stimuli) with a "
                                               "masked LM.")
    options.add_model(parser, default="bert-base-uncased", what="masked-LM checkpoint")
    parser.add_argument("--suite", dest="suites", action="append", default=None,
                        help=f"shipped suite ({', '.join(SUITES)}) or suite JSONL file; repeat for several "
                             "(default: agreement)")
    options.add_out(parser)
    parser.add_argument("--crows-pairs", default=None, help="crows_pairs_anonymized.csv")
    parser.add_argument("--stereoset", default=None, help="StereoSet dev.json (intrasentence)")
    parser.add_argument("--blimp", default=None, help="a BLiMP .jsonl file or a directory of them")
    parser.add_argument("--agreement-stimuli", default=None,
                        help="lgd_dataset.tsv, generated.tab or Marvin & Linzen TSV")
    parser.add_argument("--agreement-format", default="auto", choices=AGREEMENT_FORMATS)
    parser.add_argument("--pll-variant", default="within_word_l2r", choices=PLL_VARIANTS)
    parser.add_argument("--max-tokens", type=options.positive_int, default=4096,
                        help="token budget per forward pass (cloze batches by tokens, not sentences)")
    options.add_seed(parser)
    options.add_device(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> None:
    from bertology.analyses.cloze.task import cloze_task

    results = cloze_task(args.model, args.out, suites=args.suites or ["agreement"], crows_pairs=args.crows_pairs,
                         stereoset=args.stereoset, blimp=args.blimp, agreement_stimuli=args.agreement_stimuli,
                         agreement_format=args.agreement_format, pll_variant=args.pll_variant,
                         max_tokens=args.max_tokens, seed=args.seed, device=args.device, progress=args.progress)
    for name, result in results.items():
        print(f"{name}: {result.meta['primary_metric']} = {result.metric():.3f}")
    print(f"wrote {args.out}")
