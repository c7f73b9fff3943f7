"""The `kb` command through its real entry point: messages, exit codes, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import RunKb

REPO = Path(__file__).resolve().parents[2]


def test_validate_passes_on_the_toy_kb(toy_root: Path, run_kb: RunKb) -> None:
    result = run_kb("--root", str(toy_root), "validate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: 5 records")


def test_validate_reports_every_problem_one_line_each_and_exits_1(toy_root: Path, run_kb: RunKb) -> None:
    record = toy_root / "papers" / "2311.16922.yaml"
    record.write_text(record.read_text().replace("[training-inference.inference]", "[training-inference.inferense]"))
    (toy_root / "papers" / "2401.00001.yaml").write_bytes(b"id: x\n\ttitle: tab\n")
    result = run_kb("validate", cwd=toy_root)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert "papers/2311.16922.yaml:9: taxonomy[0]: unknown area 'training-inference.inferense' (did you mean 'training-inference.inference'?)" in lines
    assert "papers/2401.00001.yaml:2: tab character in indentation; indent with spaces" in lines
    assert lines[-1] == "2 problem(s) in 2 file(s)"


def test_validate_with_paths_reports_only_those(toy_root: Path, run_kb: RunKb) -> None:
    (toy_root / "papers" / "2401.00001.yaml").write_text("")
    assert run_kb("validate", "papers/2311.16922.yaml", cwd=toy_root).returncode == 0
    result = run_kb("validate", "papers/2401.00001.yaml", cwd=toy_root)
    assert result.returncode == 1 and "papers/2401.00001.yaml:1: file is empty" in result.stderr


def test_outside_a_knowledge_base_the_message_says_so(tmp_path: Path, run_kb: RunKb) -> None:
    result = run_kb("validate", cwd=tmp_path)
    assert result.returncode == 1
    assert "not inside a knowledge base" in result.stderr and "Traceback" not in result.stderr


def test_build_list_and_show(toy_root: Path, run_kb: RunKb) -> None:
    built = run_kb("build", cwd=toy_root)
    assert built.returncode == 0 and built.stdout.startswith("built: 5 papers in build/kb.sqlite")
    again = run_kb("build", cwd=toy_root)
    assert again.stdout.startswith("up to date: build/kb.sqlite")

    listed = run_kb("list", "--area", "model", "--json", cwd=toy_root)
    assert [p["id"] for p in json.loads(listed.stdout)] == ["2410.04819", "toy-attention-probe"]
    by_alias = run_kb("list", "--model", "LLaVA v1.5", "--year", "2024", cwd=toy_root)
    assert by_alias.stdout.split()[0] == "toy-attention-probe"
    empty = run_kb("list", "--year", "2023..2023", "--modality", "audio", "--json", cwd=toy_root)
    assert json.loads(empty.stdout) == []

    shown = run_kb("show", "2311.16922", "--json", cwd=toy_root)
    data = json.loads(shown.stdout)
    assert data["venue"] == "CVPR 2024" and data["built_on_by"] == ["toy-attention-probe"]
    missing = run_kb("show", "2311.16923", cwd=toy_root)
    assert missing.returncode == 1 and "no paper '2311.16923' (did you mean '2311.16922'?)" in missing.stderr


def test_list_rejects_unknown_filters_clearly(toy_root: Path, run_kb: RunKb) -> None:
    bad_area = run_kb("list", "--area", "model.nueron", cwd=toy_root)
    assert bad_area.returncode == 1 and "did you mean 'model.neuron'" in bad_area.stderr
    bad_years = run_kb("list", "--year", "2025..2023", cwd=toy_root)
    assert bad_years.returncode == 2 and "the range is empty" in bad_years.stderr
    assert "Traceback" not in bad_area.stderr + bad_years.stderr


def test_list_rebuilds_when_a_record_changes(toy_root: Path, run_kb: RunKb) -> None:
    run_kb("build", cwd=toy_root)
    record = toy_root / "papers" / "2305.10355.yaml"
    record.write_text(record.read_text().replace("modalities: [image, text]", "modalities: [image, text, audio]"))
    listed = run_kb("list", "--modality", "audio", "--json", cwd=toy_root)
    assert "2305.10355" in [p["id"] for p in json.loads(listed.stdout)]


def test_schema_command_matches_the_committed_file(run_kb: RunKb) -> None:
    result = run_kb("schema", cwd=REPO)
    assert result.returncode == 0
    committed = (REPO / "taxonomy" / "record.schema.json").read_text()
    assert result.stdout == committed, "run `kb schema -o taxonomy/record.schema.json` to refresh it"


def test_stats_counts_areas_with_descendants(toy_root: Path, run_kb: RunKb) -> None:
    data = json.loads(run_kb("stats", "--json", cwd=toy_root).stdout)
    assert data["papers"]["total"] == 5
    assert data["area"]["model"] == 2 and data["area"]["model.token"] == 1
    assert data["modality"]["audio"] == 2


def test_validate_accepts_taxonomy_paths_from_a_hook(toy_root: Path, run_kb: RunKb) -> None:
    result = run_kb("validate", "taxonomy/areas.yaml", cwd=toy_root)
    assert result.returncode == 0, result.stderr


def test_validate_stays_light(toy_root: Path) -> None:
    """The pre-commit path must not pay for the heavy stack: no torch, faiss, numpy, sqlalchemy."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from kb.cli import app\n"
        "try:\n"
        f"    app.main(['--root', {str(toy_root)!r}, 'validate'], standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('torch', 'sentence_transformers', 'faiss', 'transformers', 'numpy', 'sqlalchemy', 'mkdocs', 'arxiv')\n"
        "print('heavy:' + ','.join(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "heavy:", result.stdout
