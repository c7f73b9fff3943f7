"""The ground-truth task: a grid of coloured cells and a question that names one cell.

The answer is the colour of the named cell, so the deciding evidence is known by construction: one
image cell (the named one) and one text token (the cell's name). Three choices keep the benchmark from
grading itself:

- Removal is neutral. In training, cells are blanked at random (a flat grey fill, or pixel noise) and a
  question about a blanked cell is answered "unknown": removing the evidence moves the model to
  "unknown", not to a colour tied to the cell's index.
- The deletion / insertion metric removes cells with fresh pixel noise, a fill no method uses (the
  methods remove with the flat fill, `OCCLUSION_FILL`); the model has learnt both as "absent".
- The cell's name is not at the readout position: the prompt is "cell <k> colour ?", the answer is read
  at "?", so text scores at the name are neither structurally zero nor self-influence.

Other cells may share the answer's colour on purpose: a method that finds "red things" rather than "the
red thing that was asked about" is caught by the pointing game.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

PALETTE: tuple[tuple[str, tuple[float, float, float]], ...] = (
    ("red", (1.0, 0.0, 0.0)),
    ("green", (0.0, 1.0, 0.0)),
    ("blue", (0.0, 0.0, 1.0)),
    ("yellow", (1.0, 1.0, 0.0)),
)
GRID = 4
CELL_PIXELS = 8
IMAGE_PIXELS = GRID * CELL_PIXELS
NOISE = 0.08  # pixel noise on every cell, so a cell is never one value
# Pixels are centred on grey: the flat fill 0 is a colour the model never saw as an answer.
OCCLUSION_FILL = 0.0
BLANK_RATE = 0.25  # share of cells blanked in training
NOISE_FILL_STD = 0.5  # the other kind of blank: pixel noise (and the deletion metric's fill)

PAD, BOS, IMAGE, COLOUR_WORD, CELL_WORD, QUESTION_MARK, MASK = range(7)
FIRST_CELL = 7
FIRST_ANSWER = FIRST_CELL + GRID * GRID
UNKNOWN = FIRST_ANSWER + len(PALETTE)
VOCAB_SIZE = UNKNOWN + 1
IMAGE_TOKENS = GRID * GRID
PROMPT = 4  # "cell <k> colour ?"
SEQUENCE = 1 + IMAGE_TOKENS + PROMPT
CELL_NAME_POSITION = 1 + IMAGE_TOKENS + 1  # the text evidence, two tokens before the readout
CHANCE = 1.0 / len(PALETTE)

WORDS = {
    PAD: "<pad>",
    BOS: "<s>",
    IMAGE: "<image>",
    COLOUR_WORD: "colour",
    CELL_WORD: "cell",
    QUESTION_MARK: "?",
    MASK: "_",
    UNKNOWN: "unknown",
}


def token_text(token: int) -> str:
    if token in WORDS:
        return WORDS[token]
    if FIRST_CELL <= token < FIRST_ANSWER:
        return f"c{token - FIRST_CELL}"
    if FIRST_ANSWER <= token < UNKNOWN:
        return PALETTE[token - FIRST_ANSWER][0]
    return f"<{token}>"


@dataclass(frozen=True)
class Batch:
    """Model inputs plus the ground truth: `cell` is the evidence cell, `answer` the correct token."""

    input_ids: torch.Tensor  # (B, SEQUENCE)
    pixel_values: torch.Tensor  # (B, 3, IMAGE_PIXELS, IMAGE_PIXELS)
    colours: torch.Tensor  # (B, GRID * GRID) palette index of each cell, -1 where blanked
    cell: torch.Tensor  # (B,) index of the named cell, row-major
    answer: torch.Tensor  # (B,) answer token id

    def __len__(self) -> int:
        return int(self.cell.shape[0])

    def item(self, index: int) -> Batch:
        pick = slice(index, index + 1)
        return Batch(
            self.input_ids[pick], self.pixel_values[pick], self.colours[pick], self.cell[pick], self.answer[pick]
        )


def render(colours: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Images (B, 3, H, W) for palette indices (B, GRID*GRID); -1 is a flat blank, -2 a noise blank."""
    palette = torch.tensor([rgb for _, rgb in PALETTE] + [(0.5, 0.5, 0.5)])
    cells = palette[colours.clamp(min=-1)].view(-1, GRID, GRID, 3).permute(0, 3, 1, 2)
    image = cells.repeat_interleave(CELL_PIXELS, dim=2).repeat_interleave(CELL_PIXELS, dim=3) - 0.5
    image = image + NOISE * torch.randn(image.shape, generator=generator)
    noisy = (colours == -2).view(-1, 1, GRID, GRID).repeat_interleave(CELL_PIXELS, 2).repeat_interleave(CELL_PIXELS, 3)
    noise = NOISE_FILL_STD * torch.randn(image.shape, generator=generator)
    return torch.where(noisy.expand_as(image), noise, image)


def sample(n: int, seed: int, *, blanks: bool = False) -> Batch:
    """n examples; with `blanks` (training), cells are blanked at BLANK_RATE and the named cell may be one of them."""
    generator = torch.Generator().manual_seed(seed)
    colours = torch.randint(len(PALETTE), (n, GRID * GRID), generator=generator)
    if blanks:
        blank = torch.rand(n, GRID * GRID, generator=generator) < BLANK_RATE
        kind = torch.where(torch.rand(n, GRID * GRID, generator=generator) < 0.5, -1, -2)
        colours = torch.where(blank, kind, colours)
    cell = torch.randint(GRID * GRID, (n,), generator=generator)
    ids = torch.empty(n, SEQUENCE, dtype=torch.long)
    ids[:, 0] = BOS
    ids[:, 1 : 1 + IMAGE_TOKENS] = IMAGE
    ids[:, 1 + IMAGE_TOKENS :] = torch.tensor([CELL_WORD, 0, COLOUR_WORD, QUESTION_MARK])
    ids[:, CELL_NAME_POSITION] = FIRST_CELL + cell
    named = colours.gather(1, cell[:, None]).squeeze(1)
    answer = torch.where(named >= 0, FIRST_ANSWER + named.clamp(min=0), torch.full_like(named, UNKNOWN))
    return Batch(ids, render(colours, generator), colours, cell, answer)


def cell_mask(cells: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) True on the pixels of each example's given cell."""
    mask = torch.zeros(len(cells), 1, IMAGE_PIXELS, IMAGE_PIXELS, dtype=torch.bool)
    for row, cell in enumerate(cells.tolist()):
        r, c = divmod(cell, GRID)
        mask[row, :, r * CELL_PIXELS : (r + 1) * CELL_PIXELS, c * CELL_PIXELS : (c + 1) * CELL_PIXELS] = True
    return mask


def occlude_cells(
    pixel_values: torch.Tensor, cells: torch.Tensor, *, noise: torch.Generator | None = None
) -> torch.Tensor:
    """A copy with each image's given cell blanked: the flat fill, or pixel noise when a generator is given."""
    mask = cell_mask(cells).expand_as(pixel_values)
    fill = (
        torch.full_like(pixel_values, OCCLUSION_FILL)
        if noise is None
        else NOISE_FILL_STD * torch.randn(pixel_values.shape, generator=noise)
    )
    return torch.where(mask, fill, pixel_values)
