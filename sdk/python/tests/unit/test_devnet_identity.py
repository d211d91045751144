"""Which key and tenant ``Client.from_devnet`` signs with (no node needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import billflow


@pytest.fixture
def devnet_json(tmp_path: Path) -> Path:
    keys = {}
    for name in ("tenant", "bank", "core", "notary", "regulator"):
        keys[name] = tmp_path / f"{name}.key"
        keys[name].write_bytes(billflow.Key.generate().to_pem())
    (tmp_path / "cas.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIBLjCB4aADAgECAhRm\n-----END CERTIFICATE-----\n")
    devnet = {
        "chain_id": "billflow-devnet",
        "genesis": str(tmp_path / "genesis.json"),
        "genesis_hash": "00" * 32,
        "ca_cert": str(tmp_path / "cas.pem"),
        "nodes": [{"api_url": "https://127.0.0.1:7101"}, {"api_url": "https://127.0.0.1:7103/"}],
        "tenant_keys": [{"owner": "demo-platform", "key_id": "demo-platform.key1", "key_file": str(keys["tenant"])}],
        "admin_keys": [],
        "notary_keys": [{"owner": "notary-1-notary", "key_id": "notary-1-notary.k1", "key_file": str(keys["notary"])}],
        "participant_keys": [
            {"owner": "bank-a", "key_id": "bank-a.k1", "key_file": str(keys["bank"])},
            {"owner": "91310000MA1FL0001R", "key_id": "91310000MA1FL0001R.k1", "key_file": str(keys["core"])},
        ],
        "regulator_keys": [{"owner": "regulator-1", "key_id": "regulator-1.admin", "key_file": str(keys["regulator"])}],
    }
    path = tmp_path / "devnet.json"
    path.write_text(json.dumps(devnet))
    return path


def test_enterprises_act_under_the_tenant_banks_and_organisations_do_not(
    devnet_json: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A placeholder CA is enough: no connection is made.
    monkeypatch.setattr(billflow.client, "_ssl_context", lambda ca: True)
    platform = billflow.Client.from_devnet(devnet_json)
    assert (platform.key_id, platform.tenant) == ("demo-platform.key1", "demo-platform")
    assert platform.nodes == ["https://127.0.0.1:7101", "https://127.0.0.1:7103"]
    assert platform.chain_id == "billflow-devnet"
    expected = {
        "91310000MA1FL0001R": "demo-platform",
        "bank-a": None,
        "notary-1-notary": None,
        "regulator-1": None,
    }
    for who, tenant in expected.items():
        c = platform.as_participant(who)
        assert c.tenant == tenant and c.key_id is not None and c.key_id.startswith(who)
    with pytest.raises(billflow.BillflowError, match="has no key of nobody"):
        platform.as_participant("nobody")
