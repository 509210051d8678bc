"""The CLAPSep mask decoder: a FiLM-conditioned Swin U-Net decoder and a transformer masker.

Follows the published `HTSAT_Decoder` (config `CLAPSep_base`): stages are built
shallow->deep and reversed, so index 0 is the deepest; each stage expands patches
*before* its Swin block; skips are FiLM-modulated projections of the encoder grids.
Key names match the released checkpoint's `decoder_model.*`.
"""

import torch
from torch import nn

from clapsep.model._laion import SwinTransformerBlock
from clapsep.model.configs import DecoderConfig, HTSATConfig


class FiLM(nn.Module):
    """Feature-wise affine modulation `gamma(c) * h + beta(c)`, broadcast over tokens."""

    def __init__(self, condition_dim: int, channels: int) -> None:
        super().__init__()
        self.beta = nn.Linear(condition_dim, channels)
        self.gamma = nn.Linear(condition_dim, channels)

    def forward(self, h: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        c = condition[:, None, :]
        return self.gamma(c) * h + self.beta(c)


class SkipTrans(nn.Module):
    """Project an encoder grid, FiLM it with the condition, add the decoder state, normalise."""

    def __init__(self, in_features: int, out_features: int, condition_dim: int) -> None:
        super().__init__()
        self.skip_conv = FiLM(condition_dim, out_features)
        self.feature_proj = nn.Linear(in_features, out_features)
        self.norm = nn.LayerNorm(out_features)

    def forward(
        self, skip: torch.Tensor, condition: torch.Tensor, h: torch.Tensor | None = None
    ) -> torch.Tensor:
        out = self.skip_conv(self.feature_proj(skip), condition)
        return self.norm(out if h is None else out + h)


class PatchExpand(nn.Module):
    """Doubles the grid and halves the width: the exact inverse of HTS-AT's PatchMerging.

    PatchMerging concatenates the 2x2 sub-grids as [x0, x1, x2, x3] = [(0,0), (1,0),
    (0,1), (1,1)] (row, column offsets); channel group g therefore goes back to row
    g % 2, column g // 2.
    """

    def __init__(self, resolution: tuple[int, int], dim: int) -> None:
        super().__init__()
        self.resolution = resolution
        self.expand = nn.Linear(dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(dim // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = self.resolution
        x = self.expand(x)
        batch, _, channels = x.shape
        quarter = channels // 4
        x = x.view(batch, height, width, 2, 2, quarter)  # [.., column, row, c]
        x = x.permute(0, 1, 4, 2, 3, 5).reshape(batch, 4 * height * width, quarter)
        return self.norm(x)


class DecoderStage(nn.Module):
    """PatchExpand (except at the deepest stage), then Swin blocks without shift."""

    def __init__(
        self,
        dim: int,
        resolution: tuple[int, int],
        depth: int,
        heads: int,
        cfg: DecoderConfig,
        drop_path: float,
        expand: bool,
    ) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            SwinTransformerBlock(
                dim=dim,
                input_resolution=resolution,
                num_heads=heads,
                window_size=cfg.window_size,
                shift_size=0 if i % 2 == 0 else cfg.window_size // 2,
                mlp_ratio=cfg.mlp_ratio,
                drop_path=drop_path,
            )
            for i in range(depth)
        )
        half = (resolution[0] // 2, resolution[1] // 2)
        self.downsample = PatchExpand(half, dim * 2) if expand else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.downsample is not None:
            x = self.downsample(x)
        for block in self.blocks:
            x, _ = block(x)
        return x


class InversePatchEmbed(nn.Module):
    """LayerNorm, then a transposed convolution from tokens back to the 256x256 image."""

    def __init__(self, grid: tuple[int, int], embed_dim: int, patch: int) -> None:
        super().__init__()
        self.grid = grid
        self.norm = nn.LayerNorm(embed_dim)
        self.proj = nn.ConvTranspose2d(embed_dim, 1, kernel_size=patch, stride=patch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(x).transpose(1, 2).unflatten(2, self.grid)
        return self.proj(x)


class MaskDecoder(nn.Module):
    """Features + condition + mixture magnitude -> sigmoid magnitude mask [B, frames, bins]."""

    def __init__(
        self, dec: DecoderConfig, enc: HTSATConfig, condition_dim: int, n_bins: int
    ) -> None:
        super().__init__()
        self.spec_size, self.mel_bins = enc.spec_size, enc.mel_bins
        self.freq_ratio = enc.spec_size // enc.mel_bins
        grid = (enc.spec_size // enc.patch_size,) * 2
        n = len(dec.depths)
        rates = torch.linspace(0, dec.drop_path_rate, sum(dec.depths)).tolist()
        layers, skips = [], []
        for i in range(n):
            dim = dec.embed_dim * 2**i
            resolution = (grid[0] // 2**i, grid[1] // 2**i)
            layers.append(
                DecoderStage(
                    dim,
                    resolution,
                    dec.depths[i],
                    dec.num_heads[i],
                    dec,
                    rates[sum(dec.depths[:i])],
                    expand=i < n - 1,
                )
            )
            skips.append(SkipTrans(enc.embed_dim * 2**i, dim, condition_dim))
        self.layers = nn.ModuleList(layers[::-1])
        self.skip = nn.ModuleList(skips[::-1])
        deepest = dec.embed_dim * 2 ** (n - 1)
        self.film = SkipTrans(enc.embed_dim * 2 ** (n - 1), deepest, condition_dim)
        self.inverse_patch_embed = InversePatchEmbed(grid, dec.embed_dim, enc.patch_size)
        self.spec_norm = nn.BatchNorm1d(n_bins, momentum=0.01)
        masker = nn.TransformerEncoderLayer(
            d_model=dec.d_attn,
            nhead=dec.masker_heads,
            dim_feedforward=int(dec.d_attn * dec.mlp_ratio),
            dropout=0.0,
            batch_first=True,
        )
        self.mask_net = nn.Sequential(
            nn.Linear(enc.mel_bins + n_bins, dec.d_attn),
            nn.LayerNorm(dec.d_attn),
            nn.TransformerEncoder(
                masker, num_layers=dec.n_masker_layer, enable_nested_tensor=False
            ),
            nn.Linear(dec.d_attn, n_bins),
        )
        self.apply(_init_weights)

    def img_to_frames(self, x: torch.Tensor) -> torch.Tensor:
        """Inverse of HTS-AT's `reshape_wav2img`: [B, 1, 256, 256] -> [B, 1024, mels]."""
        batch = x.shape[0]
        x = x.reshape(batch, self.freq_ratio, self.spec_size // self.freq_ratio, self.spec_size)
        x = x.permute(0, 2, 1, 3).reshape(batch, self.mel_bins, -1)
        return x.transpose(1, 2)

    def forward(
        self, features: tuple[torch.Tensor, ...], magnitude: torch.Tensor, condition: torch.Tensor
    ) -> torch.Tensor:
        *skips, deepest = features  # patch_embed, stage0..2 | stage3
        h = self.film(deepest, condition)
        for layer, skip, feature in zip(self.layers, self.skip, reversed(skips), strict=True):
            h = skip(feature, condition, layer(h))
        frames = magnitude.shape[-1]
        h = self.img_to_frames(self.inverse_patch_embed(h))[:, :frames, :]
        spec = self.spec_norm(magnitude).transpose(1, 2)  # [B, frames, bins]
        return torch.sigmoid(self.mask_net(torch.cat([spec, h], dim=-1)))


def _init_weights(m: nn.Module) -> None:
    if isinstance(m, nn.Linear):
        nn.init.trunc_normal_(m.weight, std=0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)
