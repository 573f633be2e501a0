"""Editing a latent towards attribute targets with other attributes locked (TL-GAN's method, closed loop).

For each target in turn: take the attribute's direction, project out the directions of every locked
attribute and of the other targets (so reaching one target does not undo another), and step along
it, re-scoring the face with the guide classifier after every step, until the score is within the
tolerance of the target. A step that crosses the target is bisected. All of it is deterministic: no
randomness, a fixed bound on steps. `edit` is the one-person API, which fails loudly when a target
is out of reach; it walks one of two ways (`directions.walk`):

- `walk` (linear, TL-GAN): the global directions fitted by `learn_directions`. Works for any
  generator and for TL-GAN's own direction files, but a straight line leaves the region where the
  scores are linear: on `dcgan_digiface` a Smiling edit to 0.85 travels about 11 latent units.
- `walk_gradient` (default where the generator is differentiable): the same procedure on the local
  gradients of the guide (`GuideField`): each step follows the target's gradient with the locked
  attributes' gradients projected out, plus a Newton correction that returns the locked raw scores
  to their start. It reaches the same targets in about 3 units, and holds what the evaluator
  reads far better (figures in the README, Results, and docs/attributes.md).

  "Steepest" depends on how a step's length is measured (`metric`). With `latent`, length is
  distance in the latent. With `image` (default), it is how much the step changes the picture (the
  generator's pullback metric, `GuideField.image_metric_inverse`): the walk buys each unit of the
  target's score with the fewest changed pixels, so it leaves alone the parts of the face the edit
  does not need: an edit changes fewer pixels than with `latent`, and the independent evaluator
  reads less drift in the locked attributes (figures in docs/attributes.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional, Sequence

import numpy as np

from facepipe.attributes.classifier import scores as scores_of_raw
from facepipe.attributes.directions import Directions, orthogonal_to
from facepipe.attributes.vocabulary import AGE, OUTPUTS, check_targets
from facepipe.errors import ConfigError

__all__ = ["EditSettings", "EditResult", "walk", "walk_gradient", "edit", "latent_scorer", "UnreachableTarget", "WALKS"]

Scorer = Callable[[np.ndarray], np.ndarray]  # latents [N, D] -> guide scores [N, len(OUTPUTS)]
BISECTIONS = 6
WALKS = ("gradient", "linear")


class UnreachableTarget(ConfigError):
    """The guide score did not reach a target within the step bound."""


@dataclass(frozen=True)
class EditSettings:
    max_steps: int = 60
    step_size: float = 0.2
    tolerance: float = 0.15  # on probabilities; age uses tolerance * 50 years (0.15 -> 7.5 years)
    walk: str = "gradient"  # gradient (local, needs a differentiable generator) | linear (TL-GAN)
    metric: str = "image"  # gradient walk: steepest in image change (image) or in latent distance (latent)
    ridge: float = 1e-3  # image metric: + ridge x its mean eigenvalue, so latent-only moves are not free

    def tolerance_of(self, name: str) -> float:
        return self.tolerance * 50 if name == AGE else self.tolerance


@dataclass
class EditResult:
    """The edited latent(s), the guide's scores before and after, and the steps taken per target."""

    z: np.ndarray
    before: dict[str, np.ndarray]
    after: dict[str, np.ndarray]
    steps: dict[str, np.ndarray] = field(default_factory=dict)
    reached: dict[str, np.ndarray] = field(default_factory=dict)


def _column(name: str) -> int:
    return OUTPUTS.index(name)


def _bisect(
    start: np.ndarray, step: np.ndarray, d: np.ndarray, target: float, tol: float, col: int, score: Scorer
) -> np.ndarray:
    """Latents on `start + t * step * d`, t in (0, 1], as close to `target` as BISECTIONS halvings get:
    every row starts short of the target at t = 0 and past it at t = 1; all rows are halved together.
    `d` is one direction `[D]` for all rows or one per row `[N, D]`."""
    lo, hi = np.zeros(len(start)), np.ones(len(start))
    side = np.sign(step)
    for _ in range(BISECTIONS):
        mid = (lo + hi) / 2
        v = score(start + (mid * step)[:, None] * d)[:, col]
        within = np.abs(v - target) <= tol
        past = np.sign(v - target) == side
        hi = np.where(within | past, mid, hi)
        lo = np.where(within | ~past, mid, lo)  # a row within tolerance collapses onto its mid and stays
    return (start + (hi * step)[:, None] * d).astype(np.float32)


def _result(
    z: np.ndarray,
    current: np.ndarray,
    targets: Mapping[str, float],
    watched: list[str],
    before: dict[str, np.ndarray],
    steps: dict[str, np.ndarray],
    settings: EditSettings,
) -> EditResult:
    """Both walks' result; targets are judged at the end, since a later target may move an earlier one."""
    reached = {n: np.abs(current[:, _column(n)] - t) <= settings.tolerance_of(n) for n, t in targets.items()}
    after = {n: current[:, _column(n)].copy() for n in watched}
    return EditResult(z, before, after, steps, reached)


