"""The plain supervised objective and the semi-supervised blend; each is a module so DDP can
wrap it.

An objective's `forward(batch, generator)` returns (loss, logs): the loss to minimise and
a dict of floats for the metrics log. The generator carries all of the step's query
randomness, so a resumed run repeats it exactly.
"""

import torch
from torch import nn

from clapsep.model.separator import CLAPSep
from clapsep.model.training.losses import separation_loss
from clapsep.model.training.queries import QueryBuilder


class PlainObjective(nn.Module):
    """The published recipe: one query-conditioned estimate of the target per mixture."""

    def __init__(self, model: CLAPSep, queries: QueryBuilder) -> None:
        super().__init__()
        self.model, self.queries = model, queries

    def forward(
        self, batch: dict, generator: torch.Generator
    ) -> tuple[torch.Tensor, dict[str, float]]:
        condition = self.queries.condition(batch, generator)
        loss = separation_loss(self.model(batch["mixture"], condition), batch["target"]).mean()
        return loss, {"loss_sup": loss.item()}


class SemiObjective(nn.Module):
    """`w_sup * L_supervised + w_weak * L_weak` on one supervised and one weak batch per step."""

    def __init__(
        self, supervised: nn.Module, weak: nn.Module, weights: tuple[float, float] = (1.0, 1.0)
    ) -> None:
        super().__init__()
        self.supervised, self.weak, self.weights = supervised, weak, weights

    def forward(
        self, batch: dict, generator: torch.Generator
    ) -> tuple[torch.Tensor, dict[str, float]]:
        sup, sup_logs = self.supervised(batch["supervised"], generator)
        weak, weak_logs = self.weak(batch["weak"], generator)
        return self.weights[0] * sup + self.weights[1] * weak, {**sup_logs, **weak_logs}
