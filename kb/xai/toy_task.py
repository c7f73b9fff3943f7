"""The ground-truth task: a grid of coloured cells and a question that names one cell.

The answer is the colour of the named cell, so the deciding evidence is known by construction: one
image patch (the named cell) and one text token (the cell's name). Other cells may share the answer's
colour on purpose: a method that finds "red things" rather than "the red thing that was asked about"
is caught by the pointing game.
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
NOISE = 0.08
# Pixels are centred on grey, so the occlusion fill (0) is a colour the model never saw as an answer.
OCCLUSION_FILL = 0.0

PAD, BOS, IMAGE, COLOUR_WORD, OF_WORD, CELL_WORD, QUESTION_MARK, MASK = range(8)
FIRST_CELL = 8
FIRST_ANSWER = FIRST_CELL + GRID * GRID
VOCAB_SIZE = FIRST_ANSWER + len(PALETTE)
# The cell name comes last, where the answer is read: one attention hop from it to its patch solves the task.
TEXT_AFTER_IMAGE = 3  # "colour cell <k>"
IMAGE_TOKENS = GRID * GRID
SEQUENCE = 1 + IMAGE_TOKENS + TEXT_AFTER_IMAGE
CHANCE = 1.0 / len(PALETTE)

WORDS = {PAD: "<pad>", BOS: "<s>", IMAGE: "<image>", COLOUR_WORD: "colour", OF_WORD: "of", CELL_WORD: "cell", QUESTION_MARK: "?", MASK: "_"}


def token_text(token: int) -> str:
    if token in WORDS:
        return WORDS[token]
    if FIRST_CELL <= token < FIRST_ANSWER:
        return f"c{token - FIRST_CELL}"
    if FIRST_ANSWER <= token < VOCAB_SIZE:
        return PALETTE[token - FIRST_ANSWER][0]
    return f"<{token}>"


@dataclass(frozen=True)
class Batch:
    """Model inputs plus the ground truth: `cell` is the evidence patch, `answer` the correct token."""

    input_ids: torch.Tensor  # (B, SEQUENCE)
    pixel_values: torch.Tensor  # (B, 3, IMAGE_PIXELS, IMAGE_PIXELS)
    colours: torch.Tensor  # (B, GRID * GRID) palette index of each cell
    cell: torch.Tensor  # (B,) index of the named cell, row-major
    answer: torch.Tensor  # (B,) answer token id

    def __len__(self) -> int:
        return int(self.cell.shape[0])

    def inputs(self) -> dict[str, torch.Tensor]:
        return {"input_ids": self.input_ids, "pixel_values": self.pixel_values}

    def item(self, index: int) -> Batch:
        pick = slice(index, index + 1)
        return Batch(self.input_ids[pick], self.pixel_values[pick], self.colours[pick], self.cell[pick], self.answer[pick])

    @property
    def cell_token_position(self) -> int:
        """Where the deciding text token (the cell's name) sits in the sequence."""
        return SEQUENCE - 1


def render(colours: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Images (B, 3, H, W) for palette indices (B, GRID*GRID), with pixel noise so cells are not one value."""
    palette = torch.tensor([rgb for _, rgb in PALETTE])
    cells = palette[colours].view(-1, GRID, GRID, 3).permute(0, 3, 1, 2)
    image = cells.repeat_interleave(CELL_PIXELS, dim=2).repeat_interleave(CELL_PIXELS, dim=3) - 0.5
    return image + NOISE * torch.randn(image.shape, generator=generator)


def sample(n: int, seed: int) -> Batch:
    generator = torch.Generator().manual_seed(seed)
    colours = torch.randint(len(PALETTE), (n, GRID * GRID), generator=generator)
    cell = torch.randint(GRID * GRID, (n,), generator=generator)
    ids = torch.empty(n, SEQUENCE, dtype=torch.long)
    ids[:, 0] = BOS
    ids[:, 1 : 1 + IMAGE_TOKENS] = IMAGE
    ids[:, 1 + IMAGE_TOKENS :] = torch.tensor([COLOUR_WORD, CELL_WORD, 0])
    ids[:, -1] = FIRST_CELL + cell
    answer = FIRST_ANSWER + colours.gather(1, cell[:, None]).squeeze(1)
    return Batch(ids, render(colours, generator), colours, cell, answer)


def occlude_cells(pixel_values: torch.Tensor, cells: torch.Tensor) -> torch.Tensor:
    """A copy with the given cell of each image (B,) set to the occlusion fill."""
    out = pixel_values.clone()
    for row, cell in enumerate(cells.tolist()):
        r, c = divmod(cell, GRID)
        out[row, :, r * CELL_PIXELS : (r + 1) * CELL_PIXELS, c * CELL_PIXELS : (c + 1) * CELL_PIXELS] = OCCLUSION_FILL
    return out
