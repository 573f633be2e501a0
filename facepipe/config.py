"""Typed configuration: the dataclass schema every Hydra/DVC config is validated against.

Hydra composes `conf/` into a DictConfig; `config_loader.load()` merges it into `FacepipeConfig`, so a
wrong type (`sweep.max_angle=abc`) or an unknown key fails at start, and `__post_init__` range checks run
when OmegaConf instantiates the dataclasses. Core code only ever sees these plain dataclasses; this
module imports no OmegaConf.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

from facepipe.errors import ConfigError

__all__ = [
    "PathsConf",
    "GeneratorConf",
    "AttributesConf",
    "SweepConf",
    "ExpressionsConf",
    "RepositionConf",
    "UpscalerConf",
    "TrackingConf",
    "ClassifierMember",
    "ClassifiersConf",
    "SRConf",
    "ShadingConf",
    "GanConf",
    "TrainGeneratorConf",
    "DirectionsConf",
    "FacepipeConfig",
    "to_dict",
    "EXPRESSION_NAMES",
]

MAX_ANGLE_LIMIT = 90
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"  # where runs go when neither tracking.uri nor $MLFLOW_TRACKING_URI says
MAX_RANDOM_SHOTS = 100_000  # random shots per person; a larger dataset is many persons (--multirun)
# Expressions the reposition stage knows how to make (facepipe/reposition/); `expressions.names` picks from these.
EXPRESSION_NAMES = ("neutral", "smile", "laugh", "surprise", "sad", "angry", "blink", "wink")
SHADING_FILE = "models/expressions/shading.npz"  # the committed expression shading model (stage learn_shading)
SMILE_SHAPE_FILE = "models/expressions/smile_shape.npz"  # the committed smile shape (stage learn_shading)
IMAGE_FORMATS = ("png", "jpeg", "webp")
DATA_DIR = "../shared/data"  # the shared training data (see its README); conf/paths/default.yaml sets the same
GAN_ARCHITECTURES = ("stylegan_lite", "pixelnorm_gan")


def _check(ok: bool, key: str, value: Any, valid: str) -> None:
    if not ok:
        raise ConfigError(f"{key}={value!r} is invalid; valid: {valid}")


@dataclass
class PathsConf:
    """Where things live. Relative paths are relative to the working directory."""

    model_cache: str = "models/cache"  # fetched model files, keyed by name and sha256
    pipeline_dir: str = "outputs/pipeline"  # fixed roots of the DVC stages' outs
    model_files: dict[str, str] = field(default_factory=dict)  # {registry name: local copy used in place}
    data_dir: str = DATA_DIR  # the shared training data; never committed


@dataclass
class GeneratorConf:
    """Which generator backend draws the person, and how its latent is sampled."""

    _target_: str = "facepipe.generate.dcgan.build"  # the backend's factory
    name: str = "dcgan_digiface"  # option name, part of the person id
    model: Optional[str] = "dcgan_digiface"  # weights registry key (facepipe/models/catalog.yaml), or null
    weights: Optional[str] = None  # with model null: a weights file committed here (generators trained here)
    truncation: Optional[float] = None  # resample |z_i| > truncation; None = plain N(0, I)
    batch_size: int = 64
    lod: int = 0  # progressive generators (pg-GAN): draw at full size / 2**lod, e.g. 3 -> 128 px
    directions: Optional[str] = None  # registry name of TL-GAN directions; None: <directions.dir>/<name>.npz

    def __post_init__(self) -> None:
        _check(
            self.truncation is None or self.truncation > 0,
            "generator.truncation",
            self.truncation,
            "null or a number > 0",
        )
        _check(self.batch_size >= 1, "generator.batch_size", self.batch_size, "an integer >= 1")
        _check(self.lod >= 0, "generator.lod", self.lod, "an integer >= 0 (0 = full resolution)")
        _check(
            bool(self.model) != bool(self.weights),
            "generator.model",
            self.model,
            "a registry name with generator.weights null, or null with generator.weights a file",
        )


@dataclass
class AttributesConf:
    """Target attribute values and the attributes to keep fixed while editing (`generate.edit`).

    Targets are guide-classifier probabilities in [0, 1] by CelebA name, or `age` in years; names and
    ranges are checked by `attributes.vocabulary.check_targets` when the job starts.
    """

    name: str = "neutral"
    targets: dict[str, float] = field(default_factory=dict)
    lock: list[str] = field(default_factory=list)


@dataclass
class SweepConf:
    """The reposition grid (yaw x pitch, degrees) and the random-pose sample."""

    max_angle: int = 30  # grid spans -max_angle..+max_angle
    step: int = 5
    n_random: int = 100
    yaw_range: float = 45.0  # random yaw drawn uniformly in +-yaw_range
    pitch_range: float = 30.0
    roll_range: float = 15.0
    gaze_range: float = 20.0

    def __post_init__(self) -> None:
        _check(
            0 <= self.max_angle <= MAX_ANGLE_LIMIT,
            "sweep.max_angle",
            self.max_angle,
            f"an integer in [0, {MAX_ANGLE_LIMIT}] degrees",
        )
        _check(self.step > 0, "sweep.step", self.step, "an integer > 0 degrees")
        divisors = [d for d in range(1, self.max_angle + 1) if self.max_angle % d == 0] or [1]
        _check(
            self.max_angle % self.step == 0,
            "sweep.step",
            self.step,
            f"a divisor of sweep.max_angle={self.max_angle} (the grid holds 0 and +-max_angle): "
            + ", ".join(map(str, divisors)),
        )
        _check(
            0 <= self.n_random <= MAX_RANDOM_SHOTS,
            "sweep.n_random",
            self.n_random,
            f"an integer in [0, {MAX_RANDOM_SHOTS}]",
        )
        for key in ("yaw_range", "pitch_range", "roll_range", "gaze_range"):
            value = getattr(self, key)
            _check(0 <= value <= MAX_ANGLE_LIMIT, f"sweep.{key}", value, f"a number in [0, {MAX_ANGLE_LIMIT}]")


@dataclass
class ExpressionsConf:
    """The facial expressions the random part of a dataset draws from, with an intensity range."""

    name: str = "basic"
    names: list[str] = field(default_factory=lambda: list(EXPRESSION_NAMES))
    intensity_min: float = 0.3
    intensity_max: float = 1.0

    def __post_init__(self) -> None:
        _check(len(self.names) > 0, "expressions.names", self.names, "a non-empty list")
        for name in self.names:
            _check(name in EXPRESSION_NAMES, "expressions.names", name, ", ".join(EXPRESSION_NAMES))
        _check(
            0 <= self.intensity_min <= self.intensity_max <= 1,
            "expressions.intensity_min/max",
            (self.intensity_min, self.intensity_max),
            "0 <= min <= max <= 1",
        )


@dataclass
class RepositionConf:
    """Which repositioning backend renders the dataset, and from what source face."""

    _target_: str = "facepipe.reposition.mesh.repositioner.build"  # the backend's factory
    name: str = "mesh"  # option name, part of the dataset settings
    image: Optional[str] = None  # a face photo to reposition instead of the generated person
    measure: bool = True  # landmark every produced image and write its measured pose to labels.csv
    calibrate: bool = True  # mesh: fit each source's measured-vs-commanded pose on 5 x 5 probe renders
    segment: bool = True  # mesh: only the person moves (MediaPipe selfie segmentation), not the background
    yaw_gain: float = 1.3  # mesh, when not calibrating: requested yaw changes x this
    neutralize: bool = True  # take a source's own smile out and close its open lips first: "neutral" shots look neutral
    # A generated face turned further than this (|yaw| or |pitch|, degrees) is resampled: the warp
    # can only show what the source saw. Photos are used as given.
    max_source_angle: float = 20.0
    pose_tolerance: float = 2.0  # closed-loop pose steps (both backends) stop within this many degrees
    max_pose_steps: int = 8  # bound on those steps per image
    # Render processes for a dataset of at least `render_pool.MIN_SHOTS_PER_WORKER` shots per worker;
    # 1 renders in the stage's own process. Not a dataset setting: the images are the same bytes.
    workers: int = 2
    # mesh: learned expression shading (creases, folds; `reposition/mesh/shading.py`), None = geometry only;
    # the luminance residual is applied x intensity x shading_gain
    shading: Optional[str] = SHADING_FILE
    shading_gain: float = 3.5
    # mesh, with neutralize: the learned shape of a smile (`reposition/mesh/smile_shape.py`), taken out of a
    # smiling source beyond the neutral range; None = only open lips are closed
    smile_shape: Optional[str] = SMILE_SHAPE_FILE

    def __post_init__(self) -> None:
        _check(0 <= self.shading_gain <= 5, "reposition.shading_gain", self.shading_gain, "a number in [0, 5]")
        _check(
            0 < self.max_source_angle <= MAX_ANGLE_LIMIT,
            "reposition.max_source_angle",
            self.max_source_angle,
            f"a number in (0, {MAX_ANGLE_LIMIT}]",
        )
        _check(0.5 <= self.yaw_gain <= 2.0, "reposition.yaw_gain", self.yaw_gain, "a number in [0.5, 2]")
        _check(self.workers >= 1, "reposition.workers", self.workers, "an integer >= 1 (render processes)")


@dataclass
class UpscalerConf:
    """How images are brought to the final size."""

    _target_: str = "facepipe.upscale.interpolate.build"  # the backend's factory
    name: str = "bicubic"  # option name, used in output folder names
    # Output is output_size x output_size pixels. Not called `size`: DVC's run-cache hash skips every
    # key named `size` or `nfiles`, so changing it would restore stale outputs (treeverse/dvc#10296).
    output_size: int = 1024
    format: str = "png"
    quality: int = 95  # JPEG/WebP only
    png_level: int = 1  # PNG only: zlib level 0-9 (lossless at every level; higher = smaller, slower)
    models: list[str] = field(default_factory=list)  # weights registry keys, for learned upscalers
    batch_size: int = 16
    # RGB SR networks (facepipe/upscale/learned.py):
    weights: Optional[str] = None  # a registry name or a Keras 2 .h5 path
    network: dict[str, Any] = field(default_factory=dict)  # {name: edsr|wdsr_b|srgan, scale, filters, blocks}
    chain: str = "bicubic"  # after the first network pass: bicubic | model (more passes)
    tile: int = 128  # input tile side for large images (memory bound); overlapped by 8 px

    def __post_init__(self) -> None:
        _check(
            8 <= self.output_size <= 8192, "upscaler.output_size", self.output_size, "an integer in [8, 8192] pixels"
        )
        _check(self.format in IMAGE_FORMATS, "upscaler.format", self.format, ", ".join(IMAGE_FORMATS))
        _check(1 <= self.quality <= 100, "upscaler.quality", self.quality, "an integer in [1, 100]")
        _check(0 <= self.png_level <= 9, "upscaler.png_level", self.png_level, "an integer in [0, 9]")
        _check(self.batch_size >= 1, "upscaler.batch_size", self.batch_size, "an integer >= 1")
        _check(self.chain in ("bicubic", "model"), "upscaler.chain", self.chain, "bicubic, model")
        _check(self.tile >= 16, "upscaler.tile", self.tile, "an integer >= 16 pixels")


@dataclass
class TrackingConf:
    """MLflow settings; `enabled=false` turns every logging call into a no-op."""

    enabled: bool = True
    uri: Optional[str] = None  # None: $MLFLOW_TRACKING_URI if set, else DEFAULT_TRACKING_URI
    experiment: str = "facepipe"


@dataclass
class ClassifierMember:
    """One of the two attribute classifiers: its seed, its data split's seed and its width."""

    seed: int = 0
    split_seed: int = 0
    width: int = 24