def walk(
    z: np.ndarray,
    targets: Mapping[str, float],
    lock: Sequence[str],
    directions: Directions,
    score: Scorer,
    settings: EditSettings = EditSettings(),
) -> EditResult:
    """Edit latents `[N, D]` towards `targets` with `lock` held; every row independently."""
    check_targets(dict(targets), list(lock))
    z = np.array(z, np.float32, copy=True)
    watched = sorted(set(targets) | set(lock))
    first = score(z)
    before = {n: first[:, _column(n)].copy() for n in watched}
    steps = {}
    current = first
    for name, target in targets.items():
        others = [directions[n] for n in (*lock, *targets) if n != name]
        d = orthogonal_to(directions[name], others)
        col, tol = _column(name), settings.tolerance_of(name)
        # Projection holds a locked attribute only as far as the scores are linear in the latent; a
        # long walk drifts. Each step also pulls every locked score back to its start, along that
        # attribute's own direction (made orthogonal to the edited one, so the pull never undoes it).
        holds = []
        for n in lock:
            c, v, k = _column(n), orthogonal_to(directions[n], [directions[name]]), directions.scale(n)
            if not (np.isfinite(k) and k > 0):  # a file without scales (TL-GAN's): measure the slope here
                k = float(np.mean(np.abs(score(z + v)[:, c] - current[:, c])))
            if k > 1e-3:
                holds.append((c, v, k))
        start = current[:, [c for c, _, _ in holds]] if holds else None
        value = current[:, col]
        sign = np.where(value < target, 1.0, -1.0).astype(np.float32)
        active = np.abs(value - target) > tol
        taken = np.zeros(len(z), np.int32)
        for _ in range(settings.max_steps):
            if not active.any():
                break
            idx = np.flatnonzero(active)
            prev = z[idx].copy()
            z[idx] += (sign[idx] * settings.step_size)[:, None] * d
            scores = score(z[idx])
            new = scores[:, col]
            taken[idx] += 1
            for j, (c, v, k) in enumerate(holds):  # the pull; its effect is scored at the next step
                pull = np.clip((start[idx, j] - scores[:, c]) / k, -settings.step_size, settings.step_size)
                z[idx] += pull[:, None].astype(np.float32) * v
            crossed = np.sign(new - target) == sign[idx]  # moved past the target
            done = np.abs(new - target) <= tol
            back = np.flatnonzero(crossed & ~done)  # bisect these rows' last step back onto the target
            if len(back):
                z[idx[back]] = _bisect(prev[back], sign[idx[back]] * settings.step_size, d, target, tol, col, score)
            active[idx[crossed | done]] = False
        current = score(z)
        steps[name] = taken
    return _result(z, current, targets, watched, before, steps, settings)


def _steepest(g: np.ndarray, held: np.ndarray, inverse: Optional[np.ndarray]) -> np.ndarray:
    """Per row, the steepest ascent direction `[N, D]` of a score with gradient `g` `[N, D]` that leaves
    the `held` gradients' scores `[N, K, D]` unchanged to first order, under the metric whose inverse
    is `inverse` `[N, D, D]` (None: the latent's own, Euclidean: `g` with the held span projected out).

    `M^-1 (g - H^T a)`, with `a = (H M^-1 H^T)^-1 H M^-1 g` chosen so that `H` times it is zero."""
    g = g.astype(np.float64)
    if held.shape[1] == 0:
        return _times_inverse(inverse, g)
    h, h_inv, gram = _held_in_metric(held, inverse)
    a = np.linalg.solve(gram, np.einsum("nke,ne->nk", h_inv, g)[..., None])[..., 0]
    return _times_inverse(inverse, g - np.einsum("nkd,nk->nd", h, a))


def _newton_pull(held: np.ndarray, error: np.ndarray, limit: float, inverse: Optional[np.ndarray]) -> np.ndarray:
    """The shortest move `[N, D]` under the metric (see `_steepest`) that changes the held raw scores
    by `error` `[N, K]` to first order (`M^-1 H^T (H M^-1 H^T)^-1 error`), no longer than `limit`."""
    if held.shape[1] == 0:
        return np.zeros((held.shape[0], held.shape[2]))
    _, h_inv, gram = _held_in_metric(held, inverse)
    move = np.einsum("nke,nk->ne", h_inv, np.linalg.solve(gram, error[..., None])[..., 0])
    norm = np.linalg.norm(move, axis=1, keepdims=True)
    return move * np.minimum(1.0, limit / np.maximum(norm, 1e-12))


def _times_inverse(inverse: Optional[np.ndarray], x: np.ndarray) -> np.ndarray:
    """`M^-1 x` per row (`x` `[N, D]`); None stands for the identity."""
    return x if inverse is None else np.einsum("nde,ne->nd", inverse, x)


