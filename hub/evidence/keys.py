"""The hub's Ed25519 signing key: made on first use under the config dir (mode 0600), never leaves it."""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..exceptions import HubError
from .const import KEY_FILE

__all__ = ["fingerprint", "load_or_create_key", "public_key_pem", "read_public_key"]

_LOGGER = logging.getLogger(__name__)


def load_or_create_key(config_dir: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """The hub's signing key, generated and stored (PKCS#8 PEM, mode 0600) the first time. Blocking."""
    path = Path(config_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # made meanwhile by another export: use that one
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
            _LOGGER.info("Evidence: new signing key %s (public key SHA-256 %s)", path, fingerprint(key.public_key()))
            return key
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        _LOGGER.warning("Evidence: %s was readable by others (mode %o); set to 0600", path, mode)
        path.chmod(0o600)
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as err:
        raise HubError(f"Evidence signing key {path} cannot be read: {err}") from err
    if not isinstance(loaded, Ed25519PrivateKey):
        raise HubError(f"Evidence signing key {path} is not an Ed25519 key")
    return loaded


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The public key as SubjectPublicKeyInfo PEM."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def read_public_key(pem: bytes) -> Ed25519PublicKey:
    """A public key from PEM (ValueError when it is not an Ed25519 public key)."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, in hex: what a court compares with the hub's published one."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()
