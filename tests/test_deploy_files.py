"""The Dockerfile and docker-compose.yml cannot be built here (no Docker engine): check their essentials."""

import re

import yaml

from tests.conftest import ROOT


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_dockerfile_essentials():
    text = _dockerfile()
    bases = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert len(bases) >= 2, "multi-stage build"
    for base in bases:
        assert re.search(r":\d+\.\d+\.\d+", base), f"base image {base} is not pinned to a version"
    user = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert user and user[-1] not in ("root", "0"), "runs as a non-root user"
    assert re.search(r"^EXPOSE\s+8000\b", text, re.M)
    assert re.search(r"^HEALTHCHECK\b[\s\S]*?/healthz", text, re.M)
    assert "load_embedding_model()" in text and "ensure_local_model(" in text, "models baked in at build time"
    assert re.search(r"HF_HUB_OFFLINE=1", text)
    assert "requirements.txt" in text
    # CPU-only torch, at the pinned version, installed before the rest so the CUDA build is never pulled.
    torch_step = re.search(r"--index-url \"\$TORCH_INDEX_URL\" \"\$\(grep -E '\^torch==' requirements.txt\)\"", text)
    assert torch_step and text.index(torch_step.group()) < text.index("-r requirements.txt")
    assert re.search(r"ARG TORCH_INDEX_URL=\S+/cpu\b", text)


def test_compose_runs_the_api_with_chroma_and_redis():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) >= {"api", "chroma", "redis"}
    env = services["api"]["environment"]
    assert env["QA_CHROMA_URL"] == "http://chroma:8000"
    assert env["QA_REDIS_URL"].startswith("redis://redis:6379")
    assert "QA_API_KEYS" in env
    for name in ("chroma", "redis"):
        image = services[name]["image"]
        assert re.search(r":\d+\.\d+\.\d+", image), f"{name} image {image} is not pinned"
        assert "healthcheck" in services[name]
        assert services["api"]["depends_on"][name]["condition"] == "service_healthy"
