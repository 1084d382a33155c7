"""The relay serves https and wss directly with a certificate given by flags."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.fixtures.relay import RelayFactory
from tests.relay.helpers import console, post_json, text_event


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kenar-relay test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "relay.crt", folder / "relay.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_https_webhooks_and_wss_consoles_work(
    relay_factory: RelayFactory, tmp_path: Path
) -> None:
    """With --ssl-certfile/--ssl-keyfile a webhook over https reaches a console over wss."""
    cert, key = make_certificate(tmp_path)
    relay = await relay_factory(ssl_certfile=cert, ssl_keyfile=key)
    assert relay.url.startswith("https://") and relay.ws_url.startswith("wss://")
    trust = ssl.create_default_context(cafile=str(cert))
    async with httpx.AsyncClient(verify=trust, trust_env=False, timeout=10) as http:
        async with console(relay.ws_url, relay.token, ssl_context=trust) as client:
            await client.until("live")
            answer = await post_json(
                http, relay.url + "/events", text_event("امن"), key=relay.identification_key
            )
            (frame,) = await client.entries(1)
        plain = httpx.AsyncClient(trust_env=False, timeout=10)
        async with plain:
            try:
                await plain.get(relay.url.replace("https", "http", 1) + "/healthz")
                refused_plain = False
            except httpx.HTTPError:
                refused_plain = True
    assert answer.status_code == 200 and frame["entry"]["data"]["text"] == "امن"
    assert refused_plain
