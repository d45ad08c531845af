"""The training schedule: how many steps, the learning rate along the run, the time
budget's clock, and the CPU thread count."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from qa.train.config import ScheduleConfig


@dataclass(frozen=True)
class Plan:
    """Steps of one epoch, of the whole run, and of its warmup."""

    per_epoch: int
    total: int
    warm: int


def plan(n_features: int, schedule: ScheduleConfig) -> Plan:
    """The run's steps: ``epochs`` of batches, at most ``max_steps``."""
    per_epoch = math.ceil(n_features / schedule.batch_size)
    total = max(1, round(schedule.epochs * per_epoch))
    if schedule.max_steps is not None:
        total = min(total, schedule.max_steps)
    return Plan(per_epoch, total, max(1, int(schedule.warmup * total)))


def progress(step: int, elapsed: float, total: int, time_budget_s: float | None) -> float:
    """The share of the run done: of its steps, or of its time budget if further along."""
    frac = step / total
    if time_budget_s:
        frac = max(frac, elapsed / time_budget_s)
    return frac


def lr_scale(step: int, done: float, plan: Plan) -> float:
    """The learning rate's multiplier at ``step`` with ``done`` = ``progress(...)``.

    Warmup and decay both follow ``done``, so a time-budgeted run warms up over the same
    share of its budget however fast the steps turn out to be.
    """
    w = plan.warm / plan.total
    p = max(done, (step + 1) / plan.total)
    # a one-step run is all warmup (w == 1): it runs at the full rate
    decay = 1.0 if w >= 1.0 else max(0.0, (1.0 - done) / (1.0 - w))
    f = p / w if p < w else decay
    return min(1.0, f)


def counted_seconds(dt: float, recent: Sequence[float]) -> float:
    """The seconds a step counts towards the time budget: at most 5× the recent typical
    step, so a run that was suspended (Ctrl-Z, SIGSTOP) keeps its schedule."""
    typical = statistics.median(recent) if len(recent) >= 5 else dt
    return min(dt, 5 * typical)


class ThreadTuner:
    """Pick the CPU thread count by measurement, re-checked every ``cycle`` steps.

    On a shared machine two spinning threads can lose to one when another process
    holds a core; each cycle times ``probe`` steps per choice, then keeps the fastest.
    """

    def __init__(self, max_threads: int, cycle: int = 150, probe: int = 6) -> None:
        self.choices = sorted({1, max(1, max_threads)})
        self.cycle, self.probe = cycle, probe
        self.cost: dict[int, list[float]] = {}
        self.best = self.choices[-1]

    def _probe_choice(self, step: int) -> int | None:
        pos = step % self.cycle
        k = pos // self.probe
        return self.choices[k] if k < len(self.choices) and len(self.choices) > 1 else None

    def before(self, step: int) -> None:
        """Set the thread count for ``step``: a choice under probe, else the best."""
        import torch

        c = self._probe_choice(step)
        if step % self.cycle == 0:
            self.cost = {}
        th = c if c is not None else self.best
        if torch.get_num_threads() != th:
            torch.set_num_threads(th)

    def after(self, step: int, seconds: float, tokens: int) -> None:
        """Record ``step``'s time per token; at the end of a probe, keep the fastest."""
        c = self._probe_choice(step)
        if c is None:
            return
        if step % self.probe:  # the first step after a switch warms the pool up
            self.cost.setdefault(c, []).append(seconds / max(1, tokens))
        if (step % self.cycle) == self.probe * len(self.choices) - 1 and self.cost:
            self.best = min(self.cost, key=lambda t: sum(self.cost[t]) / len(self.cost[t]))
