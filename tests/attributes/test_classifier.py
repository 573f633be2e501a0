"""Training data readers (on tiny tar files in the shared data's layout), the network, training with
resume, and the held-out figures."""

from __future__ import annotations

import io
import tarfile

import numpy as np
import pytest
from PIL import Image

from facepipe.attributes import classifier
from facepipe.attributes.vocabulary import CELEBA, OUTPUTS
from facepipe.data.faces64 import FaceSet, load_celeba, load_utkface, split
from facepipe.errors import CheckpointMismatch, ConfigError


def _jpeg(rng, size):
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


def _tar(path, files):
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.fixture
def shared_like(tmp_path):
    rng = np.random.default_rng(0)
    _tar(tmp_path / "celeba.tar", {f"celebA/{i:06d}.jpg": _jpeg(rng, (89, 109)) for i in (1, 2, 3)})
    rows = ["3", " ".join(CELEBA) + " "]
    for i in (1, 2, 3):
        values = ["1" if (i + k) % 2 else "-1" for k in range(40)]
        rows.append(f"{i:06d}.jpg " + " ".join(values))
    (tmp_path / "attrs.txt").write_text("\n".join(rows) + "\n")
    _tar(
        tmp_path / "utk.tar",
        {
            "unlabeled/41_0_3_20170119171541497.jpg.chip.jpg": _jpeg(rng, (200, 200)),
            "unlabeled/7_1_1_20170119171541497.jpg.chip.jpg": _jpeg(rng, (200, 200)),
            "unlabeled/39_1_20170116174525125.jpg.chip.jpg": _jpeg(rng, (200, 200)),
        },
    )
    return tmp_path


def test_readers_give_64px_faces_and_masked_labels(shared_like):
    c = load_celeba(shared_like / "celeba.tar", shared_like / "attrs.txt")
    assert c.images.shape == (3, 64, 64, 3) and c.images.dtype == np.uint8
    assert c.labels[0, 0] == 1 and c.labels[0, 1] == 0  # 000001: k=0 -> 1, k=1 -> -1 -> 0
    assert np.isnan(c.labels[:, OUTPUTS.index("age")]).all()
    u = load_utkface(shared_like / "utk.tar")  # the malformed name (no race) is skipped
    assert len(u.names) == 2 and u.names[0].startswith("41_0_3")
    row = u.labels[0]
    assert (
        row[OUTPUTS.index("Male")] == 1 and row[OUTPUTS.index("age")] == 41 and row[OUTPUTS.index("race_Indian")] == 1
    )
    assert u.labels[1, OUTPUTS.index("Male")] == 0 and np.isnan(row[OUTPUTS.index("Smiling")])
    with pytest.raises(ConfigError, match="does not exist; valid: a copy of ../shared/data/"):
        load_utkface(shared_like / "nope.tar")


def test_split_is_seeded_and_disjoint():
    a_train, a_held = split(100, 3, 0.2)
    b_train, b_held = split(100, 3, 0.2)
    assert np.array_equal(a_held, b_held) and len(a_held) == 20
    assert not set(a_train) & set(a_held) and len(a_train) + len(a_held) == 100
    assert not np.array_equal(split(100, 4, 0.2)[1], a_held)


def _toy(n=64, seed=0):
    """Bright faces are 'Male', dark are not: a learnable toy task in the real label layout."""
    rng = np.random.default_rng(seed)
    male = rng.random(n) < 0.5
    images = np.where(male[:, None, None, None], 200, 50) + rng.integers(-30, 30, (n, 64, 64, 3))
    labels = np.full((n, len(OUTPUTS)), np.nan, np.float32)
    labels[:, OUTPUTS.index("Male")] = male
    return FaceSet(np.clip(images, 0, 255).astype(np.uint8), labels, [str(i) for i in range(n)], "toy")


def test_train_resumes_and_learns(tmp_path):
    data = _toy()
    logs = []
    classifier.train(data, tmp_path / "ck", width=4, seed=0, epochs=1, batch_size=32, log=logs.append)
    net = classifier.train(data, tmp_path / "ck", width=4, seed=0, epochs=6, batch_size=32, log=logs.append)
    assert any("resumed" in m and "epoch 1" in m for m in logs)
    assert sum(m.startswith("epoch ") for m in logs) == 6  # 1 + 5 more, none repeated
    figures = classifier.evaluate(classifier.AttributeClassifier(net, {}), _toy(seed=1))
    assert figures["balanced_accuracy"]["Male"] >= 0.9
    out = classifier.AttributeClassifier(net, {})(data.images[:3])
    assert out.shape == (3, len(OUTPUTS)) and ((out[:, :40] >= 0) & (out[:, :40] <= 1)).all()


def test_weights_of_another_width_are_refused(tmp_path):
    net = classifier.build_network(4)
    net.save_weights(str(tmp_path / "w.weights.h5"))
    assert (
        classifier.AttributeClassifier.load(tmp_path / "w.weights.h5", 4).network.count_params() == net.count_params()
    )
    with pytest.raises(CheckpointMismatch, match="not attribute-classifier weights of width 8"):
        classifier.AttributeClassifier.load(tmp_path / "w.weights.h5", 8)
