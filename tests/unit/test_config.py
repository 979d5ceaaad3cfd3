import pytest

from skymesh.config import Ports, Settings


def test_defaults_match_the_documented_ports() -> None:
    ports = Ports()
    assert (ports.gateway, ports.kafka, ports.mongo) == (8080, 9092, 27017)


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKYMESH_GATEWAY_PORT", "18080")
    monkeypatch.setenv("SKYMESH_MONGO_PORT", "37017")
    monkeypatch.setenv("SKYMESH_ADMIN_USER", "root")
    settings = Settings.from_env()
    assert settings.ports.gateway == 18080
    assert settings.mongo_uri == "mongodb://127.0.0.1:37017"
    assert settings.admin_user == "root"
    # What a child process receives reproduces the same settings.
    for key, value in settings.as_env().items():
        monkeypatch.setenv(key, value)
    assert Settings.from_env() == settings


def test_bad_port_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKYMESH_KAFKA_PORT", "ninety")
    with pytest.raises(ValueError, match="SKYMESH_KAFKA_PORT must be an integer"):
        Settings.from_env()


def test_ml_ensembles_is_a_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SKYMESH_ML_ENSEMBLES", raising=False)
    assert Settings.from_env().ml_ensembles
    monkeypatch.setenv("SKYMESH_ML_ENSEMBLES", "0")
    assert not Settings.from_env().ml_ensembles
    monkeypatch.setenv("SKYMESH_ML_ENSEMBLES", "off")
    with pytest.raises(ValueError, match="SKYMESH_ML_ENSEMBLES must be 0 or 1"):
        Settings.from_env()


def test_in_cluster_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    # Local defaults: everything on the loopback.
    local = Settings.from_env()
    assert local.address("ml") == "127.0.0.1:50055"
    assert local.address("triton_grpc") == "127.0.0.1:8001"
    assert local.kafka_bootstrap == "127.0.0.1:9092"
    # In Kubernetes (k8s/base/common/settings.env and the Secret): Service names and URIs.
    monkeypatch.setenv("SKYMESH_ML_HOST", "ml")
    monkeypatch.setenv("SKYMESH_TRITON_HOST", "triton")
    monkeypatch.setenv("SKYMESH_BIND_HOST", "0.0.0.0")
    monkeypatch.setenv("SKYMESH_KAFKA_BOOTSTRAP", "kafka:9092")
    monkeypatch.setenv("SKYMESH_MONGO_URI", "mongodb://mongodb-0.mongodb:27017/?replicaSet=rs0")
    monkeypatch.setenv("SKYMESH_POSTGRES_DSN", "postgresql+asyncpg://u:p@postgresql:5433/skymesh")
    settings = Settings.from_env()
    assert settings.address("ml") == "ml:50055"
    assert settings.address("triton_grpc") == "triton:8001"
    assert settings.address("archive") == "127.0.0.1:50051"
    assert settings.bind_host == "0.0.0.0"
    assert settings.kafka_bootstrap == "kafka:9092"
    assert settings.mongo_uri.endswith("?replicaSet=rs0")
    assert settings.postgres_dsn == "postgresql+asyncpg://u:p@postgresql:5433/skymesh"
    for key, value in settings.as_env().items():
        monkeypatch.setenv(key, value)
    assert Settings.from_env() == settings
