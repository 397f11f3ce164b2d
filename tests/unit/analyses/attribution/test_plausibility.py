"""ERASER plausibility: the reader on a hand-written fixture, metrics against hand computations and a
re-implementation of ERASER's metrics.py procedure, the result's summary, figure and files."""

from __future__ import annotations

import json
from collections import defaultdict
from itertools import chain
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn.metrics import auc, average_precision_score, precision_recall_curve

import bertology as bt
from bertology.analyses.attribution.plausibility import (
    HumanRationale,
    PlausibilityResult,
    auprc,
    iou_prf,
    load_eraser,
    mask_to_spans,
    plausibility,
    rationale_fraction,
    token_prf,
    top_k_mask,
)
from bertology.analyses.attribution.result import AttributionResult
from bertology.core.errors import InputError

FIXTURE = Path(__file__).resolve().parents[3] / "fixtures" / "eraser"


def _result(rationale: HumanRationale, scores, method: str) -> AttributionResult:
    words = list(rationale.tokens)
    return AttributionResult(rationale.text, words, list(range(len(words))), list(scores), words, list(scores),
                             "label", 0, method, 0.5)


def _scored(rationales, seed=0):
    rng = np.random.default_rng(seed)
    results = []
    for method in ("saliency", "lime"):
        for r in rationales:
            results.append(_result(r, rng.normal(size=len(r.tokens)) + 1.5 * r.mask, method))
    return results


# ---------------------------------------------------------------- the reader

def test_load_eraser_reads_the_fixture():
    rationales = load_eraser(FIXTURE, split="test")
    assert [r.annotation_id for r in rationales] == ["negR_000.txt", "posR_000.txt", "negR_001.txt"]
    first = rationales[0]
    assert first.tokens[:4] == ("this", "film", "is", "a") and len(first.tokens) == 26
    assert first.spans == ((4, 7), (11, 13), (17, 18))
    for r in rationales:
        lines = [json.loads(line) for line in (FIXTURE / "test.jsonl").read_text().splitlines()]
        evidence = {(e["start_token"], e["end_token"]): e["text"] for line in lines if line["annotation_id"] ==
                    r.annotation_id for e in chain.from_iterable(line["evidences"])}
        for start, end in r.spans:
            assert " ".join(r.tokens[start:end]) == evidence[(start, end)]
    assert first.classification == "NEG" and first.query == "What is the sentiment of this review?"
    assert load_eraser(FIXTURE / "val.jsonl")[0].annotation_id == "posR_001.txt"


def test_load_eraser_reads_docs_jsonl(tmp_path):
    (tmp_path / "test.jsonl").write_text((FIXTURE / "val.jsonl").read_text())
    document = (FIXTURE / "docs" / "posR_001.txt").read_text()
    (tmp_path / "docs.jsonl").write_text(json.dumps({"docid": "posR_001.txt", "document": document}) + "\n")
    assert load_eraser(tmp_path) == load_eraser(FIXTURE, split="val")


@pytest.mark.parametrize(("line", "message"), [
    ("not json", "test.jsonl:2: not valid JSON"),
    ('{"annotation_id": "x"}', "test.jsonl:2: an ERASER annotation needs"),
    ('{"annotation_id": "x", "evidences": [[{"docid": "posR_001.txt", "start_token": 3, "end_token": 2}]]}',
     "test.jsonl:2: evidence"),
    ('{"annotation_id": "x", "evidences": [[{"docid": "posR_001.txt", "start_token": 3, "end_token": 99}]]}',
     "test.jsonl:2: evidence [3, 99) lies outside"),
    ('{"annotation_id": "x", "evidences": [[{"docid": "nope.txt", "start_token": 0, "end_token": 1}]]}',
     "nope.txt does not exist"),
])
def test_load_eraser_errors_name_file_and_line(tmp_path, line, message):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "posR_001.txt").write_text((FIXTURE / "docs" / "posR_001.txt").read_text())
    (tmp_path / "test.jsonl").write_text((FIXTURE / "val.jsonl").read_text() + line + "\n")
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace(")", r"\)")):
        load_eraser(tmp_path)


