"""Properties of the methods that can fail, checked on the trained toy model."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")

from kb.errors import KbError  # noqa: E402
from kb.xai import toy_task  # noqa: E402
from kb.xai.attention import AttentionRollout, attention_maps, rollout  # noqa: E402
from kb.xai.gradients import IntegratedGradients, removed_inputs  # noqa: E402
from kb.xai.lens import TunedLens  # noqa: E402
from kb.xai.neurons import ModalityNeurons  # noqa: E402
from kb.xai.perturbation import Occlusion, probabilities  # noqa: E402
from kb.xai.shapley import MMSHAP  # noqa: E402


@pytest.fixture(scope="module")
def example() -> toy_task.Batch:
    return toy_task.sample(1, seed=31)


def test_integrated_gradients_are_complete(toy: Any, example: toy_task.Batch) -> None:
    model, adapter = toy
    target = int(example.answer)
    explanation = IntegratedGradients(steps=64).explain(adapter, example.inputs(), target)
    with torch.no_grad():
        full = adapter.logits(example.inputs())[0, target]
        empty = adapter.logits(removed_inputs(adapter, example.inputs()))[0, target]
    # Completeness: the attributions (image, text and BOS) add up to the logit's change along the path.
    assert float(explanation.extras["completeness"]) == pytest.approx(float(full - empty), rel=0.05, abs=0.1)


def test_rollout_rows_are_distributions(toy: Any, example: toy_task.Batch) -> None:
    _, adapter = toy
    flow = rollout(attention_maps(adapter, example.inputs()))
    assert torch.allclose(flow.sum(-1), torch.ones(flow.shape[0]), atol=1e-4)
    explanation = AttentionRollout().explain(adapter, example.inputs())
    assert float(explanation.image.sum() + explanation.text.sum()) < 1.0 + 1e-4


def test_occlusion_scores_are_probability_drops(toy: Any, example: toy_task.Batch) -> None:
    _, adapter = toy
    target, cell = int(example.answer), int(example.cell)
    explanation = Occlusion().explain(adapter, example.inputs(), target)
    covered = toy_task.occlude_cells(example.pixel_values, example.cell)
    base = probabilities(adapter, example.inputs(), target)[0]
    dropped = probabilities(adapter, {"input_ids": example.input_ids, "pixel_values": covered}, target)[0]
    assert float(explanation.image_flat[cell]) == pytest.approx(float(base - dropped), abs=1e-5)
    assert int(explanation.image_flat.argmax()) == cell


def test_mm_shap_values_add_up(toy: Any, example: toy_task.Batch) -> None:
    _, adapter = toy
    target = int(example.answer)
    method = MMSHAP(permutations=4)
    explanation = method.explain(adapter, example.inputs(), target)
    n_image, n_text = toy_task.IMAGE_TOKENS, len(explanation.text)
    full = method._values(adapter, example.inputs(), torch.ones(1, n_image, dtype=torch.bool), torch.ones(1, n_text, dtype=torch.bool), target)
    none = method._values(adapter, example.inputs(), torch.zeros(1, n_image, dtype=torch.bool), torch.zeros(1, n_text, dtype=torch.bool), target)
    total = explanation.image.sum() + explanation.text.sum()
    assert float(total) == pytest.approx(float(full - none), abs=1e-3)  # efficiency holds for every permutation
    assert 0.0 < explanation.extras["image_share"] < 1.0
    assert explanation.image_share() == pytest.approx(explanation.extras["image_share"])


def test_tuned_lens_must_be_fitted(toy: Any, example: toy_task.Batch) -> None:
    _, adapter = toy
    with pytest.raises(KbError, match="fitted"):
        TunedLens().explain(adapter, example.inputs())


def test_mined_image_neurons_fire_on_image_tokens(toy: Any) -> None:
    model, adapter = toy
    batch = toy_task.sample(32, seed=5)
    neurons = ModalityNeurons(fraction=0.05).mine(adapter, batch.inputs())
    assert sum(int(s.sum()) for s in neurons.selected) == round(0.05 * sum(s.numel() for s in neurons.selected))
    explanation = neurons.explain(adapter, batch.item(0).inputs())
    assert float(explanation.image.mean()) > float(explanation.text.mean())
    with neurons.ablated(adapter):
        changed = adapter.logits(batch.inputs())
    assert not torch.allclose(changed, adapter.logits(batch.inputs()))
