"""The object-store port. Callers ask ``open_object_store(settings)``; they never import an adapter."""

from hashigo.storage.factory import open_object_store
from hashigo.storage.protocol import (
    ByteRange,
    InvalidKey,
    InvalidMetadata,
    ObjectExists,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    ObjectStream,
    SignedMethod,
    SigningUnsupported,
    StorageError,
)
from hashigo.storage.signing import InvalidSignature, SignatureExpired, sign_local_url, verify_signed_url

__all__ = [
    "ByteRange",
    "InvalidKey",
    "InvalidMetadata",
    "InvalidSignature",
    "ObjectExists",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "ObjectStream",
    "SignatureExpired",
    "SignedMethod",
    "SigningUnsupported",
    "StorageError",
    "open_object_store",
    "sign_local_url",
    "verify_signed_url",
]
