"""Stage `learn_shading`: the expression shading model and the smile's shape, learned from CelebA faces
that fer labels.

Reads the face sets in `shading.sets` (../shared/data, research-only, never committed: CelebA's first
5,000 faces by default; UTKFace can be added), each upsampled until its shorter side is at least
`shading.min_side`, landmarks them (a face the landmarker cannot read is skipped), scores fer's seven
emotions on each and learns one luminance residual per emotion (`reposition.mesh.shading.learn`).
Writes `shading.file` and its card `<file>.json` (data sha256, faces used, effective faces per
emotion) and logs both, with a picture of the maps, to MLflow. From the same faces' meshes it learns the
shape of a smile (`reposition.smile_shape.learn`) into `shading.smile_file`; its threshold and the
smile amounts per fer label go into the same card.

fer labels these faces and fer also scores our expressions, so the benchmarks never use them: the fer
tuning set starts at CelebA image 5001 (`benchmarks/expression_tuning.py`; keep `sets.celeba` at or
below 5000), and the reported figures are on the two package photos.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facepipe.config import ShadingConf
from facepipe.data.hr_faces import FILES, load_hr_faces
from facepipe.face import emotion, landmarks
from facepipe.face.emotion import EMOTIONS
from facepipe.face.landmarks import NoFaceError
from facepipe.io import sha256_file, write_json
from facepipe.reposition.mesh import smile_shape
from facepipe.reposition.mesh.shading import ShadingModel, learn

__all__ = ["run", "label_faces", "preview"]


def label_faces(images: np.ndarray, min_side: int, landmarker, fer) -> tuple[list[int], np.ndarray, np.ndarray]:
    """(indices of the faces landmarked, their meshes `[N, 468, 3]` at the working size (`_working`),
    fer's probabilities `[N, 7]` in `EMOTIONS` order)."""
    kept, meshes, probs = [], [], []
    for i, image in enumerate(images):
        big = _working(image, min_side)
        try:
            points = landmarker.mesh(big)[0]
        except NoFaceError:
            continue
        scores = fer(big, points)
        kept.append(i)
        meshes.append(points)
        probs.append([scores[e] for e in EMOTIONS])
    return (
        kept,
        np.array(meshes, np.float32).reshape(-1, 468, 3),
        np.array(probs, np.float32).reshape(-1, len(EMOTIONS)),
    )


def _working(image: np.ndarray, min_side: int) -> np.ndarray:
    """`image` upsampled by the smallest whole factor that brings its shorter side to `min_side`."""
    factor = int(np.ceil(min_side / min(image.shape[:2])))
    if factor <= 1:
        return image
    return cv2.resize(image, (image.shape[1] * factor, image.shape[0] * factor), interpolation=cv2.INTER_CUBIC)


def preview(model: ShadingModel, path: Path, contrast: float = 400.0) -> None:
    """The maps side by side, mid grey = no change, lighter = lighter skin (x `contrast`)."""
    tiles = [np.clip(128 + m * contrast, 0, 255).astype(np.uint8) for m in model.maps.values()]
    cv2.imwrite(str(path), np.concatenate(tiles, axis=1))


def run(cfg: ShadingConf, models, tracker) -> Path:
    landmarker, fer = landmarks.build(models), emotion.build(models)
    sets, data = {}, {}
    for name, limit in cfg.sets.items():
        images, names = load_hr_faces(cfg.data_dir, limit, sets=(name,))[name]
        kept, meshes, probs = label_faces(images, cfg.min_side, landmarker, fer)
        sets[name] = (images, kept, meshes, probs)
        tar = Path(cfg.data_dir) / FILES[name]
        data[name] = {
            "file": tar.name,
            "sha256": sha256_file(tar),
            "limit": limit,
            "images": len(images),
            "landmarked": len(kept),
            "first": names[0],
            "last": names[-1],
        }
    faces = (
        (_working(images[i], cfg.min_side), meshes[k], probs[k])
        for images, kept, meshes, probs in sets.values()
        for k, i in enumerate(kept)
    )
    all_meshes = np.concatenate([s[2] for s in sets.values()])
    all_probs = np.concatenate([s[3] for s in sets.values()])
    model = learn(faces, all_meshes, cfg.side, cfg.highpass_sigma, cfg.min_faces)
    out = Path(cfg.file)
    model.save(out)
    smile, amounts = smile_shape.learn(all_meshes, all_probs)
    smile.save(cfg.smile_file)
    top = all_probs.argmax(1)
    card = {
        "data": data,
        "labels": "fer_emotion probabilities (soft, weight p^2 per emotion)",
        "top_label_counts": {e: int((top == i).sum()) for i, e in enumerate(EMOTIONS)},
        "effective_faces": {e: round(w, 1) for e, w in model.faces.items()},
        "maps": list(model.maps),
        "no_map_below_effective_faces": cfg.min_faces,
        "min_side": cfg.min_side,
        "side": cfg.side,
        "highpass_sigma": cfg.highpass_sigma,
        "smile_shape": {
            "file": Path(cfg.smile_file).name,
            "threshold": round(smile.threshold, 3),
            "threshold_is": f"percentile {smile_shape.THRESHOLD_PERCENTILE:g} of the faces read as neutral",
            "amount_percentiles_10_50_90": {
                e: [round(float(v), 3) for v in np.percentile(amounts[top == i], [10, 50, 90])]
                for i, e in enumerate(EMOTIONS)
                if (top == i).any()
            },
        },
    }
    card_path = out.with_suffix(".json")
    write_json(card_path, card, overwrite=True)
    picture = out.with_suffix(".png")
    preview(model, picture)
    tracker.log_metrics(
        {
            **{f"shading.effective_faces.{e}": w for e, w in model.faces.items()},
            "shading.smile_threshold": smile.threshold,
        }
    )
    for p in (out, card_path, picture, Path(cfg.smile_file)):
        tracker.log_artifact(p, "shading")
    return out
