"""`kb xai explain` on a tiny checkpoint of every family, in float32 and bfloat16, for every method: the user's path
(save_pretrained by `kb xai tiny-model`, Auto classes, the chat template, an overlay PNG and a JSON of scores)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
from click.testing import CliRunner  # noqa: E402

from kb.cli import app  # noqa: E402
from kb.xai.catalog import METHODS  # noqa: E402

from .conftest import FAMILIES  # noqa: E402

# Fewer samples than the defaults, so the whole matrix stays within CI's budget; the code paths are the same.
CHEAP = {"rise": ["masks=16"], "mm_shap": ["permutations=2"], "causal_tracing": ["samples=1"],
         "integrated_gradients": ["steps=4"], "region_search": ["regions=4"]}
PNG = b"\x89PNG\r\n\x1a\n"


def explain(checkpoint: Path, picture: Path, out: Path, method: str, *extra: str) -> tuple[int, str, str]:
    args = ["xai", "explain", "--model", str(checkpoint), "--image", str(picture), "--prompt", "Hi?", "--method", method,
            "--out", str(out), *extra]
    for setting in CHEAP.get(method, []):
        args += ["--set", setting]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("method", [m.name for m in METHODS])
@pytest.mark.parametrize("family", FAMILIES)
def test_every_method_runs_on_every_family(family: str, method: str, dtype: str, checkpoints: dict[str, Path], picture: Path,
                                           tmp_path: Path) -> None:
    out = tmp_path / "overlay.png"
    code, _, stderr = explain(checkpoints[family], picture, out, method, "--dtype", dtype, "--target", "k")
    assert code == 0, stderr
    assert out.read_bytes()[:8] == PNG
    data = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert data["dtype"] == dtype and data["target"]["generated"] is False and data["target"]["tokens"] == ["k"]
    if method == "vcd":
        assert data["image_scores"] is None and len(data["extras"]["per_token"]) == 1
        return
    rows, cols = data["grid"]
    scores = data["image_scores"]
    assert len(scores) == rows and all(len(row) == cols for row in scores)
    assert all(value == value and abs(value) < 1e30 for row in scores for value in row)  # finite, no NaN
    assert len(data["per_token_image_scores"]) == 1
    assert data["text_tokens"] and all("score" in token for token in data["text_tokens"])


def test_the_model_answer_is_explained_by_default(checkpoints: dict[str, Path], picture: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.png"
    code, stdout, stderr = explain(checkpoints["llava"], picture, out, "grad_cam", "--json")
    assert code == 0, stderr
    data = json.loads(stdout)
    assert data["target"]["generated"] is True and 1 <= len(data["target"]["token_ids"]) <= 8
    assert data["eager_attention"] is False


def test_attention_methods_ask_for_eager_attention_and_say_so(checkpoints: dict[str, Path], picture: Path, tmp_path: Path) -> None:
    code, _, stderr = explain(checkpoints["qwen2_vl"], picture, tmp_path / "o.png", "attention_rollout", "--target", "a")
    assert code == 0
    assert "eager attention requested" in stderr
    assert json.loads((tmp_path / "o.json").read_text())["eager_attention"] is True


def one_kb_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("kb:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize(("change", "expected"), [
    ({"--method": "grad_came"}, "unknown method 'grad_came'"),
    ({"--prompt": "<image> twice"}, "must not contain the image token"),
    ({"--prompt": "   "}, "the prompt is empty"),
    ({"--image": "NOT_AN_IMAGE"}, "cannot read image"),
    ({"--set": "masks"}, "--set takes KEY=VALUE"),
    ({"--set": "masks=many"}, "masks='many' is not a int"),
    ({"--set": "mask=3"}, "rise has no parameter 'mask'"),
    ({"--model": "UNSUPPORTED"}, "supported architectures: LlavaForConditionalGeneration"),
    ({"--model": "MISSING"}, "cannot read a model config"),
])
def test_bad_input_gets_one_kb_line(change: dict[str, str], expected: str, checkpoints: dict[str, Path], picture: Path,
                                    tmp_path: Path) -> None:
    import transformers

    args = {"--model": str(checkpoints["llava"]), "--image": str(picture), "--prompt": "Hi?", "--method": "rise",
            "--out": str(tmp_path / "o.png"), **change}
    if args["--image"] == "NOT_AN_IMAGE":
        args["--image"] = str(tmp_path / "notes.png")
        (tmp_path / "notes.png").write_text("not a picture", encoding="utf-8")
    if args["--model"] == "UNSUPPORTED":
        folder = tmp_path / "llama"
        config = transformers.LlamaConfig(vocab_size=32, hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2)
        transformers.LlamaForCausalLM(config).save_pretrained(folder)
        args["--model"] = str(folder)
    if args["--model"] == "MISSING":
        args["--model"] = str(tmp_path / "no-such-model")
    flat = [item for pair in args.items() for item in pair]
    result = CliRunner().invoke(app, ["xai", "explain", *flat])
    assert result.exit_code == 1
    assert expected in one_kb_line(result.stderr)
    assert not (tmp_path / "o.png").exists()  # nothing half-written


def test_the_commands_a_user_types(tmp_path: Path, picture: Path, env: dict[str, str]) -> None:
    """One real subprocess for each command (the console script, no test runner in between)."""
    script = Path(sys.executable).parent / "kb"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "kb"]
    folder, out = tmp_path / "qwen", tmp_path / "overlay.png"
    made = subprocess.run([*command, "xai", "tiny-model", "qwen2_5_vl", str(folder)], capture_output=True, text=True, timeout=300, env=env)
    assert made.returncode == 0, made.stderr
    result = subprocess.run([*command, "xai", "explain", "--model", str(folder), "--image", str(picture), "--prompt", "What colour?",
                             "--method", "occlusion", "--dtype", "bfloat16", "--out", str(out)], capture_output=True, text=True,
                            timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and out.read_bytes()[:8] == PNG
    from PIL import Image

    with Image.open(out) as overlay, Image.open(picture) as original:
        assert overlay.size == original.size  # scores are mapped back onto the user's pixels