def test_load_eraser_errors_on_missing_data(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_eraser(tmp_path)
    with pytest.raises(InputError, match="Unknown split"):
        load_eraser(tmp_path, split="dev")
    (tmp_path / "test.jsonl").write_text((FIXTURE / "val.jsonl").read_text())
    with pytest.raises(InputError, match="neither a docs/ directory nor docs.jsonl"):
        load_eraser(tmp_path)


# ---------------------------------------------------------------- metrics by hand

def test_top_k_and_spans_by_hand():
    assert top_k_mask([0.3, 0.1, 0.9, 0.8, 0.2], 0.3).astype(int).tolist() == [0, 0, 1, 1, 0]  # ceil(1.5) = 2
    assert top_k_mask([1.0, 1.0, 1.0], 0.34).astype(int).tolist() == [0, 1, 1]  # ceil(1.02) = 2, ties: later
    assert mask_to_spans(np.array([0, 0, 1, 1, 0, 1], bool)) == [(2, 4), (5, 6)]
    assert mask_to_spans(np.zeros(3, bool)) == []


def test_token_prf_by_hand():
    predicted = np.array([1, 1, 1, 0, 0, 0], bool)
    truth = np.array([0, 1, 1, 1, 1, 0], bool)
    p, r, f = token_prf(predicted, truth)  # 2 shared: p = 2/3, r = 2/4, F1 = 2·(2/3)(1/2)/(2/3 + 1/2) = 4/7
    assert (p, r) == pytest.approx((2 / 3, 0.5)) and f == pytest.approx(4 / 7)
    assert token_prf(np.zeros(3, bool), np.ones(3, bool)) == (0.0, 0.0, 0.0)


def test_iou_prf_by_hand():
    # (0, 4) vs (1, 4): IOU 3/4 -> hit; (6, 7) vs (6, 9): 1/3 -> miss; (10, 11) no overlap
    p, r, f = iou_prf([(0, 4), (6, 7), (10, 11)], [(1, 4), (6, 9)], 0.5)
    assert (p, r) == pytest.approx((1 / 3, 1 / 2)) and f == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    assert iou_prf([(6, 7)], [(6, 9)], 0.3)[0] == 1.0
    assert iou_prf([(0, 1)], [(0, 2)], 0.5) == (1.0, 1.0, 1.0)  # IOU exactly 0.5 counts


def test_auprc_by_hand():
    # ranked: 0.9 (pos), 0.7 (neg), 0.4 (pos), 0.1 (neg); PR points (r, p): (0, 1), (.5, 1), (.5, .5), (1, 2/3), (1, .5)
    scores, truth = [0.9, 0.7, 0.4, 0.1], np.array([1, 0, 1, 0], bool)
    trapezoid = 0.5 * 1.0 + 0.0 + 0.5 * (0.5 + 2 / 3) / 2 + 0.0
    assert auprc(scores, truth) == pytest.approx(trapezoid)
    assert rationale_fraction([HumanRationale("a", "d", ("x",) * 4, ((0, 1),)),
                               HumanRationale("b", "e", ("x",) * 2, ((0, 2),))]) == pytest.approx((0.25 + 1) / 2)


def test_plausibility_by_hand():
    rationale = HumanRationale("a", "d", ("w",) * 6, ((1, 3),))  # human: words 1, 2
    result = _result(rationale, [0.0, 0.9, 0.1, 0.8, 0.2, 0.3], "m")
    row = plausibility([result], [rationale], fraction=0.5).to_frame().iloc[0]
    # top 3: words 1, 3, 5 -> token p = 1/3, r = 1/2; spans (1,2), (3,4), (5,6) vs (1,3): IOU 1/2 hit, others miss
    assert row["k"] == 3 and row["n_human"] == 2
    assert row["token_f1"] == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    assert (row["iou_precision"], row["iou_recall"]) == pytest.approx((1 / 3, 1.0))


# ---------------------------------------------------------------- equality with ERASER's procedure

def _eraser_scores(rationales, results, fraction, threshold):
    """ERASER's metrics.py on our inputs: Rationale sets keyed by (annotation, docid), token-level PRF,
    partial_match_score's macro IOU F1, _auprc and _score_aggregator(average_precision_score)."""
    truth, pred, soft_truth, soft_pred = [], [], {}, {}
    for rationale, result in zip(rationales, results):
        key = (rationale.annotation_id, rationale.docid)
        truth += [(*key, s, e) for s, e in rationale.spans]
        scores = np.asarray(result.word_scores)
        k = int(np.ceil(len(scores) * fraction))
        chosen = sorted(np.argsort(scores, kind="stable")[-k:])
        runs, start = [], chosen[0]
        for prev, cur in zip(chosen, chosen[1:] + [None]):
            if cur != prev + 1:
                runs.append((start, prev + 1))
                start = cur
        pred += [(*key, s, e) for s, e in runs]
        labels = [False] * len(rationale.tokens)
        for s, e in rationale.spans:
            for t in range(s, e):
                labels[t] = True
        soft_truth[key], soft_pred[key] = labels, list(scores)

    def f1(p, r):
        return 0 if p == 0 or r == 0 else 2 * p * r / (p + r)

    def keyed(rats):
        out = defaultdict(set)
        for r in rats:
            out[r[:2]].add(r)
        return out

    tok_t = keyed([(a, d, t, t + 1) for a, d, s, e in truth for t in range(s, e)])
    tok_p = keyed([(a, d, t, t + 1) for a, d, s, e in pred for t in range(s, e)])
    inst = []
    for k in set(tok_t) | set(tok_p):
        p = len(tok_t.get(k, set()) & tok_p.get(k, set())) / len(tok_p[k]) if tok_p.get(k) else 0
        r = len(tok_t.get(k, set()) & tok_p.get(k, set())) / len(tok_t[k]) if tok_t.get(k) else 0
        inst.append(f1(p, r))
    token_f1 = sum(inst) / len(inst)

    ann, prd = keyed(truth), keyed(pred)
    tps = {}
    for k in set(ann) | set(prd):
        ious = []
        for p in prd.get(k, []):
            best = 0.0
            for t in ann.get(k, []):
                num = len(set(range(p[2], p[3])) & set(range(t[2], t[3])))
                den = len(set(range(p[2], p[3])) | set(range(t[2], t[3])))
                best = max(best, num / den if den else 0)
            ious.append(best)
        tps[k] = sum(int(x >= threshold) for x in ious)
    macro_r = np.mean([tps.get(k, 0) / len(v) for k, v in ann.items()])
    macro_p = np.mean([tps.get(k, 0) / len(v) for k, v in prd.items()])
    iou_f1 = f1(macro_r, macro_p)

    aucs, aps = [], []
    for k, true in soft_truth.items():
        precision, recall, _ = precision_recall_curve([int(t) for t in true], soft_pred[k])
        aucs.append(auc(recall, precision))
        if not (all(true) or not any(true)):
            aps.append(average_precision_score([int(t) for t in true], soft_pred[k]))
    return {"token_f1": token_f1, "iou_f1": iou_f1, "auprc": np.average(aucs), "average_precision": np.average(aps)}


@pytest.mark.parametrize("split", ["test", "val"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_eraser_metrics_procedure(split, seed):
    rationales = load_eraser(FIXTURE, split=split)
    results = _scored(rationales, seed)
    fraction = np.mean([sum(e - s for s, e in r.spans) / len(r.tokens) for r in rationales])
    summary = plausibility(results, rationales).summary().set_index(["method", "metric"])["value"]
    for method in ("saliency", "lime"):
        ours = [r for r in results if r.method == method]
        expected = _eraser_scores(rationales, ours, fraction, 0.5)
        for metric, value in expected.items():
            assert summary[(method, metric)] == pytest.approx(value, abs=1e-12), (method, metric)


# ---------------------------------------------------------------- the result and errors

def test_result_summary_plot_and_round_trip(tmp_path):
    rationales = load_eraser(FIXTURE, split="test")
    result = bt.plausibility(_scored(rationales), rationales, n_boot=200)
    summary = result.summary()
    assert set(summary["method"]) == {"saliency", "lime"}
    assert ((summary["low"] <= summary["value"] + 1e-12) & (summary["value"] <= summary["high"] + 1e-12)).all()
    assert isinstance(result.plot(), Figure)
    loaded = PlausibilityResult.load(result.save(tmp_path))
    assert loaded.meta == result.meta
    assert loaded.to_frame().equals(result.to_frame())


def test_plausibility_reads_paths():
    rationales = load_eraser(FIXTURE, split="val")
    results = _scored(rationales)
    assert plausibility(results, FIXTURE, split="val").to_frame().equals(
        plausibility(results, rationales).to_frame())


def test_plausibility_errors():
    rationales = load_eraser(FIXTURE, split="test")
    results = _scored(rationales)
    with pytest.raises(InputError, match="needs attributions"):
        plausibility([], rationales)
    with pytest.raises(InputError, match="has 2 results for 3 rationales"):
        plausibility(results[:2], rationales)
    with pytest.raises(InputError, match="result 1 does not explain document 'negR_001.txt'"):
        plausibility(results[:3], [rationales[0], rationales[2], rationales[1]])
    with pytest.raises(InputError, match="fraction"):
        plausibility(results, rationales, fraction=0.0)


# ---------------------------------------------------------------- documents longer than the model's limit

def test_truncated_documents_are_scored_on_the_words_the_model_saw(tiny_model, caplog):
    clf = bt.Classifier.from_pretrained(tiny_model("bert", "classifier"))
    clf.max_length = 12
    rationales = load_eraser(FIXTURE, split="test")
    results = [bt.attribute(clf, r.text, method=m) for m in ("input_x_gradient", "attention") for r in rationales]
    cut = {i for i, r in enumerate(rationales) if len(clf.tokenizer(r.text)["input_ids"]) > 12}
    assert cut and {i for i, r in enumerate(results[:len(rationales)]) if r.truncated} == cut
    with caplog.at_level("WARNING"):
        scored = plausibility(results, rationales)
    assert scored.meta["n_truncated"] == len(cut)
    assert f"{len(cut)} of {len(rationales)} documents are longer than the model's limit" in caplog.text
    frame = scored.to_frame()
    assert (frame["n_seen"] == [len(r.words) for r in results]).all()
    assert (frame["n_words"] == [len(r.tokens) for r in rationales] * 2).all()
    fraction = np.mean([sum(e - s for s, e in r.spans) / len(r.tokens) for r in rationales])
    summary = scored.summary().set_index(["method", "metric"])["value"]
    for method in ("input_x_gradient", "attention"):
        padded = []
        for rationale, result in zip(rationales, [r for r in results if r.method == method]):
            scores = np.zeros(len(rationale.tokens))
            scores[:len(result.words)] = result.word_scores
            padded.append(_result(rationale, scores, method))
        for metric, value in _eraser_scores(rationales, padded, fraction, 0.5).items():
            assert summary[(method, metric)] == pytest.approx(value, abs=1e-12), (method, metric)


def test_benchmark_on_truncated_documents_reports_them(tiny_model):
    clf = bt.Classifier.from_pretrained(tiny_model("bert", "classifier"))
    clf.max_length = 12
    rationales = load_eraser(FIXTURE, split="test")
    bench = bt.explanation_benchmark(clf, rationales=rationales, methods=["saliency", "occlusion"], n_boot=20,
                                     progress=False)
    assert bench.meta["plausibility"]["n_truncated"] == len(rationales)
    assert set(bench.plausibility["n_seen"]) == {len(r.words) for r in bench.attributions}


def test_a_truncated_result_of_another_document_is_an_error():
    rationales = load_eraser(FIXTURE, split="test")
    words = ["not", "this", "document"]
    wrong = AttributionResult(" ".join(words), words, [0, 1, 2], [0.0] * 3, words, [0.0] * 3, "label", 0, "m", 0.5,
                              truncated=True)
    with pytest.raises(InputError, match="does not explain document"):
        plausibility([wrong], rationales[:1])
