"""deploy/: Milvus standalone and two qa replicas behind nginx, checked without Docker
(the YAML parses, the services and their references hold together)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from qa.index.milvus import MilvusLocation

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


@pytest.fixture(scope="module")
def compose() -> dict:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def test_milvus_standalone_has_its_services(compose: dict) -> None:
    services = compose["services"]
    assert {"etcd", "minio", "milvus", "qa-index", "qa-1", "qa-2", "lb"} <= set(services)
    env = services["milvus"]["environment"]
    assert env["ETCD_ENDPOINTS"] == "etcd:2379" and env["MINIO_ADDRESS"] == "minio:9000"
    for name, svc in services.items():
        for dep in svc.get("depends_on") or []:
            assert dep in services, f"{name} depends on {dep}, which is not a service"
        for mount in svc.get("volumes") or []:
            source = mount.split(":")[0]
            assert source.startswith("./") or source in compose["volumes"], mount


def test_replicas_serve_the_same_milvus_collection(compose: dict) -> None:
    services = compose["services"]
    stores = {services[s]["environment"]["QA_STORE"] for s in ("qa-index", "qa-1", "qa-2")}
    assert len(stores) == 1
    loc = MilvusLocation.parse(stores.pop())
    assert (loc.uri, loc.name) == ("http://milvus:19530", "qa")
    assert services["qa-1"]["command"][0] == "serve" == services["qa-2"]["command"][0]
    assert services["qa-index"]["command"][0] == "index"
    wait = services["qa-1"]["depends_on"]["qa-index"]["condition"]
    assert wait == "service_completed_successfully"


def test_the_balancer_reaches_both_replicas(compose: dict) -> None:
    conf = (DEPLOY / "nginx.conf").read_text()
    upstream = set(re.findall(r"server (qa-\d):8000", conf))
    assert upstream == {"qa-1", "qa-2"}
    assert "proxy_pass http://qa;" in conf
    assert compose["services"]["lb"]["ports"] == ["8000:8000"]


def test_the_image_adds_pymilvus_to_the_serving_image() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert "FROM qa:latest" in text and "pymilvus>=2.5,<2.6" in text
    assert text.rstrip().splitlines()[-1].startswith("USER 10001")  # not root at run time
