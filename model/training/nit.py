"""Noise invariant training (CLIPSep's NIT) adapted to CLAPSep, as a wrapper around the model.

Each training mixture is target + interferer, both real recordings that may carry
sound neither caption mentions. Besides the two query estimates (the target's
condition, and the interferer's: the same condition with its sides swapped), two
query-conditioned noise heads propose conditions for that off-query sound:

    noise_k = normalize(Linear_k(concat(mean over tokens of the deepest encoder features,
                                        target condition)))

and are decoded by the same decoder. A source's mask is min(1, M_query + M_noise_k);
with two sources and two heads there are two arrangements, and each item takes the
smaller of the two mean losses. A regulariser 0.1 * relu(mean(M_noise_0 + M_noise_1) -
0.25) keeps the heads from explaining everything. At inference the heads are dropped;
`model.noise.OffQueryNoise` keeps them usable (and exportable) as "what the model heard as noise".
"""

import torch
import torch.nn.functional as F
from torch import nn

from clapsep.model.noise import NoiseHeads
from clapsep.model.separator import CLAPSep
from clapsep.model.training.losses import separation_loss
from clapsep.model.training.queries import QueryBuilder


def swap_sides(condition: torch.Tensor) -> torch.Tensor:
    """The condition that asks for the other side: concat(e_neg, e_pos) (still unit norm)."""
    pos, neg = condition.chunk(2, dim=-1)
    return torch.cat([neg, pos], dim=-1)


class NITObjective(nn.Module):
    def __init__(
        self,
        model: CLAPSep,
        queries: QueryBuilder,
        heads: NoiseHeads,
        activity: float = 0.25,
        weight: float = 0.1,
    ) -> None:
        super().__init__()
        if len(heads.proj) != 2:
            raise ValueError("NIT with two sources uses exactly two noise heads")
        self.model, self.queries, self.heads = model, queries, heads
        self.activity, self.weight = activity, weight

    def forward(
        self, batch: dict, generator: torch.Generator
    ) -> tuple[torch.Tensor, dict[str, float]]:
        target_condition = self.queries.condition(batch, generator)
        encoded = self.model.encode(batch["mixture"])
        noise_conditions = self.heads(encoded.features[-1], target_condition)
        conditions = torch.cat([target_condition, swap_sides(target_condition), *noise_conditions])
        q_target, q_other, n0, n1 = self.model.decode_mask(encoded.repeat(4), conditions).chunk(4)

        def arrangement(noise_t: torch.Tensor, noise_o: torch.Tensor) -> torch.Tensor:
            masks = torch.cat(
                [torch.clamp(q_target + noise_t, max=1.0), torch.clamp(q_other + noise_o, max=1.0)]
            )
            est_t, est_o = self.model.synthesize(encoded.repeat(2), masks).chunk(2)
            return 0.5 * (
                separation_loss(est_t, batch["target"]) + separation_loss(est_o, batch["noise"])
            )

        separation = torch.minimum(arrangement(n0, n1), arrangement(n1, n0)).mean()
        activity = (n0.float() + n1.float()).mean()
        loss = separation + self.weight * F.relu(activity - self.activity)
        return loss, {"loss_sup": separation.item(), "noise_activity": activity.item()}
