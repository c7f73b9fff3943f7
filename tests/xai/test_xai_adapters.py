"""Adapters on tiny random LLaVA and Qwen2-VL models built offline from configs: every method runs, shapes hold,
and no hook outlives a method, even one that fails half way."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from kb.xai import hooks  # noqa: E402
from kb.xai.adapters import LlavaAdapter, Qwen2VLAdapter, for_model  # noqa: E402
from kb.xai.benchmark import methods  # noqa: E402

MASK = 7


def tiny_llava() -> tuple[Any, dict[str, Any]]:
    from kb.xai import toy_model, toy_task

    model = toy_model.build(seed=3)
    return model, toy_task.sample(1, seed=3).inputs()


def tiny_qwen() -> tuple[Any, dict[str, Any]]:
    config = transformers.Qwen2VLConfig(
        text_config={"vocab_size": 64, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                     "num_key_value_heads": 2, "max_position_embeddings": 128, "eos_token_id": 0, "pad_token_id": 0,
                     "rope_parameters": {"rope_type": "default", "mrope_section": [1, 1, 2], "rope_theta": 10000.0}},
        vision_config={"depth": 1, "embed_dim": 32, "hidden_size": 32, "num_heads": 2, "patch_size": 4, "spatial_merge_size": 2,
                       "temporal_patch_size": 2, "in_channels": 3, "mlp_ratio": 2},
        image_token_id=5, video_token_id=6, vision_start_token_id=3, vision_end_token_id=4,
    )
    config._attn_implementation = "eager"
    torch.manual_seed(0)
    model = transformers.Qwen2VLForConditionalGeneration(config).eval()
    ids = torch.tensor([[1, 3] + [5] * 4 + [4, 10, 11, 12]])
    generator = torch.Generator().manual_seed(0)
    inputs = {"input_ids": ids, "mm_token_type_ids": (ids == 5).int(), "pixel_values": torch.randn(16, 3 * 2 * 4 * 4, generator=generator),
              "image_grid_thw": torch.tensor([[1, 4, 4]])}
    return model, inputs


@pytest.fixture(scope="module", params=["llava", "qwen2_vl"])
def family(request: pytest.FixtureRequest, torch_threads: None) -> tuple[Any, Any, dict[str, Any]]:
    model, inputs = tiny_llava() if request.param == "llava" else tiny_qwen()
    adapter = for_model(model, text_mask_token=MASK)
    # transformers installs its own output-recording hooks on the first call that asks for outputs;
    # they stay for the model's life, so counts are taken after one such call.
    with torch.no_grad():
        adapter.run(inputs, output_attentions=True, output_hidden_states=True)
    return model, adapter, inputs


def test_adapter_chosen_by_model_type(family: Any) -> None:
    model, adapter, _ = family
    assert isinstance(adapter, LlavaAdapter if model.config.model_type == "llava" else Qwen2VLAdapter)


def test_every_method_returns_the_shape_contract(family: Any) -> None:
    model, adapter, inputs = family
    rows, cols = adapter.grid(inputs)
    assert rows * cols == len(adapter.image_positions(inputs))
    before = hooks.live_hooks(model)
    for method in methods():
        if hasattr(method, "fit"):
            method.fit(adapter, inputs, steps=3)
        if hasattr(method, "mine"):
            method.mine(adapter, inputs)
        explanation = method.explain(adapter, inputs)
        assert explanation.image is not None and explanation.image.shape == (rows, cols), method.name
        assert torch.isfinite(explanation.image).all(), method.name
        if explanation.text is not None:
            assert explanation.text.shape == adapter.text_positions(inputs).shape, method.name
        assert hooks.live_hooks(model) == before, method.name
        assert all(p.grad is None for p in model.parameters()), method.name


def test_removing_an_image_token_changes_only_its_pixels(family: Any) -> None:
    _, adapter, inputs = family
    n = len(adapter.image_positions(inputs))
    keep = torch.ones(2, n, dtype=torch.bool)
    keep[1, 1] = False
    batch = adapter.perturb(inputs, keep_image=keep)
    pixels = batch["pixel_values"].reshape(2, -1)
    changed = (pixels[0] != pixels[1]).float().sum()
    per_token = inputs["pixel_values"].numel() / n
    assert changed == pytest.approx(per_token, rel=0.01)


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
