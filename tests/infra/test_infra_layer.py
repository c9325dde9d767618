"""The layer build without Docker: Lambda-platform wheels, no boto3, stocklink included, cached."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from infra import layer


def test_runtime_dependencies_come_from_pyproject_without_what_lambda_provides():
    deps = layer.runtime_dependencies()
    names = {d.split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower() for d in deps}
    assert {"aws-lambda-powertools", "pynamodb", "pydantic", "numpy"} <= names
    assert not names & {"boto3", "botocore"}


def test_skip_deps_layer_holds_only_stocklink(tmp_path):
    asset = layer.build_layer(skip_deps=True, build_dir=tmp_path, python=None)
    assert sorted(p.name for p in (asset.path / "python").iterdir()) == ["stocklink"]
    assert (asset.path / "python" / "stocklink" / "config.py").exists()
    assert not list(asset.path.rglob("__pycache__"))
    # Same sources, same folder: a second synth reuses it.
    assert layer.build_layer(skip_deps=True, build_dir=tmp_path, python=None) == asset


def test_assets_carry_unchecked_hash_bytecode_when_an_interpreter_of_the_runtime_is_at_hand(tmp_path):
    """Lambda's code folders are read-only: without .pyc every cold start compiles every module. The .pyc
    must be unchecked-hash ones (CDK's zips drop the sources' mtimes, so timestamp-checked ones would be
    recompiled anyway). The runtime is 3.12; this machine's interpreter stands in for the mechanism."""
    import importlib.util

    compiled = layer.build_layer(skip_deps=True, build_dir=tmp_path, python=sys.executable)
    plain = layer.build_layer(skip_deps=True, build_dir=tmp_path, python=None)
    assert compiled.asset_hash != plain.asset_hash          # a deploy picks up the change
    config = compiled.path / "python" / "stocklink" / "config.py"
    pyc = importlib.util.cache_from_source(str(config))
    header = open(pyc, "rb").read(16)
    assert header[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(header[4:8], "little") == 0b01    # hash-based, source not checked (PEP 552)
    functions = layer.build_functions(build_dir=tmp_path, python=sys.executable)
    assert importlib.util.cache_from_source(str(functions.path / "functions" / "__init__.py"))
    assert list((functions.path / "functions").rglob("*.pyc"))
    assert not list(plain.path.rglob("*.pyc"))


def test_runtime_python_is_the_deployed_version_or_none(monkeypatch):
    monkeypatch.delenv(layer.PYTHON_ENV, raising=False)
    found = layer.runtime_python()
    if found is not None:
        out = subprocess.run([found, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
        assert out == layer.PYTHON_VERSION
    monkeypatch.setenv(layer.PYTHON_ENV, "/opt/python3.12/bin/python3")
    assert layer.runtime_python() == "/opt/python3.12/bin/python3"


def test_functions_asset_is_a_copy_of_the_functions_package(tmp_path):
    asset = layer.build_functions(build_dir=tmp_path)
    assert (asset.path / "functions" / "__init__.py").exists()


@pytest.mark.parametrize("arch", ["aarch64"])
def test_real_layer_has_lambda_platform_wheels_and_no_boto(arch):
    # Uses the shared build/ cache: ~3 s of pip the first time on a machine, ~0.1 s after.
    asset = layer.build_layer(arch=arch, skip_deps=False)
    site = asset.path / "python"
    for package in ("aws_lambda_powertools", "pynamodb", "pydantic", "pydantic_core", "numpy", "stocklink",
                    "joserfc", "cryptography"):
        assert (site / package).is_dir(), package
    for provided in ("boto3", "botocore", "s3transfer"):
        assert not (site / provided).exists(), f"{provided} comes with the Lambda runtime"
    for extension in ("numpy/_core/_multiarray_umath", "pydantic_core/_pydantic_core"):
        (so,) = site.glob(extension + ".*.so")
        assert "cpython-312" in so.name and arch in so.name
        header = so.read_bytes()[:20]
        assert header[:4] == b"\x7fELF"
        machine = int.from_bytes(header[18:20], "little")
        assert machine == {"aarch64": 183, "x86_64": 62}[arch]  # e_machine: EM_AARCH64 / EM_X86_64


def test_app_runs_as_a_script_from_the_repo_root(tmp_path):
    """`python infra/app.py` (what cdk.json runs): infra/ must not shadow the constructs library."""
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path),
           "CDK_CONTEXT_JSON": json.dumps({"stocklink:skipLayerDeps": "true", "stocklink:nag": "false"})}
    result = subprocess.run([sys.executable, "infra/app.py"], cwd=layer.REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "StockLinkStack.template.json").exists()
