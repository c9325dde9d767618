"""Build the Lambda code assets without Docker: the shared layer and the functions package.

CDK would bundle Python assets in a Docker container; there is no Docker engine on the machines this
project targets (DESIGN.md §6). Instead pip downloads Lambda-compatible wheels for the target platform
(`--platform ... --only-binary=:all:`) into a folder that `Code.from_asset` points at.

Layout under build/ (git-ignored), every folder named by a hash of what went into it, so a folder is never
rewritten once complete and a concurrent synth reading an older one is never disturbed:

    build/layer/deps-<arch>-<hash>/          pip --target of the runtime dependencies (slow, cached)
    build/layer/<arch>-<hash>/python/        the asset: hardlinks to the deps + a copy of stocklink/
    build/layer/nodeps-<hash>/python/        STOCKLINK_LAYER_SKIP_DEPS=1: only stocklink/ (fast tests)
    build/functions/<hash>/functions/        copy of the repo's functions/ package

The dependency cache is keyed by the dependency list, the platform and the Python version only, so editing
shared/stocklink (frequent) re-copies a few hundred KB and never re-runs pip.

Bytecode: Lambda's /opt and /var/task are read-only, so a module without a matching .pyc is compiled at every
cold start and the result thrown away (about 1 s of CPU for the API functions here: tests/bench/cold_import.py
--no-bytecode). When an interpreter of the runtime's version is at hand (the one running the synth, or
`python3.12` on PATH, or $STOCKLINK_LAYER_PYTHON), the assets are compiled with it, as unchecked-hash .pyc:
CDK's asset zips do not keep the source files' modification times, so timestamp-checked .pyc would never be
trusted. Without one, the build says so on stderr and ships sources only (it still works, only slower to start).
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = REPO_ROOT / "build"

# The Lambda runtime this project deploys; the layer's wheels are built for exactly this ABI.
PYTHON_VERSION = "3.12"

SKIP_DEPS_ENV = "STOCKLINK_LAYER_SKIP_DEPS"
PYTHON_ENV = "STOCKLINK_LAYER_PYTHON"

# Already in the Lambda Python runtime: shipping them would add ~100 MB (botocore) and shadow the
# runtime's copies. pynamodb pulls botocore in, so these are removed after pip install.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"})

# Bump when the build recipe below changes, so old caches are not reused.
_RECIPE_VERSION = "2"
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".pytest_cache", "tests")


@dataclass(frozen=True)
class Asset:
    path: Path        # folder to hand to Code.from_asset
    asset_hash: str   # content hash, given to CDK so it need not fingerprint ~100 MB of wheels


def _normalize(dist_name: str) -> str:
    return re.sub(r"[-_.]+", "-", dist_name).lower()


def runtime_dependencies(pyproject: Path = REPO_ROOT / "pyproject.toml") -> list[str]:
    """pyproject's [project].dependencies minus what the Lambda runtime already provides."""
    deps = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    keep = []
    for requirement in deps:
        name = re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]
        if _normalize(name) not in RUNTIME_PROVIDED:
            keep.append(requirement)
    return sorted(keep)


def pip_platforms(arch: str) -> list[str]:
    # Lambda's python3.12 runs on Amazon Linux 2023 (glibc 2.34). numpy >= 2.3 ships only manylinux_2_28
    # wheels, so asking for manylinux2014 alone would silently resolve an older numpy.
    return [f"manylinux_2_28_{arch}", f"manylinux2014_{arch}"]


def _tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in ("__pycache__", ".pytest_cache", "tests") for part in rel.parts) or path.suffix in (".pyc", ".pyo"):
            continue
        if path.is_file():
            digest.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


@contextmanager
def _locked(directory: Path):
    # Several engineers and test sessions synthesize in the same tree; one builder at a time.
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_distribution(target: Path, dist_info: Path) -> None:
    record = dist_info / "RECORD"
    if record.exists():
        for line in record.read_text().splitlines():
            rel = line.split(",", 1)[0]
            if rel and not rel.startswith(".."):
                (target / rel).unlink(missing_ok=True)
    shutil.rmtree(dist_info, ignore_errors=True)
    # Leave no empty package folders behind (RECORD lists files only).
    for folder in sorted((p for p in target.iterdir() if p.is_dir()), reverse=True):
        if not any(f.is_file() for f in folder.rglob("*")):
            shutil.rmtree(folder, ignore_errors=True)


def _install_deps(target: Path, deps: list[str], arch: str) -> None:
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
           "--target", str(tmp), "--only-binary=:all:", "--implementation", "cp",
           "--python-version", PYTHON_VERSION]
    for platform in pip_platforms(arch):
        cmd += ["--platform", platform]
    subprocess.run(cmd + deps, check=True)
    for dist_info in list(tmp.glob("*.dist-info")):
        dist = _normalize(dist_info.name.split("-", 1)[0])  # "<name>-<version>.dist-info", name has no "-"
        if dist in RUNTIME_PROVIDED:
            _remove_distribution(tmp, dist_info)
    shutil.rmtree(tmp / "bin", ignore_errors=True)  # console scripts are useless in a layer
    tmp.rename(target)  # atomic: a folder named deps-* is always complete


