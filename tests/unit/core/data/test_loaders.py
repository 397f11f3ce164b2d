"""CoarseWSD-20, SST-2 and generic table loaders on files in the exact real formats."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bertology.core.data import ProbeDataset, load_coarsewsd20, load_sst2, load_table_dataset
from bertology.core.data.loaders import download
from bertology.core.errors import InputError


def write_word(root, word, train, test, senses):
    directory = root / word
    directory.mkdir(parents=True)
    (directory / "classes_map.txt").write_text(json.dumps({str(i): s for i, s in enumerate(senses)}))
    for split, items in (("train", train), ("test", test)):
        (directory / f"{split}.data.txt").write_text("".join(f"{pos}\t{text}\n" for pos, text, _ in items))
        (directory / f"{split}.gold.txt").write_text("".join(f"{label}\n" for _, _, label in items))


@pytest.fixture
def wsd_root(tmp_path):
    write_word(tmp_path, "crane",
               [(1, "the crane lifted the steel beam .", 0), (3, "we watched a crane wade in the marsh .", 1)],
               [(4, "the operator of the crane waved .", 0)], ["crane_machine", "crane_bird"])
    write_word(tmp_path, "java", [(2, "i learned java programming at school .", 0)],
               [(0, "java is an island in indonesia .", 1)], ["java_programming", "java_island"])
    return tmp_path


def test_load_one_word_with_official_split(wsd_root):
    data = load_coarsewsd20("crane", root=wsd_root)
    assert data.texts[1] == "we watched a crane wade in the marsh ."
    assert data.words == [1, 3, 4] and data.labels.tolist() == [0, 1, 0]
    assert data.split.tolist() == ["train", "train", "test"]
    assert data.label_names == ["crane_machine", "crane_bird"]
    assert [t.split()[w] for t, w in zip(data.texts, data.words)] == ["crane"] * 3
    assert data.types == ["crane"] * 3


def test_load_all_words_prefixes_senses(wsd_root):
    data = load_coarsewsd20(None, root=wsd_root)
    assert data.label_names == ["crane:crane_machine", "crane:crane_bird", "java:java_programming", "java:java_island"]
    assert data.labels.tolist() == [0, 1, 0, 2, 3]
    assert data.types == ["crane", "crane", "crane", "java", "java"]


def test_malformed_data_line_names_file_and_line(wsd_root):
    path = wsd_root / "crane" / "train.data.txt"
    path.write_text(path.read_text() + "oops no tab here\n")
    with pytest.raises(InputError, match=r"train\.data\.txt:3: expected 'word_pos<TAB>sentence'"):
        load_coarsewsd20("crane", root=wsd_root)


def test_word_pos_outside_sentence_and_gold_mismatch(wsd_root):
    (wsd_root / "java" / "test.data.txt").write_text("9\tjava is an island .\n")
    with pytest.raises(InputError, match=r"test\.data\.txt:1: word_pos 9"):
        load_coarsewsd20("java", root=wsd_root)
    (wsd_root / "crane" / "test.gold.txt").write_text("0\n1\n")
    with pytest.raises(InputError, match="one line per item"):
        load_coarsewsd20("crane", root=wsd_root)


def test_unknown_word_and_missing_root(wsd_root, tmp_path):
    with pytest.raises(InputError, match="available: crane, java"):
        load_coarsewsd20("bank", root=wsd_root)
    with pytest.raises(InputError, match="No CoarseWSD-20 word directories"):
        load_coarsewsd20(None, root=tmp_path / "nowhere")


def test_shipped_samples_are_in_the_real_formats():
    for word in ("apple", "bank", "bat"):
        data = load_coarsewsd20(word)
        assert len(data) == 40 and set(data.split) == {"train", "test"}
        assert all(t.split()[w] == word and t == t.lower() for t, w in zip(data.texts, data.words))
        assert np.bincount(data.labels).tolist() == [20, 20]
    sst = load_sst2()
    assert len(sst) == 200 and np.bincount(sst.labels).tolist() == [100, 100]


def test_download_once_into_cache(wsd_root, tmp_path):
    import shutil
    archive = shutil.make_archive(str(tmp_path / "CoarseWSD-20"), "zip", wsd_root)
    cache = tmp_path / "cache"
    data = load_coarsewsd20("java", url=f"file://{archive}", cache_dir=cache)
    assert data.label_names == ["java_programming", "java_island"]
    (tmp_path / "CoarseWSD-20.zip").unlink()
    assert download(f"file://{archive}", cache) == cache / "CoarseWSD-20"
    with pytest.raises(InputError, match="Could not download"):
        download(f"file://{tmp_path}/absent.txt", cache)


def test_sst2_tsv_and_bad_label(tmp_path):
    path = tmp_path / "train.tsv"
    path.write_text("sentence\tlabel\nhide new secretions from the parental units \t0\na gorgeous film \t1\n")
    data = load_sst2(path)
    assert data.labels.tolist() == [0, 1] and data.words is None and data.split is None
    path.write_text("sentence\tlabel\nfine\t1\nbad\tpositive\n")
    with pytest.raises(InputError, match=r"train\.tsv:3: SST-2 labels are 0"):
        load_sst2(path)
    path.write_text("sentence\tlabel\nfine\t1\textra\n")
    with pytest.raises(InputError, match=r"train\.tsv:2"):
        load_sst2(path)


def test_generic_table_with_words_and_split(tmp_path):
    path = tmp_path / "senses.jsonl"
    path.write_text('{"text": "the bank is open", "sense": "money", "w": 1, "part": "train"}\n'
                    '{"text": "a river bank", "sense": "river", "w": 2, "part": "test"}\n')
    data = load_table_dataset(path, "text", "sense", word_column="w", split_column="part")
    assert data.label_names == ["money", "river"] and data.labels.tolist() == [0, 1]
    assert data.words == [1, 2] and data.split.tolist() == ["train", "test"] and data.types == ["bank", "bank"]
    with pytest.raises(InputError, match="no column 'label'"):
        load_table_dataset(path, "text")


def test_probe_dataset_validates_and_subsets():
    data = ProbeDataset(["a b", "c d", "e f"], np.array([0, 1, 1]), ["x", "y"], words=[0, 1, 0])
    part = data.subset(np.array([2, 0]))
    assert part.texts == ["e f", "a b"] and part.words == [0, 0] and part.labels.tolist() == [1, 0]
    with pytest.raises(InputError, match="one label per text"):
        ProbeDataset(["a"], np.array([0, 1]), ["x", "y"])
    with pytest.raises(InputError, match="labels must be 0..1"):
        ProbeDataset(["a"], np.array([2]), ["x", "y"])
