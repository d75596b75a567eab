"""Codecs for FIPA wire formats other than Caxton's native JSON.

Other agent platforms (JADE and its kin) speak the FIPA string representation of ACL
(``fipa_string``, SC00070) inside an HTTP MTP body (``multipart``, SC00084) whose first part is an
XML transport envelope (``envelope_xml``, SC00085); ``mtp`` puts the three together. All of it is
pure: bytes and values in, bytes and values out, no IO, so the MTP endpoint and its tests can
share one implementation. Malformed input raises ``caxton.errors.CodecError`` subclasses whose
messages name what is wrong.
"""
