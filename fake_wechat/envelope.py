"""Safe mode's AES envelope as the platform applies it, written from the published algorithm.

AES-256-CBC with the key ``base64(EncodingAESKey + "=")`` and its first 16 bytes as IV, over
``random(16) + len(msg) (4 bytes, big-endian) + msg + AppID``, PKCS#7-padded to 32-byte blocks;
signed with SHA-1 of the sorted token, timestamp, nonce and ciphertext. Independent of wechatpy,
so the channel's side is checked against a second implementation.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32


def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


class AesEnvelope:
    def __init__(self, encoding_aes_key: str, app_id: str) -> None:
        self.key = base64.b64decode(encoding_aes_key + "=")
        if len(self.key) != 32:
            raise ValueError("the EncodingAESKey must be 43 characters")
        self.app_id = app_id

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, message: str, prefix: bytes | None = None) -> str:
        body = message.encode("utf-8")
        plain = (prefix or os.urandom(16)) + struct.pack(">I", len(body)) + body + self.app_id.encode()
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> str:
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
        plain = plain[: -plain[-1]]
        (length,) = struct.unpack(">I", plain[16:20])
        message, app_id = plain[20 : 20 + length], plain[20 + length :]
        if app_id.decode() != self.app_id:
            raise ValueError("the message was encrypted for another AppID")
        return message.decode("utf-8")