@dataclass
class ClassifiersConf:
    """Training the attribute classifiers (the `train_classifiers` stage) and where they live."""

    data_dir: str = DATA_DIR  # holds celeba-10k-89x109.tar, celeba-10k-attributes.txt, utkface-200px.tar
    dir: str = "models/attributes"  # trained weights + cards (committed)
    checkpoint_dir: str = "outputs/checkpoints/classifiers"  # per-epoch checkpoints; a rerun resumes
    held_out: float = 0.15  # fraction of each dataset kept out of training, for the cards
    epochs: int = 26
    epoch_size: int = 17000  # faces per epoch, half from each dataset
    batch_size: int = 128
    learning_rate: float = 2e-3
    guide: ClassifierMember = field(default_factory=lambda: ClassifierMember(seed=0, split_seed=0))
    evaluator: ClassifierMember = field(default_factory=lambda: ClassifierMember(seed=1, split_seed=1))

    def __post_init__(self) -> None:
        _check(0 < self.held_out < 1, "classifiers.held_out", self.held_out, "a fraction in (0, 1)")
        for key in ("epochs", "epoch_size", "batch_size"):
            _check(getattr(self, key) >= 1, f"classifiers.{key}", getattr(self, key), "an integer >= 1")


@dataclass
class DirectionsConf:
    """Learning attribute directions in a generator's latent space (the `learn_directions` stage)."""

    dir: str = "models/directions"  # <generator>.npz per generator (committed)
    n_samples: int = 20000  # latents drawn, generated and scored by the guide
    n_pose_samples: int = 4000  # of those, the first N landmarked for pose/expression directions (reposition=latent)
    seed: int = 0
    method: str = "regression"  # regression (TL-GAN) | svm (InterFaceGAN: linear SVM on the extremes)
    max_steps: int = 60  # edit: bound on closed-loop steps per target
    step_size: float = 0.2  # edit: latent distance per step (latents are N(0, I))
    tolerance: float = 0.15  # edit: a probability target is met within this; age within 50x this in years
    walk: str = "gradient"  # edit: gradient (the guide's local gradients) | linear (TL-GAN: the fitted directions)
    metric: str = "image"  # gradient walk: a step's length is image change (image) | latent distance (latent)
    metric_ridge: float = (
        0.001  # image metric: + this x its mean eigenvalue (latent moves that barely show are not free)
    )

    def __post_init__(self) -> None:
        _check(self.method in ("regression", "svm"), "directions.method", self.method, "regression, svm")
        _check(self.walk in ("gradient", "linear"), "directions.walk", self.walk, "gradient, linear")
        _check(self.metric in ("image", "latent"), "directions.metric", self.metric, "image, latent")
        _check(self.metric_ridge > 0, "directions.metric_ridge", self.metric_ridge, "a number > 0")
        _check(self.n_samples >= 100, "directions.n_samples", self.n_samples, "an integer >= 100")
        _check(self.max_steps >= 1, "directions.max_steps", self.max_steps, "an integer >= 1")
        _check(self.step_size > 0, "directions.step_size", self.step_size, "a number > 0")
        _check(0 < self.tolerance < 0.5, "directions.tolerance", self.tolerance, "a number in (0, 0.5)")


