"""The SigV4 signer against the worked examples in AWS's S3 documentation (sig-v4-header-based-auth)."""

from __future__ import annotations

from datetime import UTC, datetime

from hashigo.storage.sigv4 import Credentials, sign_headers, uri_encode

EXAMPLE = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
WHEN = datetime(2013, 5, 24, tzinfo=UTC)


def test_get_object_example() -> None:
    signed = sign_headers(EXAMPLE, "us-east-1", "GET", "examplebucket.s3.amazonaws.com", "/test.txt", {},
                          {"Range": "bytes=0-9"}, EMPTY_SHA256, WHEN)
    assert signed["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    assert signed["x-amz-date"] == "20130524T000000Z"
    assert "host" not in signed  # httpx sets Host from the URL


def test_list_objects_example_with_query() -> None:
    signed = sign_headers(EXAMPLE, "us-east-1", "GET", "examplebucket.s3.amazonaws.com", "/",
                          {"max-keys": "2", "prefix": "J"}, {}, EMPTY_SHA256, WHEN)
    assert signed["authorization"].endswith(
        "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")


def test_session_token_is_signed_and_sent() -> None:
    signed = sign_headers(Credentials("AK", "SK", "TOKEN"), "auto", "PUT", "h", "/b/k", {}, {})
    assert signed["x-amz-security-token"] == "TOKEN"
    assert "x-amz-security-token" in signed["authorization"].split("SignedHeaders=")[1]
    assert signed["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"


def test_uri_encoding_keeps_only_unreserved() -> None:
    assert uri_encode("a b/ü+%#?~.txt", keep_slash=True) == "a%20b/%C3%BC%2B%25%23%3F~.txt"
    assert uri_encode("a/b") == "a%2Fb"