def _held_in_metric(held: np.ndarray, inverse: Optional[np.ndarray]):
    """The held gradients `H` `[N, K, D]` as float64, `H M^-1` and the Gram matrix `H M^-1 H^T` (+ a tiny ridge)."""
    h = held.astype(np.float64)
    h_inv = h if inverse is None else np.einsum("nkd,nde->nke", h, inverse)  # M^-1 is symmetric
    gram = np.einsum("nke,nje->nkj", h_inv, h) + 1e-9 * np.eye(h.shape[1])
    return h, h_inv, gram


def walk_gradient(
    z: np.ndarray, targets: Mapping[str, float], lock: Sequence[str], guide, settings: EditSettings = EditSettings()
) -> EditResult:
    """Edit latents `[N, D]` towards `targets` with `lock` held, on the guide's local gradients.

    `guide` is a `GuideField` (scores and their latent gradients). For each target in turn, every
    other target and every locked attribute is held: their gradients are projected out of the step
    and their raw scores pulled back to where this target's walk began. One forward and backward
    pass per step: the pass that scores a step also gives the gradients for the next. With
    `settings.metric == "image"`, "steepest" and "shortest" are measured in image change (the guide
    must offer `image_metric_inverse`), computed once where each target's walk starts.
    """
    check_targets(dict(targets), list(lock))
    z = np.array(z, np.float32, copy=True)
    watched = sorted(set(targets) | set(lock))
    current = guide.scores(z)
    before = {n: current[:, _column(n)].copy() for n in watched}
    steps = {}
    for name, target in targets.items():
        col, tol = _column(name), settings.tolerance_of(name)
        held = [_column(n) for n in (*lock, *targets) if n != name]
        taken = np.zeros(len(z), np.int32)
        raw, jacobian = guide.raw_and_jacobian(z, [col, *held])
        start = raw[:, held]
        value = scores_of_raw(raw)[:, col]
        sign = np.where(value < target, 1.0, -1.0)
        idx = np.flatnonzero(np.abs(value - target) > tol)
        raw, jacobian = raw[idx], jacobian[idx]
        # the metric where this target's walk starts; it changes little over a walk of a few units
        inverse = guide.image_metric_inverse(z[idx], settings.ridge) if settings.metric == "image" else None
        for _ in range(settings.max_steps):
            g = _steepest(jacobian[:, 0], jacobian[:, 1:], inverse)
            norm = np.linalg.norm(g, axis=1)
            moving = norm >= 1e-9  # else the target's gradient lies in the held span: no move can help
            idx, raw, jacobian, g, norm = idx[moving], raw[moving], jacobian[moving], g[moving], norm[moving]
            inverse = None if inverse is None else inverse[moving]
            if not len(idx):
                break
            prev = z[idx].copy()
            move = (sign[idx] * settings.step_size)[:, None] * g / norm[:, None]
            move += _newton_pull(jacobian[:, 1:], start[idx] - raw[:, held], settings.step_size, inverse)
            z[idx] = (prev + move).astype(np.float32)
            taken[idx] += 1
            raw, jacobian = guide.raw_and_jacobian(z[idx], [col, *held])
            new = scores_of_raw(raw)[:, col]
            crossed = np.sign(new - target) == sign[idx]
            done = np.abs(new - target) <= tol
            back = np.flatnonzero(crossed & ~done)
            if len(back):  # bisect these rows' last move back onto the target
                side = sign[idx[back]]  # _bisect reads the walk's side from the sign of its step
                z[idx[back]] = _bisect(prev[back], side, move[back] * side[:, None], target, tol, col, guide.scores)
            keep = ~(crossed | done)
            idx, raw, jacobian = idx[keep], raw[keep], jacobian[keep]
            inverse = None if inverse is None else inverse[keep]
        steps[name] = taken
        current = guide.scores(z)
    return _result(z, current, targets, watched, before, steps, settings)


def edit(
    z: np.ndarray,
    targets: Mapping[str, float],
    lock: Sequence[str],
    directions: Directions,
    score: Scorer,
    settings: EditSettings = EditSettings(),
) -> EditResult:
    """Edit one latent `[D]`; raises `UnreachableTarget` naming the target the guide could not reach.

    With `settings.walk == "gradient"`, `score` must be a `GuideField` (`directions` then only names
    what can be edited); with "linear", any scorer."""
    if settings.walk == "gradient":
        result = walk_gradient(np.asarray(z)[None], targets, lock, score, settings)
    else:
        result = walk(np.asarray(z)[None], targets, lock, directions, score, settings)
    for name, target in targets.items():
        if not result.reached[name][0]:
            got = float(result.after[name][0])
            raise UnreachableTarget(
                f"attributes.targets.{name}={target:g} not reached within {settings.max_steps} steps of "
                f"{settings.step_size:g} (guide score {got:.2f}); valid: a target nearer {got:.2f}, another seed, "
                "or a larger directions.max_steps"
            )
    result.z = result.z[0]
    return result


def latent_scorer(generator, classifier, batch: int = 256) -> Scorer:
    """Latents -> the classifier's scores of the generated faces."""

    def score(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, np.float32)
        return np.concatenate([classifier(generator.synthesize(z[i : i + batch])) for i in range(0, len(z), batch)])

    return score