@dataclass
class SRConf:
    """Training the face super-resolution model (the `train_sr` stage) and where it lives."""

    data_dir: str = DATA_DIR  # holds utkface-200px.tar and celeba-10k-89x109.tar
    dir: str = "models/sr"  # trained weights (Keras 2 HDF5 layout) + card (committed)
    checkpoint_dir: str = "outputs/checkpoints/sr"  # per-epoch checkpoints; a rerun resumes
    name: str = "face_edsr_x4"  # file stem of the weights and card
    architecture: str = "edsr"  # edsr | wdsr_b
    scale: int = 4
    filters: int = 32
    blocks: int = 8
    patch: int = 64  # HR crop side in training
    batch_size: int = 16
    steps_per_epoch: int = 500
    epochs: int = 30
    learning_rate: float = 1e-3
    seed: int = 0
    split_seed: int = 0
    held_out: float = 0.05  # fraction of each face set never trained on (the evaluation set)

    def __post_init__(self) -> None:
        _check(self.architecture in ("edsr", "wdsr_b"), "sr.architecture", self.architecture, "edsr, wdsr_b")
        _check(self.scale in (2, 4), "sr.scale", self.scale, "2 or 4")
        _check(
            self.patch % self.scale == 0 and self.patch >= 8 * self.scale,
            "sr.patch",
            self.patch,
            f"a multiple of sr.scale ({self.scale}), at least {8 * self.scale}",
        )
        _check(0 < self.held_out < 1, "sr.held_out", self.held_out, "a fraction in (0, 1)")
        for key in ("filters", "blocks", "batch_size", "steps_per_epoch", "epochs"):
            _check(getattr(self, key) >= 1, f"sr.{key}", getattr(self, key), "an integer >= 1")