_RUNTIME_PYTHON = object()     # build_*'s default: whatever runtime_python() finds


def runtime_python() -> str | None:
    """An interpreter of the deployed runtime's version (PYTHON_VERSION), or None."""
    explicit = os.environ.get(PYTHON_ENV)
    if explicit:
        return explicit
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == PYTHON_VERSION:
        return sys.executable
    found = shutil.which(f"python{PYTHON_VERSION}")
    return found if found and _version_of(found) == PYTHON_VERSION else None   # (a pyenv shim may not run)


def _version_of(python: str) -> str | None:
    try:
        out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def compile_bytecode(root: Path, python: str | None) -> bool:
    """Compile every module under `root` to unchecked-hash .pyc with `python`; False (and a warning) when
    there is no interpreter of the runtime's version."""
    if python is None:
        print(f"warning: no python{PYTHON_VERSION} here: the Lambda assets carry no bytecode, so every cold start "
              f"compiles every module (set ${PYTHON_ENV} or install python{PYTHON_VERSION})", file=sys.stderr)
        return False
    subprocess.run([python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
                    str(root)], check=True)
    return True


def _prune(parent: Path, prefix: str, keep: Path, keep_count: int = 3) -> None:
    """Drop older assembled folders; keep a few in case a concurrent synth still reads one."""
    candidates = sorted((p for p in parent.glob(prefix + "*") if p.is_dir() and p != keep and not p.name.endswith(".tmp")),
                        key=lambda p: p.stat().st_mtime, reverse=True)
    for old in candidates[keep_count - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def build_layer(arch: str = "aarch64", skip_deps: bool | None = None, build_dir: Path = BUILD_DIR,
                python: str | None | object = _RUNTIME_PYTHON) -> Asset:
    """Return the layer folder (containing python/), building what is missing.

    arch: "aarch64" or "x86_64". skip_deps: only stocklink in the layer (defaults to $STOCKLINK_LAYER_SKIP_DEPS).
    python: the interpreter that compiles the bytecode (default: runtime_python(); None: sources only).
    """
    python = runtime_python() if python is _RUNTIME_PYTHON else python
    if skip_deps is None:
        skip_deps = os.environ.get(SKIP_DEPS_ENV, "") not in ("", "0", "false")
    layer_root = build_dir / "layer"
    stocklink_src = REPO_ROOT / "shared" / "stocklink"
    stocklink_hash = _tree_hash(stocklink_src)
    deps = runtime_dependencies()
    deps_key = _digest(_RECIPE_VERSION, arch, PYTHON_VERSION, *pip_platforms(arch), *deps, *sorted(RUNTIME_PROVIDED))
    prefix = "nodeps-" if skip_deps else f"{arch}-"
    key = _digest(stocklink_hash, "" if skip_deps else deps_key, "pyc" if python else "")
    asset = layer_root / f"{prefix}{key}"
    with _locked(layer_root):
        if (asset / ".complete").exists():
            return Asset(asset, key)
        staging = asset.with_name(asset.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        site = staging / "python"
        if skip_deps:
            site.mkdir(parents=True)
        else:
            deps_dir = layer_root / f"deps-{arch}-{deps_key}"
            if not deps_dir.exists():
                _install_deps(deps_dir, deps, arch)
            # Hardlinks: assembling ~100 MB of wheels costs no copy and no disk.
            shutil.copytree(deps_dir, site, copy_function=os.link)
        shutil.copytree(stocklink_src, site / "stocklink", ignore=_IGNORE)
        # the deps are hardlinks into the shared cache: compiling writes new __pycache__ files beside them,
        # never into a linked file
        compile_bytecode(site, python)
        (staging / ".complete").write_text(key)
        staging.rename(asset)
        _prune(layer_root, prefix, asset)
    return Asset(asset, key)


def build_functions(build_dir: Path = BUILD_DIR, python: str | None | object = _RUNTIME_PYTHON) -> Asset:
    """Copy of the repo's functions/ package; handlers are addressed as functions.<name>.handler.handler."""
    python = runtime_python() if python is _RUNTIME_PYTHON else python
    src = REPO_ROOT / "functions"
    key = _digest(_RECIPE_VERSION, _tree_hash(src), "pyc" if python else "")
    parent = build_dir / "functions"
    asset = parent / key
    with _locked(parent):
        if not (asset / ".complete").exists():
            staging = asset.with_name(asset.name + ".tmp")
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(src, staging / "functions", ignore=_IGNORE)
            compile_bytecode(staging / "functions", python)
            (staging / ".complete").write_text(key)
            staging.rename(asset)
            _prune(parent, "", asset)
    return Asset(asset, key)


if __name__ == "__main__":
    print(build_layer().path)
