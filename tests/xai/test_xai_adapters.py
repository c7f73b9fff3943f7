"""Adapters on tiny random LLaVA and Qwen2-VL models built offline from configs: every method runs, shapes hold,
and no hook outlives a method, even one that fails half way."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from kb.xai import hooks  # noqa: E402
from kb.xai.adapters import FAMILIES, UnsupportedModel, for_model  # noqa: E402
from kb.xai.benchmark import methods  # noqa: E402

from .conftest import example  # noqa: E402

CHEAP = {"rise": {"masks": 16}, "mm_shap": {"permutations": 2}, "causal_tracing": {"samples": 1},
         "integrated_gradients": {"steps": 4}, "region_search": {"regions": 4}}


@pytest.fixture(scope="module", params=[("llava", (32, 32)), ("llava_next", (16, 32)), ("qwen2_vl", (16, 32)), ("qwen2_5_vl", (16, 32))],
                ids=lambda p: p[0])
def family(request: pytest.FixtureRequest, torch_threads: None) -> tuple[Any, Any, dict[str, Any]]:
    model, adapter, inputs, _ = example(*request.param)
    # transformers installs its own output-recording hooks on the first call that asks for outputs;
    # they stay for the model's life, so counts are taken after one such call.
    with torch.no_grad():
        adapter.run(inputs, output_attentions=True, output_hidden_states=True)
    return model, adapter, inputs


def test_adapter_chosen_by_model_class(family: Any) -> None:
    model, adapter, _ = family
    assert type(adapter) is FAMILIES[type(model).__name__]
    with pytest.raises(UnsupportedModel, match="supported: LlavaForConditionalGeneration"):
        for_model(torch.nn.Linear(2, 2))


def test_every_method_returns_the_shape_contract(family: Any) -> None:
    model, adapter, inputs = family
    rows, cols = adapter.grid(inputs)
    assert rows * cols == len(adapter.image_positions(inputs))
    before = hooks.live_hooks(model)
    for method in methods():
        for key, value in CHEAP.get(method.name, {}).items():
            setattr(method, key, value)
        if hasattr(method, "fit"):
            method.fit(adapter, inputs, **({"steps": 3} if method.name == "tuned_lens" else {}))
        if hasattr(method, "mine"):
            method.mine(adapter, inputs)
        explanation = method.explain(adapter, inputs)
        assert explanation.image is not None and explanation.image.shape == (rows, cols), method.name
        assert torch.isfinite(explanation.image).all(), method.name
        if explanation.text is not None:
            assert explanation.text.shape == adapter.text_positions(inputs).shape, method.name
        assert hooks.live_hooks(model) == before, method.name
        assert all(p.grad is None for p in model.parameters()), method.name


def test_blocking_attention_edges_changes_the_answer_only_when_blocked(family: Any) -> None:
    _, adapter, inputs = family
    length = inputs["input_ids"].shape[1]
    blocked = torch.zeros(2, length, length, dtype=torch.bool)
    blocked[1, -1, adapter.image_positions(inputs)] = True
    with adapter.eager_attention(), torch.no_grad():
        plain = adapter.logits(inputs)
        logits = adapter.logits(adapter.repeat(inputs, 2), blocked=blocked)
    assert torch.allclose(logits[0], plain[0], atol=1e-5)
    assert not torch.allclose(logits[1], plain[0], atol=1e-5)


def test_no_hook_survives_an_exception(family: Any) -> None:
    model, adapter, inputs = family
    before = hooks.live_hooks(model)

    def explode(_state: Any) -> Any:
        raise RuntimeError("boom")

    for context in (hooks.replace_output(adapter.decoder_layers[0], explode), hooks.replace_input(adapter.vision_features, explode),
                    hooks.replace_keyword(adapter.language_model, "inputs_embeds", explode)):
        with pytest.raises(RuntimeError, match="boom"), context:
            adapter.logits(inputs)
        assert hooks.live_hooks(model) == before
    with pytest.raises(KeyError), hooks.capture_outputs(list(adapter.decoder_layers)):
        raise KeyError("raised in the body")
    assert hooks.live_hooks(model) == before


def test_hooks_registered_before_a_failing_registration_are_removed() -> None:
    import torch

    from kb.xai.hooks import capture_outputs

    class Refuses(torch.nn.Linear):
        def register_forward_hook(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("cannot hook this module")

    first, second = torch.nn.Linear(2, 2), Refuses(2, 2)
    with pytest.raises(RuntimeError), capture_outputs([first, second]):
        pass
    assert not first._forward_hooks