@dataclass
class ShadingConf:
    """Learning expression shading (the `learn_shading` stage) and where the model lives."""

    data_dir: str = DATA_DIR  # see its README; never committed
    file: str = SHADING_FILE  # written by the stage, committed, read by the mesh backend (reposition.shading)
    smile_file: str = SMILE_SHAPE_FILE  # the smile shape, learned from the same faces; read by the mesh backend (reposition.smile_shape)
    # face set (celeba, utkface) -> how many of its first images (None: all); CelebA from 5001 on is the
    # fer tuning set. UTKFace is left out: all of it gives surprise a map, but fer then matches the
    # rendered expressions less often (README).
    sets: dict[str, Optional[int]] = field(default_factory=lambda: {"celeba": 5000})
    min_side: int = 176  # faces are upsampled (whole factors) until their shorter side is at least this
    side: int = 128  # canonical square, pixels
    highpass_sigma: float = 10.0  # canonical pixels: slower luminance changes (lighting) are not learned
    min_faces: float = 50.0  # an emotion with fewer effective faces (sum of fer's p^2) gets no map: noise

    def __post_init__(self) -> None:
        _check(
            bool(self.sets) and set(self.sets) <= {"celeba", "utkface"},
            "shading.sets",
            dict(self.sets),
            "a non-empty mapping from celeba and/or utkface to a number of images or null",
        )
        for name, limit in self.sets.items():
            _check(limit is None or limit >= 1, f"shading.sets.{name}", limit, "an integer >= 1 or null (all)")
        _check(self.min_faces > 0, "shading.min_faces", self.min_faces, "a number > 0")
        _check(32 <= self.min_side <= 1024, "shading.min_side", self.min_side, "an integer in [32, 1024]")
        _check(32 <= self.side <= 512, "shading.side", self.side, "an integer in [32, 512]")
        _check(
            0 < self.highpass_sigma <= self.side / 2,
            "shading.highpass_sigma",
            self.highpass_sigma,
            f"a number in (0, {self.side / 2}]",
        )


@dataclass
class GanConf:
    """The GAN's hyper-parameters (`generate.gan_train.GanTrainer` trains with them)."""

    architecture: str = "stylegan_lite"
    resolution: int = 128
    z_dim: int = 128
    batch_size: int = 16
    lr: float = 0.002
    betas: list[float] = field(default_factory=lambda: [0.0, 0.99])
    r1_gamma: float = 0.2
    r1_interval: int = 16
    ema_kimg: float = 10.0
    ema_rampup: float = 0.05
    augment: list[str] = field(default_factory=lambda: ["color", "translation", "cutout"])
    seed: int = 0
    mbstd_group: int = 4
    g_channels: Optional[dict[int, int]] = None  # feature maps per resolution; None: the network's default
    d_channels: Optional[dict[int, int]] = None

    def __post_init__(self) -> None:
        _check(
            self.architecture in GAN_ARCHITECTURES,
            "train_generator.gan.architecture",
            self.architecture,
            ", ".join(GAN_ARCHITECTURES),
        )
        _check(
            self.resolution in (8, 16, 32, 64, 128, 256),
            "train_generator.gan.resolution",
            self.resolution,
            "8, 16, 32, 64, 128, 256",
        )
        _check(
            self.batch_size >= 4 and self.batch_size % self.mbstd_group == 0,
            "train_generator.gan.batch_size",
            self.batch_size,
            f"an integer >= 4 and a multiple of mbstd_group ({self.mbstd_group})",
        )
        _check(
            set(self.augment) <= {"color", "translation", "cutout"},
            "train_generator.gan.augment",
            list(self.augment),
            "a subset of color, translation, cutout",
        )


@dataclass
class TrainGeneratorConf:
    """Training the face generator (the `train_generator` stage): data, budget, where the run lives."""

    name: str = "stylegan_lite_utkface128"  # file stem of the export, and the run folder's name
    data_dir: str = DATA_DIR
    run_dir: Optional[str] = None  # None: $FACEPIPE_TRAIN_DIR/<name> or ~/.cache/facepipe/train/<name>
    out_dir: str = "models/generator"
    split_seed: int = 0
    total_kimg: float = 5000.0
    minutes: Optional[float] = None  # a wall-clock budget for this invocation; None: until total_kimg
    checkpoint_minutes: float = 5.0
    sample_minutes: float = 15.0
    snapshot_minutes: float = 30.0
    threads: int = 0
    gan: GanConf = field(default_factory=GanConf)

    def __post_init__(self) -> None:
        _check(self.total_kimg > 0, "train_generator.total_kimg", self.total_kimg, "a number > 0")
        _check(
            self.minutes is None or self.minutes > 0, "train_generator.minutes", self.minutes, "null or a number > 0"
        )
        _check(self.threads >= 0, "train_generator.threads", self.threads, "an integer >= 0 (0 = all cores)")


@dataclass
class FacepipeConfig:
    """The whole resolved configuration of one job."""

    seed: int = 0
    output_dir: str = "outputs"
    overwrite: bool = False  # allow replacing existing outputs whose bytes differ
    paths: PathsConf = field(default_factory=PathsConf)
    generator: GeneratorConf = field(default_factory=GeneratorConf)
    attributes: AttributesConf = field(default_factory=AttributesConf)
    sweep: SweepConf = field(default_factory=SweepConf)
    expressions: ExpressionsConf = field(default_factory=ExpressionsConf)
    reposition: RepositionConf = field(default_factory=RepositionConf)
    upscaler: UpscalerConf = field(default_factory=UpscalerConf)
    tracking: TrackingConf = field(default_factory=TrackingConf)
    classifiers: ClassifiersConf = field(default_factory=ClassifiersConf)
    directions: DirectionsConf = field(default_factory=DirectionsConf)
    sr: SRConf = field(default_factory=SRConf)
    shading: ShadingConf = field(default_factory=ShadingConf)
    train_generator: TrainGeneratorConf = field(default_factory=TrainGeneratorConf)

    def __post_init__(self) -> None:
        _check(0 <= self.seed < 2**63, "seed", self.seed, "an integer in [0, 2**63)")
        out = Path(self.output_dir).expanduser().absolute()
        _check(
            out.parent != out, "output_dir", self.output_dir, "a folder for the person folders, not a filesystem root"
        )


def to_dict(cfg: FacepipeConfig) -> dict[str, Any]:
    """Plain nested dict of the config (for YAML, hashing and MLflow params)."""
    return asdict(cfg)
